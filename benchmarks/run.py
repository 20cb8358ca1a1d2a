"""Run every ``benchmarks/bench_*.py`` and print one table (``make bench``).

``python -m benchmarks.run [--quick] [--only NAME]``
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import sys

import benchmarks
from benchmarks.harness import Figure, table


def discover() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    )


def collect(quick: bool, only: str | None = None) -> list[Figure]:
    figures: list[Figure] = []
    for name in discover():
        if only and only not in name:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        figures.extend(module.collect(quick))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks, not figures")
    parser.add_argument("--only", help="run only benchmark modules whose name contains this")
    args = parser.parse_args(argv)
    print(
        f"Sluis benchmarks on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(table(collect(args.quick, args.only)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
