"""Out-of-bounds inputs run in a child process (suites/isolated.py): the child reports what
torch did, and a child that dies is reported as such, never as a crash of the suite."""

from __future__ import annotations

import numpy as np

from suites import isolated
from suites.case import explicit_case
from suites.specs import by_name
from suites.targets import TorchTarget


def _case(target):
    spec = by_name("NLLLoss")
    return explicit_case(
        spec,
        "float64",
        "functional",
        {"input": [[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], "target": target},
    )


def test_child_reports_the_same_outcome_as_in_process():
    good = _case([0, 2])
    (child,) = isolated.run_isolated([good], "cpu")
    here = TorchTarget("cpu").run(good)
    assert child.exception is None
    assert np.array_equal(child.value, here.value)
    assert child.dtype == here.dtype == "float64"


def test_child_reports_torch_exceptions_by_type_and_message():
    bad = _case([0, 3])
    good = _case([1, 1])
    out = isolated.run_isolated([bad, good], "cpu")
    assert out[0].exception is not None
    assert "IndexError" in out[0].error or "RuntimeError" in out[0].error
    assert "out of bounds" in str(out[0].exception)
    assert out[1].exception is None  # one bad case does not spoil the batch on the CPU


def test_a_dying_child_is_reported_not_raised(monkeypatch):
    job = isolated.job_of(_case([0, 2]))
    broken = isolated.Job("NoSuchLoss", *list(job.__dict__.values())[1:])
    monkeypatch.setattr(isolated, "job_of", lambda case: broken)
    (out,) = isolated.run_isolated([_case([0, 2])], "cpu")
    assert out.exception is not None
    assert "ProcessDied" in str(out.exception)
    assert out.value is None


def test_no_cases_start_no_process():
    assert isolated.run_isolated([], "cpu") == []
