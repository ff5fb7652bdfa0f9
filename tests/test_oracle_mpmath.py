"""The oracle's forward values against an independent 50-digit mpmath reference.

Budget: the oracle's result, rounded to float64, is within 2 float64 ULPs of the mpmath
value; NaN and ±inf must match by class. A sum with signed weights may cancel; there the
budget adds ``2**-58 * sum |w_n l_n|`` (the oracle's long-double summation error bound).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import oracle
from tests import mp_reference as ref

LOSSES = ref.LOSSES
REDUCTIONS = ("none", "mean", "sum")
CANCEL = ref.mpf(2) ** -58

EDGE = ref.EDGE
FINITE_EDGE = [v for v in EDGE if math.isfinite(v)]
OPTION_EDGE = [5e-324, 1e-300, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 1e300, math.inf]

SETTINGS = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check(loss: str, x, y, *, floor_if_signed: bool = True, **opts) -> None:
    kw = ref.call_kwargs(loss, **opts)
    got = getattr(oracle, loss)(x, y, **kw)
    assert got.dtype == oracle.WORK
    want = ref.reference(loss, x, y, **opts)
    floor = 0
    w = kw.get("weight")
    red = ref.effective_reduction(
        opts.get("reduction", "mean"), opts.get("size_average"), opts.get("reduce")
    )
    if floor_if_signed and w is not None and red != "none" and np.any(np.asarray(w) < 0):
        floor = CANCEL * ref.abs_terms_bound(
            loss,
            x,
            y,
            reduction=red,
            weight=w,
            delta=opts.get("delta", 1.0),
            beta=opts.get("beta", 1.0),
        )
    ref.assert_ulps(got, want, ulps=2, floor=floor, what=f"{loss} {opts}")


# ---------------------------------------------------------------------------------------
# Random inputs (hypothesis)

any_float = st.floats(allow_nan=True, allow_infinity=True)
finite = st.floats(allow_nan=False, allow_infinity=False)
moderate = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
values = st.one_of(finite, moderate, any_float, st.sampled_from(EDGE))
positive_option = st.one_of(
    st.sampled_from(OPTION_EDGE),
    st.floats(min_value=5e-324, max_value=1e308, allow_nan=False),
)


@st.composite
def cases(draw, loss: str):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
    xs, ys = shapes.input_shapes
    dtype = draw(st.sampled_from([np.float64, np.float64, np.float32, np.float16]))
    elems = values if dtype is np.float64 else st.floats(width=32 if dtype is np.float32 else 16)
    x = draw(hnp.arrays(dtype, xs, elements=elems))
    y = draw(hnp.arrays(dtype, ys, elements=elems))
    opts: dict = {"reduction": draw(st.sampled_from(REDUCTIONS))}
    if ref.HAS_LEGACY[loss]:
        opts["size_average"], opts["reduce"] = draw(st.sampled_from(list(ref.LEGACY)))
    if ref.HAS_WEIGHT[loss] and draw(st.booleans()):
        out = shapes.result_shape
        keep = draw(st.integers(0, len(out)))
        wshape = tuple(n if draw(st.booleans()) else 1 for n in out[len(out) - keep :])
        signed = draw(st.booleans())
        welems = finite if signed else st.floats(min_value=0, max_value=1e300)
        opts["weight"] = draw(hnp.arrays(np.float64, wshape, elements=welems))
    if loss == "huber_loss":
        opts["delta"] = draw(positive_option)
    if loss == "smooth_l1_loss":
        opts["beta"] = draw(st.one_of(st.just(0.0), positive_option))
    return x, y, opts


@pytest.mark.parametrize("loss", LOSSES)
@SETTINGS
@given(data=st.data())
def test_random_inputs(loss, data):
    x, y, opts = data.draw(cases(loss))
    check(loss, x, y, **opts)


@pytest.mark.parametrize("loss", LOSSES)
@SETTINGS
@given(
    data=st.data(),
    n=st.integers(1, 40),
    scale=st.sampled_from([1e-300, 1e-8, 1.0, 1e8, 1e150, 1e300]),
)
def test_random_well_conditioned_reductions(loss, data, n, scale):
    """Longer vectors at one scale: the sums and means are the point here."""
    elems = st.floats(min_value=-4.0, max_value=4.0)
    x = data.draw(hnp.arrays(np.float64, (n,), elements=elems)) * scale
    y = data.draw(hnp.arrays(np.float64, (n,), elements=elems)) * scale
    opts: dict = {"reduction": data.draw(st.sampled_from(("mean", "sum")))}
    if loss == "huber_loss":
        opts["delta"] = data.draw(st.sampled_from([0.5, 1.0, 3.0])) * scale
    if loss == "smooth_l1_loss":
        opts["beta"] = data.draw(st.sampled_from([0.0, 0.5, 1.0, 3.0])) * scale
    if ref.HAS_WEIGHT[loss] and data.draw(st.booleans()):
        opts["weight"] = data.draw(hnp.arrays(np.float64, (n,), elements=st.floats(0, 10)))
    check(loss, x, y, **opts)


# ---------------------------------------------------------------------------------------
# Explicit edge inputs


def _options(loss: str) -> list[dict]:
    if loss == "huber_loss":
        return [{"delta": d} for d in OPTION_EDGE]
    if loss == "smooth_l1_loss":
        return [{"beta": b} for b in [0.0, *OPTION_EDGE]]
    return [{}]


def _weights(loss: str, shape: tuple[int, ...]) -> list:
    if not ref.HAS_WEIGHT[loss]:
        return [None]
    n = shape[-1] if shape else 1
    return [None, np.linspace(0.0, 3.0, n), np.array(2.5), np.full((n,), -0.75)]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_edge_grid_all_pairs(loss, reduction):
    """Every pair of edge values: ties, ±0, subnormals, 1e300, the largest float, ±inf, NaN."""
    x = np.array(EDGE)[:, None]
    y = np.array(EDGE)[None, :]
    for opts in _options(loss):
        for w in _weights(loss, (len(EDGE), len(EDGE))):
            check(loss, x, y, reduction=reduction, weight=w, **opts)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", ("mean", "sum"))
def test_edge_grid_finite_reductions(loss, reduction):
    """The finite edge pairs, so that the reductions are not all NaN."""
    x = np.array(FINITE_EDGE)[:, None]
    y = np.array(FINITE_EDGE)[None, :]
    for opts in _options(loss):
        for w in _weights(loss, (len(FINITE_EDGE), len(FINITE_EDGE))):
            check(loss, x, y, reduction=reduction, weight=w, **opts)


@pytest.mark.parametrize("loss", ("huber_loss", "smooth_l1_loss"))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_at_the_threshold(loss, reduction):
    """|x - y| == delta (beta) exactly, and one float64 step either side of it."""
    name = "delta" if loss == "huber_loss" else "beta"
    for t in [1e-300, 0.5, 1.0, 2.0, 3.0, 1e300]:
        y = np.array([0.0, 0.0, 0.0, 1.0, -t])
        below, above = np.nextafter(t, 0.0), np.nextafter(t, math.inf)
        x = np.array([t, below, above, 1.0 + t, 0.0])
        check(loss, x, y, reduction=reduction, **{name: t})
        check(loss, -x, -y, reduction=reduction, **{name: t})


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("xs", "ys"),
    [((0,), (0,)), ((0, 3), (3,)), ((2, 0), (1, 1)), ((1,), (0,)), ((2, 1, 3), (4, 1))],
)
def test_shapes_empty_and_broadcast(loss, reduction, xs, ys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs)
    y = rng.standard_normal(ys)
    out = np.broadcast_shapes(xs, ys)
    for opts in _options(loss)[:3]:
        weights = [None, np.ones(out[-1:]) * 1.5] if ref.HAS_WEIGHT[loss] else [None]
        for w in weights:
            check(loss, x, y, reduction=reduction, weight=w, **opts)
    got = getattr(oracle, loss)(x, y, reduction=reduction)
    assert got.shape == (out if reduction == "none" else ())


def test_empty_mean_is_nan_and_empty_sum_is_zero():
    for loss in LOSSES:
        f = getattr(oracle, loss)
        assert np.isnan(f(np.zeros(0), np.zeros(0)))
        assert f(np.zeros(0), np.zeros(0), reduction="sum") == 0
        assert f(np.zeros(0), np.zeros(0), reduction="none").shape == (0,)


@pytest.mark.parametrize("loss", ("l1_loss", "mse_loss", "smooth_l1_loss"))
@pytest.mark.parametrize(("size_average", "reduce"), list(ref.LEGACY))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_legacy_arguments(loss, size_average, reduce, reduction):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    check(loss, x, y, reduction=reduction, size_average=size_average, reduce=reduce)


@pytest.mark.parametrize("loss", LOSSES)
def test_inputs_of_every_float_width_upcast_exactly(loss):
    vals = [0.1, -2.5, 65504.0, 6e-8, 1e-3, 3.0]
    for dtype in (np.float16, np.float32, np.float64, np.longdouble):
        x = np.array(vals, dtype=dtype)
        y = np.array(vals[::-1], dtype=dtype)
        for reduction in REDUCTIONS:
            check(loss, x, y, reduction=reduction)
    check(loss, np.arange(5), np.arange(5)[::-1].copy(), reduction="none")  # integer arrays


def test_python_scalars_are_accepted():
    ref.assert_ulps(oracle.mse_loss(3.0, 1), ref.mpf(4))
    ref.assert_ulps(oracle.l1_loss(0.1, 0.3, reduction="none"), ref.reference("l1_loss", 0.1, 0.3))


def test_all_legacy_pairs_cover_all_reductions():
    assert {v for v in ref.LEGACY.values() if v} == {"none", "mean", "sum"}
    assert len(list(itertools.product([None, True, False], repeat=2))) == len(ref.LEGACY)
