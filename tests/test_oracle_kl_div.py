"""The KLDivLoss oracle against an independent 50-digit mpmath reference (tests/mp_kl_hinge.py),
its gradients against mpmath central finite differences, its invariants and every input it
rejects.

Budgets. Values: within 2 float64 ULPs of mpmath (NaN and ±inf by class) plus two derived
allowances for cancellation. (1) A term y (log y - x) cancels where x is near log y: the
oracle's WORK (x87, 64-bit significand) log, difference and product each round by at most
2**-64 relative to |y| (|log y| + |x|), so 2**-61 of that magnitude bounds the term's error
(TERM). (2) The reduction of signed terms cancels: the oracle's long-double sum is off by
at most (N - 1) 2**-64 of the sum of the terms' magnitudes, below 2**-58 of it for the
sizes drawn here (SUM), plus each term's own TERM allowance. Gradients: d/dy = log y + 1 -
x cancels the same way (2**-61 of |log y| + 1 + |x|, times the seed); the rest are
products, within 4 ULPs of the finite difference (accurate to ~1e-55 relative). Finite
differences are taken away from y = 0 (where y log y has no two-sided derivative); the
one-sided derivative -inf there and the log-target limit at t = -inf are checked
explicitly.
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
from tests import mp_kl_hinge as mpk
from tests import mp_reference as ref

REDUCTIONS = ("none", "mean", "sum", "batchmean")
TERM = ref.mpf(2) ** -61
SUM = ref.mpf(2) ** -58
SETTINGS = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
EDGE_X = [0.0, -0.0, -1.0, -0.5, -30.0, 2.0, 5e-324, -1e300, 1e300, math.inf, -math.inf, math.nan]
EDGE_Y = [0.0, -0.0, 0.5, 1.0, 2.0, 5e-324, 1e-300, 1e300, -0.5, math.inf, math.nan]


def _values(lo: float, hi: float, edge: list[float]) -> st.SearchStrategy[float]:
    return st.one_of(st.floats(lo, hi), st.sampled_from(edge))


@st.composite
def kl_cases(draw: st.DrawFn, edge: bool = True):
    shape = draw(SHAPES)
    log_target = draw(st.booleans())
    ex = EDGE_X if edge else [-1.0]
    ey = EDGE_Y if edge else [0.5]
    x = draw(hnp.arrays(np.float64, shape, elements=_values(-40.0, 5.0, ex)))
    if log_target:
        y = draw(hnp.arrays(np.float64, shape, elements=_values(-40.0, 3.0, ex)))
    else:
        y = draw(hnp.arrays(np.float64, shape, elements=_values(0.0, 3.0, ey)))
    dtype = draw(st.sampled_from((np.float64, np.float32, np.float16)))
    with np.errstate(all="ignore"):
        return x.astype(dtype), y.astype(dtype), log_target


def _term_scale(x: np.ndarray, y: np.ndarray, log_target: bool) -> np.ndarray:
    """|y| (|log y| + |x|) (or |exp t| (|t| + |x|)) per element, in mpf, 0 if not finite."""
    xs, ys = ref.to_mp_array(x), ref.to_mp_array(y)
    out = np.empty(xs.shape, dtype=object)
    for i in np.ndindex(xs.shape):
        a, b = xs[i], ys[i]
        if mpmath.isnan(a) or mpmath.isnan(b) or mpmath.isinf(a) or mpmath.isinf(b):
            out[i] = ref.mpf(0)
        elif log_target:
            out[i] = mpmath.exp(b) * (abs(b) + abs(a))
        else:
            out[i] = abs(b) * ((abs(mpmath.log(b)) if b > 0 else 0) + abs(a))
    return out


@SETTINGS
@given(case=kl_cases(), reduction=st.sampled_from(REDUCTIONS))
def test_values_match_mpmath(case, reduction):
    x, y, log_target = case
    got = oracle.kl_div(x, y, reduction=reduction, log_target=log_target)
    want = mpk.kl_div(x, y, reduction=reduction, log_target=log_target)
    scale = _term_scale(x, y, log_target)
    if reduction == "none":
        for i in np.ndindex(x.shape):
            ref.assert_ulps(got[i], want[i], 2.0, floor=TERM * scale[i], what=f"kl none{i}")
        return
    allowance = SUM * mpk.kl_abs_terms(x, y, log_target) + TERM * mpmath.fsum(scale.ravel())
    if reduction in ("mean", "batchmean") and x.size:
        den = x.size if reduction == "mean" else (x.shape[0] if x.shape else 1)
        allowance = allowance / den if den else allowance
    ref.assert_ulps(got, want, 2.0, floor=allowance, what=f"kl {reduction}")


@SETTINGS
@given(
    case=kl_cases(),
    legacy=st.sampled_from([k for k in ref.LEGACY if k != (None, None)]),
    also=st.sampled_from(REDUCTIONS),
)
def test_legacy_arguments_override_reduction(case, legacy, also):
    x, y, log_target = case
    sa, rd = legacy
    got = oracle.kl_div(x, y, sa, rd, also, log_target)
    want = oracle.kl_div(x, y, reduction=ref.LEGACY[legacy], log_target=log_target)
    assert np.array_equal(got, want, equal_nan=True)


# -- gradients -------------------------------------------------------------------------------


@st.composite
def smooth_cases(draw: st.DrawFn):
    """Finite inputs with targets away from 0 (y log y is smooth there)."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    log_target = draw(st.booleans())
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-20.0, 3.0)))
    lo = -20.0 if log_target else 1e-3
    y = draw(hnp.arrays(np.float64, shape, elements=st.floats(lo, 3.0)))
    return x, y, log_target


@SETTINGS
@given(case=smooth_cases(), reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_gradients_match_finite_differences(case, reduction, data):
    x, y, log_target = case
    out_shape = x.shape if reduction == "none" else ()
    g = data.draw(hnp.arrays(np.float64, out_shape, elements=st.floats(-4.0, 4.0)))
    got = oracle.gradients.kl_div(x, y, reduction=reduction, log_target=log_target, grad_output=g)
    gm = ref.to_mp_array(g)

    den = {"none": 1, "sum": 1, "mean": x.size, "batchmean": x.shape[0] if x.shape else 1}

    def f(args):
        terms = [
            mpk.kl_term(args["input"][i], args["target"][i], log_target)
            for i in np.ndindex(x.shape)
        ]
        if reduction == "none":
            return mpmath.fsum(t * gm[i] for t, i in zip(terms, np.ndindex(x.shape), strict=True))
        return mpmath.fsum(terms) * gm[()] / den[reduction]

    args = {"input": ref.to_mp_array(x), "target": ref.to_mp_array(y)}
    fd = ref.central_differences(f, args, ("input", "target"), prec=2000)
    hand = mpk.kl_div_gradients(x, y, reduction, log_target, g)
    for i in np.ndindex(x.shape):
        r = abs(gm[i] if reduction == "none" else gm[()] / den[reduction])
        xv, yv = args["input"][i], args["target"][i]
        if log_target:
            base = mpmath.exp(yv) * (abs(yv) + abs(xv) + 1)
        else:
            base = abs(mpmath.log(yv)) + 1 + abs(xv)
        for name in ("input", "target"):
            cancel = TERM * r * base if name == "target" else 0
            ref.assert_ulps(got[name][i], fd[name][i], 4.0, floor=cancel, what=f"d/d{name}{i}")
            ref.assert_ulps(got[name][i], hand[name][i], 4.0, floor=cancel, what=f"{name}{i}")


def test_gradient_at_a_zero_target_is_the_one_sided_minus_inf():
    """y log y - y x at y = 0: the one-sided derivative (y log y - y x) / y -> -inf."""
    x = np.array([-1.0, 2.0, -math.inf, math.inf])
    y = np.zeros(4)
    g = oracle.gradients.kl_div(x, y, reduction="none")
    assert list(g["target"][:2]) == [-math.inf, -math.inf]
    assert np.isnan(g["target"][2])  # -inf + 1 + inf
    assert g["target"][3] == -math.inf
    assert np.all(g["input"] == 0)
    h = mpmath.mpf(10) ** -30
    for xv in (-1.0, 2.0):
        q = (mpk.kl_term(ref.to_mpf(xv), h, False) - 0) / h
        assert q < -60  # the difference quotient falls without bound as h -> 0


def test_log_target_minus_inf_is_the_limit():
    """t = -inf: the limit of exp(t) (t - x) and of its t-derivative is 0 for finite x."""
    x = np.array([-1.0, 3.0, -math.inf, math.nan])
    t = np.full(4, -math.inf)
    v = oracle.kl_div(x, t, reduction="none", log_target=True)
    g = oracle.gradients.kl_div(x, t, reduction="none", log_target=True)
    assert list(v[:2]) == [0, 0] and np.isnan(v[2:]).all()
    assert list(g["target"][:2]) == [0, 0] and np.isnan(g["target"][2:]).all()
    assert np.all(g["input"] == 0)
    for tv in (-50.0, -200.0, -1000.0):  # the limit, approached
        term = mpk.kl_term(mpmath.mpf(-1), mpmath.mpf(tv), True)
        assert abs(term) < mpmath.mpf(10) ** (tv / 3)


def test_zero_targets_follow_0_log_0():
    x = np.array([-1.0, 0.0, 5.0, -math.inf, math.inf, math.nan])
    for zero in (0.0, -0.0):
        v = oracle.kl_div(x, np.full(6, zero), reduction="none")
        assert list(v[:3]) == [0, 0, 0] and np.isnan(v[3:]).all()


def test_infinite_log_target_difference_with_underflowing_exp():
    """exp(-1e300) underflows long double (exp(-1e4) = 1e-4343 still fits), yet exp(t) > 0
    for every finite t: times t - x = +inf the term is +inf, not 0 * inf."""
    v = oracle.kl_div(np.array([-math.inf]), np.array([-1e300]), reduction="none", log_target=True)
    assert v[0] == math.inf
    g = oracle.gradients.kl_div(
        np.array([-math.inf]), np.array([-1e300]), reduction="none", log_target=True
    )
    assert g["target"][0] == math.inf


# -- reductions and invariants ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "den"), [((), 1), ((5,), 5), ((2, 3), 2), ((3, 1, 2), 3), ((1, 4), 1)]
)
def test_batchmean_divides_the_sum_by_size_0(shape, den):
    n = math.prod(shape)
    x = -np.linspace(0.5, 2.0, n).reshape(shape)
    y = np.linspace(0.1, 0.9, n).reshape(shape)
    total = oracle.kl_div(x, y, reduction="sum")
    assert oracle.kl_div(x, y, reduction="batchmean") == total / np.longdouble(den)
    assert oracle.kl_div(x, y, reduction="mean") == total / np.longdouble(max(n, 1))
    g = oracle.gradients.kl_div(x, y, reduction="batchmean")
    gs = oracle.gradients.kl_div(x, y, reduction="sum")
    for name in ("input", "target"):  # (g / B) * d against (g * d) / B: one WORK rounding
        want = gs[name] / np.longdouble(den)
        assert np.all(np.abs(g[name] - want) <= 2.0**-62 * np.abs(want))


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0,)])
def test_empty_inputs(shape):
    x = y = np.zeros(shape)
    assert oracle.kl_div(x, y, reduction="sum") == 0
    assert np.isnan(oracle.kl_div(x, y, reduction="mean"))
    bm = oracle.kl_div(x, y, reduction="batchmean")
    assert np.isnan(bm) if shape[0] == 0 else bm == 0
    assert oracle.kl_div(x, y, reduction="none").shape == shape


@SETTINGS
@given(case=kl_cases(edge=False))
def test_log_target_agrees_with_probability_target(case):
    x, y, log_target = case
    if log_target:
        return
    a = oracle.kl_div(x, y, reduction="none")
    with np.errstate(all="ignore"):
        t = np.log(y.astype(np.longdouble))
        b = oracle.kl_div(x, t, reduction="none", log_target=True)
        yl = y.astype(np.longdouble)
        # log y rounded in WORK (2**-64 |t|) moves exp(t) by 2**-64 |t| relative
        scale = np.abs(yl) * (np.abs(t) + np.abs(x.astype(np.longdouble)) + 1) * (np.abs(t) + 1)
        ok = np.isfinite(scale) & (yl > 0)
        assert np.all(np.abs(a - b)[ok] <= 2.0**-60 * scale[ok] + 1e-300)
    assert np.all(a[yl == 0] == 0) and np.all(b[yl == 0] == 0)


@SETTINGS
@given(case=kl_cases(), reduction=st.sampled_from(("sum", "mean", "batchmean")))
def test_reductions_are_of_the_unreduced_loss(case, reduction):
    x, y, log_target = case
    none = oracle.kl_div(x, y, reduction="none", log_target=log_target)
    got = oracle.kl_div(x, y, reduction=reduction, log_target=log_target)
    with np.errstate(all="ignore"):
        total = np.sum(none, dtype=np.longdouble)
        den = {"sum": 1, "mean": x.size, "batchmean": x.shape[0] if x.shape else 1}[reduction]
        want = total / np.longdouble(den) if reduction != "sum" else total
    assert np.array_equal(got, want, equal_nan=True)


# -- rejected inputs ---------------------------------------------------------------------------

X = [[-1.0, -2.0], [-0.5, -3.0]]
Y = [[0.5, 0.5], [0.25, 0.75]]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"input": X, "target": Y, "reduction": "avg"}, "reduction"),
        ({"input": X, "target": Y, "reduction": None}, "reduction"),
        ({"input": X, "target": [0.5, 0.5]}, "target"),
        ({"input": [-1.0, -2.0], "target": Y}, "target"),
        ({"input": X, "target": [[0.5], [0.5]]}, "target"),
        ({"input": X, "target": Y, "log_target": 1}, "log_target"),
        ({"input": X, "target": Y, "log_target": "yes"}, "log_target"),
        ({"input": X, "target": Y, "size_average": 1}, "size_average"),
        ({"input": X, "target": Y, "reduce": "no"}, "reduce"),
        ({"input": [[True, False]], "target": [[0.5, 0.5]]}, "input"),
        ({"input": X, "target": np.array(Y, dtype=complex)}, "target"),
        ({"input": X, "target": Y, "reduction": "none", "grad_output": [1.0]}, "grad_output"),
        ({"input": X, "target": Y, "reduction": "batchmean", "grad_output": [1.0]}, "grad_output"),
    ],
)
def test_rejected_inputs(kwargs, argument):
    kw = dict(kwargs)
    grad_output = kw.pop("grad_output", None)
    with pytest.raises(OracleInputError) as err:
        if grad_output is None:
            oracle.kl_div(**kw)
        else:
            oracle.gradients.kl_div(**kw, grad_output=grad_output)
    assert err.value.argument == argument
    if grad_output is None:
        with pytest.raises(OracleInputError):
            oracle.gradients.kl_div(**kw)


def test_legacy_arguments_are_validated_after_resolution():
    """A legacy argument overrides reduction, which is then not looked at."""
    v = oracle.kl_div(X, Y, size_average=False, reduction="bogus")
    assert v == oracle.kl_div(X, Y, reduction="sum")
