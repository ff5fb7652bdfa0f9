"""The oracles of BCELoss, BCEWithLogitsLoss, SoftMarginLoss and MultiLabelSoftMarginLoss
against an independent 50-digit mpmath reference (tests/mp_binary.py), their gradients
against mpmath central finite differences, their invariants and every input they reject.

Budgets. Values: within 2 float64 ULPs of mpmath (NaN and ±inf by class). Two kinds of
sum can cancel, and there the oracle's error is bounded by its WORK (x87, 64-bit) rounding
of the terms, not of the result: a reduction with signed weights (the oracle's long-double
sum: 2**-58 of the sum of the terms' magnitudes, as tests/test_oracle_mpmath.py), and a
BCEWithLogits term with a negative pos_weight (p y softplus(-x) + (1 - y) softplus(x):
a few WORK roundings of each term, 2**-60 of their magnitudes). Gradients: within 4 ULPs
of the finite difference (itself accurate to ~1e-55 relative) plus, where the oracle's
docstring derives one, the allowance of a cancelling difference: BCEWithLogits'
d/dx = w [(1 - y) sigmoid(x) - p y sigmoid(-x)] (2**-61 of the terms) and
d/dy = w [p softplus(-x) - softplus(x)] (2**-60 of the smaller form's terms), the weight
gradient of MultiLabelSoftMargin summed over signed grad_output (2**-58 of the sum of
magnitudes). Finite differences are skipped within 1e-6 (relative) of BCE's domain ends and
of its clamp point exp(-100); the one-sided derivatives there are checked explicitly.
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
from oracle import OracleInputError
from tests import mp_binary as mpb
from tests import mp_reference as ref

LOSSES = (
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
)
REDUCTIONS = ("none", "mean", "sum")
CANCEL_SUM = ref.mpf(2) ** -58
CANCEL_TERM = ref.mpf(2) ** -60
CANCEL_SLOPE = ref.mpf(2) ** -61
FD_TRUNCATION = 1e-50  # of the derivative's terms: the central difference's h**2 is 1e-60
E100 = float(np.exp(np.longdouble(-100)))
SETTINGS = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _float64_neighbours(v: float) -> list[float]:
    return [float(np.nextafter(v, -math.inf)), v, float(np.nextafter(v, math.inf))]


def _float32_neighbours(v: float) -> list[float]:
    f = np.float32(v)
    return [
        float(np.nextafter(f, np.float32(-math.inf))),
        float(f),
        float(np.nextafter(f, np.float32(math.inf))),
    ]


PROB_EDGE = sorted(
    {
        0.0,
        1.0,
        0.5,
        5e-324,
        2.2250738585072014e-308,
        1e-300,
        1e-30,
        1e-12,
        0.25,
        float(np.nextafter(1.0, 0.0)),
        1.0 - 1e-12,
        *_float64_neighbours(E100),
        *_float32_neighbours(E100),
    }
)
TARGET_EDGE = [0.0, 1.0, 0.5, 5e-324, 1e-300, float(np.nextafter(1.0, 0.0)), 0.3]
LOGIT_EDGE = [*ref.EDGE, 1e4, -1e4, 36.0, -36.0, 745.0, -745.0, 1e-20, -1e-20]


# -- helpers -------------------------------------------------------------------------------


def _call(fn, loss: str, args: dict, **opts):
    if loss in ("binary_cross_entropy", "multilabel_soft_margin_loss"):
        return fn(args["input"], args["target"], weight=args.get("weight"), **opts)
    if loss == "binary_cross_entropy_with_logits":
        return fn(
            args["input"],
            args["target"],
            weight=args.get("weight"),
            pos_weight=args.get("pos_weight"),
            **opts,
        )
    return fn(args["input"], args["target"], **opts)


def _magnitudes(loss: str, args: dict) -> np.ndarray:
    """The unreduced terms computed from |weight| and |pos_weight|: the scale of a sum that
    may cancel (signed weights), and of a BCEWithLogits term that may (negative p)."""
    absolute = {
        k: (np.abs(v) if k in ("weight", "pos_weight") and v is not None else v)
        for k, v in args.items()
    }
    return mpb.reference(loss, absolute, "none")


OVERFLOW64 = (2 - ref.mpf(2) ** -53) * ref.mpf(2) ** 1023  # rounds to inf in float64


def assert_ulps(got, want, ulps: float, floor=0, what: str = "") -> None:
    """tests/mp_reference.assert_ulps, except that an oracle value which rounds to ±inf in
    float64 is accepted against an exact value at or past float64's overflow threshold
    (that path of mp_reference.ulp_error calls mpmath.copysign, which mpmath lacks)."""
    g = np.asarray(got)
    if g.shape == () and np.isinf(np.float64(g)) and not isinstance(want, np.ndarray):
        sign = 1 if np.float64(g) > 0 else -1
        ok = mpmath.isinf(want) or (abs(want) >= OVERFLOW64 and sign * want > 0)
        assert ok, f"{what}: oracle {float(np.float64(g))} vs mpmath {mpmath.nstr(want, 25)}"
        return
    if isinstance(want, np.ndarray):
        for idx in np.ndindex(want.shape):
            assert_ulps(g[idx], want[idx], ulps, floor, f"{what}{list(idx)}")
        return
    ref.assert_ulps(got, want, ulps=ulps, floor=floor, what=what)


def check_value(loss: str, args: dict, reduction: str = "mean", **legacy) -> None:
    got = _call(getattr(oracle, loss), loss, args, reduction=reduction, **legacy)
    assert got.dtype == oracle.WORK
    red = mpb.effective(reduction, legacy.get("size_average"), legacy.get("reduce"))
    want = mpb.reference(loss, args, red)
    what = f"{loss} {red}"
    signed = {
        k: args.get(k) is not None and bool(np.any(np.asarray(args[k]) < 0))
        for k in ("weight", "pos_weight")
    }
    if not any(signed.values()):
        assert_ulps(got, want, ulps=2, what=what)
        return
    mags = _magnitudes(loss, args)
    if red == "none":  # only a negative pos_weight cancels inside a term
        for idx in np.ndindex(want.shape):
            m = abs(mags[idx]) if mpmath.isfinite(mags[idx]) else 0
            floor = CANCEL_TERM * m if signed["pos_weight"] else 0
            assert_ulps(got[idx], want[idx], ulps=2, floor=floor, what=f"{what}{idx}")
        return
    total = mpmath.fsum([abs(m) for m in mags.ravel() if mpmath.isfinite(m)])
    n = mags.size if red == "mean" and mags.size else 1
    assert_ulps(got, want, ulps=2, floor=(CANCEL_SUM + CANCEL_TERM) * total / n, what=what)


# -- random inputs -------------------------------------------------------------------------

probability = st.one_of(st.floats(0.0, 1.0), st.sampled_from(PROB_EDGE), st.floats(0.0, 1e-20))
logit = st.one_of(
    st.floats(-50.0, 50.0),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(LOGIT_EDGE),
)
weight_value = st.one_of(
    st.floats(0.0, 10.0), st.floats(-10.0, 10.0), st.sampled_from([0.0, 1.0, 1e300, math.inf])
)


@st.composite
def partner(draw, shape: tuple[int, ...]) -> tuple[int, ...]:
    keep = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.booleans()) else n for n in shape[len(shape) - keep :])


@st.composite
def binary_args(draw, loss: str) -> dict:
    if loss == "multilabel_soft_margin_loss":
        shape = (draw(st.integers(0, 4)), draw(st.integers(0, 5)))
    else:
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    dtype = draw(st.sampled_from([np.float64, np.float64, np.float32, np.float16]))
    if loss == "binary_cross_entropy":
        x = draw(hnp.arrays(np.float64, shape, elements=probability)).astype(dtype)
        y = draw(hnp.arrays(np.float64, shape, elements=probability)).astype(dtype)
    else:
        with np.errstate(over="ignore"):  # 1e300 in float16 is inf: data too
            x = draw(hnp.arrays(np.float64, shape, elements=logit)).astype(dtype)
        labels = {"soft_margin_loss": [1.0, -1.0], "multilabel_soft_margin_loss": [0.0, 1.0]}
        if loss in labels:
            y = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from(labels[loss])))
        else:
            y = draw(hnp.arrays(np.float64, shape, elements=probability))
        y = y.astype(dtype)
    args = {"input": x, "target": y}
    if loss != "soft_margin_loss" and draw(st.booleans()):
        wshape = (shape[1],) if loss == "multilabel_soft_margin_loss" else draw(partner(shape))
        args["weight"] = draw(hnp.arrays(np.float64, wshape, elements=weight_value))
    if loss == "binary_cross_entropy_with_logits" and draw(st.booleans()):
        args["pos_weight"] = draw(
            hnp.arrays(np.float64, draw(partner(shape)), elements=weight_value)
        )
    return args


@pytest.mark.parametrize("loss", LOSSES)
@SETTINGS
@given(data=st.data())
def test_random_inputs(loss, data):
    args = data.draw(binary_args(loss))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    check_value(loss, args, reduction)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(("size_average", "reduce"), list(ref.LEGACY))
def test_legacy_arguments(loss, size_average, reduce):
    rng = np.random.default_rng(3)
    x = (
        rng.uniform(0.0, 1.0, (3, 4))
        if loss == "binary_cross_entropy"
        else rng.normal(0, 3, (3, 4))
    )
    if loss == "soft_margin_loss":
        y = np.sign(rng.normal(size=(3, 4)))
    elif loss == "multilabel_soft_margin_loss":
        y = (rng.normal(size=(3, 4)) > 0).astype(float)
    else:
        y = rng.uniform(0.0, 1.0, (3, 4))
    for reduction in REDUCTIONS:
        check_value(
            loss, {"input": x, "target": y}, reduction, size_average=size_average, reduce=reduce
        )


# -- explicit edge grids -------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_edge_grid(reduction):
    """Every pair of edge probabilities: 0, 1, subnormals, exp(-100) and its float64 and
    float32 neighbours (one side clamped, the other not), 1e-30, 1 - 2**-53."""
    x = np.array(PROB_EDGE)[:, None]
    y = np.array(TARGET_EDGE)[None, :]
    x, y = np.broadcast_arrays(x, y)
    for w in (
        None,
        np.linspace(0.0, 3.0, y.shape[1]),
        np.full(y.shape[1], -0.5),
        np.array(math.inf),
    ):
        args = {"input": x.copy(), "target": y.copy()}
        if w is not None:
            args["weight"] = w
        check_value("binary_cross_entropy", args, reduction)


def test_bce_clamp_is_exactly_at_exp_minus_100():
    """x just above exp(-100) is not clamped (-log x < 100), just below it is (100)."""
    below, above = (float(np.nextafter(E100, 0.0)), float(np.nextafter(E100, 1.0)))
    got = oracle.binary_cross_entropy(np.array([below, above]), np.ones(2), reduction="none")
    assert mpmath.log(ref.to_mpf(below)) < -100 < mpmath.log(ref.to_mpf(above))
    assert got[0] == 100 and got[1] < 100  # in WORK: 99.9999999999999998


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_edge_grid(reduction):
    x = np.array(LOGIT_EDGE)[:, None]
    y = np.array(TARGET_EDGE)[None, :]
    x, y = np.broadcast_arrays(x, y)
    for p in (
        None,
        np.array([0.0]),
        np.array([0.5]),
        np.array([3.0]),
        np.array([1e300]),
        np.array([math.inf]),
        np.array([-2.0]),
    ):
        for w in (None, np.array(2.0), np.array(math.inf)):
            args = {"input": x.copy(), "target": y.copy(), "weight": w, "pos_weight": p}
            check_value("binary_cross_entropy_with_logits", args, reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_edge_grid(reduction):
    x = np.array(LOGIT_EDGE)[:, None]
    y = np.array([1.0, -1.0])[None, :]
    x, y = np.broadcast_arrays(x, y)
    check_value("soft_margin_loss", {"input": x.copy(), "target": y.copy()}, reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_edge_grid(reduction):
    x = (
        np.array(LOGIT_EDGE).reshape(-1, 3)
        if len(LOGIT_EDGE) % 3 == 0
        else np.array(LOGIT_EDGE[: -(len(LOGIT_EDGE) % 3)]).reshape(-1, 3)
    )
    for y in (
        np.zeros_like(x),
        np.ones_like(x),
        (np.arange(x.size).reshape(x.shape) % 2).astype(float),
    ):
        for w in (None, np.array([1.0, 0.5, 2.0]), np.array([0.0, -1.0, math.inf])):
            check_value(
                "multilabel_soft_margin_loss", {"input": x, "target": y, "weight": w}, reduction
            )


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_inputs(loss, reduction):
    shapes = [(0, 3), (2, 0)] if loss == "multilabel_soft_margin_loss" else [(0,), (0, 3), (2, 0)]
    for shape in shapes:
        fill = 1.0 if loss == "soft_margin_loss" else 0.0
        args = {"input": np.zeros(shape), "target": np.full(shape, fill)}
        check_value(loss, args, reduction)
        got = _call(getattr(oracle, loss), loss, args, reduction=reduction)
        if reduction == "sum":
            assert (got == 0) or (loss == "multilabel_soft_margin_loss" and shape[1] == 0)
        if reduction == "mean":
            assert np.isnan(got)


# -- gradients against finite differences --------------------------------------------------

DIFFERENTIABLE = {
    "binary_cross_entropy": ("input", "target"),
    "binary_cross_entropy_with_logits": ("input", "target"),
    "soft_margin_loss": ("input",),
    "multilabel_soft_margin_loss": ("input", "target", "weight"),
}


@st.composite
def smooth_args(draw, loss: str) -> dict:
    """Inputs where the loss is smooth (finite, away from BCE's domain ends and its clamp)."""
    if loss == "multilabel_soft_margin_loss":
        shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    else:
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    scale = draw(st.sampled_from([1e-8, 1.0, 30.0, 300.0]))
    if loss == "binary_cross_entropy":
        x = draw(hnp.arrays(np.float64, shape, elements=st.floats(1e-6, 1 - 1e-6)))
        tiny = draw(st.booleans())
        x = np.where(
            x < 0.5, x * (1e-40 if tiny else 1.0), x
        )  # down to 1e-46: near and past the clamp
        y = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0)))
    else:
        x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-4.0, 4.0))) * scale
        if loss == "soft_margin_loss":
            y = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([1.0, -1.0])))
        elif loss == "multilabel_soft_margin_loss":
            y = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
        else:
            y = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0)))
    args = {"input": x, "target": y}
    if loss != "soft_margin_loss" and draw(st.booleans()):
        wshape = (shape[1],) if loss == "multilabel_soft_margin_loss" else draw(partner(shape))
        args["weight"] = draw(hnp.arrays(np.float64, wshape, elements=st.floats(-3.0, 3.0)))
    if loss == "binary_cross_entropy_with_logits" and draw(st.booleans()):
        args["pos_weight"] = draw(
            hnp.arrays(np.float64, draw(partner(shape)), elements=st.floats(-1.0, 4.0))
        )
    return args


def _bce_skip(x: np.ndarray) -> np.ndarray:
    """Elements within 1e-6 (relative) of BCE's kinks: 0, 1, and the clamp point exp(-100)."""
    with np.errstate(all="ignore"):
        return (np.abs(x / E100 - 1) < 1e-6) | (x <= 0) | (x >= 1)


def _seed(reduction: str, g: np.ndarray, shape: tuple[int, ...], n: int) -> np.ndarray:
    """|r| per unreduced term: |g|, or |g| / n for 'mean'."""
    r = np.abs(np.asarray(g, dtype=np.longdouble))
    if reduction == "mean":
        r = r / max(n, 1)
    return np.broadcast_to(r, shape)


def _allowance(loss: str, args: dict, reduction: str, g: np.ndarray) -> dict[str, np.ndarray]:
    """Per gradient element, the absolute allowance beyond 4 ULPs, as a fraction of the
    magnitudes of the terms the derivative combines (times |r w|): 1e-50 of them for the
    finite difference's own truncation (its steps of 1e-30 leave about 1e-60) where the
    derivative is 0 or nearly so; and, where the oracle itself cancels, the allowance the
    module docstring derives (2**-61 and 2**-60 of those terms for BCEWithLogits; 2**-58 of
    the summed magnitudes for the weight gradient of MultiLabelSoftMargin)."""
    from oracle._common import unbroadcast
    from oracle._logistic import sigmoid, softplus

    ld = np.longdouble
    fd = ld(FD_TRUNCATION)
    x = np.asarray(args["input"], dtype=ld)
    y = np.asarray(args["target"], dtype=ld)
    w = np.asarray(1.0 if args.get("weight") is None else args["weight"], dtype=ld)
    with np.errstate(all="ignore"):
        if loss == "multilabel_soft_margin_loss":
            n, c = x.shape
            seed = _seed(reduction, g, (n,), n)[:, None]
            r = seed * np.abs(w) / c
            out = {
                "input": fd * r * ((1 - y) * sigmoid(x) + y * sigmoid(-x)),
                "target": fd * r * (softplus(-x) + softplus(x)),
            }
            if args.get("weight") is not None:
                t = y * softplus(-x) + (1 - y) * softplus(x)
                out["weight"] = ld(CANCEL_SUM) * np.sum(seed * t, axis=0) / c
            return out
        shape = x.shape
        r = _seed(reduction, g, shape, x.size) * np.abs(np.broadcast_to(w, shape))
        if loss == "binary_cross_entropy":  # no cancellation in the oracle's forms
            dx = fd * (np.abs(y / x) + np.abs((1 - y) / (1 - x)))
            dy = fd * (np.abs(np.maximum(np.log(x), -100)) + np.abs(np.maximum(np.log1p(-x), -100)))
        elif loss == "soft_margin_loss":
            dx = fd * sigmoid(-y * x)
            dy = np.zeros(shape, dtype=ld)
        else:
            p = 1.0 if args.get("pos_weight") is None else args["pos_weight"]
            p = np.broadcast_to(np.asarray(p, dtype=ld), shape)
            a, b = softplus(-x), softplus(x)
            dx = ld(CANCEL_SLOPE) * ((1 - y) * sigmoid(x) + np.abs(p * y) * sigmoid(-x))
            dy = ld(CANCEL_TERM) * np.minimum(np.abs(p) * a + b, np.abs(p - 1) * a + np.abs(x))
        return {
            "input": unbroadcast(r * dx, np.shape(args["input"])),
            "target": unbroadcast(r * dy, np.shape(args["target"])),
        }


def check_gradients(loss: str, args: dict, reduction: str, g: np.ndarray) -> None:
    got = _call(getattr(oracle.gradients, loss), loss, args, reduction=reduction, grad_output=g)
    names = [n for n in DIFFERENTIABLE[loss] if args.get(n) is not None]
    assert sorted(got) == sorted(names)
    mp_args = {k: ref.to_mp_array(v) for k, v in args.items() if v is not None}
    g_mp = ref.to_mp_array(g)
    skip = None
    if loss == "binary_cross_entropy":
        skip = {"input": _bce_skip(np.asarray(args["input"]))}
    # steps relative to |v| for BCE's probabilities (down to 1e-46), to max(|v|, 1) else
    scales = {n: (0.0 if loss == "binary_cross_entropy" and n == "input" else 1.0) for n in names}
    fd = ref.central_differences(
        lambda a: mpb.scalar(loss, a, reduction, g_mp), mp_args, names, skip, scales, prec=2000
    )
    allow = _allowance(loss, args, reduction, g)
    for n in names:
        assert got[n].shape == np.shape(args[n]) and got[n].dtype == oracle.WORK
        for idx in np.ndindex(got[n].shape):
            want = fd[n][idx]
            if want is None:
                continue
            floor = ref.mpf(float(allow[n][idx]))
            assert_ulps(got[n][idx], want, ulps=4, floor=floor, what=f"{loss} d/d{n}")


@pytest.mark.parametrize("loss", LOSSES)
@settings(SETTINGS, max_examples=25)
@given(data=st.data())
def test_gradients_match_finite_differences(loss, data):
    args = data.draw(smooth_args(loss))
    reduction = data.draw(st.sampled_from(REDUCTIONS))
    out = _call(getattr(oracle, loss), loss, args, reduction=reduction)
    g = data.draw(hnp.arrays(np.float64, np.shape(out), elements=st.floats(-4.0, 4.0)))
    check_gradients(loss, args, reduction, g)


def test_bce_gradients_at_the_clamp_and_the_domain_ends():
    """Where a clamped log is constant its derivative is 0; the other term keeps its slope.
    x = 0: d/dx = (1 - y)/(1 - x) = 1 - y, d/dy = -(-100 - 0) = 100; x = 1: d/dx = -y,
    d/dy = -(0 + 100) = -100; x below exp(-100) with y = 1: 0 (and d/dy = 100 + log1p(-x))."""
    below = float(np.nextafter(E100, 0.0))
    x = np.array([0.0, 0.0, 1.0, 1.0, below, 0.5])
    y = np.array([1.0, 0.25, 0.0, 0.75, 1.0, 0.5])
    g = oracle.gradients.binary_cross_entropy(x, y, reduction="none")
    assert [float(v) for v in g["input"]] == [0.0, 0.75, 0.0, -0.75, 0.0, 0.0]
    assert [float(v) for v in g["target"][:4]] == [100.0, 100.0, -100.0, -100.0]
    assert g["target"][4] == np.longdouble(100) + np.log1p(-np.longdouble(below))
    assert g["target"][5] == 0  # logit(1/2) = 0 exactly


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_gradients_where_their_terms_cancel(reduction):
    """x next to y (d/dx = (x - y) / (x (1 - x)) is tiny while y/x and (1 - y)/(1 - x) are
    not) and x next to 1/2 (d/dy = -logit(x), while log x and log(1 - x) are near -0.69):
    the oracle's forms keep them to a few ULPs, which two cancelling quotients or logs would
    not (they lose 2**-64 of the terms, ~1e5 ULPs of these results)."""
    half = 0.5
    x = np.array([0.3, 0.3, 0.7, half, float(np.nextafter(half, 1.0)), half + 2.0**-40, 0.25])
    y = np.array(
        [0.3, float(np.nextafter(0.3, 1.0)), float(np.nextafter(0.7, 0.0)), 0.2, 1.0, 0.0, 0.25]
    )
    g = np.linspace(0.5, 2.0, x.size) if reduction == "none" else np.array(1.5)
    check_gradients("binary_cross_entropy", {"input": x, "target": y}, reduction, g)


def test_gradient_identities():
    """BCEWithLogits without pos_weight: d/dy = -w x exactly; MultiLabelSoftMargin:
    d/dy = -w x / C exactly; SoftMargin at ±inf: -y or 0."""
    x = np.array([[1e-30, -3.0, 700.0], [2.5, -1e4, 0.0]])
    y = np.array([[0.25, 1.0, 0.0], [0.5, 1.0, 0.0]])
    w = np.array([2.0, 0.5, 1.0])
    g = oracle.gradients.binary_cross_entropy_with_logits(x, y, weight=w, reduction="sum")
    assert np.array_equal(g["target"], -w * x.astype(np.longdouble))
    g = oracle.gradients.multilabel_soft_margin_loss(x, np.round(y), weight=w, reduction="sum")
    assert np.array_equal(g["target"], -(w / np.longdouble(3)) * x.astype(np.longdouble))
    g = oracle.gradients.soft_margin_loss(
        [math.inf, -math.inf, math.inf], [1.0, 1.0, -1.0], reduction="none"
    )
    assert [float(v) for v in g["input"]] == [-0.0, -1.0, 1.0]


def test_bce_with_logits_gradients_at_infinite_logits():
    """IEEE through the derivative: x = +inf gives r w (1 - y) and -inf gives -r w p y for
    d/dx; d/dy is -inf at +inf and p * inf at -inf (NaN for p = 0)."""
    x = np.array([math.inf, -math.inf, -math.inf])
    y = np.array([0.25, 0.5, 0.5])
    g = oracle.gradients.binary_cross_entropy_with_logits(
        x, y, reduction="none", pos_weight=np.array([2.0, 2.0, 0.0])
    )
    assert [float(v) for v in g["input"]] == [0.75, -1.0, -0.0]
    t = [float(v) for v in g["target"]]
    assert t[0] == -math.inf and t[1] == math.inf and math.isnan(t[2])


# -- invariants ----------------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
@settings(SETTINGS, max_examples=20)
@given(data=st.data())
def test_sum_and_mean_of_none(loss, data):
    args = data.draw(binary_args(loss))
    f = getattr(oracle, loss)
    none = _call(f, loss, args, reduction="none")
    total = _call(f, loss, args, reduction="sum")
    mean = _call(f, loss, args, reduction="mean")
    with np.errstate(all="ignore"):
        assert np.array_equal(total, np.sum(none, dtype=oracle.WORK), equal_nan=True)
        assert np.array_equal(mean, total / oracle.WORK(none.size), equal_nan=True)


@settings(SETTINGS, max_examples=30)
@given(
    x=hnp.arrays(np.float64, (5,), elements=st.floats(-20.0, 20.0)),
    y=hnp.arrays(np.float64, (5,), elements=st.floats(0.0, 1.0)),
)
def test_bce_with_logits_is_bce_of_the_sigmoid(x, y):
    """ "This loss combines a Sigmoid layer and the BCELoss in one single class": where BCE's
    clamp is inactive the two oracles agree up to the rounding of p = sigmoid(x) to
    float64, which moves log p and log(1 - p) by at most 2**-52 / min(p, 1 - p)
    <= 2**-52 (1 + exp|x|), times |y| + |1 - y|."""
    from oracle._logistic import sigmoid

    p = sigmoid(x.astype(np.longdouble)).astype(np.float64)
    a = oracle.binary_cross_entropy_with_logits(x, y, reduction="none").astype(np.float64)
    b = oracle.binary_cross_entropy(p, y, reduction="none").astype(np.float64)
    tol = 2.0**-52 * (1 + np.exp(np.abs(x))) * 2 + 2.0**-50 * np.abs(a)
    assert np.all(np.abs(a - b) <= tol), (a, b)


@settings(SETTINGS, max_examples=30)
@given(
    x=hnp.arrays(np.float64, (2, 4), elements=st.floats(-1e3, 1e3)),
    y=hnp.arrays(np.float64, (2, 4), elements=st.sampled_from([1.0, -1.0])),
)
def test_soft_margin_is_bce_with_logits_of_the_label(x, y):
    """log(1 + exp(-y x)) is BCEWithLogits with target (1 + y) / 2, exactly."""
    a = oracle.soft_margin_loss(x, y, reduction="none")
    b = oracle.binary_cross_entropy_with_logits(x, (1 + y) / 2, reduction="none")
    assert np.array_equal(a, b)


@settings(SETTINGS, max_examples=30)
@given(
    x=hnp.arrays(np.float64, (3, 4), elements=st.floats(-1e3, 1e3)),
    y=hnp.arrays(np.float64, (3, 4), elements=st.sampled_from([0.0, 1.0])),
    w=hnp.arrays(np.float64, (4,), elements=st.floats(0.0, 4.0)),
)
def test_multilabel_is_the_class_mean_of_bce_with_logits(x, y, w):
    a = oracle.multilabel_soft_margin_loss(x, y, weight=w, reduction="none")
    b = oracle.binary_cross_entropy_with_logits(x, y, weight=w, reduction="none")
    assert np.allclose(
        a.astype(np.float64), (b.sum(axis=1) / 4).astype(np.float64), rtol=1e-15, atol=0
    )


# -- invalid inputs ------------------------------------------------------------------------


def raises(argument: str, fn, *args, **kwargs) -> OracleInputError:
    with pytest.raises(OracleInputError) as info:
        fn(*args, **kwargs)
    assert info.value.argument == argument, str(info.value)
    return info.value


def _both(loss: str):
    return (getattr(oracle, loss), getattr(oracle.gradients, loss))


P = np.array([[0.25, 0.5], [0.75, 1.0]])
X = np.array([[0.5, -1.0], [2.0, 0.0]])


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", ["avg", "MEAN", "", None, 1])
def test_unknown_reduction(loss, reduction):
    y = {"soft_margin_loss": np.ones((2, 2)), "multilabel_soft_margin_loss": np.zeros((2, 2))}
    for fn in _both(loss):
        raises("reduction", fn, P, y.get(loss, P), reduction=reduction)


@pytest.mark.parametrize("loss", LOSSES)
def test_legacy_flags_must_be_bools(loss):
    y = np.ones((2, 2))
    raises("size_average", getattr(oracle, loss), P, y, size_average="yes")
    raises("reduce", getattr(oracle, loss), P, y, reduce=1.0)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("target_shape", [(2,), (1, 2), (2, 1), (2, 2, 1), (3, 2)])
def test_target_must_have_the_input_shape(loss, target_shape):
    for fn in _both(loss):
        err = raises("target", fn, P, np.ones(target_shape))
        assert "is not the input shape" in err.rule


@pytest.mark.parametrize("bad", [1.5, -0.25, -0.0 - 1e-300, math.nan, math.inf, -math.inf])
def test_bce_probabilities_must_lie_in_0_1(bad):
    q = P.copy()
    q[1, 0] = bad
    for fn in _both("binary_cross_entropy"):
        err = raises("input", fn, q, P)
        assert "outside [0, 1]" in err.rule and "input[1, 0]" in err.rule
        raises("target", fn, P, q)
    for fn in _both("binary_cross_entropy_with_logits"):
        raises("target", fn, X, q)


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_probabilities_must_be_floating(loss):
    ints = np.array([[0, 1], [1, 0]])
    for fn in _both(loss):
        raises("target", fn, P, ints)
        raises("input", fn, ints, P)
        raises("input", fn, np.array([[True, False], [False, True]]), P)


def test_bce_weight_must_broadcast_to_the_input():
    for fn in _both("binary_cross_entropy"):
        raises("weight", fn, np.full((3, 2), 0.5), np.ones((3, 2)), weight=np.ones(3))
        raises("weight", fn, P, P, weight=np.ones((2, 2, 2)))
        raises("weight", fn, P, P, weight=np.array([1j, 2j]))


def test_bce_with_logits_weights_must_broadcast_to_the_input():
    x = np.zeros((2, 3, 2, 2))
    y = np.full(x.shape, 0.5)
    for fn in _both("binary_cross_entropy_with_logits"):
        raises("pos_weight", fn, x, y, pos_weight=np.ones(3))  # [C] of [N, C, H, W]
        raises("pos_weight", fn, X, P, pos_weight=np.ones((1, 2, 2)))
        raises("weight", fn, X, P, weight=np.ones(3))
        fn(x, y, pos_weight=np.ones((3, 1, 1)))  # the documented form


@pytest.mark.parametrize("bad", [0.0, 2.0, 0.5, -0.5, math.nan, math.inf])
def test_soft_margin_targets_are_plus_or_minus_one(bad):
    y = np.array([[1.0, -1.0], [1.0, -1.0]])
    y[0, 1] = bad
    for fn in _both("soft_margin_loss"):
        err = raises("target", fn, X, y)
        assert "is not one of 1.0, -1.0" in err.rule
    oracle.soft_margin_loss(X, np.array([[1, -1], [1, 1]]))  # integer labels are labels


@pytest.mark.parametrize("bad", [0.5, -1.0, 2.0, math.nan])
def test_multilabel_targets_are_0_or_1(bad):
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    y[1, 1] = bad
    for fn in _both("multilabel_soft_margin_loss"):
        raises("target", fn, X, y)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3, 4)])
def test_multilabel_input_is_n_by_c(shape):
    for fn in _both("multilabel_soft_margin_loss"):
        err = raises("input", fn, np.zeros(shape), np.zeros(shape))
        assert "(N, C)" in err.rule


@pytest.mark.parametrize("wshape", [(2, 3), (1,), (), (3,), (2, 2)])
def test_multilabel_weight_has_size_c(wshape):
    for fn in _both("multilabel_soft_margin_loss"):
        raises("weight", fn, np.zeros((2, 2)), np.zeros((2, 2)), weight=np.ones(wshape))


@pytest.mark.parametrize("loss", LOSSES)
def test_grad_output_must_have_the_output_shape(loss):
    y = {"soft_margin_loss": np.ones((2, 2)), "multilabel_soft_margin_loss": np.zeros((2, 2))}
    fn = getattr(oracle.gradients, loss)
    raises("grad_output", fn, P, y.get(loss, P), reduction="sum", grad_output=np.ones(2))
    raises("grad_output", fn, P, y.get(loss, P), reduction="none", grad_output=np.ones(3))


def test_soft_margin_oracle_at_large_margins():
    """softplus(m) = m + log1p(exp(-m)): the oracle is finite for every finite margin."""
    x = np.array([-1e4, 1e4, -1.7976931348623157e308, 800.0, -np.inf, np.inf])
    y = np.array([1.0, 1.0, 1.0, -1.0, 1.0, 1.0])
    got = oracle.soft_margin_loss(x, y, reduction="none").astype(np.float64)
    assert got[0] == 1e4 and got[2] == 1.7976931348623157e308 and got[3] == 800.0
    assert got[1] == 0.0  # exp(-1e4) is below float64's range
    assert got[4] == np.inf and got[5] == 0.0
    g = oracle.gradients.soft_margin_loss(x, y, reduction="none")["input"]
    assert list(g.astype(np.float64)[[0, 3, 4, 5]]) == [-1.0, 1.0, -1.0, -0.0]
