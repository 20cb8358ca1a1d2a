"""Streaming: peak memory while checking a list does not grow with the number of rows."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.client.sheet_readers import Limits, open_sheet
from gateway.client.spreadsheet import VALID, read_signal_list
from gateway.policy import Policy
from tests.client.sheets import HEADERS, LANDLORD, NOW, ROW, SECRET

LIMIT_BYTES = 20 * 1024 * 1024
BIG = Limits(max_file_bytes=1 << 30)


def generate(path: Path, rows: int) -> Path:
    """``rows`` valid rows, each with its own contract number, written in chunks."""
    template = ";".join(ROW[h] if h != "Contractnummer" else "WL-{}" for h in HEADERS)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(";".join(HEADERS) + "\r\n")
        for start in range(0, rows, 10_000):
            out.write(
                "".join(
                    template.format(n) + "\r\n" for n in range(start, min(rows, start + 10_000))
                )
            )
    return path


def traced(run: Callable[[], int]) -> tuple[int, int, float]:
    """(peak bytes allocated, rows seen, seconds) while ``run`` streams a file."""
    started = time.perf_counter()
    tracemalloc.start()
    try:
        count = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, count, time.perf_counter() - started


def read_raw(path: Path) -> int:
    with open_sheet(path, BIG) as (_, rows):
        return sum(1 for _ in rows)


def check_all(policy: Policy, path: Path) -> int:
    with read_signal_list(
        path, policy, now=NOW, landlord_id=LANDLORD, secret=SECRET, limits=BIG
    ) as sheet:
        return sum(checked.status == VALID for checked in sheet)


@pytest.mark.slow
def test_reading_200k_rows_takes_no_more_memory_than_50k(tmp_path: Path) -> None:
    """Decoding, the encoding pass, CSV parsing and the cell limits, on 50k and 200k rows."""
    small_path = generate(tmp_path / "50k.csv", 50_000)
    big_path = generate(tmp_path / "200k.csv", 200_000)
    small = traced(lambda: read_raw(small_path))
    big = traced(lambda: read_raw(big_path))
    print(f"reader peak: 50k rows {small[0]} B, 200k rows {big[0]} B ({big[2]:.1f} s)")
    assert (small[1], big[1]) == (50_000, 200_000)
    assert big[0] < LIMIT_BYTES
    assert big[0] < small[0] * 1.25 + 64 * 1024  # four times the rows, not more memory


@pytest.mark.slow
def test_checking_rows_keeps_nothing_per_row(weert: Policy, tmp_path: Path) -> None:
    """The whole pipeline (values, policy rules, subject) on 2.5k and 10k rows: tracemalloc slows
    it about fivefold, so fewer rows; the question is the same: does memory grow with rows?"""
    small_path = generate(tmp_path / "2.5k.csv", 2_500)
    big_path = generate(tmp_path / "10k.csv", 10_000)
    small = traced(lambda: check_all(weert, small_path))
    big = traced(lambda: check_all(weert, big_path))
    print(f"checker peak: 2.5k rows {small[0]} B, 10k rows {big[0]} B ({big[2]:.1f} s)")
    assert (small[1], big[1]) == (2_500, 10_000)
    assert big[0] < LIMIT_BYTES
    assert big[0] < small[0] * 1.25 + 64 * 1024
