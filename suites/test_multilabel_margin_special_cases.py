"""MultiLabelMarginLoss's documented special cases, judged by the oracle through
suites.road.Road.

- The docstring's example: x = [[0.1, 0.2, 0.4, 0.8]], y = [[3, 0, -1, 1]] gives
  0.25 * ((1-(0.1-0.2)) + (1-(0.1-0.4)) + (1-(0.8-0.2)) + (1-(0.8-0.4))) = 0.85: "only
  consider labels 3 and 0, not after label -1".
- Values after the first -1 are ignored, whatever they are (labels or -1).
- A repeated label is a second value of j: its terms count twice.
- No label at all (the first entry -1), or labels covering every class: the loss is 0.
- The denominator x.size(0) is C; 'mean' divides by the batch N.
- The hinge tie 1 - (x[y[j]] - x[i]) == 0 takes the subgradient 0.
- Unbatched (C) input and target; an empty batch (N = 0); ±inf and NaN scores.
"""

from __future__ import annotations

import numpy as np
import pytest

from suites.case import explicit_case
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads

multilabel = for_specs(lambda spec: spec.loss == "MultiLabelMarginLoss")
REDUCTIONS = ("none", "mean", "sum")
INF, NAN = float("inf"), float("nan")
X4 = [0.1, 0.2, 0.4, 0.8]


def _check(road: Road, x, t, reduction: str):
    case = explicit_case(
        road.spec, road.dtype, road.api, {"input": x, "target": t}, {"reduction": reduction}
    )
    road.assert_ok(road.check_forward(case, kind="special"))
    out = road.expected(case)
    road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    return case


def _unreduced(road: Road, x, t) -> np.ndarray:
    case = explicit_case(
        road.spec, road.dtype, road.api, {"input": x, "target": t}, {"reduction": "none"}
    )
    return np.asarray(road.expected(case), dtype=np.float64)


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_documented_example(spec_combo, selection, reduction, recorder, request):
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, [X4], [[3, 0, -1, 1]], reduction)
        if road.dtype == "float64":
            value = float(_unreduced(road, [X4], [[3, 0, -1, 1]])[0])
            assert abs(value - 0.85) < 1e-15, value


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_values_after_the_first_pad_are_ignored(
    spec_combo, selection, reduction, recorder, request
):
    rows = ([3, 0, -1, 1], [3, 0, -1, 2], [3, 0, -1, -1], [3, 0, -1, 3])
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for t in rows:
            case = _check(road, [X4], [t], reduction)
            if t[3] != -1:
                assert "ignored_after_pad" in case.features
        values = {float(_unreduced(road, [X4], [t])[0]) for t in rows}
        assert len(values) == 1, values


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_repeated_label_counts_twice(spec_combo, selection, reduction, recorder, request):
    """[3, 3, -1, 1] has j = 0 and j = 1 both on label 3: twice the terms of [3, -1, ...]."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = _check(road, [X4], [[3, 3, -1, 1]], reduction)
        assert "repeated_label" in case.features
        twice = _unreduced(road, [X4], [[3, 3, -1, 1]])
        once = _unreduced(road, [X4], [[3, -1, 0, 0]])
        np.testing.assert_allclose(twice, 2 * once, rtol=1e-15)
        assert once[0] > 0


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_no_label_and_all_labels_give_zero(spec_combo, selection, reduction, recorder, request):
    rows = ([-1, 0, 1, 2], [-1, -1, -1, -1], [0, 1, 2, 3], [3, 2, 1, 0])
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = _check(road, [X4, X4, X4, X4], list(rows), reduction)
        assert {"no_labels", "all_labels"} <= case.features
        np.testing.assert_array_equal(_unreduced(road, [X4] * 4, list(rows)), np.zeros(4))


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_denominator_is_the_number_of_classes(spec_combo, selection, reduction, recorder, request):
    """Equal scores: every (label, non-label) pair is a hinge of 1; a row with one label of
    C = 4 has three, over C = 4: 0.75 (not over the batch N = 2)."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        x = [[0.0] * 4, [0.0] * 4]
        t = [[0, -1, 0, 0], [1, 2, -1, 0]]  # 3 pairs / 4 and 2 x 2 pairs / 4
        case = _check(road, x, t, reduction)
        want = {"none": [0.75, 1.0], "sum": 1.75, "mean": 0.875}[reduction]
        got = np.asarray(road.expected(case), dtype=np.float64)
        np.testing.assert_array_equal(got, want)


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_tie_takes_the_subgradient_zero(spec_combo, selection, reduction, recorder, request):
    """x[y[0]] - x[1] == 1 exactly: 1 - (x[y] - x[i]) == 0, inactive, gradient 0."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        x = [[1.0, 0.0, 0.5, -2.0]]
        case = _check(road, x, [[0, -1, 0, 0]], reduction)
        assert "hinge_tie" in case.features
        g = road.expected_gradients(case, np.ones(np.shape(road.expected(case))))["input"]
        assert g[0, 1] == 0 and g[0, 3] == 0 and g[0, 2] != 0


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_and_empty(spec_combo, selection, reduction, recorder, request):
    """(C) input and target give a () loss; N = 0: 'none' (0,), 'sum' 0, 'mean' NaN (torch's
    reduced value of an empty batch is uninitialised memory: registered)."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = _check(road, X4, [3, 0, -1, 1], reduction)
        assert np.shape(road.expected(case)) == ()
        empty = _check(road, np.zeros((0, 4)), np.zeros((0, 4), dtype=np.int64), reduction)
        assert "empty_batch" in empty.features
        expected = road.expected(empty)
        if reduction == "mean":
            assert np.isnan(expected)
        elif reduction == "sum":
            assert expected == 0
        else:
            assert np.shape(expected) == (0,)


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_inf_and_nan_scores(spec_combo, selection, reduction, recorder, request):
    """±inf and NaN follow the formula (max(0, NaN) = NaN); torch drops NaN hinges
    (registered)."""
    rows = (
        [INF, 0.0, 0.5],
        [-INF, 0.0, 0.5],
        [0.0, INF, 0.5],
        [INF, INF, 0.5],
        [NAN, 0.0, 0.5],
        [0.0, NAN, 0.5],
    )
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for x in rows:
            _check(road, [x], [[1, -1, 0]], reduction)
