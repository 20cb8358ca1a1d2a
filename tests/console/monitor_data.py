"""Fictitious cases and envelopes for the monitor (no real person, only made-up references)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from gateway.register.entry import iso_time
from gateway.store import Connection, transaction
from gateway.store import exchange as store
from gateway.store.exchange import CaseRecord, NewEnvelope, StoredReceipt

LANDLORDS = ("wonen-limburg", "st-joseph")
INTAKE = "gemeente-weert-intake"
DIRECTOR = "gemeente-weert-schulddienstverlening"
AMW = "amw-midden-limburg"


def _envelope(
    conn: Connection, number: int, sender: str, flow: str, case_ref: str, at: datetime, to: str
) -> None:
    message_id = f"msg-demo-{number:04d}"
    store.insert_receipts(
        conn,
        [
            StoredReceipt(
                message_id, sender, hashlib.sha256(message_id.encode()).digest(), "accepted", b"-"
            )
        ],
    )
    store.insert_envelopes(
        conn,
        [
            NewEnvelope(
                message_id, sender, flow, case_ref, iso_time(at), b"sealed", (to,), False, number
            )
        ],
    )


def seed(conn: Connection, now: datetime, cases: int = 24) -> int:
    """``cases`` demo cases spread over the four months before ``now``: signals (some
    repeated), the intake's acknowledgement, routing, feedback and closure. Returns the
    number of signal envelopes."""
    number = 0
    signals = 0
    with transaction(conn):
        for i in range(cases):
            opened = now - timedelta(days=120 - i * 5, hours=i % 7)
            landlord = LANDLORDS[i % 2]
            case_ref = f"case-demo{i:04d}"
            closed = opened + timedelta(days=20 + i % 9) if i % 3 == 0 else None
            if closed is not None and closed > now:
                closed = None
            store.insert_case(
                conn,
                CaseRecord(
                    case_ref,
                    f"demo-subject-{i:04d}",
                    "closed" if closed else "triage",
                    i % 4 == 0,
                    landlord,
                    iso_time(opened),
                    iso_time(opened),
                    None,
                    iso_time(closed) if closed else None,
                    (landlord, INTAKE),
                ),
            )
            number += 1
            signals += 1
            _envelope(conn, number, landlord, "arrears-signal", case_ref, opened, INTAKE)
            ack = opened + timedelta(days=1 + i % 4, hours=3)
            if ack < now:
                store.mark_delivery(
                    conn, INTAKE, f"msg-demo-{number:04d}", state="acknowledged", at=iso_time(ack)
                )
            if i % 5 == 1 and opened + timedelta(days=31) < now:
                number += 1
                signals += 1
                _envelope(
                    conn,
                    number,
                    landlord,
                    "arrears-signal",
                    case_ref,
                    opened + timedelta(days=31),
                    INTAKE,
                )
            routed = opened + timedelta(days=3 + i % 6)
            if routed < now:
                number += 1
                flow, to = ("route-to-directors", DIRECTOR) if i % 3 else ("referral-to-amw", AMW)
                _envelope(conn, number, INTAKE, flow, case_ref, routed, to)
            if i % 2 == 0 and routed + timedelta(days=2) < now:
                number += 1
                _envelope(
                    conn,
                    number,
                    INTAKE,
                    "feedback-to-landlord",
                    case_ref,
                    routed + timedelta(days=2),
                    landlord,
                )
    return signals
