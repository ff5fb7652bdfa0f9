"""The oracle of MarginRankingLoss and CosineEmbeddingLoss against an independent mpmath
reference (tests/mp_pair_margin.py), finite differences, invariants and bad input.

Budgets: 2 float64 ULPs plus a derived absolute allowance where the oracle's WORK
(64-bit significand) arithmetic meets cancellation:
- MarginRanking: z = -y (x1 - x2) + m rounds twice (the difference of two float64 values
  need not fit 64 bits, then the addition), each off by 2^-64 of its magnitude, so
  |z_oracle - z| <= 2^-63 (|x1| + |x2| + |m|); max(0, .) keeps it; sums add it per term.
- CosineEmbedding: the dot's D products and D - 1 additions, each 2^-64 relative to
  S = sum |x1_i x2_i|, the norms' (D + 1) 2^-64 relative each, sqrt, product and quotient:
  |cos_oracle - cos| <= (2D + 6) 2^-64 (S / (n1 n2) + |cos|); 1 - cos and cos - m keep
  it (+ 2^-64 for their own rounding).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import oracle
import oracle.gradients as grads
from oracle import OracleInputError
from oracle.cosine_embedding_loss import gradients_active_at_tie as cosine_active_at_tie
from oracle.margin_ranking_loss import gradients_active_at_tie as ranking_active_at_tie
from tests import mp_pair_margin as ref
from tests.mp_reference import assert_ulps, central_differences, to_mp_array, to_mpf

SETTINGS = settings(max_examples=40, derandomize=True, deadline=None, database=None)
REDUCTIONS = ("none", "mean", "sum")
E64 = mpmath.ldexp(1, -64)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)
labels = st.sampled_from((1.0, -1.0))


@st.composite
def ranking_inputs(draw):
    n = draw(st.integers(0, 5))
    shape = () if draw(st.booleans()) and n == 1 else (n,)
    x1 = draw(hnp.arrays(np.float64, shape, elements=finite))
    x2 = draw(hnp.arrays(np.float64, shape, elements=finite))
    y = draw(hnp.arrays(np.float64, shape, elements=labels))
    margin = draw(st.one_of(st.sampled_from((0.0, 1.0, -0.5)), st.floats(-10, 10)))
    return x1, x2, y, margin


def _ranking_floor(x1, x2, margin, reduction):
    a, b = np.atleast_1d(to_mp_array(x1)), np.atleast_1d(to_mp_array(x2))
    terms = [2 * E64 * (abs(p) + abs(q) + abs(to_mpf(margin))) for p, q in zip(a, b, strict=True)]
    if reduction == "none":
        return max(terms, default=mpmath.mpf(0))
    total = mpmath.fsum(terms)
    return total / max(len(terms), 1) if reduction == "mean" else total


@SETTINGS
@given(ranking_inputs(), st.sampled_from(REDUCTIONS))
def test_ranking_forward_matches_mpmath(inputs, reduction):
    x1, x2, y, m = inputs
    got = oracle.margin_ranking_loss(x1, x2, y, margin=m, reduction=reduction)
    want = ref.ranking(x1, x2, y, margin=m, reduction=reduction)
    assert_ulps(got, want, 2, _ranking_floor(x1, x2, m, reduction), "margin_ranking_loss")


@SETTINGS
@given(ranking_inputs(), st.sampled_from(REDUCTIONS))
def test_ranking_gradients_match_finite_differences(inputs, reduction):
    x1, x2, y, m = inputs
    z = -y * (x1 - x2) + m
    assume(not np.any(np.abs(z) < 1e-6))  # the kink: test_ranking_tie_subgradient_is_zero
    g = grads.margin_ranking_loss(x1, x2, y, margin=m, reduction=reduction)

    def f(a):
        out = ref.ranking_mp(a["input1"], a["input2"], a["target"], to_mpf(m), reduction)
        return mpmath.fsum(out.ravel().tolist()) if reduction == "none" else out

    args = {"input1": to_mp_array(x1), "input2": to_mp_array(x2), "target": to_mp_array(y)}
    fd = central_differences(f, args, list(args), prec=300)
    for name in args:
        assert_ulps(g[name], fd[name], 2, mpmath.mpf(10) ** -40, f"grad[{name}]")


@pytest.mark.parametrize("margin", [0.0, 0.5, -1.0])
def test_ranking_tie_subgradient_is_zero(margin):
    x1 = np.array([1.0, -0.5, 2.0])
    y = np.array([1.0, -1.0, -1.0])
    x2 = x1 - y * margin  # z = 0 exactly
    assert np.all(oracle.margin_ranking_loss(x1, x2, y, margin, reduction="none") == 0)
    g = grads.margin_ranking_loss(x1, x2, y, margin, reduction="sum")
    assert set(g) == {"input1", "input2", "target"}
    assert all(np.all(v == 0) for v in g.values())
    # one step into the active side: the slope is -y, y, -(x1 - x2)
    g = grads.margin_ranking_loss(x1, x2, y, margin + 1e-9, reduction="sum")
    np.testing.assert_array_equal(np.asarray(g["input1"], dtype=float), -y)
    # the other one-sided derivative at the tie is that active side's slope
    other = ranking_active_at_tie(x1, x2, y, margin, reduction="sum")
    np.testing.assert_array_equal(np.asarray(other["input1"], dtype=float), -y)
    np.testing.assert_array_equal(np.asarray(other["input2"], dtype=float), y)
    np.testing.assert_array_equal(np.asarray(other["target"], dtype=float), -(x1 - x2))


def test_ranking_invariants_and_edges():
    x1, x2, y = np.array([1.0, 2.0]), np.array([0.5, 3.0]), np.array([1.0, -1.0])
    a = oracle.margin_ranking_loss(x1, x2, y, 0.7, reduction="none")
    b = oracle.margin_ranking_loss(x2, x1, -y, 0.7, reduction="none")
    np.testing.assert_array_equal(a, b)  # swapping the inputs and the label
    assert np.isnan(oracle.margin_ranking_loss(np.zeros(0), np.zeros(0), np.zeros(0)))
    assert oracle.margin_ranking_loss(np.zeros(0), np.zeros(0), np.zeros(0), reduction="sum") == 0
    inf, nan = math.inf, math.nan
    got = oracle.margin_ranking_loss(
        [inf, inf, nan], [0.0, inf, 0.0], [1.0, 1.0, 1.0], 0.0, None, None, "none"
    )
    assert got[0] == 0 and np.isnan(got[1]) and np.isnan(got[2])
    g = grads.margin_ranking_loss([-inf], [0.0], [-1.0], reduction="sum")
    assert g["target"][0] == 0  # inactive: the derivative 0, not inf * 0
    assert oracle.margin_ranking_loss(x1, x2, y, 0.7, size_average=False) == np.sum(a)


nonzero = st.builds(lambda m, s: m * s, st.floats(1e-2, 1e3), st.sampled_from((1.0, -1.0)))


@st.composite
def cosine_inputs(draw, elements=finite):
    d = draw(st.integers(1, 5))
    unbatched = draw(st.booleans())
    shape = (d,) if unbatched else (draw(st.integers(0, 4)), d)
    x1 = draw(hnp.arrays(np.float64, shape, elements=elements))
    x2 = draw(hnp.arrays(np.float64, shape, elements=elements))
    y = draw(hnp.arrays(np.float64, shape[:-1], elements=labels))
    margin = draw(st.one_of(st.sampled_from((0.0, 0.5, -1.0, 1.0)), st.floats(-1, 1)))
    return x1, x2, y, margin


def _cosine_floor(x1, x2, reduction):
    a, b = to_mp_array(x1).reshape(-1, x1.shape[-1]), to_mp_array(x2).reshape(-1, x1.shape[-1])
    d = a.shape[1]
    terms = []
    for n in range(a.shape[0]):
        s = mpmath.fsum(abs(a[n, i] * b[n, i]) for i in range(d))
        den = mpmath.sqrt(mpmath.fsum(v * v for v in a[n])) * mpmath.sqrt(
            mpmath.fsum(v * v for v in b[n])
        )
        terms.append(0 if den == 0 else (2 * d + 8) * E64 * (s / den + 1))
    if reduction == "none":
        return max(terms, default=mpmath.mpf(0))
    total = mpmath.fsum(terms)
    return total / max(len(terms), 1) if reduction == "mean" else total


@SETTINGS
@given(cosine_inputs(), st.sampled_from(REDUCTIONS))
def test_cosine_forward_matches_mpmath(inputs, reduction):
    x1, x2, y, m = inputs
    got = oracle.cosine_embedding_loss(x1, x2, y, margin=m, reduction=reduction)
    want = ref.cosine(x1, x2, y, margin=m, reduction=reduction)
    assert_ulps(got, want, 2, _cosine_floor(x1, x2, reduction), "cosine_embedding_loss")


@SETTINGS
@given(cosine_inputs(nonzero), st.sampled_from(REDUCTIONS))
def test_cosine_gradients_match_finite_differences(inputs, reduction):
    x1, x2, y, m = inputs
    a, b = x1.reshape(-1, x1.shape[-1]), x2.reshape(-1, x1.shape[-1])
    n1, n2 = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    assume(a.size > 0)
    cos = np.sum(a * b, axis=1) / (n1 * n2)
    # the kink: test_cosine_tie_subgradient_is_zero
    assume(not np.any((y.reshape(-1) == -1) & (np.abs(cos - m) < 1e-6)))
    g = grads.cosine_embedding_loss(x1, x2, y, margin=m, reduction=reduction)
    assert set(g) == {"input1", "input2"}
    mm = to_mpf(m)

    def f(args):
        out = ref.cosine_mp(args["input1"], args["input2"], to_mp_array(y), mm, reduction)
        return mpmath.fsum(np.ravel(out).tolist()) if reduction == "none" else out

    args = {"input1": to_mp_array(x1), "input2": to_mp_array(x2)}
    fd = central_differences(f, args, list(args), prec=300)
    for name in args:
        scale = mpmath.mpf(float(np.max(1 / (n1 * n2)) + np.max(1 / np.minimum(n1, n2) ** 2)))
        floor = 64 * E64 * scale * float(np.max(np.abs(np.concatenate([a, b]))))
        assert_ulps(g[name], fd[name], 2, floor, f"grad[{name}]")


@pytest.mark.parametrize(
    ("x1", "x2", "margin"),
    [
        ([1.0, 2.0], [-2.0, 1.0], 0.0),
        ([1.0, 1.0, 1.0, 1.0], [3.0, 0.0, 0.0, 0.0], 0.5),
        ([2.0, 0.0], [-5.0, 0.0], -1.0),
    ],
)
def test_cosine_tie_subgradient_is_zero(x1, x2, margin):
    x1, x2, y = np.array([x1]), np.array([x2]), np.array([-1.0])
    assert oracle.cosine_embedding_loss(x1, x2, y, margin, reduction="sum") == 0
    g = grads.cosine_embedding_loss(x1, x2, y, margin, reduction="sum")
    assert all(np.all(v == 0) for v in g.values())
    # the other one-sided derivative at the tie: the active hinge's dc/dx (y = -1)
    other = cosine_active_at_tie(x1, x2, y, margin, reduction="sum")
    n1, n2 = np.linalg.norm(x1), np.linalg.norm(x2)
    dc1 = x2 / (n1 * n2) - margin * x1 / n1**2
    np.testing.assert_allclose(np.asarray(other["input1"], dtype=float), dc1, rtol=1e-15)


def test_cosine_zero_vector_and_invariants():
    z = np.array([[0.0, 0.0]])
    one = np.array([[1.0, 0.0]])
    for y in (1.0, -1.0):
        assert np.isnan(oracle.cosine_embedding_loss(z, one, np.array([y]), reduction="sum"))
        assert np.all(np.isnan(grads.cosine_embedding_loss(z, one, np.array([y]))["input1"]))
    x1 = np.array([[1.0, 2.0, -3.0]])
    x2 = np.array([[0.5, 4.0, 1.0]])
    y = np.array([1.0])
    base = oracle.cosine_embedding_loss(x1, x2, y, reduction="none")
    for s in (2.0**-66, 2.0**66, 1e-300, 1e300):
        scaled = oracle.cosine_embedding_loss(x1 * s, x2, y, reduction="none")
        np.testing.assert_allclose(np.float64(scaled), np.float64(base), rtol=1e-15)
    assert np.shape(oracle.cosine_embedding_loss(x1[0], x2[0], y[0], reduction="none")) == ()
    e = np.zeros((0, 3))
    assert np.isnan(oracle.cosine_embedding_loss(e, e, np.zeros(0)))


BAD_RANKING = [
    (([1.0, 2.0], [1.0, 2.0], [1.0, 0.0]), {}, "target"),
    (([1.0, 2.0], [1.0, 2.0], [1.0, math.nan]), {}, "target"),
    (([1.0, 2.0], [1.0], [1.0, 1.0]), {}, "input2"),
    (([1.0, 2.0], [1.0, 2.0], [1.0]), {}, "target"),
    (([1.0, 2.0], [1.0, 2.0], 1.0), {}, "target"),
    (([[1.0, 2.0]], [[1.0, 2.0]], [[1.0, 1.0]]), {}, "input1"),
    (([1.0], [1.0], [1.0]), {"reduction": "avg"}, "reduction"),
    (([1.0], [1.0], [1.0]), {"margin": "1"}, "margin"),
    (([True], [1.0], [1.0]), {}, "input1"),
]
C = [[1.0, 2.0], [3.0, 4.0]]
BAD_COSINE = [
    ((C, C, [1.0, 0.0]), {}, "target"),
    ((C, C, [1.0, 1.0]), {"margin": 1.5}, "margin"),
    ((C, C, [1.0, 1.0]), {"margin": math.nan}, "margin"),
    ((C, C[:1], [1.0, 1.0]), {}, "input2"),
    ((C, C, [1.0]), {}, "target"),
    ((C[0], C[0], [1.0]), {}, "target"),
    ((1.0, 1.0, 1.0), {}, "input1"),
    (([C], [C], [[1.0, 1.0]]), {}, "input1"),
    ((C, C, [1.0, 1.0]), {"reduction": "avg"}, "reduction"),
]


@pytest.mark.parametrize(("args", "kwargs", "argument"), BAD_RANKING)
def test_ranking_bad_input(args, kwargs, argument):
    for fn in (oracle.margin_ranking_loss, grads.margin_ranking_loss):
        with pytest.raises(OracleInputError) as exc:
            fn(*(np.asarray(a) for a in args), **kwargs)
        assert exc.value.argument == argument


@pytest.mark.parametrize(("args", "kwargs", "argument"), BAD_COSINE)
def test_cosine_bad_input(args, kwargs, argument):
    for fn in (oracle.cosine_embedding_loss, grads.cosine_embedding_loss):
        with pytest.raises(OracleInputError) as exc:
            fn(*(np.asarray(a) for a in args), **kwargs)
        assert exc.value.argument == argument
