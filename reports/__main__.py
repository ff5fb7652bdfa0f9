"""Command line: ``python -m reports render RUN_DIR [-o OUT]`` and ``... summary RUN_DIR``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from reports.html_summary import render_summary
from reports.records import CASES_FILE, has_records, iter_records, merge_records, worker_files
from reports.summary import format_text_table, summarize

EXIT_USAGE = 2


def _check_run_dir(run_dir: Path) -> str | None:
    """An error message when ``run_dir`` is missing or holds no records, else None."""
    if not run_dir.exists():
        return f"run folder {run_dir} does not exist"
    if not run_dir.is_dir():
        return f"{run_dir} is not a folder"
    if not has_records(run_dir):
        return f"run folder {run_dir} holds no records ({CASES_FILE} or records/*.jsonl)"
    return None


def cmd_render(args: argparse.Namespace) -> int:
    """Merge the records if needed, render the HTML page, print its path."""
    run_dir = Path(args.run_dir)
    if (err := _check_run_dir(run_dir)) is not None:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if not (run_dir / CASES_FILE).is_file() and worker_files(run_dir):
        merge_records(run_dir)
    out = render_summary(run_dir, Path(args.output) if args.output else None)
    print(out)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """Print the plain-text spec x dtype x device table."""
    run_dir = Path(args.run_dir)
    if (err := _check_run_dir(run_dir)) is not None:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(format_text_table(summarize(iter_records(run_dir))))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subcommand per action."""
    parser = argparse.ArgumentParser(
        prog="python -m reports", description="Reports on torch-loss-conformance runs."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("render", help="write the self-contained HTML summary of a run")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("-o", "--output", metavar="OUT.html", help="default: RUN_DIR/summary.html")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("summary", help="print a plain-text table of a run")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.set_defaults(func=cmd_summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
