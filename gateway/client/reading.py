"""The recipient's side: inbox, open (verify everything, then decrypt), acknowledge, report."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.client.session import Session
from gateway.client.trust import Directory
from gateway.crypto import CryptoError
from gateway.crypto.envelope import open_envelope
from gateway.crypto.errors import (
    BindingMismatch,
    DecryptionFailed,
    EnvelopeError,
    ManifestMismatch,
)
from gateway.crypto.keys import PartnerKeyPair

#: How an opening failure is reported to the gateway (its mismatch reasons).
_MISMATCH_REASON: dict[type[CryptoError], str] = {
    BindingMismatch: "binding-mismatch",
    ManifestMismatch: "manifest-mismatch",
    DecryptionFailed: "decryption-failed",
}


@dataclass(frozen=True)
class OpenedMessage:
    message_id: str
    flow: str
    sender: str
    case_ref: str | None
    fields: Mapping[str, Any]


class MismatchReported(EnvelopeError):
    """The envelope did not verify; it was reported to the gateway and is not shown."""

    code = "mismatch-reported"
    title = "Envelope does not verify"


def inbox(session: Session, **query: Any) -> dict[str, Any]:
    params = {k: v for k, v in query.items() if v is not None}
    result: dict[str, Any] = session.call("GET", "/api/v1/inbox", query=params).json()
    return result


def open_message(
    session: Session, keys: PartnerKeyPair, directory: Directory, message_id: str
) -> OpenedMessage:
    """Fetch, verify and decrypt; a failing envelope is reported as a mismatch and raised."""
    sealed = session.call("GET", f"/api/v1/envelopes/{message_id}").body
    try:
        opened = open_envelope(sealed, keys, directory)
        if opened.header.message_id != message_id:  # a whole envelope put in another's place
            raise BindingMismatch(f"The gateway answered with envelope {opened.header.message_id}.")
    except CryptoError as error:  # any failed check: reported to the gateway, never shown
        reason = _MISMATCH_REASON.get(type(error), "signature-invalid")
        session.call(
            "POST",
            f"/api/v1/envelopes/{message_id}/mismatch-reports",
            body={"reason": reason},
            expect=(201,),
        )
        raise MismatchReported(
            f"Envelope {message_id} does not verify ({error.detail}); it was reported to the "
            "gateway as a mismatch and its content is not shown."
        ) from None
    header = opened.header
    return OpenedMessage(
        header.message_id, header.flow, header.sender, header.case_ref, opened.fields
    )


def acknowledge(session: Session, message_id: str) -> dict[str, Any]:
    result: dict[str, Any] = session.call(
        "POST", f"/api/v1/envelopes/{message_id}/acknowledgement"
    ).json()
    return result


def write_opened(message: OpenedMessage, path: Path, fmt: str) -> None:
    """Write the fields (personal data) to ``path`` with 0600, never to a shared location."""
    if fmt == "json":
        data = json.dumps(
            {
                "messageId": message.message_id,
                "flow": message.flow,
                "sender": message.sender,
                "caseRef": message.case_ref,
                "fields": dict(message.fields),
            },
            indent=2,
            ensure_ascii=False,
        ).encode("utf-8")
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(["veld", "waarde"])
        for name, value in sorted(message.fields.items()):
            writer.writerow([name, "" if value is None else value])
        data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
