"""Checking a receipt: the gateway's signature, the entry's inclusion proof, and that the
register grew consistently from the receipt's tree head to the latest signed checkpoint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gateway.client.errors import UntrustedData
from gateway.client.profile import Profile
from gateway.client.session import Session
from gateway.crypto import CryptoError
from gateway.crypto.canonical import canonical_json
from gateway.crypto.note import NoteVerifier
from gateway.register import merkle
from gateway.register.checkpoint import open_checkpoint
from gateway.register.receipt import ReceiptInvalid, verify_receipt


@dataclass(frozen=True)
class ReceiptCheck:
    index: int
    tree_size: int
    checkpoint_size: int


def verify_receipt_file(session: Session, profile: Profile, path: Path) -> ReceiptCheck:
    try:
        receipt = json.loads(path.read_text())
    except (OSError, ValueError):
        raise UntrustedData(f"{path} is not a receipt file.") from None
    try:
        document = verify_receipt(canonical_json(receipt), profile.gateway_public_key)
    except ReceiptInvalid as error:
        raise UntrustedData(f"{path}: {error.detail}") from None
    size, root = int(document["treeSize"]), bytes.fromhex(document["rootHash"])
    latest = session.call("GET", "/api/v1/register-checkpoint", query={"fromSize": size}).json()
    note = str(latest["checkpoint"])
    origin = note.split("\n", 1)[0]
    try:
        checkpoint = open_checkpoint(note, NoteVerifier(origin, profile.gateway_public_key))
        merkle.verify_consistency(
            size,
            checkpoint.size,
            root,
            checkpoint.root,
            [bytes.fromhex(h) for h in latest["consistencyProof"]],
        )
    except (CryptoError, merkle.MerkleProofError, ValueError):
        raise UntrustedData(
            "The gateway's latest checkpoint does not extend the tree head in your receipt: "
            "the register may have been rewritten. Keep this receipt and tell the FG."
        ) from None
    return ReceiptCheck(int(document["index"]), size, checkpoint.size)
