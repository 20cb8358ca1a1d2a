"""The harness computes ratios and verdicts correctly; every benchmark still runs (quick)."""

from __future__ import annotations

import pytest

from benchmarks.harness import Figure, latency_ms, rate, table
from benchmarks.run import collect


def test_ratio_and_goal_for_a_rate() -> None:
    f = Figure("x", value=80, unit="ops/s", floor=100, floor_name="raw", goal_ratio=0.7)
    assert f.ratio == 0.8
    assert f.meets_goal is True
    assert Figure("y", 60, "ops/s", 100, "raw", goal_ratio=0.7).meets_goal is False


def test_latency_goal_is_lower_is_better() -> None:
    f = Figure("p", value=0.5, unit="ms", goal_value=1.0, higher_is_better=False)
    assert f.meets_goal is True
    assert Figure("p", 2.0, "ms", goal_value=1.0, higher_is_better=False).meets_goal is False
    assert Figure("p", 2.0, "ms", floor=1.0, higher_is_better=False).ratio == 0.5


def test_table_lists_every_figure() -> None:
    text = table([Figure("seal", 1.0, "ops/s"), Figure("open", 2.0, "ops/s", 4.0, "raw")])
    assert "| seal |" in text
    assert "50%" in text


def test_timers_return_positive_figures() -> None:
    assert rate(lambda: None, min_seconds=0.001, repeats=1) > 0
    assert latency_ms(lambda: None, calls=3, repeats=1) >= 0


def test_every_benchmark_runs_in_quick_mode() -> None:
    figures = list(collect(quick=True))
    for figure in figures:
        assert figure.value >= 0
    # Timings are never asserted, but the load run must have had no errors (it raises itself
    # when the store does not reconcile with the clients' receipts).
    load = [f for f in figures if f.name.startswith("load: ")]
    assert load, "bench_load produced no figures"
    errors = [f for f in load if f.name.startswith("load: errors")]
    assert [f.value for f in errors] == [0]
    assert all("reconciled" in f.name for f in errors)


def test_every_benchmark_module_is_collected() -> None:
    from benchmarks.run import discover

    names = discover()
    for expected in ("client", "crypto", "exchange", "http_signatures", "load", "register"):
        assert f"bench_{expected}" in names


def test_the_submit_figure_runs_alone(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.submit import main

    assert main(["--quick"]) == 0
    assert "envelopes accepted/s through HTTP" in capsys.readouterr().out
