"""Documented special cases shared by L1, MSE, Huber and SmoothL1, judged by the oracle.

- Broadcasting: a target whose size differs from the input's broadcasts, with the warning
  the docs of each functional print ("Using a target size ... that is different to the
  input size"); equal sizes do not warn.
- Empty tensors: 'none' gives an empty loss, 'sum' 0, 'mean' 0/0 = NaN (the documented
  "sum ... divided by the number of elements"); gradients are empty.
- ±inf and NaN propagate through the value and the gradients as the formula says.
- Ties: input == target (the subgradient sign(0) = 0 of |d|) and |input - target| equal to
  delta or beta (both pieces of the formula meet there; the oracle's docstrings give the
  value and slope), for every reduction, both APIs.
"""

from __future__ import annotations

import numpy as np
import pytest

from suites.case import explicit_case
from suites.road import Road
from suites.selection import for_specs

POINTWISE = ("L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss")
pointwise = for_specs(lambda spec: spec.loss in POINTWISE)
BROADCAST_WARNING = "Using a target size"
INF, NAN = float("inf"), float("nan")


def _check(road: Road, case, grads: bool = True) -> None:
    road.assert_ok(road.check_forward(case, kind="special"))
    if grads:
        out = road.expected(case)
        road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))


@pointwise
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_broadcast_warns_and_broadcasts(spec_combo, selection, reduction, recorder, request):
    spec, dtype, device = spec_combo
    for api in selection.apis:
        road = Road(
            spec, dtype, device, api, reduction, recorder=recorder, test_id=request.node.nodeid
        )
        road.require_present()
        inputs = {"input": [[0.5, -1.0, 2.0], [3.0, 0.0, -0.25]], "target": [1.0, -1.0, 0.0]}
        case = explicit_case(spec, dtype, api, inputs, {"reduction": reduction})
        outcome = road.target.run(case)
        if outcome.unsupported:
            pytest.skip(outcome.error)
        assert any(BROADCAST_WARNING in w for w in outcome.warnings), (
            f"{spec.name} {api}: no broadcast warning, got {outcome.warnings}"
        )
        _check(road, case)
        same = explicit_case(
            spec, dtype, api, {"input": [1.0, 2.0], "target": [0.0, 2.0]}, {"reduction": reduction}
        )
        quiet = road.target.run(same)
        assert not any(BROADCAST_WARNING in w for w in quiet.warnings), quiet.warnings


@pointwise
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3, 1)])
def test_empty_tensors(spec_combo, selection, reduction, shape, recorder, request):
    spec, dtype, device = spec_combo
    for api in selection.apis:
        road = Road(
            spec, dtype, device, api, reduction, recorder=recorder, test_id=request.node.nodeid
        )
        road.require_present()
        empty = np.zeros(shape)
        case = explicit_case(
            spec, dtype, api, {"input": empty, "target": empty}, {"reduction": reduction}
        )
        expected = road.expected(case)
        if reduction == "mean":
            assert np.isnan(expected), "the documented mean of no elements is 0/0"
        elif reduction == "sum":
            assert expected == 0
        else:
            assert np.shape(expected) == shape
        _check(road, case)


@pointwise
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_inf_and_nan_propagate(spec_combo, selection, reduction, recorder, request):
    spec, dtype, device = spec_combo
    rows = {
        "input": [INF, -INF, NAN, 1.0, INF, 2.0],
        "target": [1.0, 1.0, 1.0, NAN, INF, -INF],
    }
    for api in selection.apis:
        road = Road(
            spec, dtype, device, api, reduction, recorder=recorder, test_id=request.node.nodeid
        )
        road.require_present()
        for i in range(len(rows["input"])):
            case = explicit_case(
                spec,
                dtype,
                api,
                {"input": [rows["input"][i], 0.5], "target": [rows["target"][i], 0.25]},
                {"reduction": reduction},
            )
            _check(road, case)


def _threshold_options(spec) -> list[dict]:
    names = [o.name for o in spec.options]
    if not names:
        return [{}]
    name = names[0]
    return [{name: v} for v in (0.5, 1.0, 2.0)] + [{}]


@pointwise
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ties_take_the_documented_subgradient(spec_combo, selection, reduction, recorder, request):
    spec, dtype, device = spec_combo
    for api in selection.apis:
        road = Road(
            spec, dtype, device, api, reduction, recorder=recorder, test_id=request.node.nodeid
        )
        road.require_present()
        for options in _threshold_options(spec):
            t = next(iter(options.values()), 1.0)
            x = [1.0, -2.0, 0.5, 0.5, 3.0, 0.0]
            y = [1.0, -2.0, 0.5 - t, 0.5 + t, 3.0, -0.0]  # ties, |d| == threshold, ±0
            case = explicit_case(
                spec, dtype, api, {"input": x, "target": y}, {**options, "reduction": reduction}
            )
            grads = road.expected_gradients(case, None)
            if reduction == "none":
                for g in ("input", "target"):
                    assert grads[g][0] == 0 and grads[g][1] == 0, (
                        f"the subgradient at input == target is 0, the oracle gave {grads[g][:2]}"
                    )
            _check(road, case)
