"""Failed tests that left no failing case record: recorded as failures all the same.

A test can fail outside the judged road: the harness or torch raises where no rule is
applied (torch 2.14 refusing an option value that 2.13 accepted crashed the reproducer
builder before the suite knew to record it ``absent``). Such a test leaves no ``fail``
record, so the report's matrix and the release diff would not see it. The controller
collects every failed test report (setup, call or teardown) and, at the end of the run,
writes one record per failed test that has no ``fail`` case record: kind ``test``, rule
``crash``, the spec, dtype and device read from the test's parameter id, the first lines
of the traceback as the message, and a ``case_id`` made from the node id, so a release
diff matches the same crash in two runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

MAX_MESSAGE = 4000
DTYPES = ("float64", "float32", "float16", "bfloat16")


def _parameters(nodeid: str, spec_names: Iterable[str]) -> tuple[str, str, str, str]:
    """(spec, dtype, device, api) from a node id such as
    ``suites/test_forward.py::test_forward[HuberLoss-float32-cpu-module-mean]``; '?' for
    what the id does not say."""
    param = nodeid[nodeid.find("[") + 1 : -1] if nodeid.endswith("]") else ""
    spec = next(
        (s for s in sorted(spec_names, key=len, reverse=True) if param.startswith(s + "-")), "?"
    )
    rest = param[len(spec) + 1 :].split("-") if spec != "?" else []
    dtype = rest[0] if rest and rest[0] in DTYPES else "?"
    device = rest[1] if len(rest) > 1 else "?"
    api = rest[2] if len(rest) > 2 and rest[2] in ("module", "functional") else "?"
    return spec, dtype, device, api


def failure_record(nodeid: str, when: str, text: str, spec_names: Iterable[str]) -> dict[str, Any]:
    """The record of one failed test without a failing case record."""
    spec, dtype, device, api = _parameters(nodeid, spec_names)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.lstrip().startswith("E ")]
    head = "\n".join((errors or lines)[-12:])
    return {
        "test": nodeid,
        "kind": "test",
        "spec": spec,
        "loss": spec.split("[")[0],
        "variant": "",
        "api": api,
        "device": device,
        "dtype": dtype,
        "reduction": None,
        "kwargs": {},
        "case_id": "t" + hashlib.sha256(nodeid.encode()).hexdigest()[:15],
        "verdict": "fail",
        "outcome": "raises (test)",
        "rule": "crash",
        "quantity": f"test ({when})",
        "message": f"the test failed outside the judged road ({when}):\n{head}"[:MAX_MESSAGE],
        "max_abs": None,
        "max_rel": None,
        "max_ulp": None,
        "known_id": None,
        "reproducer": "",
    }


class FailedTests:
    """Collects the controller's failed test reports."""

    def __init__(self) -> None:
        self.failed: dict[str, tuple[str, str]] = {}  # nodeid -> (when, traceback text)

    def add(self, report: Any) -> None:
        if report.failed and report.nodeid not in self.failed:
            self.failed[report.nodeid] = (report.when, str(report.longreprtext or ""))

    def records(
        self, tests_with_fail_records: set[str], spec_names: Iterable[str]
    ) -> list[dict[str, Any]]:
        names = list(spec_names)
        return [
            failure_record(nodeid, when, text, names)
            for nodeid, (when, text) in self.failed.items()
            if nodeid not in tests_with_fail_records
        ]
