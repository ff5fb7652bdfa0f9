"""GaussianNLLLoss's documented special cases, judged by the oracle on the suite's road.

- The clamp ``max(var, eps)`` "used for stability": var exactly at eps (a dyadic eps, and
  the rounding of the default 1e-6 to the dtype), the dtype's neighbours just below and
  above, far below, for the value and every gradient; the Note ("The clamping of var is
  ignored with respect to autograd") makes d/dvar 0.5 (1/v - d^2/v^2) at v = max(var, eps)
  on both sides of the clamp (oracle/gaussian_nll_loss.py), so these points are checked
  against that by rule, with no tie allowance.
- ``full``: the constant 0.5 log(2 pi).
- Every documented var shape: the input's, with one dimension 1 (each position), with one
  fewer dimension (an unbatched (D,) input with a 0-d var among them), and (variant
  ``scalar_var``) a Python float, below eps, inf and NaN included.
- Empty inputs: 'sum' is 0, 'mean' 0/0 = NaN; a NaN var element that no term uses has the
  empty sum, 0, as its gradient (torch's NaN there is the registry's
  gaussian-nll-nan-var-gradient-of-empty-input).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from suites.case import explicit_case
from suites.dtypes import to_dtype, ulp
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads

gaussian = for_specs(lambda spec: spec.name == "GaussianNLLLoss")
scalar = for_specs(lambda spec: spec.name == "GaussianNLLLoss[scalar_var]")
REDUCTIONS = ("none", "mean", "sum")


def _check(road: Road, inputs: dict, options: dict, grads: bool = True) -> None:
    case = explicit_case(road.spec, road.dtype, road.api, inputs, options)
    road.assert_ok(road.check_forward(case, kind="special"))
    if grads:
        out = road.expected(case)
        road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    road.conclude()


def _around(eps: float, dtype: str) -> list[float]:
    """fl(eps), its neighbours below and above in the dtype, and eps / 1024."""
    e = float(to_dtype(np.array(eps), dtype))
    below = e - float(ulp(np.nextafter(np.float64(e), 0.0), dtype))
    return [e, below, e + float(ulp(e, dtype)), float(to_dtype(np.array(e / 1024), dtype))]


@gaussian
@pytest.mark.parametrize("eps", [0.25, 1e-6, 2.0**-10])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_var_at_and_around_the_clamp(spec_combo, selection, reduction, eps, recorder, request):
    _, dtype, _ = spec_combo
    var = [v for v in _around(eps, dtype) if v > 0]
    root = math.sqrt(eps)
    inputs = {
        "input": [root * 0.5] * len(var),
        "target": [0.0] * len(var),
        "var": var,
    }
    inputs = {k: list(to_dtype(np.array(v), dtype).astype(np.float64)) for k, v in inputs.items()}
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, inputs, {"reduction": reduction, "eps": eps})
        _check(road, inputs, {"reduction": reduction, "eps": eps, "full": True})


@gaussian
@pytest.mark.parametrize(
    "var_shape", [(2, 3), (1, 3), (2, 1), (2,)], ids=["same", "dim0-1", "dim1-1", "fewer"]
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_var_shapes(spec_combo, selection, reduction, var_shape, recorder, request):
    x = [[0.5, -1.0, 2.0], [3.0, 0.0, -0.25]]
    y = [[1.0, -1.0, 0.0], [2.5, 0.125, 1.0]]
    var = (np.arange(math.prod(var_shape), dtype=np.float64) + 1).reshape(var_shape) / 4
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, {"input": x, "target": y, "var": var}, {"reduction": reduction})
        # a target with one dimension equal to 1
        _check(
            road, {"input": x, "target": [[1.0, -1.0, 0.0]], "var": var}, {"reduction": reduction}
        )


@gaussian
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_input(spec_combo, selection, reduction, recorder, request):
    x, y = [0.5, -1.0, 2.0], [1.0, 0.0, 2.0]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for var in ([0.5, 2.0, 1.0], [0.5], 0.75):  # same shape, one dimension 1, 0-d
            _check(
                road,
                {"input": x, "target": y, "var": np.asarray(var)},
                {"reduction": reduction, "full": True},
            )


@scalar
@pytest.mark.parametrize("var", [1.0, 0.3, 1e-7, 1e-6, math.inf, math.nan])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_python_float_var(spec_combo, selection, reduction, var, recorder, request):
    x = [[0.5, -1.0, 2.0], [3.0, 0.0, -0.25]]
    y = [[1.0, -1.0, 0.0], [2.5, 0.125, 1.0]]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, {"input": x, "target": y}, {"reduction": reduction, "var": var})
        _check(
            road,
            {"input": x, "target": y},
            {"reduction": reduction, "var": var, "full": True, "eps": 0.5},
        )


@gaussian
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(0,), (0, 3)])
def test_empty_tensors(spec_combo, selection, reduction, shape, recorder, request):
    empty = np.zeros(shape)
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        inputs = {"input": empty, "target": empty, "var": np.ones(shape)}
        case = explicit_case(road.spec, road.dtype, road.api, inputs, {"reduction": reduction})
        expected = road.expected(case)
        if reduction == "mean":
            assert np.isnan(expected)
        elif reduction == "sum":
            assert expected == 0
        _check(road, inputs, {"reduction": reduction})
    # a var element that no loss term uses (an empty input): its gradient is the empty sum
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        inputs = {"input": np.zeros((2, 0)), "target": np.zeros((2, 0)), "var": [[math.nan], [1.0]]}
        _check(road, inputs, {"reduction": reduction})
