"""TripletMarginWithDistanceLoss's documented special cases, through suites.road.Road.

- The default distance is nn.PairwiseDistance() (p = 2, eps = 1e-6): omitting
  distance_function, passing None and passing nn.PairwiseDistance() agree with the oracle.
- The docs' lambda example 1 - cosine_similarity (axis vectors: exact distances 0, 1, 2).
- swap uses d(positive, negative) with positive in the anchor's place: with the asymmetric
  one-sided squared distance, d(p, n) != d(n, p) and the value tells the order apart.
- A distance with no gradient path (a count of unequal coordinates): the oracle's
  gradient is 0 (the derivative almost everywhere); torch cannot differentiate the loss at
  all (registered: backward raises).
- margin 0 is documented ("nonnegative"), torch rejects it (registered); the hinge tie
  z = 0 (slope 1) for every distance; unbatched (D), empty batch, ±inf and NaN.
"""

from __future__ import annotations

import numpy as np
import pytest

from suites.case import explicit_case
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads

with_distance = for_specs(lambda spec: spec.loss == "TripletMarginWithDistanceLoss")
REDUCTIONS = ("none", "mean", "sum")
DISTANCES = (None, "pairwise", "cosine", "one_sided_sq", "count")
INF, NAN = float("inf"), float("nan")


def _check(road: Road, inputs: dict, options: dict, grads: bool = True):
    case = explicit_case(road.spec, road.dtype, road.api, inputs, options)
    road.assert_ok(road.check_forward(case, kind="special"))
    if grads:
        out = road.expected(case)
        road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    return case


def _value(road: Road, case) -> float:
    return float(np.ravel(np.asarray(road.expected(case), dtype=np.float64))[0])


X = {
    "anchor": [[0.5, -1.0, 2.0], [1.0, 1.5, -0.5]],
    "positive": [[1.5, 0.25, 1.0], [0.0, 1.0, 1.0]],
    "negative": [[-1.0, 2.0, 0.5], [3.0, -2.0, 2.5]],
}


@with_distance
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_every_distance(spec_combo, selection, reduction, recorder, request):
    """Each named distance with and without swap, margins 0.5 and 2."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for dist in DISTANCES:
            for swap in (False, True):
                for margin in (0.5, 2.0):
                    opts = {"distance_function": dist, "swap": swap, "margin": margin}
                    _check(road, X, {**opts, "reduction": reduction})


@with_distance
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_default_is_pairwise_distance(spec_combo, selection, reduction, recorder, request):
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        values = []
        for opts in ({}, {"distance_function": None}, {"distance_function": "pairwise"}):
            case = _check(road, X, {**opts, "reduction": reduction})
            values.append(np.asarray(road.expected(case), dtype=np.float64))
        assert all(np.array_equal(values[0], v) for v in values)


@with_distance
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_swap_uses_positive_then_negative(spec_combo, selection, reduction, recorder, request):
    """One-sided squared distance d(x, y) = sum max(x - y, 0)^2, a = 0, p = 1, n = 0.5:
    d(a, p) = 0, d(a, n) = 0, d(p, n) = 0.25 (d(n, p) = 0), margin 1: no swap (0.25 is not
    closer than 0) -> 1. With a = 1: d(a, n) = 0.25, d(p, n) = 0.25: a tie, loss
    0 - 0.25 + 1 = 0.75. With a = 2: d(a, p) = 1, d(a, n) = 2.25 > d(p, n) = 0.25:
    swapped, 1 - 0.25 + 1 = 1.75 (the reversed order d(n, p) = 0 would give 2)."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        opts = {"distance_function": "one_sided_sq", "swap": True, "reduction": reduction}
        for a, want in ((0.0, 1.0), (1.0, 0.75), (2.0, 1.75)):
            x = {"anchor": [[a]], "positive": [[1.0]], "negative": [[0.5]]}
            case = _check(road, x, opts)
            assert _value(road, case) == want, (a, _value(road, case))


@with_distance
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_distance_without_gradient(spec_combo, selection, reduction, recorder, request):
    """The count distance: the oracle's gradient is 0 everywhere; torch raises on backward
    (registered), so the gradient check is known, the forward exact."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = _check(road, X, {"distance_function": "count", "reduction": reduction})
        g = road.expected_gradients(case, np.ones(np.shape(road.expected(case))))
        assert all(np.all(v == 0) for v in g.values())


@with_distance
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_margin_and_ties(spec_combo, selection, reduction, recorder, request):
    """margin 0 (documented; torch raises: registered), and z = 0 exactly for the cosine
    distance (a || p, a orthogonal to n, margin 1) with the hinge active at the tie."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, X, {"margin": 0.0, "reduction": reduction})
        x = {"anchor": [[2.0, 0.0]], "positive": [[0.5, 0.0]], "negative": [[0.0, -1.0]]}
        case = _check(road, x, {"distance_function": "cosine", "reduction": reduction})
        assert "hinge_tie" in case.features


@with_distance
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_empty_and_nonfinite(spec_combo, selection, reduction, recorder, request):
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for dist in DISTANCES:
            opts = {"distance_function": dist, "reduction": reduction}
            x = {"anchor": [0.0, 1.0], "positive": [0.5, 1.0], "negative": [2.0, -1.0]}
            case = _check(road, x, opts)
            assert np.shape(road.expected(case)) == ()
            empty = {k: np.zeros((0, 3)) for k in ("anchor", "positive", "negative")}
            _check(road, empty, opts)
            for bad in (INF, NAN):
                x = {"anchor": [[bad, 0.0]], "positive": [[0.0, 1.0]], "negative": [[1.0, 0.0]]}
                _check(road, x, opts)
