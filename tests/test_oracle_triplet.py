"""The triplet oracles (triplet_margin_loss, triplet_margin_with_distance_loss) against the
independent mpmath reference of tests/mp_triplet.py, central finite differences, their
subgradients at the kinks, invariants and every input error.

Budgets: the oracle is within 2 float64 ULPs of the reference, plus, because the hinge
argument z = d(a, p) - d_neg + margin cancels, an absolute allowance of
2**-58 (|d(a, p)| + |d_neg| + |margin|) per row (each distance is computed in long
double to a few units of 2**-64 relative, the two additions add two more: fewer than 64
units of 2**-64 = 2**-58), summed over the rows for 'sum' and divided by N for 'mean'.
Gradients: within 4 ULPs of 50-digit central differences (step 1e-30 relative, at 6000
bits) plus 2**-56 (1 + sum of the magnitudes of the distance gradients combined) for the
cancelling combination G1(a, p) - G1(a, n), away from the kinks (rows with |z|, a swap gap
|d(a, n) - d(p, n)| or a coordinate |v_k| below 1e-3 are skipped); the subgradients at the
kinks are checked explicitly.
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
from oracle._distance import PairwiseDistance
from oracle.triplet_margin_loss import gradients_active_at_tie as triplet_active_at_tie
from oracle.triplet_margin_with_distance_loss import (
    gradients_active_at_tie as with_distance_active_at_tie,
)
from tests import mp_reference as ref
from tests import mp_triplet as mpt

mpf = ref.mpf
REDUCTIONS = ("none", "mean", "sum")
DISTANCES = (None, "pairwise", "cosine", "one_sided_sq", "count")
CANCEL = mpf(2) ** -58
SETTINGS = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def triples(draw, lo=-8.0, hi=8.0):
    d = draw(st.integers(1, 4))
    shape = (d,) if draw(st.booleans()) else (draw(st.integers(1, 3)), d)
    el = st.floats(lo, hi, allow_subnormal=False)
    return [draw(hnp.arrays(np.float64, shape, elements=el)) for _ in range(3)]


def _rows_scale(a, p, n, dist, margin, swap) -> list:
    """|d(a, p)| + |d_neg| + |margin| per row, from the reference's own distances."""
    A, P, N = (ref.to_mp_array(v) for v in (a, p, n))
    d_ap, d_an = dist(A, P), dist(A, N)
    d_pn = dist(P, N) if swap else d_an
    return [
        abs(x) + abs(min(y, z) if swap else y) + abs(mpf(margin))
        for x, y, z in zip(d_ap, d_an, d_pn, strict=True)
    ]


def _compare(got, want, scales, reduction) -> None:
    if reduction == "none":
        flat_w = np.asarray(want, dtype=object).reshape(-1)
        flat_g = np.asarray(got).reshape(-1)
        for g, w, s in zip(flat_g, flat_w, scales, strict=True):
            ref.assert_ulps(g, w, 2.0, floor=CANCEL * s, what="none")
        return
    total = mpmath.fsum(scales)
    floor = CANCEL * total / (len(scales) if reduction == "mean" else 1)
    ref.assert_ulps(got, want, 2.0, floor=floor, what=reduction)


@SETTINGS
@given(
    x=triples(),
    p=st.sampled_from((1, 2, 1.5, 3, 0.5, -1.0)),
    eps=st.sampled_from((1e-6, 0.0, 0.25)),
    margin=st.sampled_from((1.0, 0.5, 2.5, 1e-3)),
    swap=st.booleans(),
    reduction=st.sampled_from(REDUCTIONS),
)
def test_triplet_margin_loss_matches_mpmath(x, p, eps, margin, swap, reduction):
    a, pos, n = x
    got = oracle.triplet_margin_loss(
        a, pos, n, margin=margin, p=p, eps=eps, swap=swap, reduction=reduction
    )
    want = mpt.reference(a, pos, n, margin=margin, pnorm=p, eps=eps, swap=swap, reduction=reduction)
    dist = mpt.distance(None, ref.to_mpf(p), eps)
    _compare(got, want, _rows_scale(a, pos, n, dist, margin, swap), reduction)


@SETTINGS
@given(
    x=triples(),
    name=st.sampled_from(DISTANCES),
    margin=st.sampled_from((1.0, 0.0, 0.5, 2.5)),
    swap=st.booleans(),
    reduction=st.sampled_from(REDUCTIONS),
)
def test_with_distance_matches_mpmath(x, name, margin, swap, reduction):
    a, pos, n = x
    got = oracle.triplet_margin_with_distance_loss(
        a, pos, n, distance_function=name, margin=margin, swap=swap, reduction=reduction
    )
    want = mpt.reference(
        a, pos, n, distance_function=name, margin=margin, swap=swap, reduction=reduction
    )
    _compare(got, want, _rows_scale(a, pos, n, mpt.distance(name), margin, swap), reduction)


# -- gradients ------------------------------------------------------------------------------


def _fd(a, p, n, dist, margin, swap, reduction, g):
    args = {k: ref.to_mp_array(v) for k, v in zip(("a", "p", "n"), (a, p, n), strict=True)}
    gm = ref.to_mp_array(g)

    def f(m):
        out = mpt.triplet_mp(m["a"], m["p"], m["n"], dist, mpf(margin), swap, reduction)
        if reduction == "none":
            return mpmath.fsum(o * w for o, w in zip(np.ravel(out), np.ravel(gm), strict=True))
        return out * gm[()]

    return ref.central_differences(f, args, ("a", "p", "n"))


def _away_from_kinks(a, p, n, dist, margin, swap, pnorm, eps) -> bool:
    A, P, N = (ref.to_mp_array(v) for v in (a, p, n))
    d_ap, d_an = dist(A, P), dist(A, N)
    d_pn = dist(P, N) if swap else d_an
    for x, y, z in zip(d_ap, d_an, d_pn, strict=True):
        neg = z if swap and z < y else y
        if abs(x - neg + mpf(margin)) < 1e-3 or (swap and abs(y - z) < 1e-3):
            return False
    if pnorm is not None:
        pairs = [(a, p), (a, n), (p, n)]
        if any(np.min(np.abs(u - v + eps), initial=1.0) < 1e-3 for u, v in pairs):
            return False
    return True


@SETTINGS
@given(
    x=triples(),
    p=st.sampled_from((1, 2, 1.5, 3)),
    eps=st.sampled_from((1e-6, 0.25)),
    swap=st.booleans(),
    reduction=st.sampled_from(REDUCTIONS),
    data=st.data(),
)
def test_triplet_gradients_match_finite_differences(x, p, eps, swap, reduction, data):
    a, pos, n = x
    margin = 2.0
    dist = mpt.distance(None, ref.to_mpf(p), eps)
    if not _away_from_kinks(a, pos, n, dist, margin, swap, p, eps):
        return
    shape = () if reduction != "none" else a.shape[:-1]
    g = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2)))
    got = oracle.gradients.triplet_margin_loss(
        a, pos, n, margin=margin, p=p, eps=eps, swap=swap, reduction=reduction, grad_output=g
    )
    want = _fd(a, pos, n, dist, margin, swap, reduction, g)
    for mine, theirs in (("anchor", "a"), ("positive", "p"), ("negative", "n")):
        ref.assert_ulps(got[mine], want[theirs], 4.0, floor=mpf(2) ** -53, what=mine)


@SETTINGS
@given(
    x=triples(),
    name=st.sampled_from(("cosine", "one_sided_sq", None)),
    swap=st.booleans(),
    reduction=st.sampled_from(REDUCTIONS),
)
def test_with_distance_gradients_match_finite_differences(x, name, swap, reduction):
    a, pos, n = x
    margin = 1.5
    dist = mpt.distance(name)
    eps = 0.0 if name == "one_sided_sq" else 1e-6
    if not _away_from_kinks(a, pos, n, dist, margin, swap, None if name == "cosine" else 2, eps):
        return
    g = np.ones(() if reduction != "none" else a.shape[:-1])
    got = oracle.gradients.triplet_margin_with_distance_loss(
        a, pos, n, distance_function=name, margin=margin, swap=swap, reduction=reduction
    )
    want = _fd(a, pos, n, dist, margin, swap, reduction, g)
    for mine, theirs in (("anchor", "a"), ("positive", "p"), ("negative", "n")):
        ref.assert_ulps(got[mine], want[theirs], 4.0, floor=mpf(2) ** -50, what=mine)


# -- subgradients at the kinks --------------------------------------------------------------


def test_hinge_tie_takes_slope_zero():
    """z = 0 exactly: the documented subgradient 0 (inactive); gradients_active_at_tie gives
    the other one-sided derivative (slope 1), for both losses."""
    a, p, n = [[0.0, 0.0]], [[2.0, 0.0]], [[3.0, 0.0]]
    g = oracle.gradients.triplet_margin_loss(a, p, n, eps=0.0, reduction="sum")
    assert oracle.triplet_margin_loss(a, p, n, eps=0.0, reduction="sum") == 0
    assert all(np.all(v == 0) for v in g.values())
    exact = PairwiseDistance(2, 0.0)
    g = oracle.gradients.triplet_margin_with_distance_loss(
        a, p, n, distance_function=exact, reduction="sum"
    )
    assert all(np.all(v == 0) for v in g.values())
    for other in (
        triplet_active_at_tie(a, p, n, eps=0.0, reduction="sum"),
        with_distance_active_at_tie(a, p, n, distance_function=exact, reduction="sum"),
    ):
        assert other["positive"][0, 0] == 1 and other["negative"][0, 0] == -1
        assert other["anchor"][0, 0] == 0


@pytest.mark.parametrize("p", [1, 2, 1.5, 3, 0.5])
def test_zero_difference_takes_subgradient_zero(p):
    a = [[1.0, 2.0]]
    g = oracle.gradients.triplet_margin_loss(a, a, [[3.0, 2.0]], margin=4.0, p=p, eps=0.0)
    assert np.all(g["positive"] == 0)
    # with eps > 0 the distance is ||eps e||_p and its gradient e (|eps| / d)^(p-1)
    g = oracle.gradients.triplet_margin_loss(a, a, [[3.0, 2.0]], margin=4.0, p=2, reduction="sum")
    np.testing.assert_allclose(np.asarray(g["positive"], dtype=float), [[-(0.5**0.5)] * 2])


def test_p1_equal_coordinate_takes_sign_zero():
    g = oracle.gradients.triplet_margin_loss(
        [[1.0, 2.0]], [[1.0, 0.0]], [[3.0, 2.0]], margin=4.0, p=1, eps=0.0, reduction="sum"
    )
    assert g["positive"][0, 0] == 0 and g["positive"][0, 1] == -1  # d|a - p|/dp = -1


def test_swap_tie_keeps_the_anchor_distance():
    a, p, n = [[0.0]], [[0.25]], [[0.125]]
    g = oracle.gradients.triplet_margin_loss(a, p, n, p=1, eps=0.0, swap=True, reduction="sum")
    assert (g["anchor"][0, 0], g["positive"][0, 0], g["negative"][0, 0]) == (0, 1, -1)


def test_count_distance_has_zero_gradient():
    g = oracle.gradients.triplet_margin_with_distance_loss(
        [[0.0, 1.0]], [[0.0, 2.0]], [[1.0, 1.0]], distance_function="count"
    )
    assert all(np.all(v == 0) for v in g.values())


# -- invariants -------------------------------------------------------------------------------


@SETTINGS
@given(x=triples(), reduction=st.sampled_from(REDUCTIONS), swap=st.booleans())
def test_default_distance_is_pairwise_p2_eps_1e6(x, reduction, swap):
    a, p, n = x
    one = oracle.triplet_margin_loss(a, p, n, swap=swap, reduction=reduction)
    for name in (None, "pairwise"):
        two = oracle.triplet_margin_with_distance_loss(
            a, p, n, distance_function=name, swap=swap, reduction=reduction
        )
        np.testing.assert_array_equal(one, two)


@SETTINGS
@given(x=triples())
def test_mean_is_sum_over_rows_and_legacy_mapping(x):
    a, p, n = x
    none = oracle.triplet_margin_loss(a, p, n, reduction="none")
    total = oracle.triplet_margin_loss(a, p, n, reduction="sum")
    rows = max(none.size, 1)
    assert oracle.triplet_margin_loss(a, p, n) == total / rows
    assert oracle.triplet_margin_loss(a, p, n, size_average=False) == total
    np.testing.assert_array_equal(oracle.triplet_margin_loss(a, p, n, reduce=False), none)


def test_swap_only_lowers_the_negative_distance():
    a, p, n = np.array([[0.0, 0.0]]), np.array([[3.0, 0.0]]), np.array([[4.0, 0.0]])
    assert oracle.triplet_margin_loss(a, p, n, swap=False, eps=0.0) == 0
    assert oracle.triplet_margin_loss(a, p, n, swap=True, eps=0.0) == 3 - 1 + 1


def test_empty_batch():
    z = np.zeros((0, 3))
    assert math.isnan(oracle.triplet_margin_loss(z, z, z))
    assert oracle.triplet_margin_loss(z, z, z, reduction="sum") == 0


# -- input errors ------------------------------------------------------------------------------

A = [[0.0, 1.0]]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"p": 0}, "p"),
        ({"p": math.inf}, "p"),
        ({"p": math.nan}, "p"),
        ({"p": True}, "p"),
        ({"margin": 0.0}, "margin"),
        ({"margin": -1.0}, "margin"),
        ({"margin": math.nan}, "margin"),
        ({"swap": 1}, "swap"),
        ({"reduction": "avg"}, "reduction"),
        ({"size_average": 1}, "size_average"),
    ],
)
def test_triplet_margin_loss_input_errors(kwargs, argument):
    with pytest.raises(OracleInputError) as info:
        oracle.triplet_margin_loss(A, A, A, **kwargs)
    assert info.value.argument == argument


@pytest.mark.parametrize(
    ("shapes", "argument"),
    [
        (((2,), (3,), (2,)), "positive"),
        (((1, 2), (1, 2), (2,)), "negative"),
        (((1, 2), (1, 2), (2, 2)), "negative"),
        (((1, 1, 2),) * 3, "anchor"),
        (((),) * 3, "anchor"),
    ],
)
def test_triplet_margin_loss_shape_errors(shapes, argument):
    a, p, n = (np.zeros(s) for s in shapes)
    with pytest.raises(OracleInputError) as info:
        oracle.triplet_margin_loss(a, p, n)
    assert info.value.argument == argument


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"margin": -1.0}, "margin"),
        ({"margin": math.nan}, "margin"),
        ({"reduction": "avg"}, "reduction"),
        ({"distance_function": "manhattan"}, "distance_function"),
        ({"distance_function": len}, "distance_function"),
    ],
)
def test_with_distance_input_errors(kwargs, argument):
    with pytest.raises(OracleInputError) as info:
        oracle.triplet_margin_with_distance_loss(A, A, A, **kwargs)
    assert info.value.argument == argument
    with pytest.raises(OracleInputError):
        oracle.triplet_margin_with_distance_loss(np.zeros(()), np.zeros(()), np.zeros(()))
