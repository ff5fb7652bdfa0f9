"""MultiMarginLoss's documented special cases, judged by the oracle through suites.road.Road.

- The docstring's example: x = [[0.1, 0.2, 0.4, 0.8]], y = [3] gives
  0.25 * ((1 - (0.8 - 0.1)) + (1 - (0.8 - 0.2)) + (1 - (0.8 - 0.4))) = 0.325.
- The denominator x.size(0) of the 1D sample is C, the number of classes; 'mean' then
  divides by the batch N.
- The weight multiplies the powered hinge: w[y] * max(0, z)^p (checked with p = 2 and
  negative weights, where max(0, w[y] z)^p would differ).
- p in {1, 2}, margin 0 and negative, ties at the hinge (z == 0 exactly: the subgradient 0
  for p = 1, the derivative 0 for p = 2), unbatched (C) input with a () target, C = 1 (no
  other class: 0), an empty batch (N = 0: 'none' is empty, 'sum' 0, 'mean' NaN; torch's
  reduced value is registered), ±inf and NaN scores.
"""

from __future__ import annotations

import numpy as np
import pytest

from suites.case import explicit_case
from suites.dtypes import info
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads

multi_margin = for_specs(lambda spec: spec.loss == "MultiMarginLoss")
REDUCTIONS = ("none", "mean", "sum")
INF, NAN = float("inf"), float("nan")
X24 = [[0.1, 0.2, 0.4, 0.8], [1.0, -0.5, 0.3, 0.25]]


def _check(road: Road, inputs: dict, options: dict, grads: bool = True):
    case = explicit_case(road.spec, road.dtype, road.api, inputs, options)
    road.assert_ok(road.check_forward(case, kind="special"))
    if grads:
        out = road.expected(case)
        road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    return case


@multi_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_documented_example(spec_combo, selection, reduction, recorder, request):
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        inputs = {"input": [[0.1, 0.2, 0.4, 0.8]], "target": [3]}
        case = _check(road, inputs, {"reduction": reduction})
        if road.dtype == "float64":
            value = float(np.ravel(road.expected(case))[0])
            assert abs(value - 0.325) < 1e-15, value


@multi_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_denominator_is_the_number_of_classes(spec_combo, selection, reduction, recorder, request):
    """A (N, C) = (2, 4) batch: each row's hinge sum is divided by C = 4, not N = 2."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        x = [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
        case = _check(road, {"input": x, "target": [0, 3]}, {"reduction": reduction})
        got = road.expected(case)
        # each row: three hinges of 1 (margin 1, equal scores) over C = 4
        want = {"none": [0.75, 0.75], "sum": 1.5, "mean": 0.75}[reduction]
        np.testing.assert_array_equal(np.asarray(got, dtype=np.float64), want)


@multi_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_weight_multiplies_the_powered_hinge(
    spec_combo, selection, reduction, p, recorder, request
):
    """w[y] * max(0, z)^p: the weighted loss is w[y_n] times the unweighted one, also for
    negative weights (where max(0, w[y] z)^p would be 0) and for p = 2 (where
    max(0, w[y] z)^2 would carry w[y]^2)."""
    w = [2.0, -3.0, 0.5, -1.5]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        plain = {"input": X24, "target": [3, 1]}
        case = _check(road, {**plain, "weight": w}, {"p": p, "reduction": reduction})
        if reduction != "none":
            continue
        weighted = np.asarray(road.expected(case), dtype=np.float64)
        base = explicit_case(road.spec, road.dtype, road.api, plain, {"p": p, "reduction": "none"})
        unweighted = np.asarray(road.expected(base), dtype=np.float64)
        np.testing.assert_allclose(weighted, np.array([w[3], w[1]]) * unweighted, rtol=1e-15)
        assert np.all(unweighted > 0), "both rows have active hinges: the case discriminates"


@multi_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("margin", [1.0, 0.0, -0.5, 2.0])
def test_hinge_ties_take_the_subgradient_zero(
    spec_combo, selection, reduction, p, margin, recorder, request
):
    """z = margin - x[y] + x[i] == 0 exactly (every value a multiple of 1/8: exact in all
    dtypes): the hinge is inactive there, d/dx = 0 for that term."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        x = [[1.0, 1.0 - margin, 0.5, -4.0], [0.0, 0.0, -margin, 2.0 - margin]]
        inputs = {"input": x, "target": [0, 1]}
        case = _check(road, inputs, {"p": p, "margin": margin, "reduction": reduction})
        assert "hinge_tie" in case.features
        g = road.expected_gradients(case, np.ones(np.shape(road.expected(case))))["input"]
        assert g[0, 1] == 0 and g[1, 2] == 0, "a tie's own element gets the subgradient 0"


@multi_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, -1.0, -0.25, 3.0])
def test_zero_and_negative_margins(spec_combo, selection, reduction, margin, recorder, request):
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for p in (1, 2):
            _check(
                road,
                {"input": X24, "target": [2, 0]},
                {"p": p, "margin": margin, "reduction": reduction},
            )


@multi_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_input_and_single_class(spec_combo, selection, reduction, recorder, request):
    """(C) input with a () target gives a () loss; C = 1 has no i != y: the loss is 0."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = _check(road, {"input": [0.1, 0.2, 0.4, 0.8], "target": 3}, {"reduction": reduction})
        assert np.shape(road.expected(case)) == ()
        for x, y in (([2.5], 0), ([[2.5], [-1.0]], [0, 0])):
            for w in (None, [3.0]):
                inputs = {"input": x, "target": y} | ({} if w is None else {"weight": w})
                one = _check(road, inputs, {"p": 2, "reduction": reduction})
                assert np.all(np.asarray(road.expected(one)) == 0)


@multi_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_batch(spec_combo, selection, reduction, recorder, request):
    """N = 0: 'none' gives (0,), 'sum' 0 and 'mean' 0/0 = NaN by the documented reduction;
    torch's reduced value is uninitialised memory (registered)."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for weight in (None, [1.0, 2.0, 3.0]):
            inputs = {"input": np.zeros((0, 3)), "target": np.zeros(0, dtype=np.int64)}
            if weight is not None:
                inputs["weight"] = weight
            # suites/allowances.floor_scale cannot take an empty grad_output beside a
            # (C,) weight yet (max of an empty array): that gradient check waits for it
            grads = weight is None or reduction != "none"
            case = _check(road, inputs, {"reduction": reduction}, grads=grads)
            assert "empty_batch" in case.features
            expected = road.expected(case)
            if reduction == "mean":
                assert np.isnan(expected)
            elif reduction == "sum":
                assert expected == 0
            else:
                assert np.shape(expected) == (0,)


@multi_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_inf_and_nan_scores(spec_combo, selection, reduction, recorder, request):
    """±inf and NaN follow the formula (max(0, NaN) = NaN); torch drops NaN hinges
    (registered)."""
    rows = (
        [[INF, 0.0, 0.5]],  # an infinite other class: inf
        [[0.0, -INF, 0.5]],  # the target scored -inf: every hinge inf
        [[0.0, INF, 0.5]],  # the target scored +inf: every hinge -inf, 0
        [[INF, INF, 0.5]],  # inf - inf: NaN
        [[NAN, 0.0, 0.5]],  # a NaN other class
        [[0.0, NAN, 0.5]],  # a NaN target score
    )
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for x in rows:
            for p in (1, 2):
                _check(road, {"input": x, "target": [1]}, {"p": p, "reduction": reduction})


@multi_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nonfinite_weights(spec_combo, selection, reduction, recorder, request):
    """w[y] = ±inf or NaN with active and inactive hinges: the documented w[y] * max(0, z)^p
    is inf * 0 = NaN for an inactive hinge (torch forms only active ones: registered)."""
    rows = ([-2.0, 0.5, 1.0], [0.0, 0.5, -3.0], [-2.0, 0.5, -3.0], [1.0, 2.0, 2.5])
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for w in ([1.0, NAN, 1.0], [1.0, INF, 1.0], [1.0, -INF, 0.0]):
            for x in rows:  # one row a case: a NaN row would hide the others in a reduction
                for p in (1, 2):
                    inputs = {"input": [x], "target": [1], "weight": w}
                    _check(road, inputs, {"p": p, "reduction": reduction})


@multi_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_near_tie_with_the_largest_weight(spec_combo, selection, reduction, recorder, request):
    """margin 1 - x + x with x the dtype's largest value: exactly 1, but fl(1 - x) + x = 0
    in the dtype, so torch finds no active hinge; times the largest weight the exact loss
    passes the range (a class difference, registered as precision) or stays within the
    rounding bound of rules 3/4."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        big = info(road.dtype).max
        for w in ([big, big], [INF, 1.0], [1.0, 1.0]):
            inputs = {"input": [[big, big]] * 4, "target": [0, 0, 0, 0], "weight": w}
            case = _check(road, inputs, {"reduction": reduction})
            assert "hinge_near_tie" in case.features
