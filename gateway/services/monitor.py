"""The monitor's aggregated figures, computed from case and envelope times (pure functions).

Nothing here reads a subject reference or an envelope's content: only case references, flows,
parties and times go in, and only counts, shares and medians per month come out.

Definitions (docs/CONSOLE.md says the same):

- *Signal*: an accepted envelope of the flow ``arrears-signal``, counted in the month it was
  received, per landlord (its sender).
- *Repeated signal*: a signal about a case that already had one, i.e. every signal of a case
  but its first (the workflow attaches a repeated monthly signal to the open case).
- *Routing*: an accepted ``route-to-directors`` or ``referral-to-amw`` envelope, in the month
  it was received; the share is directors / (directors + AMW).
- *Priority share*: of the cases opened in a month, the share marked priority now.
- *First contact*: the first of (a) a recipient acknowledging (opening) a signal of the case,
  the intake's acknowledgement in the covenant, and (b) an accepted routing or referral
  (``route-to-directors``, ``referral-to-amw``, ``referral-to-expert``). Days from the case's
  opening, median per month of the contact.
- *Closure*: days from opening to ``closed_at``, median per month of closing.
- *Feedback*: accepted ``feedback-to-landlord`` envelopes per month.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from gateway.store import Connection
from gateway.store import monitor as store
from gateway.store.monitor import AckTimes, CaseTimes, EnvelopeTimes

SIGNAL = "arrears-signal"
DIRECTORS = "route-to-directors"
AMW = "referral-to-amw"
EXPERT = "referral-to-expert"
FEEDBACK = "feedback-to-landlord"
CONTACT_FLOWS = (DIRECTORS, AMW, EXPERT)
FLOWS = (SIGNAL, DIRECTORS, AMW, EXPERT, FEEDBACK)
DEFAULT_MONTHS = 12


@dataclass(frozen=True)
class Figures:
    """Every figure per month (``YYYY-MM``) for the months in ``months``, oldest first."""

    months: tuple[str, ...]
    signals: dict[tuple[str, str], int]  # (month, landlord) -> signals
    repeated: dict[str, int]
    to_directors: dict[str, int]
    to_amw: dict[str, int]
    cases_opened: dict[str, int]
    priority_cases: dict[str, int]
    days_to_contact: dict[str, float | None]
    days_to_closure: dict[str, float | None]
    feedback: dict[str, int]

    def signals_in(self, month: str) -> int:
        return sum(n for (m, _landlord), n in self.signals.items() if m == month)

    def directors_share(self, month: str) -> float | None:
        routed = self.to_directors[month] + self.to_amw[month]
        return None if routed == 0 else self.to_directors[month] / routed

    def priority_share(self, month: str) -> float | None:
        opened = self.cases_opened[month]
        return None if opened == 0 else self.priority_cases[month] / opened


def month_of(stamp: str) -> str:
    """``YYYY-MM`` of an ISO time stamp (the store's times are UTC ISO strings)."""
    return stamp[:7]


def last_months(today: date, count: int = DEFAULT_MONTHS) -> tuple[str, ...]:
    """The ``count`` months up to and including today's, oldest first."""
    year, month = today.year, today.month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return tuple(reversed(found))


def _days(start: str, end: str) -> float:
    delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return delta.total_seconds() / 86400


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def compute(
    months: Sequence[str],
    cases: Iterable[CaseTimes],
    envelopes: Iterable[EnvelopeTimes],
    acknowledgements: Iterable[AckTimes],
) -> Figures:
    """The figures for ``months`` (``YYYY-MM``); rows outside them are not counted."""
    wanted = tuple(months)
    inside = set(wanted)
    case_list = list(cases)
    opened = {c.case_ref: c.opened_at for c in case_list}
    signals: Counter[tuple[str, str]] = Counter()
    repeated: Counter[str] = Counter()
    directors: Counter[str] = Counter()
    amw: Counter[str] = Counter()
    feedback: Counter[str] = Counter()
    seen_signal: set[str] = set()
    contact: dict[str, str] = {}
    for env in sorted(envelopes, key=lambda e: e.received_at):
        month = month_of(env.received_at)
        if env.flow == SIGNAL:
            if month in inside:
                signals[(month, env.sender)] += 1
                if env.case_ref in seen_signal:
                    repeated[month] += 1
            seen_signal.add(env.case_ref)
        elif month in inside and env.flow == DIRECTORS:
            directors[month] += 1
        elif month in inside and env.flow == AMW:
            amw[month] += 1
        elif month in inside and env.flow == FEEDBACK:
            feedback[month] += 1
        if env.flow in CONTACT_FLOWS:
            contact[env.case_ref] = min(contact.get(env.case_ref, env.received_at), env.received_at)
    for ack in acknowledgements:
        if ack.flow == SIGNAL:
            contact[ack.case_ref] = min(
                contact.get(ack.case_ref, ack.acknowledged_at), ack.acknowledged_at
            )
    to_contact: dict[str, list[float]] = defaultdict(list)
    for case_ref, at in contact.items():
        start = opened.get(case_ref)
        if start is not None and month_of(at) in inside:
            to_contact[month_of(at)].append(max(0.0, _days(start, at)))
    to_closure: dict[str, list[float]] = defaultdict(list)
    cases_opened: Counter[str] = Counter()
    priority: Counter[str] = Counter()
    for case in case_list:
        month = month_of(case.opened_at)
        if month in inside:
            cases_opened[month] += 1
            priority[month] += int(case.priority)
        if case.closed_at is not None and month_of(case.closed_at) in inside:
            to_closure[month_of(case.closed_at)].append(
                max(0.0, _days(case.opened_at, case.closed_at))
            )
    return Figures(
        months=wanted,
        signals=dict(signals),
        repeated={m: repeated[m] for m in wanted},
        to_directors={m: directors[m] for m in wanted},
        to_amw={m: amw[m] for m in wanted},
        cases_opened={m: cases_opened[m] for m in wanted},
        priority_cases={m: priority[m] for m in wanted},
        days_to_contact={m: _median(to_contact[m]) for m in wanted},
        days_to_closure={m: _median(to_closure[m]) for m in wanted},
        feedback={m: feedback[m] for m in wanted},
    )


def figures(conn: Connection, today: date, count: int = DEFAULT_MONTHS) -> Figures:
    """The figures of the last ``count`` months, read from the store."""
    return compute(
        last_months(today, count),
        store.cases(conn),
        store.envelopes(conn, FLOWS),
        store.acknowledgements(conn, (SIGNAL,)),
    )


def rows(fig: Figures) -> list[tuple[str, str, str, float | None]]:
    """Every figure as (figure, month, group, value): the CSV download's rows. Shares are
    fractions (0 to 1); a month without data for a share or median gives None."""
    found: list[tuple[str, str, str, float | None]] = []
    for (month, landlord), n in sorted(fig.signals.items()):
        found.append(("signals", month, landlord, n))
    for month in fig.months:
        found.extend(
            [
                ("repeated-signals", month, "", fig.repeated[month]),
                ("routed", month, "directors", fig.to_directors[month]),
                ("routed", month, "amw", fig.to_amw[month]),
                ("routed-share", month, "directors", fig.directors_share(month)),
                ("cases-opened", month, "", fig.cases_opened[month]),
                ("priority-share", month, "", fig.priority_share(month)),
                ("median-days", month, "first-contact", fig.days_to_contact[month]),
                ("median-days", month, "closure", fig.days_to_closure[month]),
                ("feedback", month, "", fig.feedback[month]),
            ]
        )
    return found
