"""Rows for store tests: a case, and an accepted envelope with its receipt and deliveries."""

from __future__ import annotations

from gateway.store import Connection
from gateway.store import exchange as store

STAMP = "2026-11-24T12:00:00.000Z"


def case(
    ref: str, state: str, parties: tuple[str, ...], *, closed: bool = False
) -> store.CaseRecord:
    closed_at = STAMP if closed else None
    return store.CaseRecord(
        ref, f"subject-{ref}", state, False, "a", STAMP, STAMP, None, closed_at, parties
    )


def accepted_envelope(
    conn: Connection,
    message_id: str,
    case_ref: str,
    seq: int,
    recipients: tuple[str, ...],
    *,
    priority: bool = False,
) -> None:
    """Its receipt, the envelope and one pending delivery per recipient, as a batch stores
    them."""
    store.insert_receipts(
        conn, [store.StoredReceipt(message_id, "a", bytes(32), "accepted", b"{}")]
    )
    store.insert_envelopes(
        conn,
        [
            store.NewEnvelope(
                message_id,
                "a",
                "arrears-signal",
                case_ref,
                STAMP,
                b"x",
                recipients,
                priority=priority,
                received_seq=seq,
            )
        ],
    )
