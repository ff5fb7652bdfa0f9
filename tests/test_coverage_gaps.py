"""The run's "never exercised" list: declared options, tensors, reductions, legacy
arguments and edge-case features (LossSpec.coverage) that no recorded case had."""

from __future__ import annotations

import json
from dataclasses import replace

from suites.plugin import _coverage_gaps
from suites.selection import Selection
from suites.specs import by_name


def _write(run, records):
    (run / "records").mkdir(parents=True)
    with open(run / "records" / "main.jsonl", "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def test_missing_features_and_options_are_reported(tmp_path):
    spec = replace(by_name("NLLLoss"), coverage=("all_ignored", "kdim3"))
    _write(
        tmp_path,
        [
            {
                "spec": "NLLLoss",
                "kwargs": {"reduction": "sum", "ignore_index": 1, "weight": "<tensor>"},
                "features": ["all_ignored"],
            }
        ],
    )
    gaps = _coverage_gaps(tmp_path, Selection((spec,), ("float64",), ("cpu",), ("module",)))
    missing = gaps["NLLLoss"]
    assert "feature:kdim3" in missing and "feature:all_ignored" not in missing
    assert "reduction=mean" in missing and "reduction=sum" not in missing
    assert "ignore_index" not in missing and "weight" not in missing


def test_a_complete_run_leaves_no_gap(tmp_path):
    spec = replace(by_name("NLLLoss"), coverage=("kdim1",), legacy_reduction_args=False)
    _write(
        tmp_path,
        [
            {"spec": "NLLLoss", "kwargs": {"reduction": r, "ignore_index": 0, "weight": "t"}}
            for r in ("none", "mean", "sum")
        ]
        + [{"spec": "NLLLoss", "kwargs": {}, "features": ["kdim1"]}],
    )
    assert _coverage_gaps(tmp_path, Selection((spec,), ("float64",), ("cpu",), ("module",))) == {}
