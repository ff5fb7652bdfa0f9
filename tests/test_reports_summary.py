"""Tests of reports.summary."""

from __future__ import annotations

import math
from typing import Any

from reports.summary import (
    MAX_FAILURES_PER_SPEC,
    MAX_KWARG_VALUES,
    VERDICTS,
    format_text_table,
    summarize,
    summary_to_json,
)
from tests.synthetic_records import synthetic_record


def rec(**over: Any) -> dict:
    """A synthetic HuberLoss case record (``tests/synthetic_records.py``)."""
    base = {
        "kwargs": {"delta": 0.5, "reduction": "mean"},
        "features": [],
        "case_id": None,
        "outcome": None,
    }
    record = synthetic_record("HuberLoss", **base)
    record.update(over)
    return record


def test_cells_counts_and_worst_ulp() -> None:
    records = [
        rec(max_ulp=0.5),
        rec(max_ulp=3.0, verdict="fail", rule="3", message="off by 3 ulp"),
        rec(max_ulp=None),
        rec(max_ulp="nan"),  # ignored
        rec(verdict="known", known_id="huber-x", max_ulp=2.0),
        rec(verdict="xpass", known_id="huber-x", max_ulp=0.0),
        rec(dtype="float64", max_ulp=1.0),
        rec(dtype="float64", device="cuda", verdict="unsupported", max_ulp=None),
        rec(spec="L1Loss", loss="L1Loss", verdict="absent", max_ulp=None),
        # An invalid-kind record: no ULP keys at all, no kwargs.
        {"test": "t", "kind": "invalid", "spec": "L1Loss", "verdict": "invalid"},
        rec(spec="MSELoss", verdict="weird"),
    ]
    s = summarize(records)
    c = s["cells"][("HuberLoss", "float32", "cpu")]
    assert c["n"] == 6
    assert (c["pass"], c["fail"], c["known"], c["xpass"]) == (3, 1, 1, 1)
    assert c["worst_ulp"] == 3.0
    assert s["cells"][("HuberLoss", "float64", "cpu")]["worst_ulp"] == 1.0
    cuda = s["cells"][("HuberLoss", "float64", "cuda")]
    assert cuda["unsupported"] == 1 and cuda["worst_ulp"] is None
    assert s["cells"][("L1Loss", "?", "?")]["invalid"] == 1
    assert s["cells"][("MSELoss", "float32", "cpu")]["other"] == 1
    t = s["totals"]
    assert t["n"] == len(records)
    assert (t["pass"], t["fail"], t["known"], t["xpass"]) == (4, 1, 1, 1)
    assert (t["unsupported"], t["absent"], t["invalid"], t["weird"]) == (1, 1, 1, 1)
    assert set(VERDICTS) <= set(t)

    # Known: count, verdicts and the first case.
    k = s["known"]["huber-x"]
    assert k["count"] == 2 and k["verdicts"] == {"known": 1, "xpass": 1}
    assert (k["spec"], k["dtype"], k["device"]) == ("HuberLoss", "float32", "cpu")

    # Failures.
    (f,) = s["failures"]["HuberLoss"]
    assert f["rule"] == "3" and f["message"] == "off by 3 ulp" and f["max_ulp"] == 3.0
    assert f["reproducer"].startswith("import torch")
    assert "L1Loss" not in s["failures"]
    assert s["per_spec"]["HuberLoss"]["fail_rules"] == {"3": 1}


def test_inf_ulp_is_worst() -> None:
    s = summarize([rec(max_ulp=5.0), rec(max_ulp="inf"), rec(max_ulp=7.0)])
    assert math.isinf(s["cells"][("HuberLoss", "float32", "cpu")]["worst_ulp"])
    assert s["per_spec"]["HuberLoss"]["ulp_hist"]["inf"] == 1


def test_coverage_sets_and_cap() -> None:
    records = [
        rec(
            kwargs={"delta": float(i), "reduction": "mean"}, api="module" if i % 2 else "functional"
        )
        for i in range(MAX_KWARG_VALUES + 15)
    ]
    records.append(
        rec(regime="edge", features=["tie", "subnormal"], reduction="sum", kwargs={"delta": 0.0})
    )
    records.append(rec(kwargs={"delta": 1.0}))  # duplicate value: not counted twice
    s = summarize(records)
    cov = s["per_spec"]["HuberLoss"]
    delta = cov["kwargs"]["delta"]
    assert len(delta["values"]) == MAX_KWARG_VALUES
    assert delta["more"] == 15 and not delta["more_capped"]
    assert delta["values"][:3] == ["0.0", "1.0", "2.0"]  # numeric order
    assert cov["kwargs"]["reduction"] == {"values": ["'mean'"], "more": 0, "more_capped": False}
    assert cov["apis"] == ["functional", "module"]
    assert cov["reductions"] == ["mean", "sum"]
    assert cov["regimes"] == ["edge", "well"]
    assert cov["features"] == ["subnormal", "tie"]


def test_failures_capped_per_spec() -> None:
    records = [
        rec(verdict="fail", rule="3", test=f"t{i}") for i in range(MAX_FAILURES_PER_SPEC + 5)
    ]
    records += [rec(spec="Other", verdict="fail", rule="2", test="o")]
    s = summarize(records)
    assert [f["test"] for f in s["failures"]["HuberLoss"]] == [
        f"t{i}" for i in range(MAX_FAILURES_PER_SPEC)
    ]
    assert s["per_spec"]["HuberLoss"]["n_fail"] == MAX_FAILURES_PER_SPEC + 5
    assert len(s["failures"]["Other"]) == 1


def test_long_kwarg_repr_is_cut() -> None:
    s = summarize([rec(kwargs={"weight": list(range(1000))})])
    (value,) = s["per_spec"]["HuberLoss"]["kwargs"]["weight"]["values"]
    assert len(value) <= 120 and value.endswith("…")


def test_text_table_and_json() -> None:
    import json

    s = summarize([rec(), rec(dtype="float16"), rec(verdict="fail", max_ulp=9.0)])
    text = format_text_table(s)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["spec", "dtype", "device", "n"]
    assert any(ln.split()[:4] == ["HuberLoss", "float16", "cpu", "1"] for ln in lines)
    row32 = next(ln for ln in lines if ln.split()[:2] == ["HuberLoss", "float32"])
    assert row32.split()[-1] == "9"
    assert lines[-1].startswith("TOTAL")
    # float16 column sorts before float32.
    assert text.index("float16") < text.index("float32")
    json.dumps(summary_to_json(s), allow_nan=False)


def test_empty() -> None:
    s = summarize([])
    assert s["cells"] == {} and s["totals"]["n"] == 0
