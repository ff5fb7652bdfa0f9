"""The harness pieces the classification losses added: integer targets and module-init
tensors in reproducers, the weighted-mean denominator and cancellation scales in rule 3's
bound, and presence of a tensor a module provides under another name."""

from __future__ import annotations

import numpy as np
import torch

from suites.case import explicit_case
from suites.compare import denominator_bound, reduction_bound
from suites.reproducer import reproducer
from suites.specs import by_name
from suites.targets import absent_names
from suites.tolerances import budget_for


def _run(source: str) -> dict:
    scope: dict = {}
    exec(compile(source.replace("print(", "(lambda *a: None)("), "<reproducer>", "exec"), scope)
    return scope


def test_reproducer_rebuilds_integer_targets_and_module_weights():
    spec = by_name("CrossEntropyLoss[class_index]")
    case = explicit_case(
        spec,
        "float16",
        "module",
        {"input": [[1.0, 2.0, 0.5], [3.0, 4.0, -1.0]], "target": [0, 2], "weight": [1.0, 2.0, 0.5]},
        {"ignore_index": 1, "reduction": "sum"},
    )
    src = reproducer(case, "cpu")
    assert "dtype=torch.int64" in src
    assert "CrossEntropyLoss(weight=weight, ignore_index=1, reduction='sum')" in src
    scope = _run(src)
    want = torch.nn.functional.cross_entropy(
        torch.tensor([[1.0, 2.0, 0.5], [3.0, 4.0, -1.0]], dtype=torch.float16),
        torch.tensor([0, 2]),
        weight=torch.tensor([1.0, 2.0, 0.5], dtype=torch.float16),
        reduction="sum",
    )
    assert scope["target"].dtype == torch.int64
    assert torch.equal(scope["loss"], want)


def test_weighted_mean_bound_uses_the_documented_denominator():
    budget = budget_for("NLLLoss", "output", "float32", "cpu")
    terms = np.array([2.0, 4.0, 0.0])
    plain = reduction_bound(terms, "mean", "float32", budget)
    weighted = reduction_bound(terms, "mean", "float32", budget, (0.5, 0.5), 12.0)
    # dividing by D = 0.5 instead of N = 3 scales the bound by 6, plus D's own rounding
    assert weighted > 6 * plain
    assert reduction_bound(terms, "mean", "float32", budget, (0.0, 0.0), np.nan) == 0
    g = denominator_bound((2.0, 4.0), 3, "float32", budget, np.array([1.0, -3.0]))
    assert g[1] == 3 * g[0] > 0


def test_cancellation_scales_widen_the_bound_only_where_terms_cancel():
    budget = budget_for("CrossEntropyLoss[class_index]", "output", "float32", "cpu")
    terms = np.array([1e-3, 5.0])
    scales = np.array([1e4, 5.0])  # the first term is 1e4 - (1e4 - 1e-3): it cancels
    none = reduction_bound(terms, "none", "float32", budget, scales=scales)
    assert none[0] > 0 and none[1] == 0
    u = 2.0**-24
    assert np.isclose(float(none[0]), budget.terms_u * u * (1e4 - 1e-3))


def test_module_alias_makes_linear_bias_present_on_the_module():
    for variant in ("class_index", "prob_target"):
        spec = by_name(f"LinearCrossEntropyLoss[{variant}]")
        assert absent_names(spec, "module") == []
        assert absent_names(spec, "functional") == []
