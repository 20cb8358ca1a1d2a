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
from gateway.crypto.canonical import canonical_json
from gateway.errors import SluisError
from gateway.register import merkle

RECEIPT_FORMAT = "sluis-receipt/1"
RECEIPT_CONTEXT = b"sluis-receipt-v1\x00"
MAX_RECEIPT_BYTES = 65536


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
    """The signed receipt as canonical JSON bytes."""
    document: dict[str, Any] = {
        "format": RECEIPT_FORMAT,
        "messageId": message_id,
        "outcome": outcome,
        "reasons": [r.as_json() for r in reasons],
        "caseRef": case_ref,
        "entry": entry.decode("utf-8"),
        "index": index,
        "treeSize": tree_size,
        "rootHash": root.hex(),
        "inclusionProof": [h.hex() for h in proof],
    }
    signed = canonical_json(document)
    signature = base64.urlsafe_b64encode(key.sign(RECEIPT_CONTEXT + signed)).rstrip(b"=")
    # The canonical form with the signature differs only by that member, which sorts between
    # "rootHash" and "treeSize" (the last member): insert it instead of encoding it all again.
    # A test pins this to canonical_json of the whole document.
    tail = b',"treeSize":%d}' % tree_size
    if not signed.endswith(tail):  # pragma: no cover - the keys above are fixed
        raise ValueError("A receipt's last member is its treeSize.")
    return signed[: -len(tail)] + b',"signature":"' + signature + b'"' + tail


def verify_receipt(data: bytes, gateway_public_key: bytes) -> dict[str, Any]:
    """Check a receipt's signature and inclusion proof; return its document or raise."""
    if len(data) > MAX_RECEIPT_BYTES:
        raise ReceiptInvalid("A receipt is at most 64 KiB.")
    try:
        document = json.loads(data)
        signature_text = document.pop("signature")
        signature = base64.urlsafe_b64decode(signature_text + "=" * (-len(signature_text) % 4))
        entry = document["entry"].encode("utf-8")
        index, size = int(document["index"]), int(document["treeSize"])
        root = bytes.fromhex(document["rootHash"])
        proof = [bytes.fromhex(h) for h in document["inclusionProof"]]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
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
