"""Documented special cases of the two soft-margin losses, judged by the oracle on the road.

SoftMarginLoss, "loss(x, y) = sum_i log(1 + exp(-y[i] x[i])) / x.nelement()" with targets
"containing 1 or -1":
- margins -y x up to 1e4, the dtype's largest values and ±inf: the loss is finite (about
  -y x) wherever x is (torch's overflow of exp(-y x) is the registry's
  soft-margin-exp-overflows), and the gradient -y sigmoid(-y x) lies in [-1, 1];
- only the input is differentiable; empty inputs ('mean' is 0/0).

MultiLabelSoftMarginLoss, input and target (N, C), weight "a Tensor of size C":
- a few hundred classes, with and without the weight; infinite class weights;
- N = 0 (an empty loss) and C = 0 (each sample's loss is 0/0).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import oracle
from suites.case import explicit_case
from suites.dtypes import info
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads
from suites.strategies import bulk_values

soft_margin = for_specs(lambda spec: spec.loss == "SoftMarginLoss")
multilabel = for_specs(lambda spec: spec.loss == "MultiLabelSoftMarginLoss")
REDUCTIONS = ("none", "mean", "sum")
INF = math.inf


def _check(road: Road, inputs: dict, reduction: str) -> None:
    case = explicit_case(road.spec, road.dtype, road.api, inputs, {"reduction": reduction})
    road.assert_ok(road.check_forward(case, kind="special"))
    out = road.expected(case)
    road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    road.conclude()


# -- SoftMarginLoss ------------------------------------------------------------------------


@soft_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_large_margins(spec_combo, selection, reduction, recorder, request):
    """|x| = 1e4 (or the dtype's largest value below it), the point where exp(|x|)
    overflows the dtype and twice it, the largest finite value and ±inf, with y = ±1."""
    d = info(spec_combo[1])
    edge = math.log(d.max)
    xs = [min(1e4, d.max), edge, 2 * edge, d.max, INF, 0.5, 0.0]
    xs = xs + [-v for v in xs]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for y in (1.0, -1.0):
            _check(road, {"input": xs, "target": [y] * len(xs)}, reduction)


@soft_margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0)])
def test_soft_margin_empty(spec_combo, selection, reduction, shape, recorder, request):
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        inputs = {"input": np.zeros(shape), "target": np.ones(shape)}
        expected = road.expected(explicit_case(road.spec, road.dtype, road.api, inputs))
        assert np.isnan(expected), "the documented mean of no elements is 0/0"
        _check(road, inputs, reduction)


@soft_margin
def test_soft_margin_target_is_not_differentiable(spec_combo):
    dtype = spec_combo[1]
    if dtype in ("float16", "bfloat16"):
        pytest.skip("a property of the autograd formula, not of a dtype")
    t = getattr(torch, dtype)
    x = torch.tensor([0.5, -2.0], dtype=t, requires_grad=True)
    y = torch.tensor([1.0, -1.0], dtype=t, requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument"):
        torch.nn.functional.soft_margin_loss(x, y)
    assert sorted(oracle.gradients.soft_margin_loss([0.5, -2.0], [1.0, -1.0])) == ["input"]


# -- MultiLabelSoftMarginLoss --------------------------------------------------------------


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_many_classes(spec_combo, selection, reduction, recorder, request):
    """C = 300 classes (a few hundred, as in multi-label tagging), N = 2, weight (C,)."""
    dtype = spec_combo[1]
    n, c = 2, 300
    x = bulk_values(7, n * c, dtype, scale=4.0).reshape(n, c)
    y = (bulk_values(8, n * c, dtype) > 0).astype(np.float64).reshape(n, c)
    w = np.abs(bulk_values(9, c, dtype))
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, {"input": x, "target": y}, reduction)
        _check(road, {"input": x, "target": y, "weight": w}, reduction)


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weight_of_size_c(spec_combo, selection, reduction, recorder, request):
    x = [[0.5, -1.0, 2.0, 40.0], [-30.0, 0.0, 1.0, -0.25]]
    y = [[1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for w in ([1.0, 2.0, 0.0, 0.5], [3.0, 3.0, 3.0, 3.0], [-1.0, 1.0, 2.0, 4.0]):
            _check(road, {"input": x, "target": y, "weight": w}, reduction)


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_infinite_class_weights(spec_combo, selection, reduction, recorder, request):
    """A class weight of ±inf: that class's terms and slopes are ±inf (torch's NaN gradients
    are the registry's binary-losses-infinite-weight-nan-gradients)."""
    x = [[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]
    y = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, {"input": x, "target": y, "weight": [INF, 1.0, -INF]}, reduction)


@multilabel
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(0, 3), (2, 0), (0, 0)])
def test_multilabel_empty(spec_combo, selection, reduction, shape, recorder, request):
    """N = 0: an empty loss ('mean' 0/0); C = 0: each sample's loss is 0/0 = NaN; with and
    without a weight of size C."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        inputs = {"input": np.zeros(shape), "target": np.ones(shape)}
        out = road.expected(explicit_case(road.spec, road.dtype, road.api, inputs, {}))
        assert np.isnan(out), "a mean over no samples, or of samples over no classes, is NaN"
        _check(road, inputs, reduction)
        _check(road, {**inputs, "weight": np.ones(shape[1])}, reduction)
