"""Case references: the opening minute first, then 56 random bits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gateway.api.exchange import CASE_REF
from gateway.services.exchange import CASE_REF_EPOCH, new_case_ref

MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
    max_value=datetime(2050, 1, 1),  # noqa: DTZ001 - the minutes wrap in November 2057
    timezones=st.just(UTC),
)


@given(MOMENTS, st.integers(min_value=1, max_value=10**6))
def test_later_cases_sort_after_earlier_ones(opened: datetime, minutes: int) -> None:
    later = opened + timedelta(minutes=minutes)
    assert later < CASE_REF_EPOCH + timedelta(minutes=16**6)
    assert new_case_ref(opened)[:11] < new_case_ref(later)[:11]


@given(MOMENTS)
def test_every_reference_keeps_the_published_format(opened: datetime) -> None:
    assert CASE_REF.match(new_case_ref(opened))


def test_cases_opened_in_the_same_minute_differ_in_their_random_part() -> None:
    now = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    refs = {new_case_ref(now) for _ in range(1000)}
    assert len(refs) == 1000
    assert len({r[:11] for r in refs}) == 1
