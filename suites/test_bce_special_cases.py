"""BCELoss's documented special cases, judged by the oracle on the suite's road.

- "BCELoss clamps its log function outputs to be greater than or equal to -100": inputs
  exactly 0 and 1, exp(-100) and its neighbours in the dtype, 1e-30 and the smallest
  subnormal, for the value (l = 100 w where a clamped log meets a target of 1) and for the
  gradients (the oracle differentiates the clamped formula; torch's departures are the
  registry's bce-input-gradient-clamps-its-denominator and
  bce-target-gradient-ignores-the-log-clamp).
- ``weight`` "of size nbatch" / "repeated to match input tensor shape": every shape that
  broadcasts to the input, (N, 1) per sample of an (N, C) input, (N,) for a 1-d batch.
- The target is differentiable, the weight is not (torch refuses it).
- Empty batches: 'sum' is 0, 'mean' 0/0 = NaN.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import oracle
from suites.case import explicit_case
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads
from suites.specs.binary import EXP_M100, neighbours

bce = for_specs(lambda spec: spec.loss == "BCELoss")
REDUCTIONS = ("none", "mean", "sum")


def _check(road: Road, inputs: dict, reduction: str, grads: bool = True) -> None:
    case = explicit_case(road.spec, road.dtype, road.api, inputs, {"reduction": reduction})
    road.assert_ok(road.check_forward(case, kind="special"))
    if grads:
        out = road.expected(case)
        road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    road.conclude()


def test_the_oracle_clamps_at_minus_100():
    """The documented values at the clamp: l = -w [y max(log x, -100) + (1-y) max(...)]."""
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1e-50, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 1.0, 1.0])
    got = oracle.binary_cross_entropy(x, y, reduction="none")
    want = [100.0, 100.0, 0.0, 0.0, 50.0, 100.0, math.log(2.0)]
    assert np.allclose(got.astype(np.float64), want, rtol=1e-15, atol=0)
    g = oracle.gradients.binary_cross_entropy(x, y, reduction="none")
    # a clamped log is constant: its derivative is 0; the other term keeps its slope
    assert g["input"][0] == 0 and g["input"][5] == 0  # y = 1 meets the clamped log x
    assert g["input"][1] == 0  # y = 0 meets the clamped log(1 - x)
    assert g["input"][2] == 1 and g["input"][3] == -1  # slope of the unclamped term
    assert g["target"][0] == 100 and g["target"][1] == -100


@bce
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_inputs_at_and_around_the_clamp(spec_combo, selection, reduction, recorder, request):
    """0, 1, exp(-100) and 1e-30 with their dtype neighbours, the smallest subnormal and
    normal, 1 - 1e-12, against targets 0, 1 and 1/2."""
    dtype = spec_combo[1]
    from suites.dtypes import info

    d = info(dtype)
    xs = [0.0, 1.0, d.smallest_subnormal, d.tiny]
    for v in (float(EXP_M100), 1e-30, 1e-12, 1.0 - 1e-12):
        xs += neighbours(v, dtype)
    xs = sorted({v for v in xs if 0.0 <= v <= 1.0})
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for y in (0.0, 1.0, 0.5):
            _check(road, {"input": xs, "target": [y] * len(xs)}, reduction)


@bce
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weight_shapes(spec_combo, selection, reduction, recorder, request):
    """weight "of size nbatch" ((N,) for a 1-d batch, (N, 1) per sample of (N, C)), per
    class (C,), a scalar, the input's own shape, (C, 1, 1) of (N, C, H, W)."""
    x2 = [[0.25, 0.5, 0.75], [0.125, 0.875, 0.5]]
    y2 = [[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]]
    x4 = np.linspace(0.05, 0.95, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    y4 = np.linspace(1.0, 0.0, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    cases = [
        {"input": [0.25, 0.5, 0.75], "target": [0.0, 1.0, 0.5], "weight": [1.0, 2.0, 0.5]},
        {"input": x2, "target": y2, "weight": [[2.0], [0.5]]},
        {"input": x2, "target": y2, "weight": [1.0, 3.0, 0.25]},
        {"input": x2, "target": y2, "weight": 2.5},
        {"input": x2, "target": y2, "weight": [[1.0, 2.0, 3.0], [4.0, 0.0, 0.5]]},
        {"input": x4, "target": y4, "weight": np.array([1.0, 2.0, 3.0]).reshape(3, 1, 1)},
    ]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for inputs in cases:
            _check(road, inputs, reduction)


@bce
def test_a_square_input_takes_an_nbatch_weight_per_column(spec_combo, selection, recorder, request):
    """With N == C a weight of size nbatch broadcasts along the last dimension (per class,
    not per sample): what "repeated to match input tensor shape" means, and what torch does.
    With N != C it does not broadcast and both reject it (the spec's invalid inputs)."""
    x = [[0.25, 0.5], [0.125, 0.875]]
    y = [[0.0, 1.0], [1.0, 0.5]]
    for road in _roads(spec_combo, selection, "none", recorder, request):
        per_column = oracle.binary_cross_entropy(x, y, weight=[1.0, 2.0], reduction="none")
        assert per_column[1, 1] == 2 * oracle.binary_cross_entropy(0.875, 0.5, reduction="none")
        _check(road, {"input": x, "target": y, "weight": [1.0, 2.0]}, "none")


@bce
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0)])
def test_empty_batches(spec_combo, selection, reduction, shape, recorder, request):
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        empty = np.zeros(shape)
        for weight in (None, np.ones(shape[-1:])):
            inputs = {"input": empty, "target": empty}
            if weight is not None:
                inputs["weight"] = weight
            expected = road.expected(explicit_case(road.spec, road.dtype, road.api, inputs))
            assert np.isnan(expected), "the documented mean of no elements is 0/0"
            _check(road, inputs, reduction)


@bce
def test_target_is_differentiable_and_weight_is_not(spec_combo, selection):
    """The oracle returns gradients for input and target only, because torch provides
    exactly those: a weight that requires grad is refused."""
    dtype = spec_combo[1]
    if dtype in ("float16", "bfloat16"):
        pytest.skip("a property of the autograd formula, not of a dtype")
    t = getattr(torch, dtype)
    x = torch.tensor([0.25, 0.5], dtype=t, requires_grad=True)
    y = torch.tensor([1.0, 0.5], dtype=t, requires_grad=True)
    w = torch.tensor([1.0, 2.0], dtype=t, requires_grad=True)
    gx, gy = torch.autograd.grad(torch.nn.functional.binary_cross_entropy(x, y), (x, y))
    assert gx is not None and gy is not None
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument"):
        torch.nn.functional.binary_cross_entropy(x, y, weight=w)
    grads = oracle.gradients.binary_cross_entropy([0.25, 0.5], [1.0, 0.5], weight=[1.0, 2.0])
    assert sorted(grads) == ["input", "target"]
