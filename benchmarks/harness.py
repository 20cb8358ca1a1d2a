"""The benchmark harness: figures, floors, ratios, and one table.

A benchmark module is ``benchmarks/bench_<topic>.py`` with a function
``collect(quick: bool) -> Iterable[Figure]``. It measures Sluis doing a piece of work and, in the
same run, the raw floor for the same work (raw PyNaCl, raw hashlib, raw SQLCipher), so the ratio
says how much of the machine's possible speed Sluis reaches. ``quick`` shrinks sizes so the test
suite can check that every benchmark still runs (it never asserts timings).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured figure. ``higher_is_better`` rates (ops/s) or lower-is-better latencies."""

    name: str
    value: float
    unit: str
    floor: float | None = None
    floor_name: str = ""
    goal_ratio: float | None = None  # e.g. 0.7: value must reach 70 % of the floor
    goal_value: float | None = None  # e.g. 1.0 (ms) for an absolute goal
    higher_is_better: bool = True

    @property
    def ratio(self) -> float | None:
        if self.floor is None or self.floor == 0 or self.value == 0:
            return None
        return self.value / self.floor if self.higher_is_better else self.floor / self.value

    @property
    def meets_goal(self) -> bool | None:
        checks: list[bool] = []
        if self.goal_ratio is not None and self.ratio is not None:
            checks.append(self.ratio >= self.goal_ratio)
        if self.goal_value is not None:
            checks.append(
                self.value >= self.goal_value
                if self.higher_is_better
                else self.value <= self.goal_value
            )
        return all(checks) if checks else None

    @property
    def goal_text(self) -> str:
        parts = []
        if self.goal_ratio is not None:
            parts.append(f">= {self.goal_ratio:.0%} of floor")
        if self.goal_value is not None:
            op = ">=" if self.higher_is_better else "<="
            parts.append(f"{op} {self.goal_value:g} {self.unit}")
        return ", ".join(parts)


def rate(
    work: Callable[[], object],
    *,
    items_per_call: int = 1,
    min_seconds: float = 0.3,
    repeats: int = 3,
) -> float:
    """Best-of-``repeats`` throughput of ``work`` in items per second."""
    best = 0.0
    for _ in range(repeats):
        calls = 0
        start = time.perf_counter()
        elapsed = 0.0
        while elapsed < min_seconds or calls == 0:
            work()
            calls += 1
            elapsed = time.perf_counter() - start
        best = max(best, calls * items_per_call / elapsed)
    return best


def paired_rates(
    work: Callable[[], object],
    floor: Callable[[], object],
    *,
    items_per_call: int = 1,
    min_seconds: float = 0.3,
    repeats: int = 5,
) -> tuple[float, float]:
    """Best-of rates of ``work`` and its ``floor``, measured alternately.

    Alternating makes both see the same background load: a busy machine slows the pair
    together instead of whichever happened to run during the busy second.
    """
    best_work = best_floor = 0.0
    for _ in range(repeats):
        best_work = max(
            best_work, rate(work, items_per_call=items_per_call, min_seconds=min_seconds, repeats=1)
        )
        best_floor = max(
            best_floor,
            rate(floor, items_per_call=items_per_call, min_seconds=min_seconds, repeats=1),
        )
    return best_work, best_floor


def latency_ms(work: Callable[[], object], *, calls: int = 200, repeats: int = 3) -> float:
    """Best-of-``repeats`` mean latency of one ``work()`` call in milliseconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            work()
        best = min(best, (time.perf_counter() - start) * 1000 / calls)
    return best


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.4f}"


def table(figures: list[Figure]) -> str:
    """A Markdown table: figure, value, floor, ratio, goal, verdict."""
    rows = [
        "| figure | Sluis | floor (same run) | ratio | goal | met |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for f in figures:
        floor = f"{_fmt(f.floor)} ({f.floor_name})" if f.floor is not None else "-"
        ratio = f"{f.ratio:.0%}" if f.ratio is not None else "-"
        met = {True: "yes", False: "NO", None: "-"}[f.meets_goal]
        rows.append(
            f"| {f.name} | {_fmt(f.value)} {f.unit} | {floor} | {ratio} | {f.goal_text} | {met} |"
        )
    return "\n".join(rows)
