"""BCEWithLogitsLoss's documented special cases, judged by the oracle on the suite's road.

- ``pos_weight`` "broadcasted with target" with "equal size along the class dimension":
  (C,) for an (N, C) target (the docs' 64-class example), [C, H, W] and [B, C, H, W] for a
  [B, C, H, W] target, [C, 1, 1] "along all spatial dimensions" of a [C, H, W] target.
- ``weight`` broadcasting "to a common shape" with the output.
- Logits up to ±1e4, the largest finite values and ±inf, against soft targets in [0, 1]:
  the log-sum-exp form never overflows (torch's NaN at -inf is the registry's
  bce-with-logits-nan-at-infinite-logits).
- The docs' worked example: 64 classes, logits 1.5, targets 1, pos_weight ones: -log
  sigmoid(1.5).
- Infinite weights and pos_weights (±inf losses and slopes).
- Only input and target are differentiable; empty batches.
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

with_logits = for_specs(lambda spec: spec.loss == "BCEWithLogitsLoss")
REDUCTIONS = ("none", "mean", "sum")
INF = math.inf


def _check(road: Road, inputs: dict, reduction: str) -> None:
    case = explicit_case(road.spec, road.dtype, road.api, inputs, {"reduction": reduction})
    road.assert_ok(road.check_forward(case, kind="special"))
    out = road.expected(case)
    road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    road.conclude()


def _grid(shape: tuple[int, ...], lo: float, hi: float) -> np.ndarray:
    return np.linspace(lo, hi, math.prod(shape)).reshape(shape)


def test_the_documented_example():
    """64 classes, batch 10, logits 1.5, targets 1, pos_weight ones: -log(sigmoid(1.5))."""
    got = oracle.binary_cross_entropy_with_logits(
        np.full((10, 64), 1.5), np.ones((10, 64)), pos_weight=np.ones(64)
    )
    assert float(got) == pytest.approx(math.log1p(math.exp(-1.5)), rel=1e-15)


@with_logits
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pos_weight_broadcasts_as_documented(spec_combo, selection, reduction, recorder, request):
    x2, y2 = _grid((4, 3), -3.0, 3.0), _grid((4, 3), 0.0, 1.0)
    x4, y4 = _grid((2, 3, 2, 2), -4.0, 4.0), _grid((2, 3, 2, 2), 1.0, 0.0)
    x3, y3 = x4[0], y4[0]
    cases = [
        {"input": x2, "target": y2, "pos_weight": [0.5, 2.0, 3.0]},  # (C,) of (N, C)
        {"input": x4, "target": y4, "pos_weight": _grid((3, 2, 2), 0.25, 4.0)},  # [C, H, W]
        {"input": x4, "target": y4, "pos_weight": _grid((2, 3, 2, 2), 0.0, 2.0)},
        {"input": x3, "target": y3, "pos_weight": np.array([1.0, 2.0, 4.0]).reshape(3, 1, 1)},
        {"input": x4, "target": y4, "pos_weight": np.array([1.0, 2.0, 4.0]).reshape(3, 1, 1)},
    ]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for inputs in cases:
            _check(road, inputs, reduction)


@with_logits
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weight_broadcasts_to_the_output(spec_combo, selection, reduction, recorder, request):
    x, y = _grid((4, 3), -2.0, 5.0), _grid((4, 3), 1.0, 0.0)
    weights = ([1.0, 0.5, 2.0], [[1.0], [2.0], [0.0], [3.0]], 1.5, _grid((4, 3), 0.0, 2.0))
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for w in weights:
            _check(road, {"input": x, "target": y, "weight": w}, reduction)
            _check(
                road,
                {"input": x, "target": y, "weight": w, "pos_weight": [2.0, 1.0, 0.5]},
                reduction,
            )


@with_logits
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_large_and_infinite_logits(spec_combo, selection, reduction, recorder, request):
    """|x| = 1e4 (or the dtype's largest value below it), the largest finite, ±inf, and the
    point where exp(|x|) would overflow the dtype, against targets 0, 1/4, 1/2 and 1."""
    dtype = spec_combo[1]
    d = info(dtype)
    big = min(1e4, d.max)
    edge = math.log(d.max)
    xs = [big, -big, d.max, -d.max, INF, -INF, edge, -edge, 2 * edge, -2 * edge]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for y in (0.0, 0.25, 0.5, 1.0):
            _check(road, {"input": xs, "target": [y] * len(xs)}, reduction)
            _check(road, {"input": xs, "target": [y] * len(xs), "pos_weight": [3.0]}, reduction)


@with_logits
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_infinite_weights(spec_combo, selection, reduction, recorder, request):
    """An infinite weight or pos_weight: the loss and its slopes are ±inf wherever their
    finite factor is nonzero (torch's NaN gradients there are the registry's
    binary-losses-infinite-weight-nan-gradients)."""
    x, y = [1.0, -2.0, 0.0, 3.0], [1.0, 0.0, 0.5, 0.25]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, {"input": x, "target": y, "pos_weight": [INF]}, reduction)
        _check(road, {"input": x, "target": y, "weight": [INF, 1.0, -INF, 2.0]}, reduction)


@with_logits
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0)])
def test_empty_batches(spec_combo, selection, reduction, shape, recorder, request):
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        empty = np.zeros(shape)
        inputs = {"input": empty, "target": empty, "pos_weight": np.ones(shape[-1:])}
        expected = road.expected(explicit_case(road.spec, road.dtype, road.api, inputs))
        assert np.isnan(expected), "the documented mean of no elements is 0/0"
        _check(road, inputs, reduction)


@with_logits
def test_weight_and_pos_weight_are_not_differentiable(spec_combo, selection):
    """The oracle returns gradients for input and target only: torch provides those and
    refuses a weight or pos_weight that requires grad."""
    dtype = spec_combo[1]
    if dtype in ("float16", "bfloat16"):
        pytest.skip("a property of the autograd formula, not of a dtype")
    t = getattr(torch, dtype)
    x = torch.tensor([0.25, -2.0], dtype=t, requires_grad=True)
    y = torch.tensor([1.0, 0.5], dtype=t, requires_grad=True)
    f = torch.nn.functional.binary_cross_entropy_with_logits
    gx, gy = torch.autograd.grad(f(x, y), (x, y))
    assert gx is not None and gy is not None
    for name in ("weight", "pos_weight"):
        w = torch.tensor([1.0, 2.0], dtype=t, requires_grad=True)
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument"):
            f(x, y, **{name: w})
    grads = oracle.gradients.binary_cross_entropy_with_logits(
        [0.25, -2.0], [1.0, 0.5], weight=[1.0, 2.0], pos_weight=[2.0, 1.0]
    )
    assert sorted(grads) == ["input", "target"]
