"""Working-day deadlines with Dutch public holidays."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.policy import Policy
from gateway.policy.deadlines import (
    add_working_days,
    is_working_day,
    state_deadline,
    working_days_between,
)


def test_weekend_is_skipped() -> None:
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday -> Monday


def test_kings_day_and_christmas_are_not_working_days() -> None:
    assert not is_working_day(date(2027, 4, 27))  # King's Day, a Tuesday
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 28)  # over Christmas
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)  # over New Year


def test_easter_monday_and_whit_monday() -> None:
    assert not is_working_day(date(2027, 3, 29))  # Easter Monday 2027
    assert not is_working_day(date(2027, 5, 17))  # Whit Monday 2027


def test_priority_cases_are_due_sooner(weert: Policy) -> None:
    triage = weert.workflow.states["triage"]
    normal = state_deadline(triage, date(2026, 11, 23), priority=False)
    urgent = state_deadline(triage, date(2026, 11, 23), priority=True)
    assert normal == date(2026, 11, 30)
    assert urgent == date(2026, 11, 26)
    assert (
        state_deadline(weert.workflow.states["closed"], date(2026, 11, 23), priority=True) is None
    )


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        add_working_days(date(2026, 1, 1), -1)


@given(st.dates(date(2025, 1, 1), date(2030, 12, 31)), st.integers(0, 40))
def test_counting_back_gives_the_same_number(start: date, days: int) -> None:
    end = add_working_days(start, days)
    assert working_days_between(start, end) == days
    assert working_days_between(end, start) == -days
    assert end == start or is_working_day(end)
