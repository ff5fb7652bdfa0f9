"""Time the report of a synthetic run: ``python -m benchmarks.report_benchmark [--records N]``.

Writes a synthetic run (:mod:`benchmarks.synthetic_run`) to a temporary folder, then
times :func:`reports.summary.summarize` alone and the whole
:func:`reports.html_report.render_report` (summary included), best of ``--repeat``, and
prints the seconds and the page size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.synthetic_run import write_synthetic_run
from reports.html_report import render_report
from reports.records import iter_records
from reports.summary import summarize


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """The shortest wall time of ``repeat`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report_benchmark")
    parser.add_argument("--records", type=int, default=200_000, metavar="N")
    parser.add_argument("--repeat", type=int, default=3, metavar="K")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        run = Path(tmp) / "run"
        t0 = time.perf_counter()
        write_synthetic_run(run, args.records, seed=args.seed)
        print(f"generate {args.records} records: {time.perf_counter() - t0:.2f} s")
        t_sum = best_of(args.repeat, lambda: summarize(iter_records(run)))
        print(f"summarize: {t_sum:.2f} s (best of {args.repeat})")
        t_render = best_of(args.repeat, lambda: render_report(run))
        size = (run / "report.html").stat().st_size
        print(f"render (summary included): {t_render:.2f} s (best of {args.repeat})")
        print(f"page size: {size / 1e6:.2f} MB ({size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
