"""Deadlines in working days: weekends and Dutch public holidays do not count. Pure.

The policy gives each case state a deadline in working days, shorter for priority cases
(households with minor children). Public holidays come from the ``holidays`` package
(``holidays.NL``: New Year, Easter, King's Day, Liberation Day in lustrum years, Ascension,
Whit Monday, Christmas), so they are never hand-maintained here.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

from gateway.policy.model import State


@lru_cache(maxsize=64)
def _dutch_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _dutch_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count)."""
    if days < 0:
        raise ValueError("A deadline is a non-negative number of working days.")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if end < start)."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count


def state_deadline(state: State, since: date, *, priority: bool) -> date | None:
    """When a case that entered ``state`` on ``since`` is due; None if the state has none."""
    days = state.deadline_priority_days if priority else state.deadline_normal_days
    if days is None:
        days = state.deadline_normal_days
    return None if days is None else add_working_days(since, days)
