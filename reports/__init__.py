"""Run recording and reporting for torch-loss-conformance.

- :mod:`reports.records`: per-worker JSON-lines recording and merging of case records.
- :mod:`reports.run_meta`: the run's metadata (``meta.json``) and the environment probe.
- :mod:`reports.summary`: one-pass aggregation of case records.
- :mod:`reports.html_report`: the self-contained HTML report (matrix, loss pages, run page).

``python -m reports render|summary|show RUN_DIR ...`` is the CLI (:mod:`reports.__main__`).
"""

from reports.html_report import render_report
from reports.records import CaseRecorder, iter_records, json_safe, merge_records
from reports.run_meta import collect_environment, read_meta, write_meta
from reports.summary import VERDICTS, summarize

__all__ = [
    "VERDICTS",
    "CaseRecorder",
    "collect_environment",
    "iter_records",
    "json_safe",
    "merge_records",
    "read_meta",
    "render_report",
    "summarize",
    "write_meta",
]
