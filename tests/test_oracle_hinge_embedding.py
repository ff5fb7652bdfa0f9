"""The HingeEmbeddingLoss oracle against an independent 50-digit mpmath reference
(tests/mp_kl_hinge.py), its gradient against mpmath central finite differences away from
the kink, the documented subgradient at the kink, its invariants and every input it rejects.

Budgets. Values: within 2 float64 ULPs of mpmath (NaN and ±inf by class): a term is x
itself or margin - x rounded once in WORK; a reduction of terms of both signs (x may be
negative for y = 1) cancels, and the oracle's long-double sum is then off by at most
(N - 1) 2**-64 of the sum of the magnitudes, below 2**-58 of it here (SUM). Gradients: the
slopes are ±1 and 0 times the seed g or g / N: within 2 ULPs of the finite difference
away from the kink (|margin - x| > 1e-6 relative), and exactly -g (or -g / N) at it.
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
from oracle.hinge_embedding_loss import gradients_active_at_tie as hinge_active_at_tie
from tests import mp_kl_hinge as mpk
from tests import mp_reference as ref

REDUCTIONS = ("none", "mean", "sum")
SUM = ref.mpf(2) ** -58
SETTINGS = settings(
    derandomize=True,
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
MARGINS = st.one_of(
    st.sampled_from([1.0, 0.0, -1.0, 0.5, 2.0, math.inf, -math.inf, math.nan]),
    st.floats(-1e3, 1e3),
)


@st.composite
def hinge_cases(draw: st.DrawFn, edge: bool = True):
    shape = draw(SHAPES)
    elements = st.floats(-8.0, 8.0)
    if edge:
        elements = st.one_of(elements, st.sampled_from(ref.EDGE))
    x = draw(hnp.arrays(np.float64, shape, elements=elements))
    n = math.prod(shape)
    y = np.array(draw(st.lists(st.sampled_from((1.0, -1.0)), min_size=n, max_size=n)))
    margin = draw(MARGINS) if edge else draw(st.floats(-4.0, 4.0))
    if draw(st.booleans()):  # put some inputs exactly on the kink
        m = float(np.float64(margin))
        if math.isfinite(m):
            picks = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
            x = np.where(picks.reshape(shape), m, x)
    dtype = draw(st.sampled_from((np.float64, np.float32, np.float16)))
    with np.errstate(all="ignore"):
        return x.astype(dtype), y.reshape(shape).astype(dtype), margin


def _abs_sum(x, y, margin) -> mpmath.mpf:
    xs, ys, m = ref.to_mp_array(x), ref.to_mp_array(y), ref.to_mpf(margin)
    terms = [mpk.hinge_term(xs[i], ys[i], m) for i in np.ndindex(xs.shape)]
    return mpmath.fsum(abs(t) for t in terms if not (mpmath.isnan(t) or mpmath.isinf(t)))


@SETTINGS
@given(case=hinge_cases(), reduction=st.sampled_from(REDUCTIONS))
def test_values_match_mpmath(case, reduction):
    x, y, margin = case
    got = oracle.hinge_embedding_loss(x, y, margin=margin, reduction=reduction)
    want = mpk.hinge_embedding_loss(x, y, margin=margin, reduction=reduction)
    if reduction == "none":
        ref.assert_ulps(got, want, 2.0, what="hinge none")
        return
    floor = SUM * _abs_sum(x, y, margin) / (max(x.size, 1) if reduction == "mean" else 1)
    ref.assert_ulps(got, want, 2.0, floor=floor, what=f"hinge {reduction}")


@SETTINGS
@given(
    case=hinge_cases(),
    legacy=st.sampled_from([k for k in ref.LEGACY if k != (None, None)]),
    also=st.sampled_from(REDUCTIONS),
)
def test_legacy_arguments_override_reduction(case, legacy, also):
    x, y, margin = case
    sa, rd = legacy
    got = oracle.hinge_embedding_loss(x, y, margin, sa, rd, also)
    want = oracle.hinge_embedding_loss(x, y, margin, reduction=ref.LEGACY[legacy])
    assert np.array_equal(got, want, equal_nan=True)


@SETTINGS
@given(case=hinge_cases(), reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_gradient_matches_the_hand_formula(case, reduction, data):
    """Every element, the kink included, against the reference's slopes times the seed."""
    x, y, margin = case
    shape = x.shape if reduction == "none" else ()
    g = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-4.0, 4.0)))
    got = oracle.gradients.hinge_embedding_loss(
        x, y, margin=margin, reduction=reduction, grad_output=g
    )
    assert sorted(got) == ["input"]
    want = mpk.hinge_gradient(x, y, margin, reduction, g)
    ref.assert_ulps(got["input"], want, 2.0, what="d/dinput")


@SETTINGS
@given(case=hinge_cases(edge=False), reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_gradient_matches_finite_differences_away_from_the_kink(case, reduction, data):
    x, y, margin = case
    x = x.astype(np.float64)
    shape = x.shape if reduction == "none" else ()
    g = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-4.0, 4.0)))
    got = oracle.gradients.hinge_embedding_loss(
        x, y, margin=margin, reduction=reduction, grad_output=g
    )["input"]
    gm, m = ref.to_mp_array(g), ref.to_mpf(margin)
    ys = ref.to_mp_array(y)
    n = max(x.size, 1)

    def f(args):
        terms = [mpk.hinge_term(args["input"][i], ys[i], m) for i in np.ndindex(x.shape)]
        if reduction == "none":
            return mpmath.fsum(t * gm[i] for t, i in zip(terms, np.ndindex(x.shape), strict=True))
        total = mpmath.fsum(terms) * gm[()]
        return total / n if reduction == "mean" else total

    kink = np.abs(margin - x) <= 1e-6 * np.maximum(np.abs(x), 1.0)
    args = {"input": ref.to_mp_array(x)}
    fd = ref.central_differences(f, args, ("input",), skip={"input": kink}, prec=2000)
    for i in np.ndindex(x.shape):
        if not kink[i]:
            ref.assert_ulps(got[i], fd["input"][i], 2.0, what=f"d/dinput{i}")


@pytest.mark.parametrize("margin", [1.0, 0.0, -1.0, 0.5, 1e300])
def test_subgradient_at_the_kink_is_zero(margin):
    """x = margin, y = -1: the oracle's documented subgradient 0 (the hinge is inactive at
    0) lies in the subdifferential [-1, 0], between the one-sided derivatives (-1 left of
    the kink, 0 right of it); ``gradients_active_at_tie`` gives the left one, -1."""
    x = np.array([margin, margin])
    y = np.array([-1.0, 1.0])
    g = oracle.gradients.hinge_embedding_loss(x, y, margin=margin, reduction="none")["input"]
    assert list(g) == [0, 1]
    other = hinge_active_at_tie(x, y, margin=margin, reduction="none")
    assert list(other["input"]) == [-1, 1]
    assert oracle.hinge_embedding_loss(x, y, margin=margin, reduction="none")[0] == 0
    h = mpmath.mpf(10) ** -20 * max(1, abs(margin))
    m = ref.to_mpf(margin)
    left = (mpk.hinge_term(m, -1, m) - mpk.hinge_term(m - h, -1, m)) / h
    right = (mpk.hinge_term(m + h, -1, m) - mpk.hinge_term(m, -1, m)) / h
    assert abs(left + 1) < mpmath.mpf(10) ** -25 and right == 0
    assert left <= float(g[0]) <= right
    mean = oracle.gradients.hinge_embedding_loss(x, y, margin=margin)["input"]
    assert list(mean) == [0, 0.5]


def test_nonfinite_hinges():
    x = np.array([math.nan, math.inf, -math.inf, math.nan, math.inf])
    y = np.array([-1.0, -1.0, -1.0, 1.0, 1.0])
    v = oracle.hinge_embedding_loss(x, y, reduction="none")
    g = oracle.gradients.hinge_embedding_loss(x, y, reduction="none")["input"]
    assert np.isnan(v[0]) and v[1] == 0 and v[2] == math.inf and np.isnan(v[3])
    assert v[4] == math.inf
    assert np.isnan(g[0]) and list(g[1:]) == [0, -1, 1, 1]
    v = oracle.hinge_embedding_loss(
        [math.inf, 0.0], [-1.0, -1.0], margin=math.inf, reduction="none"
    )
    assert np.isnan(v[0]) and v[1] == math.inf


@SETTINGS
@given(
    case=hinge_cases(edge=False),
    shift=st.sampled_from([-2.0, -0.5, 0.25, 1.0, 3.0]),
    margin=st.sampled_from([0.0, 0.5, 1.0, -1.0, 2.0]),
)
def test_shifting_input_and_margin_together_changes_no_hinge(case, shift, margin):
    """max(0, (m + c) - (x + c)) = max(0, m - x): exact for dyadic margins and shifts of
    float16 and float32 values held in float64."""
    x, y, _ = case
    x64 = x.astype(np.float64)
    neg = y == -1
    a = oracle.hinge_embedding_loss(x64, y, margin=margin, reduction="none")
    b = oracle.hinge_embedding_loss(x64 + shift, y, margin=margin + shift, reduction="none")
    if x.dtype != np.float64:
        assert np.array_equal(a[neg], b[neg])
    assert np.array_equal(a[~neg], x64[~neg])


@SETTINGS
@given(case=hinge_cases(), reduction=st.sampled_from(("sum", "mean")))
def test_reductions_are_of_the_unreduced_loss(case, reduction):
    x, y, margin = case
    none = oracle.hinge_embedding_loss(x, y, margin=margin, reduction="none")
    got = oracle.hinge_embedding_loss(x, y, margin=margin, reduction=reduction)
    with np.errstate(all="ignore"):
        total = np.sum(none, dtype=np.longdouble)
        want = total / np.longdouble(x.size) if reduction == "mean" else total
    assert np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3)])
def test_empty_inputs(shape):
    x = y = np.ones(shape)
    assert oracle.hinge_embedding_loss(x, y, reduction="sum") == 0
    assert np.isnan(oracle.hinge_embedding_loss(x, y))
    assert oracle.gradients.hinge_embedding_loss(x, y)["input"].shape == shape


# -- rejected inputs ---------------------------------------------------------------------------

X = [[0.5, -1.0], [2.0, 0.0]]
Y = [[1.0, -1.0], [-1.0, 1.0]]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"input": X, "target": Y, "reduction": "avg"}, "reduction"),
        ({"input": X, "target": Y, "reduction": "batchmean"}, "reduction"),
        ({"input": X, "target": [[1.0, 0.0], [-1.0, 1.0]]}, "target"),
        ({"input": X, "target": [[1.0, 2.0], [-1.0, 1.0]]}, "target"),
        ({"input": X, "target": [[1.0, 0.5], [-1.0, 1.0]]}, "target"),
        ({"input": X, "target": [[1.0, math.nan], [-1.0, 1.0]]}, "target"),
        ({"input": X, "target": [[1.0, -math.inf], [-1.0, 1.0]]}, "target"),
        ({"input": X, "target": [1.0, -1.0]}, "target"),
        ({"input": [0.5, -1.0], "target": Y}, "target"),
        ({"input": X, "target": Y, "margin": True}, "margin"),
        ({"input": X, "target": Y, "margin": "1"}, "margin"),
        ({"input": X, "target": Y, "margin": [1.0, 2.0]}, "margin"),
        ({"input": X, "target": Y, "size_average": 0}, "size_average"),
        ({"input": [[True, False]], "target": [[1.0, 1.0]]}, "input"),
        ({"input": X, "target": Y, "reduction": "none", "grad_output": [1.0]}, "grad_output"),
    ],
)
def test_rejected_inputs(kwargs, argument):
    kw = dict(kwargs)
    grad_output = kw.pop("grad_output", None)
    with pytest.raises(OracleInputError) as err:
        if grad_output is None:
            oracle.hinge_embedding_loss(**kw)
        else:
            oracle.gradients.hinge_embedding_loss(**kw, grad_output=grad_output)
    assert err.value.argument == argument
    if grad_output is None:
        with pytest.raises(OracleInputError):
            oracle.gradients.hinge_embedding_loss(**kw)


def test_integer_labels_are_labels():
    """The docs ask for a tensor "containing 1 or -1", not for a dtype: int64 ±1 is fine."""
    a = oracle.hinge_embedding_loss(X, np.array(Y, dtype=np.int64), reduction="none")
    b = oracle.hinge_embedding_loss(X, Y, reduction="none")
    assert np.array_equal(a, b)
