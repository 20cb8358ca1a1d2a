"""The monitor's aggregation: properties that hold for any cases and envelopes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gateway.register.entry import iso_time
from gateway.services import monitor
from gateway.store.monitor import AckTimes, CaseTimes, EnvelopeTimes

START = datetime(2025, 6, 1, tzinfo=UTC)
MONTHS = monitor.last_months(date(2026, 3, 15), 12)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[CaseTimes], list[EnvelopeTimes], list[AckTimes]]:
    cases, envelopes, acks = [], [], []
    for i in range(draw(st.integers(0, 12))):
        ref = f"case-{i}"
        opened = START + timedelta(hours=draw(st.integers(0, 24 * 300)))
        closed = None
        if draw(st.booleans()):
            closed = iso_time(opened + timedelta(hours=draw(st.integers(0, 24 * 90))))
        cases.append(CaseTimes(ref, iso_time(opened), draw(st.booleans()), closed))
        landlord = draw(st.sampled_from(["wonen-limburg", "st-joseph"]))
        envelopes.append(EnvelopeTimes(ref, monitor.SIGNAL, landlord, iso_time(opened)))
        for _ in range(draw(st.integers(0, 4))):
            flow = draw(st.sampled_from(monitor.FLOWS))
            at = opened + timedelta(hours=draw(st.integers(0, 24 * 60)))
            envelopes.append(EnvelopeTimes(ref, flow, landlord, iso_time(at)))
        if draw(st.booleans()):
            at = opened + timedelta(hours=draw(st.integers(0, 24 * 10)))
            acks.append(AckTimes(ref, monitor.SIGNAL, "gemeente-weert-intake", iso_time(at)))
    return cases, envelopes, acks


@given(histories())
def test_figures_are_consistent(
    history: tuple[list[CaseTimes], list[EnvelopeTimes], list[AckTimes]],
) -> None:
    cases, envelopes, acks = history
    fig = monitor.compute(MONTHS, cases, envelopes, acks)
    inside = [e for e in envelopes if monitor.month_of(e.received_at) in MONTHS]
    signals = [e for e in inside if e.flow == monitor.SIGNAL]
    assert sum(fig.signals.values()) == len(signals)
    assert sum(fig.repeated.values()) <= len(signals)
    all_signals = [e for e in envelopes if e.flow == monitor.SIGNAL]
    assert sum(fig.repeated.values()) <= len(all_signals) - len({e.case_ref for e in all_signals})
    for month in MONTHS:
        assert fig.repeated[month] <= fig.signals_in(month)
        assert fig.priority_cases[month] <= fig.cases_opened[month]
        for share in (fig.directors_share(month), fig.priority_share(month)):
            assert share is None or 0 <= share <= 1
        for days in (fig.days_to_contact[month], fig.days_to_closure[month]):
            assert days is None or days >= 0
    assert len(monitor.rows(fig)) == len(fig.signals) + 9 * len(MONTHS)


@given(histories(), st.permutations(list(range(30))))
def test_order_of_the_rows_does_not_matter(
    history: tuple[list[CaseTimes], list[EnvelopeTimes], list[AckTimes]], order: list[int]
) -> None:
    cases, envelopes, acks = history
    shuffled = [envelopes[i] for i in order if i < len(envelopes)] + envelopes[30:]
    assert monitor.compute(MONTHS, cases, envelopes, acks) == monitor.compute(
        MONTHS, list(reversed(cases)), shuffled, list(reversed(acks))
    )


def test_definitions_on_a_small_history() -> None:
    cases = [
        CaseTimes("a", "2026-01-05T10:00:00Z", True, "2026-02-04T10:00:00Z"),
        CaseTimes("b", "2026-01-10T10:00:00Z", False, None),
    ]
    envelopes = [
        EnvelopeTimes("a", monitor.SIGNAL, "st-joseph", "2026-01-05T10:00:00Z"),
        EnvelopeTimes("b", monitor.SIGNAL, "st-joseph", "2026-01-10T10:00:00Z"),
        EnvelopeTimes("a", monitor.SIGNAL, "st-joseph", "2026-02-05T10:00:00Z"),
        EnvelopeTimes("a", monitor.DIRECTORS, "gemeente", "2026-01-09T10:00:00Z"),
        EnvelopeTimes("b", monitor.AMW, "gemeente", "2026-01-11T10:00:00Z"),
        EnvelopeTimes("b", monitor.FEEDBACK, "gemeente", "2026-01-12T10:00:00Z"),
    ]
    acks = [AckTimes("a", monitor.SIGNAL, "gemeente-weert-intake", "2026-01-07T10:00:00Z")]
    fig = monitor.compute(("2026-01", "2026-02"), cases, envelopes, acks)
    assert fig.signals == {("2026-01", "st-joseph"): 2, ("2026-02", "st-joseph"): 1}
    assert fig.repeated == {"2026-01": 0, "2026-02": 1}
    assert fig.directors_share("2026-01") == 0.5
    assert fig.priority_share("2026-01") == 0.5
    assert fig.days_to_contact["2026-01"] == 1.5  # a: 2 days (acknowledged), b: 1 day (AMW)
    assert fig.days_to_closure == {"2026-01": None, "2026-02": 30.0}
    assert fig.feedback == {"2026-01": 1, "2026-02": 0}


def test_last_months_crosses_the_year() -> None:
    assert monitor.last_months(date(2026, 2, 28), 3) == ("2025-12", "2026-01", "2026-02")
