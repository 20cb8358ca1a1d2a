"""Every scheduled job at controlled time (the world's injectable clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.crypto.keys import PartnerKeyPair
from gateway.services import key_directory
from gateway.store import exchange as exchange_store
from gateway.store import scheduler as scheduler_store
from tests.api.world import (
    AMW,
    DIRECTOR,
    DIRECTOR_2,
    INTAKE,
    LANDLORD,
    LANDLORD_2,
    World,
)
from tests.scheduler.helpers import events, notices, run


def _signal(world: World, subject: str = "subject-0001") -> tuple[str, str]:
    receipt = world[LANDLORD].send("arrears-signal", subject_ref=subject)
    assert receipt["outcome"] == "accepted", receipt["reasons"]
    return receipt["caseRef"], receipt["messageId"]


def _ack(world: World, partner: str, message_id: str) -> None:
    response = world[partner].post(f"/api/v1/envelopes/{message_id}/acknowledgement")
    assert response.status_code == 200, response.get_json()


def _delivery_state(world: World, partner: str, message_id: str) -> str | None:
    with world.instance.database.connection() as conn:
        found = exchange_store.get_delivery(conn, partner, message_id)
        return None if found is None else found.state


def _blob(world: World, message_id: str) -> bytes | None:
    with world.instance.database.connection() as conn:
        return exchange_store.get_envelope(conn, message_id)


def _case(world: World, case_ref: str) -> exchange_store.CaseRecord | None:
    with world.instance.database.connection() as conn:
        return exchange_store.get_case(conn, case_ref)


# -- retention ---------------------------------------------------------------------------------


def test_acknowledged_envelope_is_purged_after_the_grace_period_once(world: World) -> None:
    _case_ref, message_id = _signal(world)
    _ack(world, INTAKE, message_id)
    world.clock.advance(days=6)
    run(world, "retention")
    assert _blob(world, message_id) is not None
    world.clock.advance(days=1, minutes=1)
    report = run(world, "retention")
    assert report.counts["envelopes purged"] == 1
    assert _blob(world, message_id) is None
    assert _delivery_state(world, INTAKE, message_id) == "purged"
    assert [e["messageId"] for e in events(world, "envelope.purged")] == [message_id]
    assert run(world, "retention").counts == {}
    assert len(events(world, "envelope.purged")) == 1


def test_undelivered_envelope_expires_and_the_sender_is_told(world: World) -> None:
    case_ref, message_id = _signal(world)
    world.clock.advance(days=29)
    run(world, "retention")
    assert _delivery_state(world, INTAKE, message_id) == "pending"
    world.clock.advance(days=1, minutes=1)
    report = run(world, "retention")
    assert report.counts["deliveries expired"] == 1
    assert report.counts["envelopes purged"] == 1  # nothing left to deliver: the blob goes
    assert _delivery_state(world, INTAKE, message_id) == "expired"
    assert _blob(world, message_id) is None
    expired = events(world, "envelope.expired")
    assert len(expired) == 1
    assert expired[0]["attributes"] == {"partner": INTAKE}
    (notice,) = notices(world, LANDLORD)
    assert (notice.kind, notice.case_ref, notice.state, notice.reference) == (
        "envelope-expired",
        case_ref,
        "signalled",
        message_id,
    )
    run(world, "retention")
    assert len(notices(world)) == 1
    assert len(events(world, "envelope.expired")) == 1
    # the recipient is told the envelope is gone
    assert world[INTAKE].get(f"/api/v1/envelopes/{message_id}").status_code == 410


def test_closed_case_is_deleted_after_its_retention_receipts_stay(world: World) -> None:
    case_ref, message_id = _signal(world)
    _ack(world, INTAKE, message_id)
    closure = world[INTAKE].send("case-closure", case_ref=case_ref)
    assert closure["outcome"] == "accepted", closure["reasons"]
    world.clock.advance(days=30 * 17)
    run(world, "retention")
    assert _case(world, case_ref) is not None
    world.clock.advance(days=30 * 2)
    report = run(world, "retention")
    assert report.counts["cases purged (retention-after-closure)"] == 1
    assert _case(world, case_ref) is None
    assert _delivery_state(world, INTAKE, message_id) is None
    with world.instance.database.connection() as conn:
        assert set(exchange_store.get_receipts(conn, [message_id])) == {message_id}
    (purged,) = events(world, "case.purged")
    assert (purged["case"], purged["reason"]) == (case_ref, "retention-after-closure")
    assert purged["attributes"]["count"] == 2  # the signal and the closure
    assert len(purged["subjects"]) == 1  # the subject's pseudonym: art. 15 finds the purge
    run(world, "retention")
    assert len(events(world, "case.purged")) == 1


def test_signal_without_follow_up_is_deleted_after_six_months(world: World) -> None:
    case_ref, message_id = _signal(world)
    picked_up, picked_message = _signal(world, "subject-0002")
    _ack(world, INTAKE, picked_message)  # intake acknowledged: the case is in triage
    world.clock.advance(days=175)
    run(world, "retention")
    assert _case(world, case_ref) is not None
    world.clock.advance(days=10)
    report = run(world, "retention")
    assert report.counts["cases purged (no-help-accepted)"] == 1
    assert _case(world, case_ref) is None
    assert _case(world, picked_up) is not None  # picked up: 12 months
    world.clock.advance(days=190)
    run(world, "retention")
    assert _case(world, picked_up) is None
    assert [e["reason"] for e in events(world, "case.purged")] == ["no-help-accepted"] * 2
    del message_id


def test_a_repeated_signal_keeps_an_idle_case(world: World) -> None:
    case_ref, _ = _signal(world)
    world.clock.advance(days=150)
    again, _ = _signal(world)  # next month's signal attaches to the open case
    assert again == case_ref
    world.clock.advance(days=60)
    run(world, "retention")
    assert _case(world, case_ref) is not None


def test_referred_case_is_kept_until_closed(world: World) -> None:
    case_ref, message_id = _signal(world)
    referral = world[INTAKE].send("referral-to-amw", case_ref=case_ref, routing={"priority": False})
    assert referral["outcome"] == "accepted", referral["reasons"]
    world.clock.advance(days=400)
    run(world, "retention")
    assert _case(world, case_ref) is not None
    del message_id


def test_retention_destroys_epoch_keys_past_the_register_retention(world: World) -> None:
    _signal(world)
    world.clock.now = datetime(2034, 1, 2, 3, 0, tzinfo=UTC)
    report = run(world, "retention")
    assert report.counts["epoch keys destroyed"] >= 1
    assert {e["attributes"]["epoch"] for e in events(world, "epoch-key.destroyed")} >= {"2026-11"}


def test_a_crash_half_way_is_finished_by_the_rerun(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = [_signal(world, f"subject-{n:04d}")[1] for n in range(5)]
    world.clock.advance(days=31)
    original = scheduler_store.expire_delivery
    calls = {"n": 0}

    def crash_in_second_chunk(*args: object) -> bool:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(scheduler_store, "expire_delivery", crash_in_second_chunk)
    with pytest.raises(RuntimeError, match="power cut"):
        run(world, "retention", chunk=2)
    states = [_delivery_state(world, INTAKE, m) for m in sent]
    assert states.count("expired") == 2  # the first chunk committed whole, the second not
    assert len(events(world, "envelope.expired")) == 2
    monkeypatch.setattr(scheduler_store, "expire_delivery", original)
    report = run(world, "retention", chunk=2)
    assert report.counts["deliveries expired"] == 3
    assert report.counts["envelopes purged"] == 5
    expired = [e["messageId"] for e in events(world, "envelope.expired")]
    assert sorted(expired) == sorted(sent)  # each once: nothing twice, nothing missed
    assert sorted(e["messageId"] for e in events(world, "envelope.purged")) == sorted(sent)
    assert len(notices(world, LANDLORD)) == 5


# -- deadlines ---------------------------------------------------------------------------------


def test_overdue_case_warns_the_responsible_partner_once(world: World) -> None:
    case_ref, _ = _signal(world)  # Tue 24 Nov 2026: 5 working days -> Tue 1 Dec
    assert _case(world, case_ref).deadline == "2026-12-01"  # type: ignore[union-attr]
    world.clock.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert run(world, "deadlines").counts == {}
    world.clock.now = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    report = run(world, "deadlines")
    assert report.counts == {"cases overdue": 1, "notices raised": 1}
    (notice,) = notices(world)
    assert (notice.partner, notice.kind, notice.case_ref, notice.state, notice.days_overdue) == (
        INTAKE,
        "case-overdue",
        case_ref,
        "signalled",
        1,
    )
    world.clock.advance(days=1)
    assert run(world, "deadlines").counts == {"cases overdue": 1}
    assert len(notices(world)) == 1
    (raised,) = events(world, "notice.raised")
    assert raised["case"] == case_ref
    assert raised["attributes"]["notice"] == "case-overdue"


def test_priority_case_is_due_sooner_and_warns_every_director(world: World) -> None:
    case_ref, _ = _signal(world)
    routed = world[INTAKE].send("route-to-directors", case_ref=case_ref, routing={"priority": True})
    assert routed["outcome"] == "accepted", routed["reasons"]
    case = _case(world, case_ref)
    assert case is not None
    assert case.deadline == "2026-12-01"  # priority: 5 working days instead of 10
    world.clock.now = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
    run(world, "deadlines")
    assert sorted(n.partner or "" for n in notices(world)) == [DIRECTOR, DIRECTOR_2]
    assert {n.days_overdue for n in notices(world)} == {2}


def test_dutch_holidays_do_not_count_as_overdue_days(world: World) -> None:
    world.clock.now = datetime(2026, 12, 17, 9, 0, tzinfo=UTC)  # Thursday
    case_ref, _ = _signal(world)  # 5 working days: due Thursday 24 December
    assert _case(world, case_ref).deadline == "2026-12-24"  # type: ignore[union-attr]
    world.clock.now = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)  # Christmas: no working day
    assert run(world, "deadlines").counts == {}
    world.clock.now = datetime(2026, 12, 27, 9, 0, tzinfo=UTC)  # Sunday after Boxing Day
    assert run(world, "deadlines").counts == {}
    world.clock.now = datetime(2026, 12, 28, 9, 0, tzinfo=UTC)  # Monday: 1 working day late
    run(world, "deadlines")
    assert [n.days_overdue for n in notices(world)] == [1]
    world.clock.now = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # New Year's Day skipped: 5 late
    run(world, "deadlines")
    assert len(notices(world)) == 1  # the same fact is noticed once


# -- monthly deliveries ------------------------------------------------------------------------


def test_missing_monthly_delivery_warns_that_landlord_across_the_month_change(
    world: World,
) -> None:
    world.clock.now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    _signal(world)  # wonen-limburg delivers in December, st-joseph does not
    world.clock.now = datetime(2026, 12, 10, 22, 0, tzinfo=UTC)  # 23:00 in Weert: day 10
    assert run(world, "monthly-deliveries").counts == {}
    world.clock.now = datetime(2026, 12, 10, 23, 30, tzinfo=UTC)  # 00:30 on the 11th in Weert
    report = run(world, "monthly-deliveries")
    assert report.counts == {"landlords delivered": 1, "landlords missing": 1, "notices raised": 1}
    (notice,) = notices(world)
    assert (notice.partner, notice.kind, notice.reference, notice.due_date) == (
        LANDLORD_2,
        "monthly-delivery-missing",
        "2026-12",
        "2026-12-10",
    )
    world.clock.now = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
    run(world, "monthly-deliveries")
    assert len(notices(world)) == 1
    world.clock.now = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)  # January, before the day
    assert run(world, "monthly-deliveries").counts == {}
    world.clock.now = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
    run(world, "monthly-deliveries")
    january = [n for n in notices(world) if n.reference == "2027-01"]
    assert sorted(n.partner or "" for n in january) == [LANDLORD_2, LANDLORD]
    assert {n.days_overdue for n in january} == {2}
    assert len(events(world, "notice.raised")) == 3


# -- checkpoints and keys ----------------------------------------------------------------------


def test_checkpoint_is_signed_only_when_the_log_grew(world: World) -> None:
    first = run(world, "checkpoints")
    assert "checkpoint signed at size" in first.counts
    assert run(world, "checkpoints").counts == {}
    _signal(world)
    assert "checkpoint signed at size" in run(world, "checkpoints").counts
    assert len(events(world, "checkpoint.signed")) == 2


def test_partner_key_expiry_is_warned_ahead_once(world: World) -> None:
    now = world.clock()
    with world.instance.database.connection() as conn:
        for partner, days in ((AMW, 10), (DIRECTOR, 90)):
            key_directory.register_key(
                conn,
                PartnerKeyPair.generate(partner).public,
                now=now,
                by="admin",
                register=world.instance.register,
                not_after=now + timedelta(days=days),
            )
    report = run(world, "keys")
    assert report.counts == {"keys expiring": 1, "notices raised": 1}
    (notice,) = notices(world)
    assert (notice.partner, notice.kind, notice.days_overdue) == (AMW, "key-expiring", -10)
    assert run(world, "keys").counts == {"keys expiring": 1}
    (event,) = events(world, "key.expiring")
    assert event["attributes"]["partner"] == AMW
    assert event["stream"] == "administration"
