"""Only the batch-submission figure of ``bench_exchange`` (the first one), for working on it.

``python -m benchmarks.submit [--quick] [--batches N]``; run it under the benchmark lock like
any timing. The figure, its floor and its method are exactly ``bench_exchange``'s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_exchange import BATCH, _submission
from benchmarks.harness import table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 batches of 20: a check")
    parser.add_argument("--batches", type=int, default=48, help="batches of 500 (48)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sluis-bench-") as tmp:
        if args.quick:
            figure = _submission(Path(tmp), 2, 20)
        else:
            figure = _submission(Path(tmp), args.batches, BATCH)
    print(table([figure]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
