"""The ``diff`` subcommand: ``python -m reports diff RUN_A RUN_B [-o diff.html] [--markdown F]``.

Prints the Markdown diff (also appended to ``$GITHUB_STEP_SUMMARY`` when that is set),
writes the HTML page with ``-o``; exit status 1 when run B has new failures, 2 on a usage
error (a run folder missing or without records), else 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from reports.diff import diff_runs
from reports.diff_html import render_html
from reports.diff_markdown import render_markdown
from reports.records import CASES_FILE, merge_records, run_dir_error, worker_files

EXIT_NEW_FAILURES = 1
EXIT_USAGE = 2


def cmd_diff(args: argparse.Namespace) -> int:
    """Compare two run folders; see the module docstring for the exit status."""
    run_a, run_b = Path(args.run_a), Path(args.run_b)
    for run in (run_a, run_b):
        if (err := run_dir_error(run)) is not None:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_USAGE
        if not (run / CASES_FILE).is_file() and worker_files(run):
            merge_records(run)
    d = diff_runs(run_a, run_b)
    text = render_markdown(d)
    sys.stdout.write(text)
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(text, encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(render_html(d), encoding="utf-8")
        print(f"\nHTML diff: {args.output}", file=sys.stderr)
    if d.has_new_failures:
        print(f"\n{d.cases.new_failure_count} new failures in torch {d.torch_b}", file=sys.stderr)
        return EXIT_NEW_FAILURES
    return 0


def add_diff_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``diff`` on the ``python -m reports`` parser."""
    p = sub.add_parser(
        "diff",
        help="what changed between two runs (A: old torch, B: new torch)",
        description="Compare two run folders case by case. Exit 1 when B has new failures.",
    )
    p.add_argument("run_a", metavar="RUN_A", help="run folder of the old release")
    p.add_argument("run_b", metavar="RUN_B", help="run folder of the new release")
    p.add_argument("-o", "--output", metavar="DIFF.html", help="also write the HTML diff")
    p.add_argument("--markdown", metavar="DIFF.md", help="also write the Markdown to a file")
    p.set_defaults(func=cmd_diff)
