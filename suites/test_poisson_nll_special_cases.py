"""PoissonNLLLoss's documented special cases, judged by the oracle on the suite's road.

- The Stirling term of ``full=True``: "used for target values more than 1. For targets less
  or equal to 1 zeros are added": targets -1, 0, 0.5, exactly 1, the dtype's next value
  above 1, 1.5 and 2, with and without ``full``, for the value and both gradients (the
  oracle's d/dy at y = 1 is that of the zero branch; torch's NaN target gradient at y <= 0
  is the registry's poisson-nll-full-target-gradient-nan-at-nonpositive-target).
- ``log_input=False``: "input - target * log(input + eps)": a mean of exactly 0 (log(eps)),
  eps = 0 there (log(0) = -inf, IEEE), and eps of 1e-8 (lost in float16: registered).
- Integer-valued targets (counts) and non-integer ones; an int64 target tensor (forward).
- ±inf and NaN inputs and targets follow IEEE arithmetic through the formula.
- Empty inputs: 'sum' is 0, 'mean' 0/0 = NaN.
"""

from __future__ import annotations

import numpy as np
import pytest

from suites.case import explicit_case
from suites.dtypes import to_dtype, ulp
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads

poisson = for_specs(lambda spec: spec.loss == "PoissonNLLLoss")
REDUCTIONS = ("none", "mean", "sum")
INF, NAN = float("inf"), float("nan")


def _check(road: Road, inputs: dict, options: dict, grads: bool = True) -> None:
    case = explicit_case(road.spec, road.dtype, road.api, inputs, options)
    road.assert_ok(road.check_forward(case, kind="special"))
    if grads:
        out = road.expected(case)
        road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    road.conclude()


@poisson
@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_stirling_switch_at_one(
    spec_combo, selection, reduction, log_input, full, recorder, request
):
    _, dtype, _ = spec_combo
    above_one = 1.0 + float(ulp(1.0, dtype))
    targets = [-1.0, 0.0, 0.5, 1.0, above_one, 1.5, 2.0]
    inputs = {"input": [0.75] * len(targets), "target": targets}
    options = {"reduction": reduction, "log_input": log_input, "full": full}
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, inputs, options)
        # the same without targets <= 0, whose target gradient torch makes NaN (registered)
        _check(road, {"input": [0.75] * 5, "target": targets[2:]}, options)


@poisson
@pytest.mark.parametrize("eps", [1e-8, 0.0, 0.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_mean_and_eps(spec_combo, selection, reduction, eps, recorder, request):
    inputs = {"input": [0.0, 0.0, 1.0, 0.25], "target": [0.0, 2.0, 3.0, 0.5]}
    options = {"reduction": reduction, "log_input": False, "eps": eps}
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, inputs, options)


@poisson
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_integer_and_non_integer_targets(
    spec_combo, selection, reduction, log_input, recorder, request
):
    _, dtype, _ = spec_combo
    x = [0.5, 1.25, 2.0, 3.0, 0.125, 1.0]
    options = {"reduction": reduction, "log_input": log_input, "full": True}
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, {"input": x, "target": [1.0, 2.0, 3.0, 7.0, 12.0, 5.0]}, options)
        _check(road, {"input": x, "target": [1.5, 2.25, 3.75, 6.5, 0.75, 4.125]}, options)
        counts = np.array([1, 2, 3, 7, 12, 5], dtype=np.int64)  # an int64 target tensor
        case = explicit_case(road.spec, dtype, road.api, {"input": x, "target": counts}, options)
        road.assert_ok(road.check_forward(case, kind="special"))
        road.conclude()


@poisson
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_infinities_and_nan(spec_combo, selection, reduction, log_input, recorder, request):
    x = [INF, NAN, 1.0, 2.0, 0.5, 0.0] if not log_input else [INF, NAN, 1.0, -INF, 0.5, 0.0]
    inputs = {"input": x, "target": [1.0, 1.0, NAN, 2.0, INF, 3.0]}
    for full in (True, False):
        options = {"reduction": reduction, "log_input": log_input, "full": full}
        for road in _roads(spec_combo, selection, reduction, recorder, request):
            _check(road, inputs, options)


@poisson
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(0,), (2, 0)])
def test_empty_tensors(spec_combo, selection, reduction, shape, recorder, request):
    empty = np.zeros(shape)
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = explicit_case(
            road.spec,
            road.dtype,
            road.api,
            {"input": empty, "target": empty},
            {"reduction": reduction},
        )
        expected = road.expected(case)
        if reduction == "mean":
            assert np.isnan(expected)
        elif reduction == "sum":
            assert expected == 0
        _check(road, {"input": empty, "target": empty}, {"reduction": reduction})


def test_the_tie_targets_are_exact_in_every_dtype():
    for dtype in ("float64", "float32", "float16", "bfloat16"):
        v = np.array([1.0, 1.0 + float(ulp(1.0, dtype)), 0.5, 1.5, 2.0])
        assert np.array_equal(to_dtype(v, dtype).astype(np.float64), v)
