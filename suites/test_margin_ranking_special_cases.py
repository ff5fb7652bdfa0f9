"""MarginRankingLoss's documented special cases, judged by the oracle through suites.road.Road.

- The formula max(0, -y (x1 - x2) + margin) on a hand-computed batch (y = 1 ranks x1
  higher, y = -1 x2), for margin 0 (the default), positive and negative margins.
- Exact ties (z == 0 on the k/8 grid, exact in every dtype): the oracle's subgradient 0;
  torch takes the active slope (registered).
- 0-d inputs (documented "()"), an empty batch ('mean' is 0/0 = NaN), ±inf and NaN inputs,
  the legacy size_average / reduce arguments.
"""

from __future__ import annotations

import numpy as np
import pytest

from suites.case import explicit_case
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads

margin_ranking = for_specs(lambda spec: spec.loss == "MarginRankingLoss")
REDUCTIONS = ("none", "mean", "sum")
INF, NAN = float("inf"), float("nan")
X1, X2, Y = [1.0, 2.0, 3.0], [2.0, 2.0, 1.0], [1.0, -1.0, 1.0]


def _check(road: Road, inputs: dict, options: dict, grads: bool = True):
    """Forward and gradients (grad_output ones) of one case; the road's reduction unless
    the options give one (or the legacy arguments)."""
    if not {"reduction", "size_average", "reduce"} & set(options):
        options = {**options, "reduction": road.reduction}
    case = explicit_case(road.spec, road.dtype, road.api, inputs, options)
    road.assert_ok(road.check_forward(case, kind="special"))
    if grads:
        out = road.expected(case)
        road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    return case


@margin_ranking
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.5, 0.0, -0.75])
def test_formula(spec_combo, selection, reduction, margin, recorder, request):
    """z = -y (x1 - x2) + m: [1 + m, m, -2 + m]; loss max(0, z)."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = _check(road, {"input1": X1, "input2": X2, "target": Y}, {"margin": margin})
        want = np.maximum(0.0, np.array([1.0, 0.0, -2.0]) + margin)
        got = np.asarray(road.expected(case), dtype=np.float64)
        if reduction == "none":
            np.testing.assert_array_equal(got, want)
        elif reduction == "sum":
            assert got == want.sum()


@margin_ranking
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5, -1.0])
def test_exact_ties_take_the_subgradient_zero(
    spec_combo, selection, reduction, margin, recorder, request
):
    """x2 = x1 - y m on the grid: z == 0 exactly in every dtype; d/dx = 0 there."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        x1 = [1.0, -0.5, 2.0]
        y = [1.0, -1.0, 1.0]
        x2 = [a - b * margin for a, b in zip(x1, y, strict=True)]
        case = _check(road, {"input1": x1, "input2": x2, "target": y}, {"margin": margin})
        assert "hinge_tie" in case.features and "hinge_near_tie" not in case.features
        ones = np.ones(np.shape(road.expected(case)))
        g = road.expected_gradients(case, ones)
        assert all(np.all(v == 0) for v in g.values())
        for r in road.check_gradients(case, ones, kind="special"):
            # torch's gradient: the documented 0 or the other one-sided derivative
            # (registered), bit for bit; anything else fails
            assert r.verdict == "pass" or r.comparison.other_side, r.comparison.message


@margin_ranking
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_dim_and_empty(spec_combo, selection, reduction, recorder, request):
    """() inputs give a () loss; N = 0: 'none' (0,), 'sum' 0, 'mean' NaN."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = _check(road, {"input1": 0.5, "input2": 1.5, "target": 1.0}, {"margin": 0.25})
        assert np.shape(road.expected(case)) == ()
        empty = {"input1": np.zeros(0), "input2": np.zeros(0), "target": np.zeros(0)}
        case = _check(road, empty, {})
        value = road.expected(case)
        if reduction == "mean":
            assert np.isnan(value)


@margin_ranking
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_inf_and_nan(spec_combo, selection, reduction, recorder, request):
    """±inf and NaN follow the formula: max(0, ±inf), inf - inf = NaN, max(0, NaN) = NaN
    (torch's gradients there are registered)."""
    pairs = ((INF, 0.0), (-INF, 0.0), (INF, INF), (NAN, 1.0), (0.0, NAN))
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for a, b in pairs:
            for y in (1.0, -1.0):
                _check(road, {"input1": [a, 1.0], "input2": [b, 0.0], "target": [y, 1.0]}, {})


@margin_ranking
@pytest.mark.parametrize("reduction", ["mean"])
@pytest.mark.parametrize("legacy", [(False, None), (None, False), (True, True), (False, True)])
def test_legacy_reduction_arguments(spec_combo, selection, reduction, legacy, recorder, request):
    size_average, reduce = legacy
    opts = {k: v for k, v in (("size_average", size_average), ("reduce", reduce)) if v is not None}
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, {"input1": X1, "input2": X2, "target": Y}, {**opts, "margin": 0.5})
