"""Command line of the reports package.

- ``python -m reports render RUN_DIR [-o OUT]``: write the HTML report (RUN_DIR/report.html);
- ``python -m reports summary RUN_DIR``: print a plain-text table;
- ``python -m reports show RUN_DIR CASE_ID [--test SUBSTRING]``: print the records of one
  case, with their full reproducers;
- ``python -m reports diff RUN_A RUN_B [-o DIFF.html] [--markdown DIFF.md]``: what changed
  between two torch releases (:mod:`reports.diff_cli`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from reports.diff_cli import add_diff_parser
from reports.html_report import REPORT_FILE, render_report
from reports.records import CASES_FILE, iter_records, merge_records, run_dir_error, worker_files
from reports.summary import format_text_table, summarize

EXIT_USAGE = 2


def _check_run_dir(run_dir: Path) -> str | None:
    """An error message when ``run_dir`` is missing or holds no records, else None."""
    return run_dir_error(run_dir)


def cmd_render(args: argparse.Namespace) -> int:
    """Merge the records if needed, render the HTML report, print its path."""
    run_dir = Path(args.run_dir)
    if (err := _check_run_dir(run_dir)) is not None:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if not (run_dir / CASES_FILE).is_file() and worker_files(run_dir):
        merge_records(run_dir)
    out = render_report(run_dir, Path(args.output) if args.output else None)
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


def _show_record(rec: dict) -> str:
    """One record as the ``show`` command prints it."""
    lines = [
        f"test:     {rec.get('test')}",
        f"case_id:  {rec.get('case_id')}",
        f"spec:     {rec.get('spec')}  dtype: {rec.get('dtype')}  device: {rec.get('device')}"
        f"  api: {rec.get('api')}",
        f"quantity: {rec.get('quantity')}",
        f"verdict:  {rec.get('verdict')}"
        + (f"  rule: {rec['rule']}" if rec.get("rule") is not None else "")
        + (f"  known: {rec['known_id']}" if rec.get("known_id") else ""),
    ]
    if rec.get("outcome") is not None:
        lines.append(f"outcome:  {rec.get('outcome')}")
    lines.append(f"message:  {rec.get('message') or ''}")
    lines.append("reproducer:")
    repro = rec.get("reproducer")
    lines.append(repro if isinstance(repro, str) and repro else "# no reproducer recorded")
    return "\n".join(lines).rstrip("\n") + "\n"


def cmd_show(args: argparse.Namespace) -> int:
    """Print every record whose case_id matches (and whose test contains --test)."""
    run_dir = Path(args.run_dir)
    if (err := _check_run_dir(run_dir)) is not None:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    found = 0
    for rec in iter_records(run_dir):
        if not isinstance(rec, dict) or rec.get("case_id") != args.case_id:
            continue
        if args.test and args.test not in str(rec.get("test")):
            continue
        if found:
            sys.stdout.write("\n" + "-" * 72 + "\n")
        sys.stdout.write(_show_record(rec))
        found += 1
    if not found:
        where = f" in a test containing {args.test!r}" if args.test else ""
        print(
            f"error: no record with case_id {args.case_id!r}{where} in {run_dir}", file=sys.stderr
        )
        return EXIT_USAGE
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subcommand per action."""
    parser = argparse.ArgumentParser(
        prog="python -m reports", description="Reports on torch-loss-conformance runs."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("render", help="write the self-contained HTML report of a run")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("-o", "--output", metavar="OUT.html", help=f"default: RUN_DIR/{REPORT_FILE}")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("summary", help="print a plain-text table of a run")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("show", help="print the records (and full reproducers) of one case")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("case_id", metavar="CASE_ID")
    p.add_argument("--test", metavar="SUBSTRING", help="only records whose test contains it")
    p.set_defaults(func=cmd_show)

    add_diff_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
