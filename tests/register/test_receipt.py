"""Receipts: the bytes ``build_receipt`` gives are the canonical JSON (RFC 8785) of the whole
signed document, although it encodes the document only once."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.crypto import SigningKey
from gateway.crypto.canonical import canonical_json
from gateway.register import merkle
from gateway.register.receipt import (
    RECEIPT_CONTEXT,
    RECEIPT_FORMAT,
    ReceiptInvalid,
    ReceiptReason,
    build_receipt,
    verify_receipt,
)

KEY = SigningKey.from_seed(bytes(range(32)))
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
reason = st.builds(ReceiptReason, text, text, text, text)


@settings(max_examples=200, deadline=None)
@given(
    message_id=st.none() | text,
    outcome=st.sampled_from(["accepted", "refused"]),
    reasons=st.lists(reason, max_size=3),
    case_ref=st.none() | text,
    entry=text,
    index=st.integers(0, 2**40),
    extra=st.integers(1, 2**40),
    root=st.binary(min_size=32, max_size=32),
    proof=st.lists(st.binary(min_size=32, max_size=32), max_size=40),
)
def test_receipt_bytes_are_the_canonical_json_of_the_signed_document(
    message_id: str | None,
    outcome: str,
    reasons: list[ReceiptReason],
    case_ref: str | None,
    entry: str,
    index: int,
    extra: int,
    root: bytes,
    proof: list[bytes],
) -> None:
    size = index + extra
    data = build_receipt(
        KEY,
        message_id=message_id,
        outcome=outcome,
        reasons=reasons,
        case_ref=case_ref,
        entry=entry.encode("utf-8"),
        index=index,
        tree_size=size,
        root=root,
        proof=proof,
    )
    document = {
        "format": RECEIPT_FORMAT,
        "messageId": message_id,
        "outcome": outcome,
        "reasons": [r.as_json() for r in reasons],
        "caseRef": case_ref,
        "entry": entry,
        "index": index,
        "treeSize": size,
        "rootHash": root.hex(),
        "inclusionProof": [h.hex() for h in proof],
    }
    signature = KEY.sign(RECEIPT_CONTEXT + canonical_json(document))
    document["signature"] = base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")
    assert data == canonical_json(document)
    assert json.loads(data) == document


def _one_entry_receipt() -> bytes:
    """A receipt for the only entry of a one-entry tree."""
    entry = b'{"type":"transfer.accepted"}'
    return build_receipt(
        KEY,
        message_id="m",
        outcome="accepted",
        reasons=[],
        case_ref=None,
        entry=entry,
        index=0,
        tree_size=1,
        root=merkle.leaf_hash(entry),
        proof=[],
    )


def test_a_built_receipt_verifies() -> None:
    assert verify_receipt(_one_entry_receipt(), KEY.public_key)["messageId"] == "m"


def test_a_receipt_signature_in_another_base64url_spelling_is_refused() -> None:
    document = json.loads(_one_entry_receipt())
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    signature = document["signature"]  # 64 bytes: the last character carries 4 unused bits
    respelled = signature[:-1] + alphabet[alphabet.index(signature[-1]) ^ 1]
    assert base64.urlsafe_b64decode(respelled + "==") == base64.urlsafe_b64decode(signature + "==")
    document["signature"] = respelled
    with pytest.raises(ReceiptInvalid):
        verify_receipt(canonical_json(document), KEY.public_key)
