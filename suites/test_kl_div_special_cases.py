"""Documented special cases of KLDivLoss, judged by the oracle on the road.

KLDivLoss, "loss_pointwise = target * (target.log() - input)" (or "target.exp() * (target
- input)" with log_target), reduced by 'mean', 'batchmean' ("loss_pointwise.sum() /
input.size(0)"), 'sum' or 'none':
- the documented warning of reduction='mean' ("doesn't return the true KL divergence
  value"): torch warns at run time, on the module and the functional, whether 'mean' is
  passed or taken by default; the other reductions are silent;
- 'batchmean' divides by input.size(0) for 0-d (the oracle reads 1), 1-d (C), 2-d, 3-d and
  empty inputs;
- target probabilities of exactly 0 (0 log 0 = 0) and log-targets of -inf, next to finite
  and infinite inputs (torch's NaN for the latter is registered);
- log_target=True with t = log y gives the same loss as log_target=False with y;
- both input and target are differentiated, whatever log_target is;
- the legacy size_average/reduce override reduction, 'batchmean' included;
- ±inf and NaN inputs and targets.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import oracle
from suites.case import explicit_case
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads

kl_div = for_specs(lambda spec: spec.loss == "KLDivLoss")
REDUCTIONS = ("none", "mean", "sum", "batchmean")
MEAN_WARNING = "'mean' divides the total loss by both the batch size and the support size"
INF, NAN = math.inf, math.nan
X = [[-1.0, -2.0, -0.5], [-0.25, -3.0, -1.5]]
Y = [[0.25, 0.25, 0.5], [0.125, 0.5, 0.375]]


def _check(road: Road, inputs: dict, options: dict) -> None:
    case = explicit_case(road.spec, road.dtype, road.api, inputs, options)
    road.assert_ok(road.check_forward(case, kind="special"))
    out = road.expected(case)
    road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    road.conclude()


def _torch_call(api: str, dtype: str, options: dict):
    t = getattr(torch, dtype)
    x, y = torch.tensor(X, dtype=t), torch.tensor(Y, dtype=t)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if api == "module":
            torch.nn.KLDivLoss(**options)(x, y)
        else:
            torch.nn.functional.kl_div(x, y, **options)
    return [str(w.message) for w in caught]


@kl_div
@pytest.mark.parametrize("how", ["explicit", "default"])
def test_mean_warns(spec_combo, selection, how):
    """The docs warn that 'mean' is not the KL divergence; torch says so at run time."""
    dtype = spec_combo[1]
    options = {"reduction": "mean"} if how == "explicit" else {}
    for api in selection.apis:
        got = _torch_call(api, dtype, options)
        assert any(MEAN_WARNING in w for w in got), f"{api} {options}: no warning, got {got}"


@kl_div
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
def test_other_reductions_do_not_warn(spec_combo, selection, reduction):
    for api in selection.apis:
        got = _torch_call(api, spec_combo[1], {"reduction": reduction})
        assert not any(MEAN_WARNING in w for w in got), f"{api} {reduction}: {got}"


BATCH_SHAPES = [(), (5,), (2, 3), (3, 1, 2), (0, 3), (3, 0), (1, 4)]


@kl_div
@pytest.mark.parametrize("shape", BATCH_SHAPES, ids=str)
@pytest.mark.parametrize("log_target", [False, True])
def test_batchmean_divides_by_size_0(spec_combo, selection, shape, log_target, recorder, request):
    """'batchmean' is sum / input.size(0) (a 0-d input: 1; size(0) = 0: 0/0 = NaN)."""
    n = math.prod(shape)
    x = -np.linspace(0.25, 3.0, n).reshape(shape)
    y = np.linspace(0.125, 1.0, n).reshape(shape)
    y = np.log(y) if log_target else y
    options = {"reduction": "batchmean", "log_target": log_target}
    total = oracle.kl_div(x, y, reduction="sum", log_target=log_target)
    got = oracle.kl_div(x, y, **options)
    size0 = shape[0] if shape else 1
    if size0 == 0:
        assert np.isnan(got)
    else:
        assert got == total / np.longdouble(size0)
    for road in _roads(spec_combo, selection, "batchmean", recorder, request):
        _check(road, {"input": x, "target": y}, options)


@kl_div
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_target", [False, True])
def test_zero_target_probabilities(spec_combo, selection, reduction, log_target, recorder, request):
    """0 log 0 = 0: a zero target next to a finite input contributes 0; next to an infinite
    input, 0 * inf = NaN (a log-target of -inf: torch's NaN is registered)."""
    zero = -INF if log_target else 0.0
    rows = [
        ([-1.0, -0.5, 0.0, -3.0], [zero, 0.5, zero, 0.25]),
        ([-INF, -0.5], [zero, 0.5]),
        ([INF, -0.5], [zero, 0.5]),
    ]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for x, y in rows:
            y = [v if v == zero or not log_target else math.log(v) for v in y]
            opts = {"reduction": reduction, "log_target": log_target}
            none = oracle.kl_div(x, y, reduction="none", log_target=log_target)
            for xi, yi, li in zip(x, y, none, strict=True):
                if yi == zero:
                    assert (li == 0) if math.isfinite(xi) else np.isnan(li)
            _check(road, {"input": x, "target": y}, opts)
        if not log_target:  # -0.0 is a zero probability too
            _check(road, {"input": [-1.0, -2.0], "target": [-0.0, 0.5]}, {"reduction": reduction})


@kl_div
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_log_target_equals_probability_target(spec_combo, selection, reduction):
    """log_target=True with t = log y is the same loss as y with log_target=False."""
    dtype = spec_combo[1]
    if dtype in ("float16", "bfloat16"):
        pytest.skip("log y is rounded to the dtype: equal only to its precision")
    t = getattr(torch, dtype)
    x, y = torch.tensor(X, dtype=t), torch.tensor(Y, dtype=t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = torch.nn.functional.kl_div(x, y, reduction=reduction)
        b = torch.nn.functional.kl_div(x, y.log(), reduction=reduction, log_target=True)
    torch.testing.assert_close(a, b)
    ya = np.log(np.array(Y))
    want = oracle.kl_div(X, Y, reduction=reduction)
    got = oracle.kl_div(X, ya, reduction=reduction, log_target=True)
    assert np.allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float), rtol=1e-15)


@kl_div
@pytest.mark.parametrize("log_target", [False, True])
def test_both_arguments_are_differentiated(spec_combo, log_target):
    dtype = spec_combo[1]
    if dtype in ("float16", "bfloat16"):
        pytest.skip("a property of the autograd formula, not of a dtype")
    t = getattr(torch, dtype)
    x = torch.tensor(X, dtype=t, requires_grad=True)
    y = torch.tensor(Y, dtype=t, requires_grad=True)
    yy = y.log() if log_target else y
    loss = torch.nn.functional.kl_div(x, yy, reduction="sum", log_target=log_target)
    gx, gy = torch.autograd.grad(loss, [x, y])
    assert gx is not None and gy is not None
    grads = oracle.gradients.kl_div(X, Y, reduction="sum", log_target=log_target)
    assert sorted(grads) == ["input", "target"]


@kl_div
@pytest.mark.parametrize(
    ("legacy", "documented"),
    [
        ({"size_average": False}, "sum"),
        ({"size_average": True}, "mean"),
        ({"reduce": False}, "none"),
        ({"size_average": False, "reduce": True}, "sum"),
    ],
    ids=str,
)
def test_legacy_overrides_batchmean(spec_combo, selection, legacy, documented, recorder, request):
    """'specifying either of those two args will override reduction': batchmean too."""
    for road in _roads(spec_combo, selection, documented, recorder, request):
        options = {**legacy, "reduction": "batchmean"}
        case = explicit_case(road.spec, road.dtype, road.api, {"input": X, "target": Y}, options)
        assert case.reduction == documented
        road.assert_ok(road.check_forward(case, kind="special"))
        road.conclude()


@kl_div
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_target", [False, True])
def test_inf_and_nan(spec_combo, selection, reduction, log_target, recorder, request):
    """±inf and NaN inputs and targets, one at a time next to an ordinary element."""
    pairs = [(INF, 0.5), (-INF, 0.5), (NAN, 0.5), (-1.0, NAN), (-1.0, INF), (-1.0, 1.0)]
    if log_target:
        pairs += [(-1.0, -INF), (INF, INF)]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for x, y in pairs:
            inputs = {"input": [x, -0.5], "target": [y, 0.25]}
            _check(road, inputs, {"reduction": reduction, "log_target": log_target})
