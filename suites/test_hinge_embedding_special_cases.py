"""Documented special cases of HingeEmbeddingLoss, judged by the oracle on the road.

"l_n = x_n if y_n = 1, max{0, margin - x_n} if y_n = -1", for "a labels tensor y
(containing 1 or -1)", input and target of one shape "(*)":
- the kink at x = margin for y = -1: with a margin the dtype holds, z = margin - x is
  exactly 0 and the oracle's documented subgradient (0: the hinge is inactive at 0, the
  project's convention) is checked bit for bit, no allowance; torch takes the other
  one-sided derivative, -1, which the road recognises as such (``tie_other_side_failure``,
  registered: hinge-tie-takes-the-active-slope), so any other value fails; with a margin the dtype
  cannot hold (0.9999, 1.0001 in float16) torch rounds it first, and only those near ties
  get the allowance of the jump between the two one-sided slopes;
- margins 0, negative, ±inf (none is forbidden by the docs);
- ±inf and NaN inputs with both labels (torch's 0 gradient at a NaN hinge is registered);
- the dtype's largest values, whose reduction overflows torch's float32 accumulator for
  float32 and bfloat16 where the documented mean or cancelling sum is finite (registered:
  hinge-embedding-reduction-overflows-in-the-dtype);
- any shape: 0-d, 1-d (unbatched), several dimensions, empty ('mean' is 0/0);
- only the input is differentiated: torch leaves the target out of the graph.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import oracle
from oracle.hinge_embedding_loss import gradients_active_at_tie as hinge_active_at_tie
from suites.case import explicit_case
from suites.dtypes import info, is_representable, to_dtype
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads

hinge = for_specs(lambda spec: spec.loss == "HingeEmbeddingLoss")
REDUCTIONS = ("none", "mean", "sum")
INF, NAN = math.inf, math.nan


def _check(road: Road, inputs: dict, options: dict) -> None:
    case = explicit_case(road.spec, road.dtype, road.api, inputs, options)
    road.assert_ok(road.check_forward(case, kind="special"))
    out = road.expected(case)
    road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    road.conclude()


@hinge
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.0, 0.5, 2.0, -1.0, -0.25])
def test_exact_tie_takes_the_documented_subgradient(
    spec_combo, selection, reduction, margin, recorder, request
):
    """x = margin with y = -1: value 0, slope 0 (the oracle's documented subgradient; -1 is
    the other one-sided derivative), next to an active hinge, an idle one and a y = 1
    element at the margin. torch's gradient must be one of the two bit for bit: the
    documented one passes, the other is flagged ``other_side`` (and known), any other fails."""
    x = [margin, margin - 0.5, margin + 0.5, margin]
    y = [-1.0, -1.0, -1.0, 1.0]
    grads = oracle.gradients.hinge_embedding_loss(x, y, margin=margin, reduction="none")
    assert list(grads["input"]) == [0, -1, 0, 1]
    other = hinge_active_at_tie(x, y, margin=margin, reduction="none")
    assert list(other["input"]) == [-1, -1, 0, 1]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        options = {"margin": margin, "reduction": reduction}
        case = explicit_case(road.spec, road.dtype, road.api, {"input": x, "target": y}, options)
        assert "hinge_tie" in case.features
        assert "hinge_near_tie" not in case.features  # exact: judged bit for bit
        road.assert_ok(road.check_forward(case, kind="special"))
        out = road.expected(case)
        for r in road.check_gradients(case, np.ones(np.shape(out)), kind="special"):
            road.assert_ok(r)
            assert r.verdict == "pass" or r.comparison.other_side, r.comparison.message
        road.conclude()


@hinge
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.9999, 1.0001, 0.1, -2.3])
def test_near_tie_where_the_margin_is_rounded(
    spec_combo, selection, reduction, margin, recorder, request
):
    """x = fl(margin) with y = -1: z = margin - fl(margin) is tiny and torch, which rounds
    the margin to the dtype first, sees an exact tie. Near ties exist only where the margin
    is not a value of the dtype (never in float64)."""
    dtype = spec_combo[1]

    at = float(to_dtype(np.array(margin), dtype))
    x = [at, at + 1.0, at - 1.0]
    y = [-1.0, -1.0, -1.0]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = explicit_case(
            road.spec, road.dtype, road.api, {"input": x, "target": y}, {"margin": margin}
        )
        near = "hinge_near_tie" in case.features
        assert near == (not bool(is_representable(np.array(margin), dtype)))
        _check(road, {"input": x, "target": y}, {"margin": margin, "reduction": reduction})


@hinge
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, -1.0, INF, -INF, NAN])
def test_unusual_margins(spec_combo, selection, reduction, margin, recorder, request):
    """The docs restrict no margin: 0 and negative margins clamp every x >= margin to 0;
    margin = inf makes every hinge inf (NaN at x = inf), -inf every hinge 0; NaN makes
    every hinge NaN."""
    x = [0.5, -0.5, 0.0, -2.0, 3.0]
    y = [-1.0, -1.0, -1.0, -1.0, 1.0]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, {"input": x, "target": y}, {"margin": margin, "reduction": reduction})


@hinge
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_inf_and_nan_inputs(spec_combo, selection, reduction, recorder, request):
    """x = ±inf, NaN with y = 1 (l = x, slope 1) and y = -1 (max(0, 1 - x))."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for x in (INF, -INF, NAN):
            for y in (1.0, -1.0):
                _check(road, {"input": [x, 0.25], "target": [y, -1.0]}, {"reduction": reduction})


@hinge
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_largest_values(spec_combo, selection, reduction, recorder, request):
    """x = ±max of the dtype with y = 1, and -max with y = -1 (a hinge of margin + max)."""
    big = info(spec_combo[1]).max
    rows = [
        ([big, big, -big], [1.0, 1.0, 1.0]),
        ([big, big, big], [1.0, 1.0, -1.0]),
        ([-big, 0.5], [-1.0, -1.0]),
    ]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for x, y in rows:
            _check(road, {"input": x, "target": y}, {"reduction": reduction})


@hinge
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 1, 3), (0,), (3, 0)], ids=str)
def test_shapes(spec_combo, selection, reduction, shape, recorder, request):
    """Input (*), target of the same shape: 0-d, unbatched, N-d and empty ('mean' 0/0)."""
    n = math.prod(shape)
    x = np.linspace(-2.0, 2.0, n).reshape(shape)
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0).reshape(shape)
    if n == 0 and reduction == "mean":
        assert np.isnan(oracle.hinge_embedding_loss(x, y))
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, {"input": x, "target": y}, {"reduction": reduction})


@hinge
def test_target_is_not_differentiated(spec_combo):
    dtype = spec_combo[1]
    if dtype in ("float16", "bfloat16"):
        pytest.skip("a property of the autograd formula, not of a dtype")
    t = getattr(torch, dtype)
    x = torch.tensor([0.5, 2.0], dtype=t, requires_grad=True)
    y = torch.tensor([-1.0, 1.0], dtype=t, requires_grad=True)
    loss = torch.nn.functional.hinge_embedding_loss(x, y)
    gx, gy = torch.autograd.grad(loss, [x, y], allow_unused=True)
    assert gx is not None and gy is None
    assert sorted(oracle.gradients.hinge_embedding_loss([0.5, 2.0], [-1.0, 1.0])) == ["input"]
