"""Receipts: the gateway's signed answer to each submitted envelope.

A receipt holds the decision (accepted or refused, with reason codes), the register entry that
records it (byte for byte), that entry's index, the tree head the batch produced and the
inclusion proof from the entry to that head, all signed by the gateway. A partner keeps it as
evidence: the gateway cannot later deny or rewrite the entry without a signed head that
contradicts a later checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.crypto import CryptoError, SigningKey, verify_signature
from gateway.crypto.canonical import MAX_SAFE_INTEGER, canonical_json
from gateway.crypto.encoding import b64u_decode
from gateway.crypto.errors import EnvelopeMalformed
from gateway.errors import SluisError
from gateway.register import merkle

RECEIPT_FORMAT = "sluis-receipt/1"
RECEIPT_CONTEXT = b"sluis-receipt-v1\x00"
MAX_RECEIPT_BYTES = 65536
#: The string escaper of ``json.dumps(..., ensure_ascii=False)``, which ``canonical_json`` is.
_json_string = json.encoder.encode_basestring


class ReceiptInvalid(SluisError):
    """A receipt does not verify: bad signature, or its proof does not reach its tree head."""

    code = "receipt-invalid"
    title = "Receipt does not verify"
    status = 400


@dataclass(frozen=True)
class ReceiptReason:
    code: str
    subject: str
    message_nl: str
    message_en: str

    def as_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "subject": self.subject,
            "messageNl": self.message_nl,
            "messageEn": self.message_en,
        }


def build_receipt(
    key: SigningKey,
    *,
    message_id: str | None,
    outcome: str,
    reasons: Sequence[ReceiptReason],
    case_ref: str | None,
    entry: bytes,
    index: int,
    tree_size: int,
    root: bytes,
    proof: Sequence[bytes],
) -> bytes:
    """The signed receipt as canonical JSON bytes (RFC 8785), written member by member.

    The members are fixed, so their order is too; every string goes through the escaper that
    ``canonical_json`` (``json.dumps``) uses, and a property test pins the bytes to
    ``canonical_json`` of the whole document. A batch builds 500 of these after its
    transaction; formatting them directly costs about a quarter of building and encoding a
    dictionary each time.
    """
    if not 0 <= index < tree_size <= MAX_SAFE_INTEGER:
        raise ValueError("A receipt's index lies inside its tree, within +-2**53.")
    text = _json_string
    listed = ",".join(
        '{"code":%s,"messageEn":%s,"messageNl":%s,"subject":%s}'  # noqa: UP031 - hot path
        % (text(r.code), text(r.message_en), text(r.message_nl), text(r.subject))
        for r in reasons
    )
    hashes = '","'.join([h.hex() for h in proof])
    head = (
        '{"caseRef":%s,"entry":%s,"format":"%s","inclusionProof":[%s],"index":%d,'  # noqa: UP031
        '"messageId":%s,"outcome":%s,"reasons":[%s],"rootHash":"%s"'
        % (
            "null" if case_ref is None else text(case_ref),
            text(entry.decode("utf-8")),
            RECEIPT_FORMAT,
            f'"{hashes}"' if proof else "",
            index,
            "null" if message_id is None else text(message_id),
            text(outcome),
            listed,
            root.hex(),
        )
    ).encode("utf-8")
    tail = b',"treeSize":%d}' % tree_size
    signature = base64.urlsafe_b64encode(key.sign(RECEIPT_CONTEXT + head + tail)).rstrip(b"=")
    # With the signature the canonical form differs only by that member, which sorts between
    # "rootHash" and "treeSize" (the last member).
    return head + b',"signature":"' + signature + b'"' + tail


def verify_receipt(data: bytes, gateway_public_key: bytes) -> dict[str, Any]:
    """Check a receipt's signature and inclusion proof; return its document or raise."""
    if len(data) > MAX_RECEIPT_BYTES:
        raise ReceiptInvalid("A receipt is at most 64 KiB.")
    try:
        document = json.loads(data)
        signature_text = document.pop("signature")
        signature = b64u_decode(signature_text, what="receipt signature")
        entry = document["entry"].encode("utf-8")
        index, size = int(document["index"]), int(document["treeSize"])
        root = bytes.fromhex(document["rootHash"])
        proof = [bytes.fromhex(h) for h in document["inclusionProof"]]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, EnvelopeMalformed):
        # not JSON, a member missing or of the wrong type, or a signature not in canonical
        # base64url (another spelling of the same bytes is refused too)
        raise ReceiptInvalid("The receipt is not a Sluis receipt.") from None
    if document.get("format") != RECEIPT_FORMAT:
        raise ReceiptInvalid("The receipt has an unknown format.")
    try:
        verify_signature(gateway_public_key, RECEIPT_CONTEXT + canonical_json(document), signature)
    except CryptoError:
        raise ReceiptInvalid("The receipt is not signed by this gateway.") from None
    try:
        merkle.verify_inclusion(merkle.leaf_hash(entry), index, size, proof, root)
    except merkle.MerkleProofError:
        raise ReceiptInvalid("The receipt's entry is not in its tree head.") from None
    return dict(document)
