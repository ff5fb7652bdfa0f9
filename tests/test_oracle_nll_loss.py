"""``oracle.nll_loss`` and its gradient against a plain 50-digit mpmath reference.

Budget: 2 float64 ULPs; NaN and ±inf by class. With signed weights a sum of terms of both
signs (and the 'mean' divisor ``sum_n w_{y_n}``) may cancel: the budget then adds
``2**-58 * sum |terms|`` (the long-double summation error of a few dozen terms), as in
``tests/test_oracle_mpmath.py``. ``l_n = -w_{y_n} x_{n,y_n}`` is one product: with
non-negative weights nothing cancels.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oracle
from tests import mp_classification as mpc
from tests import mp_reference as ref
from tests.test_oracle_cross_entropy import (
    EDGE_LOGITS,
    WIDTH,
    assert_close,
    batch_shape,
    effective,
    input_shapes,
    options,
    raises,
    seeds,
    targets,
)

SETTINGS = settings(
    derandomize=True,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SUM_ERR = ref.mpf(2) ** -58
REDUCTIONS = ("none", "mean", "sum")
INF, NAN = math.inf, math.nan


@st.composite
def cases(draw, *, edge: bool, dtypes=(np.float64, np.float64, np.float32, np.float16)):
    """Any real "log-probabilities" (positive ones too), every layout and option."""
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(input_shapes())
    well = st.floats(-50.0, 50.0, width=WIDTH[dtype])
    elems = st.one_of(well, st.sampled_from(EDGE_LOGITS[dtype])) if edge else well
    x = np.array([draw(elems) for _ in range(math.prod(shape))], dtype=dtype).reshape(shape)
    opts = draw(options(shape, dtype, probabilities=False))
    opts.pop("label_smoothing", None)
    t = draw(targets(shape, dtype, False, opts.get("ignore_index", -100)))
    return x, t, opts


def check_forward(x, t, opts) -> None:
    got = oracle.nll_loss(x, t, **opts)
    assert got.dtype == oracle.WORK
    eff = effective(opts)
    eff.pop("label_smoothing")
    res = mpc.nll_loss(x, t, **eff)
    w = eff["weight"]
    signed = w is not None and bool(np.any(np.asarray(w) < 0))
    assert_close(got, res, allowance=SUM_ERR if signed else 0, what=f"nll_loss {opts}")


@SETTINGS
@given(case=cases(edge=False))
def test_random_well_conditioned_cases(case):
    check_forward(*case)


@SETTINGS
@given(case=cases(edge=True))
def test_random_edge_values(case):
    check_forward(*case)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_edge_values_every_class(reduction):
    vals = [0.0, -0.0, 5e-324, -1e-300, 2.5, -1e4, 1e300, -1.7976931348623157e308, INF, -INF, NAN]
    x = np.array(vals)[:, None] * np.ones((1, 3))
    x[:, 1] = 1.0  # the other entries of a row are never read
    t = np.zeros(len(vals), dtype=np.int64)
    for w in (None, np.array([0.5, 1.0, 2.0]), np.array([0.0, 1.0, 1.0]), np.array([-2.0, 1, 1])):
        check_forward(x, t, {"reduction": reduction, "weight": w})


@pytest.mark.parametrize(
    "shape", [(3,), (0, 3), (2, 3), (2, 3, 2), (2, 3, 1, 2), (1, 3, 2, 1, 2), (0, 3, 2, 2)]
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_every_layout(shape, reduction):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape) * 3
    bs = batch_shape(shape)
    t = rng.integers(0, 3, size=bs).astype(np.int64)
    for opts in ({}, {"weight": np.array([0.5, 2.0, 1.25])}, {"ignore_index": 1}):
        check_forward(x, t, {"reduction": reduction, **opts})
    got = oracle.nll_loss(x, t, reduction=reduction)
    assert got.shape == (bs if reduction == "none" else ())


def test_documented_values_by_hand():
    x = np.array([[-1.0, -2.0, -3.0], [-0.5, -4.0, -0.25], [-9.0, -9.0, -9.0]])
    t = np.array([0, 2, -100])
    w = np.array([2.0, 1.0, 3.0])
    np.testing.assert_array_equal(
        oracle.nll_loss(x, t, weight=w, reduction="none"), [2.0, 0.75, 0.0]
    )
    assert oracle.nll_loss(x, t, weight=w, reduction="sum") == 2.75
    assert oracle.nll_loss(x, t, weight=w) == oracle.WORK(2.75) / oracle.WORK(5.0)
    assert oracle.nll_loss(x, t) == oracle.WORK(1.25) / 2  # averaged over kept targets
    assert oracle.nll_loss(x[0], np.array(1), reduction="none") == 2.0  # unbatched
    assert oracle.nll_loss(np.array([2.0, 5.0]), np.array(1)) == -5.0  # any real x


def test_ignored_and_unread_entries_have_no_effect():
    x = np.array([[NAN, 1.0, INF], [NAN, NAN, NAN], [-INF, 2.0, 0.0]])
    t = np.array([1, 3, 1])
    for ii in (3, -100):
        tt = np.where(t == 3, ii, t)
        none = oracle.nll_loss(x, tt, ignore_index=ii, reduction="none")
        np.testing.assert_array_equal(none, [-1.0, 0.0, -2.0])
        g = oracle.gradients.nll_loss(x, tt, ignore_index=ii, reduction="sum")["input"]
        np.testing.assert_array_equal(g, [[0, -1, 0], [0, 0, 0], [0, -1, 0]])


def test_all_ignored_zero_weight_and_empty():
    x = np.ones((3, 4))
    t = np.full(3, 2)
    assert np.isnan(oracle.nll_loss(x, np.full(3, -100)))  # 0/0 as documented
    assert oracle.nll_loss(x, np.full(3, -100), reduction="sum") == 0
    assert np.isnan(oracle.nll_loss(x, t, ignore_index=2))
    assert np.isnan(oracle.nll_loss(x, t, weight=np.array([1.0, 1.0, 0.0, 1.0])))
    w = np.array([1.0, -1.0, 1.0, 1.0])
    x2 = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 3.0, 0.0, 0.0]])
    assert oracle.nll_loss(x2, np.array([0, 1]), weight=w) == INF  # (-1 + 3) / (1 - 1)
    assert np.isnan(oracle.nll_loss(np.zeros((0, 4)), np.zeros(0, dtype=np.int64)))
    assert oracle.nll_loss(np.zeros((0, 4)), np.zeros(0, dtype=np.int64), reduction="sum") == 0
    assert np.isnan(oracle.nll_loss(np.zeros((2, 0)), np.full(2, -100)))  # C = 0
    g = oracle.gradients.nll_loss(x, np.full(3, -100))["input"]
    np.testing.assert_array_equal(g, np.zeros((3, 4)))


@SETTINGS
@given(case=cases(edge=True))
def test_reductions(case):
    """'sum' is the sum of 'none'; 'mean' is 'sum' over sum_n w_{y_n} of the kept targets."""
    x, t, opts = case
    opts = {k: v for k, v in opts.items() if k not in ("size_average", "reduce", "reduction")}
    none = oracle.nll_loss(x, t, reduction="none", **opts)
    total = oracle.nll_loss(x, t, reduction="sum", **opts)
    np.testing.assert_array_equal(total, np.sum(none, dtype=oracle.WORK))
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    w = np.asarray(opts.get("weight", np.ones(c)), dtype=oracle.WORK)
    kept = t != opts.get("ignore_index", -100)
    den = np.sum(np.where(kept, w[np.where(kept, t, 0)], 0), dtype=oracle.WORK)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(oracle.nll_loss(x, t, **opts), total / den)


@pytest.mark.parametrize(("size_average", "reduce"), list(ref.LEGACY))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_legacy_arguments(size_average, reduce, reduction):
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((3, 4)), np.array([0, 3, -100])
    w = np.array([1.0, 2.0, 0.5, 3.0])
    check_forward(
        x, t, {"reduction": reduction, "size_average": size_average, "reduce": reduce, "weight": w}
    )


# ---------------------------------------------------------------------------------------
# Gradient


@st.composite
def gradient_cases(draw):
    shape = draw(input_shapes().filter(lambda s: math.prod(s) <= 16))
    x = np.array([draw(st.floats(-20.0, 20.0)) for _ in range(math.prod(shape))])
    x = x.reshape(shape)
    opts = draw(options(shape, np.float64, probabilities=False, signed=False))
    opts.pop("label_smoothing", None)
    t = draw(targets(shape, np.float64, False, opts.get("ignore_index", -100)))
    red = effective(opts)["reduction"]
    out = batch_shape(shape) if red == "none" else ()
    g = np.array([draw(seeds) for _ in range(math.prod(out))]).reshape(out)
    return x, t, opts, g


@SETTINGS
@given(case=gradient_cases())
def test_gradient_matches_finite_differences(case):
    x, t, opts, g = case
    eff = effective(opts)
    eff.pop("label_smoothing")
    got = oracle.gradients.nll_loss(x, t, grad_output=g, **opts)
    assert sorted(got) == ["input"]
    w = eff.pop("weight")
    wm = None if w is None else ref.to_mp_array(w)
    g_mp = ref.to_mp_array(g)

    def scalar(a):
        res = mpc.nll_loss_mp(a["input"], t, weight=wm, **eff)
        if eff["reduction"] == "none":
            return mpmath.fsum(np.asarray(g_mp * res.value, dtype=object).ravel().tolist())
        return g_mp[()] * res.value

    args = {"input": ref.to_mp_array(x)}
    if not mpmath.isfinite(scalar(args)):
        return  # every target ignored: 0/0 (the zero gradient is tested apart)
    # the loss is linear in x: exact differences need only resolve the smallest product
    fd = ref.central_differences(scalar, args, ["input"], prec=2400)
    for idx in np.ndindex(x.shape):
        ref.assert_ulps(got["input"][idx], fd["input"][idx], what=f"input {opts}")


def test_gradient_structure():
    x = np.zeros((2, 3, 2))
    t = np.array([[0, 2], [-100, 1]])
    w = np.array([2.0, 4.0, 1.0])
    g = oracle.gradients.nll_loss(x, t, weight=w, reduction="mean")["input"]
    den = 2.0 + 1.0 + 4.0
    want = np.zeros((2, 3, 2))
    want[0, 0, 0], want[0, 2, 1], want[1, 1, 1] = -2 / den, -1 / den, -4 / den
    np.testing.assert_allclose(np.asarray(g, np.float64), want, rtol=1e-18)
    go = np.array([[1.0, -3.0], [5.0, 0.5]])
    gn = oracle.gradients.nll_loss(x, t, weight=w, reduction="none", grad_output=go)["input"]
    assert gn[0, 0, 0] == -2 and gn[0, 2, 1] == 3 and gn[1, 1, 1] == -2
    assert np.count_nonzero(gn) == 3
    gu = oracle.gradients.nll_loss(np.zeros(3), np.array(1), reduction="sum")["input"]
    np.testing.assert_array_equal(gu, [0.0, -1.0, 0.0])


def test_grad_output_defaults_to_ones():
    x, t = np.array([[1.0, -2.0], [0.0, 3.0]]), np.array([1, 0])
    for red, g in (("none", np.ones(2)), ("mean", np.array(1.0)), ("sum", np.array(1.0))):
        a = oracle.gradients.nll_loss(x, t, reduction=red)
        b = oracle.gradients.nll_loss(x, t, reduction=red, grad_output=g)
        np.testing.assert_array_equal(a["input"], b["input"])


# ---------------------------------------------------------------------------------------
# Input errors

X = np.zeros((2, 3))
T = np.array([0, 2])


@pytest.mark.parametrize("fn", [oracle.nll_loss, oracle.gradients.nll_loss])
def test_input_errors(fn):
    raises("input", fn, np.array(1.0), np.array(0))  # 0-d: no class dimension
    raises("input", fn, np.array([1j, 2j]), np.array(0))
    for bad in ([0, 3], [-1, 0], [0, -101]):
        raises("target", fn, X, np.array(bad))
    raises("target", fn, X, np.array([-2, 0]), ignore_index=-1)
    raises("target", fn, X, np.array([0.0, 2.0]))  # float class indices
    raises("target", fn, X, np.array([0, 2], dtype=np.int32))
    raises("target", fn, X, np.array([True, False]))
    raises("target", fn, X, np.array([0, 1, 2]))
    raises("target", fn, X, np.zeros((2, 3), dtype=np.int64))
    raises("target", fn, np.zeros((2, 3, 4)), np.zeros((2, 5), dtype=np.int64))
    raises("target", fn, np.zeros(3), np.array([1]))
    raises("target", fn, np.zeros((2, 0)), np.array([0, -100]))  # C = 0: no class exists
    for w in (np.ones(4), np.ones((1, 3)), np.array(1.0), np.array([True] * 3)):
        raises("weight", fn, X, T, weight=w)
    for red in ("avg", "", None):
        raises("reduction", fn, X, T, reduction=red)
    raises("size_average", fn, X, T, size_average=1)
    raises("reduce", fn, X, T, reduce="no")
    for ii in (1.0, None, False, "1"):
        raises("ignore_index", fn, X, T, ignore_index=ii)


def test_grad_output_must_have_the_output_shape():
    for red, g in (("none", np.ones(3)), ("sum", np.ones(2)), ("mean", np.ones((1, 1)))):
        raises("grad_output", oracle.gradients.nll_loss, X, T, reduction=red, grad_output=g)
