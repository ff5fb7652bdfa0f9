"""The oracle's hand-derived gradients against 50-digit central finite differences.

The finite differences are taken in mpmath on the independent reference
(``tests/mp_reference.py``), for input, target and weight, with a random ``grad_output``,
away from the kinks (points within a relative 1e-6 of a kink are skipped). The subgradients
at the kinks, and the gradients at ±inf and NaN, are checked explicitly.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import oracle
from tests import mp_reference as ref

LOSSES = ref.LOSSES
REDUCTIONS = ("none", "mean", "sum")
SUM_ERR = 2.0**-58  # long-double error bound per unit of sum |terms| (small sums)


def _kinks(loss: str, delta: float, beta: float) -> list[float]:
    if loss == "l1_loss":
        return [0.0]
    if loss == "huber_loss":
        return [delta]
    if loss == "smooth_l1_loss":
        return [beta] if beta > 0 else [0.0]
    return []


def _scale(*arrays) -> float:
    """The problem's scale: finite-difference steps and kink distances are relative to it."""
    mags = [float(np.max(np.abs(a), initial=0.0)) for a in arrays if a is not None]
    return max(mags, default=0.0) or 1.0


def _near_kink(loss, x, y, delta, beta) -> np.ndarray:
    xb, yb = np.broadcast_arrays(x, y)
    d = np.abs(xb - yb)
    near = np.zeros(xb.shape, dtype=bool)
    for k in _kinks(loss, delta, beta):
        near |= np.abs(d - k) <= 1e-6 * max(_scale(x, y), k)
    return near


def _skip_mask(near: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """An original element is skipped if any broadcast copy of it sits near a kink."""
    idx = np.arange(math.prod(shape)).reshape(shape)
    hit = set(np.broadcast_to(idx, near.shape)[near].tolist())
    return np.isin(idx, list(hit)) if hit else np.zeros(shape, dtype=bool)


def _slope_max(loss, x, y, delta, beta) -> float:
    d = float(np.max(np.abs(np.subtract(x, y)), initial=0.0))
    return {
        "l1_loss": 1.0,
        "mse_loss": 2.0 * d,
        "huber_loss": min(d, delta),
        "smooth_l1_loss": 1.0,
    }[loss]


def check_gradients(loss, x, y, reduction, g, weight=None, delta=1.0, beta=1.0):
    kw = ref.call_kwargs(loss, reduction=reduction, weight=weight, delta=delta, beta=beta)
    got = getattr(oracle.gradients, loss)(x, y, grad_output=g, **kw)
    names = ["input", "target"] + (["weight"] if "weight" in kw else [])
    assert sorted(got) == sorted(names)
    args = {"input": ref.to_mp_array(x), "target": ref.to_mp_array(y)}
    if "weight" in kw:
        args["weight"] = ref.to_mp_array(weight)
    g_mp = ref.to_mp_array(g)
    d_mp, b_mp = ref.to_mpf(delta), ref.to_mpf(beta)

    def scalar(a):
        out = ref.reference_mp(
            loss,
            a["input"],
            a["target"],
            reduction=reduction,
            weight=a.get("weight"),
            delta=d_mp,
            beta=b_mp,
        )
        if reduction == "none":
            return mpmath.fsum(np.asarray(g_mp * out).ravel().tolist())
        return g_mp[()] * out

    near = _near_kink(loss, x, y, delta, beta)
    skip = {n: _skip_mask(near, np.shape(args[n])) for n in names}
    scales = {"input": _scale(x, y), "target": _scale(x, y), "weight": _scale(weight)}
    fd = ref.central_differences(scalar, args, names, skip, scales=scales)

    size = near.size
    gmax = float(np.max(np.abs(g), initial=0.0)) / (size if reduction == "mean" and size else 1)
    wmax = 1.0 if weight is None else float(np.max(np.abs(weight), initial=0.0))
    lmax = ref.reference(loss, x, y, reduction="none", delta=delta, beta=beta)
    lmax = float(max((abs(v) for v in lmax.ravel()), default=0))
    bounds = {
        "input": size * gmax * wmax * _slope_max(loss, x, y, delta, beta),
        "target": size * gmax * wmax * _slope_max(loss, x, y, delta, beta),
        "weight": size * gmax * lmax,
    }
    for n in names:
        assert got[n].shape == np.shape(args[n]), (n, got[n].shape)
        assert got[n].dtype == oracle.WORK
        for idx in np.ndindex(got[n].shape):
            want = fd[n][idx]
            if want is None:
                continue
            floor = ref.mpf(SUM_ERR * bounds[n])
            ref.assert_ulps(got[n][idx], want, ulps=4, floor=floor, what=f"{loss} d/d{n}")


SETTINGS = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def grad_cases(draw, loss):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    scale = draw(st.sampled_from([1e-200, 1e-5, 1.0, 1e5, 1e200]))
    elems = st.floats(min_value=-8.0, max_value=8.0)
    x = draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=elems)) * scale
    y = draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=elems)) * scale
    reduction = draw(st.sampled_from(REDUCTIONS))
    out = shapes.result_shape if reduction == "none" else ()
    g = draw(hnp.arrays(np.float64, out, elements=st.floats(-4.0, 4.0)))
    opts = {}
    if ref.HAS_WEIGHT[loss] and draw(st.booleans()):
        res = shapes.result_shape
        keep = draw(st.integers(0, len(res)))
        wshape = tuple(n if draw(st.booleans()) else 1 for n in res[len(res) - keep :])
        opts["weight"] = draw(hnp.arrays(np.float64, wshape, elements=st.floats(-3.0, 3.0)))
    if loss == "huber_loss":
        opts["delta"] = draw(st.sampled_from([0.25, 1.0, 3.0])) * scale
    if loss == "smooth_l1_loss":
        opts["beta"] = draw(st.sampled_from([0.0, 0.25, 1.0, 3.0])) * scale
    return x, y, reduction, g, opts


@pytest.mark.parametrize("loss", LOSSES)
@SETTINGS
@given(data=st.data())
def test_gradients_match_finite_differences(loss, data):
    x, y, reduction, g, opts = data.draw(grad_cases(loss))
    check_gradients(loss, x, y, reduction, g, **opts)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradients_fixed_cases(loss, reduction):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3)) * 2
    y = rng.standard_normal((3,)) * 2
    g = rng.standard_normal((2, 3) if reduction == "none" else ())
    opts = {}
    if ref.HAS_WEIGHT[loss]:
        opts["weight"] = rng.standard_normal((1, 3))
    if loss == "huber_loss":
        opts["delta"] = 1.3
    if loss == "smooth_l1_loss":
        opts["beta"] = 0.7
    check_gradients(loss, x, y, reduction, g, **opts)


def test_grad_output_defaults_to_ones():
    x, y = np.array([1.0, -2.0, 0.5]), np.array([0.0, 1.0, 0.5])
    for loss in LOSSES:
        f = getattr(oracle.gradients, loss)
        for red, g in (("none", np.ones(3)), ("mean", np.array(1.0)), ("sum", np.array(1.0))):
            a = f(x, y, reduction=red)
            b = f(x, y, reduction=red, grad_output=g)
            for k in a:
                np.testing.assert_array_equal(a[k], b[k])


# ---------------------------------------------------------------------------------------
# Exact subgradients and special values


def _grad(loss, x, y, **kw):
    return getattr(oracle.gradients, loss)(np.array(x), np.array(y), reduction="none", **kw)


@pytest.mark.parametrize(
    ("loss", "kw"),
    [
        ("l1_loss", {}),
        ("mse_loss", {}),
        ("huber_loss", {"delta": 1.0}),
        ("huber_loss", {"delta": 5e-324}),
        ("smooth_l1_loss", {"beta": 0.0}),
        ("smooth_l1_loss", {"beta": 1.0}),
    ],
)
def test_subgradient_at_ties_is_zero(loss, kw):
    v = [0.0, -0.0, 1.5, -1e300, 5e-324, 1.7976931348623157e308]
    grads = _grad(loss, v, v, **kw)
    assert np.all(grads["input"] == 0) and np.all(grads["target"] == 0)
    if "weight" in getattr(oracle.gradients, loss).__code__.co_varnames:
        gw = _grad(loss, v, v, weight=np.full(6, 2.0), **kw)
        assert np.all(gw["input"] == 0) and np.all(gw["weight"] == 0)


def test_l1_subgradient_is_sign_with_sign0_zero():
    x = np.array([2.0, -2.0, 1.0, 0.0, -0.0])
    y = np.array([1.0, 1.0, 1.0, -0.0, 0.0])
    g = oracle.gradients.l1_loss(x, y, reduction="sum")
    np.testing.assert_array_equal(g["input"], [1, -1, 0, 0, 0])
    np.testing.assert_array_equal(g["target"], [-1, 1, 0, 0, 0])


def test_threshold_gradients_are_continuous():
    for t in (0.5, 1.0, 3.0):
        h = _grad("huber_loss", [t, -t], [0.0, 0.0], delta=t)["input"]
        np.testing.assert_array_equal(h, [t, -t])
        s = _grad("smooth_l1_loss", [t, -t], [0.0, 0.0], beta=t)["input"]
        np.testing.assert_array_equal(s, [1.0, -1.0])


def test_gradients_at_infinity_and_nan():
    x = [math.inf, -math.inf, math.nan, math.inf]
    y = [0.0, 0.0, 0.0, math.inf]
    np.testing.assert_array_equal(_grad("l1_loss", x, y)["input"], [1, -1, np.nan, np.nan])
    np.testing.assert_array_equal(
        _grad("mse_loss", x, y)["input"], [math.inf, -math.inf, np.nan, np.nan]
    )
    np.testing.assert_array_equal(
        _grad("huber_loss", x, y, delta=2.0)["input"], [2, -2, np.nan, np.nan]
    )
    for beta in (0.0, 1.0):
        np.testing.assert_array_equal(
            _grad("smooth_l1_loss", x, y, beta=beta)["input"], [1, -1, np.nan, np.nan]
        )
    gw = _grad("l1_loss", x, y, weight=np.ones(4))["weight"]
    np.testing.assert_array_equal(gw, [math.inf, math.inf, np.nan, np.nan])


def test_mean_gradient_divides_by_number_of_elements_not_weight_sum():
    x, y = np.array([3.0, 5.0]), np.array([1.0, 1.0])
    w = np.array([1.0, 3.0])
    g = oracle.gradients.l1_loss(x, y, weight=w, reduction="mean")
    np.testing.assert_array_equal(g["input"], [0.5, 1.5])
    np.testing.assert_array_equal(g["weight"], [1.0, 2.0])


def test_gradient_shapes_follow_original_arguments():
    x, y = np.ones((4, 1, 3)), np.zeros((2, 1))
    w = np.full((1, 3), 2.0)
    g = oracle.gradients.mse_loss(x, y, weight=w, reduction="sum")
    assert g["input"].shape == (4, 1, 3) and g["target"].shape == (2, 1)
    assert g["weight"].shape == (1, 3)
    np.testing.assert_array_equal(g["input"], np.full((4, 1, 3), 2.0 * 2 * 2))
    np.testing.assert_array_equal(g["target"], np.full((2, 1), -2.0 * 2 * 12))
    np.testing.assert_array_equal(g["weight"], np.full((1, 3), 8.0))
    e = oracle.gradients.l1_loss(np.zeros((0, 2)), np.zeros(2), reduction="mean")
    assert e["input"].shape == (0, 2) and e["target"].shape == (2,)
    np.testing.assert_array_equal(e["target"], [0.0, 0.0])
