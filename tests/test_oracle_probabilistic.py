"""The oracles of PoissonNLLLoss and GaussianNLLLoss against an independent 50-digit mpmath
reference (tests/mp_probabilistic.py), their gradients against mpmath central differences,
the documented switch and clamp points checked by rule, invariants, and every input they
reject.

Budgets. Values: within 2 float64 ULPs of mpmath, plus, where the documented terms cancel
(exp(x) - y x + y log y - y near the Poisson minimum, log v + d^2 / v), the oracle's own
long-double rounding of the terms it sums: a few WORK roundings (2**-64 each) of each
term's magnitude, bounded by CANCEL = 2**-58 times the sum of the magnitudes M of the
terms (for a reduction, of all terms). Gradients: within 4 ULPs of the central difference
(accurate to ~1e-70 of the scale, tests/mp_probabilistic.py) plus CANCEL times the
magnitudes of the derivative's terms (exp(x) and y; 1 and y / (x + eps); log y and x;
1/v and d^2/v^2). Central differences skip the points where the documented formula is not
differentiable (a Poisson target exactly 1 with full=True; a Gaussian var at or below eps,
where the formula's max is flat but the documented Note makes the clamp transparent to
autograd); those points are checked against the oracle's stated derivative directly.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oracle
from oracle import OracleInputError
from tests import mp_probabilistic as mpp
from tests import mp_reference as ref

REDUCTIONS = ("none", "mean", "sum")
CANCEL = ref.mpf(2) ** -58
SETTINGS = settings(
    derandomize=True,
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HALF_LOG_2PI = mpmath.mpf("0.5") * mpmath.log(2 * mpmath.pi)


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_subnormal=False)


def _array(draw, shape: tuple[int, ...], elements) -> np.ndarray:
    n = math.prod(shape)
    return np.array(draw(st.lists(elements, min_size=n, max_size=n)), dtype=np.float64).reshape(
        shape
    )


def _seeds() -> st.SearchStrategy[float]:
    """grad_output elements: 0 or of moderate size (a seed of 1e-308 would put its share of
    the central difference below the 120-digit rounding of the other elements' share)."""
    return st.one_of(st.just(0.0), _floats(0.25, 2), _floats(-2, -0.25))


def _weights(reduction: str, shape: tuple[int, ...], g: np.ndarray) -> np.ndarray:
    """The reduction's seed per element (g for 'none', g or g/N otherwise), as mpf."""
    n = math.prod(shape)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        gv = ref.to_mpf(g[idx] if reduction == "none" else g[()])
        out[idx] = gv / n if reduction == "mean" else gv
    return out


def _check_grad(got: np.ndarray, want: np.ndarray, allowance: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, (what, got.shape, want.shape)
    for idx in np.ndindex(want.shape):
        if want[idx] is None:
            continue
        ref.assert_ulps(got[idx], want[idx], 4.0, floor=allowance[idx], what=f"{what}{idx}")


# -- Poisson: values ----------------------------------------------------------------------------


@st.composite
def poisson_case(draw) -> dict:
    shape = draw(st.sampled_from([(), (1,), (3,), (2, 3), (0,), (2, 0)]))
    log_input = draw(st.booleans())
    x = _array(draw, shape, _floats(-20, 20) if log_input else _floats(0, 100))
    counts = st.integers(0, 60).map(float)
    y = _array(draw, shape, st.one_of(counts, _floats(-2, 60), st.sampled_from([0.0, 1.0])))
    return {
        "input": x,
        "target": y,
        "log_input": log_input,
        "full": draw(st.booleans()),
        "eps": draw(st.sampled_from([1e-8, 1e-3, 0.25])),
    }


def _poisson_magnitudes(case: dict) -> np.ndarray:
    x, y = ref.to_mp_array(case["input"]), ref.to_mp_array(case["target"])
    eps = ref.to_mpf(case["eps"])
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        xv, yv = x[idx], y[idx]
        if case["log_input"]:
            m = mpmath.exp(xv) + abs(yv * xv)
        else:
            m = abs(xv) + abs(yv * mpmath.log(xv + eps))
        if case["full"] and yv > 1:
            m += abs(yv * mpmath.log(yv)) + abs(yv) + abs(mpmath.log(2 * mpmath.pi * yv))
        out[idx] = m
    return out


def _opts(case: dict, *names: str) -> dict:
    return {k: case[k] for k in names if k in case}


@SETTINGS
@given(case=poisson_case(), reduction=st.sampled_from(REDUCTIONS))
def test_poisson_matches_mpmath(case: dict, reduction: str) -> None:
    opts = _opts(case, "log_input", "full", "eps")
    got = oracle.poisson_nll_loss(case["input"], case["target"], reduction=reduction, **opts)
    want = mpp.poisson(case["input"], case["target"], reduction=reduction, **opts)
    mags = _poisson_magnitudes(case)
    if reduction == "none":
        for idx in np.ndindex(mags.shape):
            ref.assert_ulps(got[idx], want[idx], 2.0, CANCEL * mags[idx], f"poisson{idx}")
    else:
        scale = 1 if reduction == "sum" else max(mags.size, 1)
        floor = CANCEL * mpmath.fsum(mags.ravel().tolist()) / scale
        ref.assert_ulps(got, want, 2.0, floor, "poisson")


@pytest.mark.parametrize(("size_average", "reduce"), list(ref.LEGACY))
def test_poisson_legacy_arguments(size_average, reduce) -> None:
    x, y = np.array([0.5, -1.0, 2.0]), np.array([1.0, 3.0, 0.0])
    got = oracle.poisson_nll_loss(x, y, size_average=size_average, reduce=reduce, reduction="sum")
    want = mpp.poisson(x, y, size_average=size_average, reduce=reduce, reduction="sum")
    if isinstance(want, np.ndarray):
        for idx in np.ndindex(want.shape):
            ref.assert_ulps(got[idx], want[idx], 2.0, what="legacy")
    else:
        ref.assert_ulps(got, want, 2.0, what="legacy")


@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("t", [-1.0, -0.0, 0.0, 0.5, 1.0, 1.0 + 2.0**-52, 1.5, 2.0, 1e6])
def test_poisson_stirling_term_only_above_one(t: float, log_input: bool) -> None:
    """full=True adds y log y - y + 0.5 log(2 pi y) for y > 1 and exactly 0 for y <= 1."""
    x, y = np.array([0.75]), np.array([t])
    plain = oracle.poisson_nll_loss(x, y, log_input=log_input, reduction="none")
    full = oracle.poisson_nll_loss(x, y, log_input=log_input, full=True, reduction="none")
    if t <= 1:
        assert full[0] == plain[0]
    else:
        tm = ref.to_mpf(t)
        stirling = tm * mpmath.log(tm) - tm + mpmath.mpf("0.5") * mpmath.log(2 * mpmath.pi * tm)
        want = mpp.poisson(x, y, log_input=log_input, full=True, reduction="none")[0]
        ref.assert_ulps(full[0], want, 2.0, CANCEL * abs(stirling) * 4, "full")


def test_poisson_log_of_zero_follows_ieee() -> None:
    """eps = 0 and a zero mean: log(0) = -inf, so the loss is inf (y > 0) or 0 * inf = NaN
    (y = 0); d/dx = 1 - y / 0 is -inf or NaN; d/dy = -log(0) = inf."""
    x, y = np.array([0.0, 0.0]), np.array([2.0, 0.0])
    loss = oracle.poisson_nll_loss(x, y, log_input=False, eps=0.0, reduction="none")
    assert loss[0] == np.inf and np.isnan(loss[1])
    g = oracle.gradients.poisson_nll_loss(x, y, log_input=False, eps=0.0, reduction="none")
    assert g["input"][0] == -np.inf and np.isnan(g["input"][1])
    assert g["target"][0] == np.inf and g["target"][1] == np.inf


def test_poisson_zero_mean_uses_eps() -> None:
    """x = 0 with the default eps: the documented log(0 + 1e-8), finite."""
    got = oracle.poisson_nll_loss(
        np.array([0.0]), np.array([3.0]), log_input=False, reduction="none"
    )
    want = -3 * mpmath.log(ref.to_mpf(1e-8))
    ref.assert_ulps(got[0], want, 2.0, what="zero mean")


# -- Poisson: gradients -------------------------------------------------------------------------


@SETTINGS
@given(case=poisson_case(), reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_poisson_gradients_match_finite_differences(case: dict, reduction: str, data) -> None:
    shape = case["input"].shape
    out_shape = shape if reduction == "none" else ()
    g = _array(data.draw, out_shape, _seeds())
    opts = _opts(case, "log_input", "full", "eps")
    got = oracle.gradients.poisson_nll_loss(
        case["input"], case["target"], reduction=reduction, grad_output=g, **opts
    )
    assert set(got) == {"input", "target"}
    w = _weights(reduction, shape, g)
    eps = ref.to_mpf(case["eps"])

    def f(args: dict) -> object:
        terms = mpp.poisson_terms(
            args["input"], args["target"], case["log_input"], case["full"], eps
        )
        return (
            mpmath.fsum(np.asarray(w * terms, dtype=object).ravel().tolist())
            if terms.size
            else mpmath.mpf(0)
        )

    args = {"input": ref.to_mp_array(case["input"]), "target": ref.to_mp_array(case["target"])}
    noise = mpp.fd_noise(
        mpmath.fsum(
            abs(a * b) for a, b in zip(w.ravel(), _poisson_magnitudes(case).ravel(), strict=True)
        )
    )
    kink = np.asarray(case["target"] == 1.0) & case["full"]
    for name, skip in (("input", None), ("target", kink)):
        want = mpp.central(f, args, name, skip)
        allow = np.empty(shape, dtype=object)
        for idx in np.ndindex(shape):
            xv, yv = args["input"][idx], args["target"][idx]
            if name == "input":
                m = mpmath.exp(xv) + abs(yv) if case["log_input"] else 1 + abs(yv / (xv + eps))
            else:
                m = abs(xv) if case["log_input"] else abs(mpmath.log(xv + eps))
                if case["full"] and yv > 1:
                    m += abs(mpmath.log(yv)) + 1
            allow[idx] = CANCEL * abs(w[idx]) * m + noise
        _check_grad(got[name], want, allow, f"grad[{name}]")


@pytest.mark.parametrize("log_input", [True, False])
def test_poisson_target_gradient_at_the_stirling_switch(log_input: bool) -> None:
    """At y = 1 the documented term is the zero branch: d/dy has no Stirling part there (the
    value jumps as y passes 1, so this is the one-sided derivative from the zero side);
    just above 1 it is log y + 1/(2y)."""
    x = np.array([0.75, 0.75, 0.75])
    y = np.array([1.0, 1.0 + 2.0**-40, 0.0])
    g = oracle.gradients.poisson_nll_loss(x, y, log_input=log_input, full=True, reduction="sum")
    base = ref.to_mpf(0.75) if log_input else mpmath.log(ref.to_mpf(0.75) + ref.to_mpf(1e-8))
    ref.assert_ulps(g["target"][0], -base, 2.0, what="y = 1")
    ref.assert_ulps(g["target"][2], -base, 2.0, what="y = 0 (zero branch, derivative 0)")
    y1 = ref.to_mpf(1.0 + 2.0**-40)
    ref.assert_ulps(g["target"][1], -base + mpmath.log(y1) + 1 / (2 * y1), 2.0, what="y > 1")


# -- Gaussian: values ---------------------------------------------------------------------------


@st.composite
def gaussian_case(draw) -> dict:
    shape = draw(st.sampled_from([(), (3,), (2, 3), (2, 1, 3), (0, 2)]))
    x = _array(draw, shape, _floats(-30, 30))
    tshape = shape
    if shape and draw(st.booleans()):
        i = draw(st.integers(0, len(shape) - 1))
        tshape = tuple(1 if j == i else n for j, n in enumerate(shape))
    y = _array(draw, tshape, _floats(-30, 30))
    layout = draw(st.sampled_from(["same", "one", "fewer", "scalar"]))
    eps = draw(st.sampled_from([1e-6, 0.25, 0.0]))
    values = st.one_of(_floats(1e-3, 100), st.sampled_from([eps or 1.0, 0.5, 2.0]))
    if layout == "scalar":
        var: object = draw(values)
    elif layout == "fewer" and shape:
        var = _array(draw, shape[:-1], values)
    elif layout == "one" and shape:
        i = draw(st.integers(0, len(shape) - 1))
        var = _array(draw, tuple(1 if j == i else n for j, n in enumerate(shape)), values)
    else:
        var = _array(draw, shape, values)
    return {"input": x, "target": y, "var": var, "full": draw(st.booleans()), "eps": eps}


def _gaussian_magnitudes(case: dict) -> np.ndarray:
    x = ref.to_mp_array(case["input"])
    y = np.broadcast_to(ref.to_mp_array(case["target"]), x.shape)
    v = mpp.expand_var(case["var"], x.shape)
    eps = ref.to_mpf(case["eps"])
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        c = max(v[idx], eps)
        out[idx] = abs(mpmath.log(c)) + (x[idx] - y[idx]) ** 2 / c + 1
    return out


@SETTINGS
@given(case=gaussian_case(), reduction=st.sampled_from(REDUCTIONS))
def test_gaussian_matches_mpmath(case: dict, reduction: str) -> None:
    opts = _opts(case, "full", "eps")
    got = oracle.gaussian_nll_loss(
        case["input"], case["target"], case["var"], reduction=reduction, **opts
    )
    want = mpp.gaussian(case["input"], case["target"], case["var"], reduction=reduction, **opts)
    mags = _gaussian_magnitudes(case)
    if reduction == "none":
        assert got.shape == case["input"].shape
        for idx in np.ndindex(mags.shape):
            ref.assert_ulps(got[idx], want[idx], 2.0, CANCEL * mags[idx], f"gaussian{idx}")
    else:
        scale = 1 if reduction == "sum" else max(mags.size, 1)
        floor = CANCEL * mpmath.fsum(mags.ravel().tolist()) / scale
        ref.assert_ulps(got, want, 2.0, floor, "gaussian")


def test_gaussian_full_adds_half_log_two_pi() -> None:
    x, y, v = np.array([0.5, -3.0]), np.array([0.0, 1.0]), np.array([2.0, 0.125])
    a = oracle.gaussian_nll_loss(x, y, v, full=True, reduction="none")
    b = oracle.gaussian_nll_loss(x, y, v, reduction="none")
    for i in range(2):
        ref.assert_ulps(a[i] - b[i], HALF_LOG_2PI, 2.0, what="const")


def test_gaussian_var_layouts_agree() -> None:
    """One fewer dimension is one variance per row (a trailing 1); a Python number is the
    same variance everywhere."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    v = np.array([0.5, 2.0])
    rows = oracle.gaussian_nll_loss(x, y, v, reduction="none")
    column = oracle.gaussian_nll_loss(x, y, v.reshape(2, 1), reduction="none")
    full = oracle.gaussian_nll_loss(x, y, np.repeat(v[:, None], 3, axis=1), reduction="none")
    assert np.array_equal(rows, column) and np.array_equal(rows, full)
    scalar = oracle.gaussian_nll_loss(x, y, 0.5, reduction="none")
    tensor = oracle.gaussian_nll_loss(x, y, np.full((2, 3), 0.5), reduction="none")
    assert np.array_equal(scalar, tensor)
    assert np.array_equal(
        oracle.gaussian_nll_loss(x, y, 2, reduction="none"),
        oracle.gaussian_nll_loss(x, y, 2.0, reduction="none"),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_inputs(reduction: str) -> None:
    e = np.zeros((0, 3))
    for got in (
        oracle.poisson_nll_loss(e, e, reduction=reduction),
        oracle.gaussian_nll_loss(e, e, np.ones((0, 3)), reduction=reduction),
    ):
        if reduction == "mean":
            assert np.isnan(got)
        elif reduction == "sum":
            assert got == 0
        else:
            assert got.shape == (0, 3)


# -- Gaussian: gradients ------------------------------------------------------------------------


@SETTINGS
@given(case=gaussian_case(), reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_gaussian_gradients_match_finite_differences(case: dict, reduction: str, data) -> None:
    shape = case["input"].shape
    g = _array(data.draw, shape if reduction == "none" else (), _seeds())
    opts = _opts(case, "full", "eps")
    got = oracle.gradients.gaussian_nll_loss(
        case["input"], case["target"], case["var"], reduction=reduction, grad_output=g, **opts
    )
    scalar = not isinstance(case["var"], np.ndarray)
    assert set(got) == ({"input", "target"} if scalar else {"input", "target", "var"})
    w = _weights(reduction, shape, g)
    eps = ref.to_mpf(case["eps"])

    def f(args: dict) -> object:
        v = mpp.expand_var(args["var"], shape) if not scalar else mpp.expand_var(case["var"], shape)
        terms = mpp.gaussian_terms(args["input"], args["target"], v, case["full"], eps)
        return (
            mpmath.fsum(np.asarray(w * terms, dtype=object).ravel().tolist())
            if terms.size
            else mpmath.mpf(0)
        )

    args = {"input": ref.to_mp_array(case["input"]), "target": ref.to_mp_array(case["target"])}
    if not scalar:
        args["var"] = ref.to_mp_array(case["var"])
    names = ["input", "target"] + ([] if scalar else ["var"])
    noise = mpp.fd_noise(
        mpmath.fsum(
            abs(a * b) for a, b in zip(w.ravel(), _gaussian_magnitudes(case).ravel(), strict=True)
        )
    )
    for name in names:
        skip = None
        if name == "var":  # at or below eps: checked by rule below, not by differences
            skip = np.zeros(args["var"].shape, dtype=bool)
            for idx in np.ndindex(skip.shape):
                skip[idx] = args["var"][idx] <= eps * (1 + mpmath.mpf(2) ** -60)
        want = mpp.central(f, args, name, skip)
        allow = _gaussian_gradient_magnitudes(case, w, name, want.shape)
        for idx in np.ndindex(want.shape):
            allow[idx] = CANCEL * allow[idx] + noise
        _check_grad(got[name], want, allow, f"grad[{name}]")


def _gaussian_gradient_magnitudes(case: dict, w: np.ndarray, name: str, shape) -> np.ndarray:
    """Per element of gradient ``name``, the summed magnitudes of the terms it is built from:
    |w| |d| / v for input and target, |w| (1/v + d^2/v^2) / 2 for var, summed over the
    elements a broadcast target or var gathers."""
    x = ref.to_mp_array(case["input"])
    y = np.broadcast_to(ref.to_mp_array(case["target"]), x.shape)
    v = mpp.expand_var(case["var"], x.shape)
    eps = ref.to_mpf(case["eps"])
    per = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        c, d = max(v[idx], eps), x[idx] - y[idx]
        per[idx] = abs(w[idx]) * (abs(d) / c if name != "var" else (1 / c + d * d / c / c) / 2)
    if tuple(shape) == x.shape:
        return per
    if len(shape) == x.ndim - 1:  # a var with one fewer dimension: summed over the last
        summed = np.sum(per, axis=-1) if per.size else np.zeros(shape, object)
        return np.asarray(summed, dtype=object).reshape(shape)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[i] != 1)
    summed = np.sum(per, axis=axes, keepdims=True) if per.size else np.zeros(shape, object)
    return np.asarray(summed, dtype=object).reshape(shape)


@pytest.mark.parametrize(
    "var", [0.25, float(np.nextafter(0.25, 0)), float(np.nextafter(0.25, 1)), 1e-3, 0.0625]
)
def test_gaussian_gradient_at_and_below_the_clamp(var: float) -> None:
    """The Note ("the clamping of var is ignored with respect to autograd"): d/dvar is
    0.5 (1/v - d^2/v^2) at v = max(var, eps), also below eps, continuous at var == eps;
    d/dx = d / v."""
    eps = 0.25
    x, y = np.array([1.5]), np.array([0.25])
    g = oracle.gradients.gaussian_nll_loss(x, y, np.array([var]), eps=eps, reduction="sum")
    c = max(ref.to_mpf(var), ref.to_mpf(eps))
    d = ref.to_mpf(1.25)
    ref.assert_ulps(g["var"][0], (1 / c - d * d / (c * c)) / 2, 2.0, what="d/dvar")
    ref.assert_ulps(g["input"][0], d / c, 2.0, what="d/dx")
    ref.assert_ulps(g["target"][0], -d / c, 2.0, what="d/dy")


def test_gaussian_clamp_gradient_has_no_jump_at_eps() -> None:
    eps = 0.25
    x, y = np.array([1.5, 1.5]), np.array([0.25, 0.25])
    at = oracle.gradients.gaussian_nll_loss(x, y, np.array([eps, eps]), eps=eps)["var"]
    below = oracle.gradients.gaussian_nll_loss(x, y, np.array([0.125, 0.0625]), eps=eps)["var"]
    assert np.array_equal(at, below)


# -- invariants --------------------------------------------------------------------------------


@SETTINGS
@given(case=poisson_case())
def test_poisson_sum_and_mean_of_none(case: dict) -> None:
    opts = _opts(case, "log_input", "full", "eps")
    none = oracle.poisson_nll_loss(case["input"], case["target"], reduction="none", **opts)
    total = oracle.poisson_nll_loss(case["input"], case["target"], reduction="sum", **opts)
    mean = oracle.poisson_nll_loss(case["input"], case["target"], reduction="mean", **opts)
    with np.errstate(all="ignore"):
        assert np.array_equal(np.sum(none, dtype=np.longdouble), total, equal_nan=True)
        assert np.array_equal(total / max(none.size, 0), mean, equal_nan=True) or none.size == 0


# -- rejected inputs -----------------------------------------------------------------------------


def raises(argument: str, fn, *args, **kwargs) -> OracleInputError:
    with pytest.raises(OracleInputError) as info:
        fn(*args, **kwargs)
    assert info.value.argument == argument, info.value
    return info.value


POISSON = (oracle.poisson_nll_loss, oracle.gradients.poisson_nll_loss)
GAUSSIAN = (oracle.gaussian_nll_loss, oracle.gradients.gaussian_nll_loss)
X2 = np.ones((2, 2))


@pytest.mark.parametrize("fn", POISSON)
def test_poisson_rejects(fn) -> None:
    raises("target", fn, X2, np.ones((1, 2)))  # broadcasts, but the docs say same shape
    raises("target", fn, np.ones(3), np.ones(2))
    raises("input", fn, np.array([-0.5, 1.0]), np.ones(2), log_input=False)
    raises("input", fn, np.array([-1e-300]), np.ones(1), log_input=False)
    raises("reduction", fn, X2, X2, reduction="avg")
    raises("size_average", fn, X2, X2, size_average=1)
    raises("reduce", fn, X2, X2, reduce="no")
    raises("log_input", fn, X2, X2, log_input=1)
    raises("full", fn, X2, X2, full=None)
    raises("eps", fn, X2, X2, eps="small")
    raises("target", fn, X2, np.array([[True, False], [True, True]]))


@pytest.mark.parametrize("fn", POISSON)
def test_poisson_accepts(fn) -> None:
    """-0.0 and NaN are not negative means; any mean is valid with log_input=True; the
    legacy flags override an unknown reduction (which is then never looked at)."""
    fn(np.array([-0.0, np.nan]), np.ones(2), log_input=False)
    fn(np.array([-5.0]), np.ones(1), log_input=True)
    fn(X2, X2, reduce=False, reduction="avg")


@pytest.mark.parametrize("fn", GAUSSIAN)
def test_gaussian_rejects(fn) -> None:
    raises("var", fn, X2, X2, np.array([[1.0, -1.0], [1.0, 1.0]]))
    raises("var", fn, X2, X2, np.array([[1.0, 0.0], [1.0, 1.0]]))
    raises("var", fn, X2, X2, np.array([[1.0, -0.0], [1.0, 1.0]]))
    raises("var", fn, X2, X2, 0.0)
    raises("var", fn, X2, X2, -2.0)
    raises("var", fn, np.ones((2, 2, 2)), np.ones((2, 2, 2)), np.ones((1, 1, 2)))
    raises("var", fn, X2, X2, np.ones(3))
    raises("var", fn, X2, X2, np.ones((1,)))
    raises("var", fn, X2, X2, np.array(1.0))  # a 0-d tensor for a 2-d input
    raises("var", fn, X2, X2, True)
    raises("target", fn, X2, np.ones(2), X2)
    raises("target", fn, np.ones((1, 2)), np.ones((3, 2)), np.ones((1, 2)))
    raises("target", fn, X2, np.ones((1, 1)), X2)  # two dimensions equal to 1
    raises("target", fn, X2, np.ones(3), X2)
    raises("reduction", fn, X2, X2, X2, reduction="avg")
    raises("full", fn, X2, X2, X2, full=1)
    raises("eps", fn, X2, X2, X2, eps=None)


@pytest.mark.parametrize("fn", GAUSSIAN)
def test_gaussian_accepts(fn) -> None:
    """NaN var is data; every documented var shape; a 0-d var for a 1-d input (one fewer
    dimension); a target with one dimension equal to 1."""
    fn(X2, X2, np.array([[np.nan, 1.0], [1.0, 1.0]]))
    for v in (X2, np.ones((1, 2)), np.ones((2, 1)), np.ones(2), 0.5, 3):
        fn(X2, X2, v)
    fn(np.ones(3), np.ones(3), np.array(2.0))
    fn(X2, np.ones((2, 1)), X2)
