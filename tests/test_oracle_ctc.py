"""The CTC oracle (``oracle.ctc_loss``) against an independent brute-force mpmath reference.

The reference enumerates every path ``pi`` in ``C^T'`` (T' <= 6, C <= 4), collapses it (repeats
removed, then blanks) and sums ``exp(sum_t x[t, pi_t])`` over the paths that give the target,
at 50 digits (``fsum``, exact inputs). It never calls the oracle or its lattice. Budgets:

- a loss within 2 float64 ULPs, plus an absolute floor of 2^-55 for a loss near 0. Derivation:
  the scaled path forms p with a relative error below 4 T' u (u = 2^-64, every term positive,
  see ``oracle/_ctc_lattice.py``), then ``log p = log p_hat + e ln 2`` with ``|e| <= 200`` here:
  an absolute error below (4 T' + 2 + 200) u < 2^-56 whatever the size of the loss;
- a gradient within 2 ULPs plus 2^-58 times the seed (``-r gamma``, gamma in [0, 1] has the
  same relative error as p); the scores gradient ``softmax * sum(g) - g`` cancels: its terms
  are at most ``|r|`` each, so the same absolute floor 2^-58 |r| covers it.
"""

from __future__ import annotations

import functools
import itertools
import math

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracle._common import WORK, OracleInputError
from oracle._ctc_lattice import Lattice, _logspace, _scaled, solve
from oracle.ctc_loss import (
    ctc_loss,
    ctc_loss_from_scores,
    ctc_loss_from_scores_gradients,
    ctc_loss_gradients,
)
from tests.mp_reference import assert_ulps, mpf, to_mpf

mpmath.mp.dps = 50
NINF = -math.inf
LOSS_FLOOR = mpmath.ldexp(1, -55)
GRAD_FLOOR = mpmath.ldexp(1, -58)
SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------------------------------
# The brute-force reference


def collapse(path: tuple[int, ...], blank: int) -> tuple[int, ...]:
    """B(pi): remove repeated symbols, then blanks."""
    kept = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
    return tuple(c for c in kept if c != blank)


@functools.cache
def target_paths(
    steps: int, C: int, target: tuple[int, ...], blank: int
) -> tuple[tuple[int, ...], ...]:
    """Every path of ``steps`` symbols in [0, C) whose collapse is ``target``."""
    return tuple(
        pi for pi in itertools.product(range(C), repeat=steps) if collapse(pi, blank) == target
    )


def path_probs(x: list[list], paths: tuple[tuple[int, ...], ...]) -> list:
    """``exp(sum_t x[t][pi_t])`` of each path (x: rows of mpf)."""
    return [mpmath.exp(mpmath.fsum(x[t][c] for t, c in enumerate(pi))) for pi in paths]


def mp_rows(x2: np.ndarray, steps: int) -> list[list]:
    """The first ``steps`` rows of a (T, C) array as exact mpf values."""
    return [[to_mpf(v) for v in x2[t]] for t in range(steps)]


def bf_loss(x2: np.ndarray, target, steps: int, blank: int):
    """-log p(target | x2[:steps]) by enumeration."""
    paths = target_paths(steps, x2.shape[1], tuple(int(c) for c in target), blank)
    p = mpmath.fsum(path_probs(mp_rows(x2, steps), paths))
    return -mpmath.log(p) if p != 0 else mpmath.inf


def bf_occupation(
    x2: np.ndarray, target, steps: int, blank: int, rows: list[list] | None = None
) -> np.ndarray:
    """gamma[t, c] = (sum of the probabilities of the target paths with pi_t = c) / p, of
    ``x2`` (or of the mpf ``rows`` when given)."""
    T, C = x2.shape
    paths = target_paths(steps, C, tuple(int(c) for c in target), blank)
    probs = path_probs(mp_rows(x2, steps) if rows is None else rows, paths)
    p = mpmath.fsum(probs)
    occ = np.empty((T, C), dtype=object)
    for t in range(T):
        for c in range(C):
            if t >= steps:
                occ[t, c] = mpf(0)
                continue
            occ[t, c] = mpmath.fsum(q for q, pi in zip(probs, paths, strict=True) if pi[t] == c) / p
    return occ


def mp_div(a, b):
    """a / b with IEEE division by zero (the documented 'mean' at U_n = 0)."""
    if b != 0 or mpmath.isnan(a):
        return a / b if b != 0 else mpmath.nan
    if a == 0:
        return mpmath.nan
    return mpmath.inf if a > 0 else -mpmath.inf


def mp_reduce(losses: list, lengths: list[int], reduction: str):
    if reduction == "none":
        out = np.empty(len(losses), dtype=object)
        out[:] = losses
        return out
    if reduction == "sum":
        return mpmath.fsum(losses)
    return mpmath.fsum(mp_div(v, u) for v, u in zip(losses, lengths, strict=True)) / len(losses)


def mp_seed(reduction: str, lengths: list[int], grad_output) -> list:
    """d(output)/d(loss_n) times grad_output."""
    N = len(lengths)
    if reduction == "none":
        g = [mpf(1)] * N if grad_output is None else [to_mpf(v) for v in grad_output]
        return g
    g = mpf(1) if grad_output is None else to_mpf(grad_output)
    if reduction == "sum":
        return [g] * N
    return [mp_div(g, N * u) for u in lengths]


def log_normalise(z: np.ndarray) -> np.ndarray:
    """float64 log-probabilities from scores (plain numpy; -inf scores stay -inf)."""
    finite = np.where(np.isfinite(z), z, -np.inf)
    m = np.max(finite, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lse = m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))
        out = z - lse
    return np.where(np.isneginf(z), -np.inf, out)


# ---------------------------------------------------------------------------------------
# Problems


@st.composite
def problems(draw, max_t: int = 5, max_c: int = 4, max_n: int = 3, max_u: int = 3) -> dict:
    # sizes drawn as "largest minus k": hypothesis shrinks k towards 0, so the simplest
    # examples are the largest lattices, not empty ones
    C = max_c - draw(st.integers(0, max_c - 2))
    T = max_t - draw(st.integers(0, max_t - 1))
    N = max_n - draw(st.integers(0, max_n - 1))
    blank = draw(st.sampled_from(sorted({C - 1, 0, C // 2})))
    labels = [c for c in range(C) if c != blank]
    targets = [
        draw(st.lists(st.sampled_from(labels), min_size=u, max_size=u))
        for u in (max_u - draw(st.integers(0, max_u)) for _ in range(N))
    ]
    il = [T - draw(st.integers(0, T)) for _ in range(N)]
    z = np.array(
        draw(st.lists(st.floats(-3, 3), min_size=T * N * C, max_size=T * N * C)), dtype=np.float64
    ).reshape(T, N, C)
    for _ in range(draw(st.integers(0, 2))):
        t, n, c = (
            draw(st.integers(0, T - 1)),
            draw(st.integers(0, N - 1)),
            draw(st.integers(0, C - 1)),
        )
        z[t, n, c] = NINF
    x = log_normalise(z)
    pad = draw(st.integers(0, 1))
    S = max(len(t) for t in targets) + pad
    filler = draw(st.integers(-3, C + 3))  # padding beyond U_n is never read
    padded = np.full((N, S), filler, dtype=np.int64)
    for n, tg in enumerate(targets):
        padded[n, : len(tg)] = tg
    return {
        "x": x,
        "z": z,
        "targets": targets,
        "padded": padded,
        "il": il,
        "tl": [len(t) for t in targets],
        "blank": blank,
    }


def ref_losses(pb: dict) -> list:
    return [
        bf_loss(pb["x"][:, n], pb["targets"][n], pb["il"][n], pb["blank"])
        for n in range(len(pb["il"]))
    ]


def concat(targets: list[list[int]]) -> np.ndarray:
    return np.array([c for tg in targets for c in tg], dtype=np.int64)


# ---------------------------------------------------------------------------------------
# Forward against brute force, every reduction, layout and length type


@SETTINGS
@given(pb=problems(max_t=6))
def test_loss_matches_brute_force(pb):
    x, il, tl, blank = pb["x"], pb["il"], pb["tl"], pb["blank"]
    losses = ref_losses(pb)
    for reduction in ("none", "sum", "mean"):
        got = ctc_loss(x, pb["padded"], il, tl, blank=blank, reduction=reduction)
        assert got.dtype == WORK
        want = mp_reduce(losses, tl, reduction)
        assert_ulps(got, want, floor=LOSS_FLOOR, what=reduction)
    # zero_infinity: infinite losses become 0 before the 'mean' division
    zeroed = [mpf(0) if mpmath.isinf(v) else v for v in losses]
    for reduction in ("none", "sum", "mean"):
        got = ctc_loss(
            x, pb["padded"], il, tl, blank=blank, reduction=reduction, zero_infinity=True
        )
        assert_ulps(got, mp_reduce(zeroed, tl, reduction), floor=LOSS_FLOOR, what=reduction)


@SETTINGS
@given(pb=problems())
def test_layouts_and_length_types_agree_exactly(pb):
    x, il, tl, blank = pb["x"], pb["il"], pb["tl"], pb["blank"]
    base = ctc_loss(x, pb["padded"], il, tl, blank=blank, reduction="none")
    flat = ctc_loss(x, concat(pb["targets"]), il, tl, blank=blank, reduction="none")
    np.testing.assert_array_equal(flat, base)
    for kind in (np.int32, np.int64):
        typed = ctc_loss(
            x,
            pb["padded"].astype(kind),
            np.array(il, kind),
            np.array(tl, kind),
            blank=blank,
            reduction="none",
        )
        np.testing.assert_array_equal(typed, base)
    for n in range(x.shape[1]):
        tg = np.array(pb["targets"][n], dtype=np.int64)
        for lens in ((il[n], tl[n]), (np.array(il[n]), np.array(tl[n])), ([il[n]], [tl[n]])):
            one = ctc_loss(x[:, n], tg, lens[0], lens[1], blank=blank, reduction="none")
            assert one.shape == ()
            np.testing.assert_array_equal(one, base[n])
        # unbatched padded form: a (1, S) target read up to U
        longer = np.concatenate([tg, [(blank + 1) % x.shape[2]]])[None, :]
        one = ctc_loss(x[:, n], longer, il[n], tl[n], blank=blank, reduction="none")
        np.testing.assert_array_equal(one, base[n])


def test_mean_at_zero_target_length():
    """'mean' divides each loss by U_n: +inf for a positive loss, NaN for 0/0."""
    x = np.log(np.array([[[0.6, 0.4]], [[0.6, 0.4]]]))  # T=2, N=1, C=2
    empty = np.zeros((1, 0), dtype=np.int64)
    assert ctc_loss(x, empty, [2], [0], reduction="mean") == np.inf
    assert_ulps(ctc_loss(x, empty, [2], [0], reduction="sum"), -2 * mpmath.log(to_mpf(0.6)))
    # T' = 0 and U = 0: the empty alignment, p = 1, loss 0, 'mean' 0/0
    assert ctc_loss(x, empty, [0], [0], reduction="none")[0] == 0
    assert np.isnan(ctc_loss(x, empty, [0], [0], reduction="mean"))
    # T' = 0 and U = 1: infeasible
    assert ctc_loss(x, [[1]], [0], [1], reduction="none")[0] == np.inf
    assert ctc_loss(x, [[1]], [0], [1], reduction="mean", zero_infinity=True) == 0


# ---------------------------------------------------------------------------------------
# The classic worked example (derived by hand)


def classic_x(steps: int) -> np.ndarray:
    """Classes blank=0, a=1, b=2 with probabilities 0.6, 0.4, 0 at every step (T, C)."""
    with np.errstate(divide="ignore"):
        return np.tile(np.log(np.array([0.6, 0.4, 0.0])), (steps, 1))


def test_classic_example():
    x = classic_x(2)
    # target "a" at T=2: alignments a-a (0.4*0.4 = 0.16), a-blank (0.24), blank-a (0.24)
    loss = ctc_loss(x, np.array([1]), 2, 1, reduction="none")
    assert math.isclose(float(loss), -math.log(0.16 + 0.24 + 0.24), rel_tol=1e-15)
    assert math.isclose(float(loss), 0.4462871026284195, rel_tol=1e-15)
    # the alignment "a a" alone has probability 0.16 (-log 0.16 = 1.8325814637483102); it is
    # the only alignment of "aa" of length 2 without a blank between the repeated labels, and
    # it collapses to "a", so "aa" is infeasible at T = 2:
    assert collapse((1, 1), 0) == (1,) and collapse((1, 0, 1), 0) == (1, 1)
    aa = ctc_loss(x, np.array([1, 1]), 2, 2, reduction="none")
    assert aa == np.inf
    assert ctc_loss(x, np.array([1, 1]), 2, 2, reduction="none", zero_infinity=True) == 0
    g = ctc_loss_gradients(x, np.array([1, 1]), 2, 2, reduction="none")["log_probs"]
    assert np.all(np.isnan(g))
    g0 = ctc_loss_gradients(x, np.array([1, 1]), 2, 2, reduction="sum", zero_infinity=True)
    np.testing.assert_array_equal(g0["log_probs"], np.zeros((2, 3)))
    # "aa" at T = 3: the single alignment a-blank-a, 0.4 * 0.6 * 0.4 = 0.096
    aa3 = ctc_loss(classic_x(3), np.array([1, 1]), 3, 2, reduction="none")
    assert math.isclose(float(aa3), -math.log(0.096), rel_tol=1e-15)
    # "b": every alignment passes through b (probability 0): infinite loss
    assert ctc_loss(x, np.array([2]), 2, 1, reduction="none") == np.inf
    # "" : the all-blank alignment, 0.36
    assert math.isclose(
        float(ctc_loss(x, np.zeros(0, np.int64), 2, 0, reduction="none")),
        -math.log(0.36),
        rel_tol=1e-15,
    )
    # gradient of "a": gamma_t(a) = (0.16 + 0.24) / 0.64 = 0.625, gamma_t(blank) = 0.375, at
    # both steps; b is never used (exact 0)
    ga = ctc_loss_gradients(x, np.array([1]), 2, 1, reduction="none")["log_probs"]
    np.testing.assert_allclose(
        ga.astype(float), [[-0.375, -0.625, 0], [-0.375, -0.625, 0]], rtol=1e-15
    )
    assert np.all(ga[:, 2] == 0)
    # with scores z = x: softmax - gamma = (0.6 - 0.375, 0.4 - 0.625, 0) = (0.225, -0.225, 0)
    gz = ctc_loss_from_scores_gradients(x, np.array([1]), 2, 1, reduction="none")["scores"]
    np.testing.assert_allclose(gz.astype(float), [[0.225, -0.225, 0]] * 2, rtol=1e-14)
    assert np.all(gz[:, 2] == 0)
    # 'mean' divides by U = 1: the same; 'mean' of "aa" at T = 3 divides by 2
    assert math.isclose(
        float(ctc_loss(classic_x(3), np.array([1, 1]), 3, 2)), -math.log(0.096) / 2, rel_tol=1e-15
    )


# ---------------------------------------------------------------------------------------
# Gradients


def mp_grad_from_occupations(pb: dict, reduction: str, grad_output) -> np.ndarray:
    """-r_n gamma_t(c) from the brute-force occupations; 0 for t >= T'_n."""
    x, il, tl = pb["x"], pb["il"], pb["tl"]
    T, N, C = x.shape
    r = mp_seed(reduction, tl, grad_output)
    out = np.empty((T, N, C), dtype=object)
    for n in range(N):
        occ = bf_occupation(x[:, n], pb["targets"][n], il[n], pb["blank"])
        for t in range(T):
            for c in range(C):
                out[t, n, c] = -r[n] * occ[t, c] if t < il[n] else mpf(0)
    return out


def finite_problem(pb: dict) -> bool:
    return all(mpmath.isfinite(v) for v in ref_losses(pb))


@SETTINGS
@given(pb=problems(), data=st.data())
def test_gradient_matches_occupations(pb, data):
    if not finite_problem(pb):
        return
    x, il, tl, blank = pb["x"], pb["il"], pb["tl"], pb["blank"]
    N = x.shape[1]
    for reduction in ("none", "sum", "mean"):
        if reduction == "mean" and 0 in tl:
            continue
        go = None
        if data.draw(st.booleans()):
            go = (
                np.array(data.draw(st.lists(st.floats(-4, 4), min_size=N, max_size=N)))
                if reduction == "none"
                else np.float64(data.draw(st.floats(-4, 4)))
            )
        got = ctc_loss_gradients(
            x, pb["padded"], il, tl, blank=blank, reduction=reduction, grad_output=go
        )["log_probs"]
        want = mp_grad_from_occupations(pb, reduction, go)
        scale = max((abs(v) for v in mp_seed(reduction, tl, go)), default=mpf(1))
        assert_ulps(got, want, floor=GRAD_FLOOR * scale, what=reduction)
        # beyond the input lengths: exactly +0.0
        for n in range(N):
            tail = got[il[n] :, n]
            assert np.all(tail == 0) and not np.any(np.signbit(tail))
        # entries at -inf: exact zeros
        assert np.all(got[np.isneginf(x)] == 0)


def fd_sample(x2: np.ndarray, target, steps: int, blank: int, scores: bool) -> np.ndarray:
    """Central differences of loss_n (of log_softmax(x2) when ``scores``) in mpmath."""
    T, C = x2.shape
    paths = target_paths(steps, C, tuple(int(c) for c in target), blank)
    h = mpf("1e-20")
    base = mp_rows(x2, T)

    def loss(rows):
        if scores:
            rows = [
                [v - mpmath.log(mpmath.fsum(mpmath.exp(w) for w in row)) for v in row]
                for row in rows
            ]
        return -mpmath.log(mpmath.fsum(path_probs(rows, paths)))

    out = np.empty((T, C), dtype=object)
    with mpmath.workdps(60):
        for t in range(T):
            for c in range(C):
                if t >= steps:
                    out[t, c] = mpf(0)
                    continue
                plus = [row[:] for row in base]
                minus = [row[:] for row in base]
                plus[t][c] += h
                minus[t][c] -= h
                out[t, c] = (loss(plus) - loss(minus)) / (2 * h)
    return out


@settings(SETTINGS, max_examples=20)
@given(pb=problems(max_t=4, max_c=3, max_n=2, max_u=2))
def test_gradients_match_central_differences(pb):
    x, z, il, tl, blank = pb["x"], pb["z"], pb["il"], pb["tl"], pb["blank"]
    if not np.all(np.isfinite(z)) or not finite_problem(pb):
        return
    g = ctc_loss_gradients(x, pb["padded"], il, tl, blank=blank, reduction="sum")["log_probs"]
    gz = ctc_loss_from_scores_gradients(z, pb["padded"], il, tl, blank=blank, reduction="sum")
    for n in range(x.shape[1]):
        want = fd_sample(x[:, n], pb["targets"][n], il[n], blank, scores=False)
        assert_ulps(g[:, n], want, floor=GRAD_FLOOR, what="free")
        want_z = fd_sample(z[:, n], pb["targets"][n], il[n], blank, scores=True)
        assert_ulps(gz["scores"][:, n], want_z, floor=GRAD_FLOOR, what="scores")


@SETTINGS
@given(pb=problems(max_t=4))
def test_scores_gradient_identity(pb):
    """d loss / d z = r (softmax(z) sum_c gamma - gamma), gamma from brute force."""
    z, il, tl, blank = pb["z"], pb["il"], pb["tl"], pb["blank"]
    if not finite_problem(pb):
        return
    got = ctc_loss_from_scores_gradients(z, pb["padded"], il, tl, blank=blank, reduction="sum")[
        "scores"
    ]
    T, N, C = z.shape
    want = np.empty((T, N, C), dtype=object)
    for n in range(N):
        zr = [[to_mpf(v) for v in z[t, n]] for t in range(T)]
        lse = [mpmath.log(mpmath.fsum(mpmath.exp(v) for v in row)) for row in zr]
        xr = [[v - lse[t] for v in row] for t, row in enumerate(zr)]  # exact log_softmax
        occ = bf_occupation(z[:, n], pb["targets"][n], il[n], blank, rows=xr)
        for t in range(T):
            total = mpmath.fsum(occ[t])
            for c in range(C):
                sm = mpmath.exp(xr[t][c])
                want[t, n, c] = sm * total - occ[t, c] if t < il[n] else mpf(0)
    assert_ulps(got, want, floor=GRAD_FLOOR, what="scores")
    # the occupations of a step sum to 1: the gradient of each read step sums to 0
    sums = np.sum(got.astype(np.float64), axis=2)
    assert np.all(np.abs(sums) < 1e-15)
    # the loss through log_softmax is the loss of the oracle's log_softmax
    np.testing.assert_array_equal(
        ctc_loss_from_scores(z, pb["padded"], il, tl, blank=blank, reduction="none"),
        ctc_loss(
            np.asarray(ctc_log_softmax(z)), pb["padded"], il, tl, blank=blank, reduction="none"
        ),
    )


def ctc_log_softmax(z):
    from oracle.ctc_loss import log_softmax

    return log_softmax(z)


def test_infeasible_gradients_nan_or_zero():
    x = classic_x(3)[:, None, :].repeat(2, axis=1)  # (3, 2, 3)
    targets = np.array([[1, 1], [1, 2]])  # sample 1: "ab", b has probability 0
    il, tl = [3, 2], [2, 2]
    for reduction in ("none", "sum", "mean"):
        g = ctc_loss_gradients(x, targets, il, tl, reduction=reduction)["log_probs"]
        assert np.all(np.isfinite(g[:, 0]))
        assert np.all(np.isnan(g[:2, 1])) and np.all(g[2:, 1] == 0)
        gz = ctc_loss_gradients(x, targets, il, tl, reduction=reduction, zero_infinity=True)
        assert np.all(gz["log_probs"][:, 1] == 0)
        np.testing.assert_array_equal(gz["log_probs"][:, 0], g[:, 0])
        s = ctc_loss_from_scores_gradients(x, targets, il, tl, reduction=reduction)["scores"]
        assert np.all(np.isnan(s[:2, 1])) and np.all(s[2:, 1] == 0)


def test_grad_output_shape_errors():
    x = classic_x(2)
    with pytest.raises(OracleInputError) as info:
        ctc_loss_gradients(x, np.array([1]), 2, 1, reduction="sum", grad_output=np.ones(2))
    assert info.value.argument == "grad_output"


# ---------------------------------------------------------------------------------------
# The two evaluation paths


def random_problem(rng: np.random.Generator, T: int, N: int, C: int, S: int, blank: int):
    x = log_normalise(rng.normal(size=(T, N, C)) * 2)
    labels = np.array([c for c in range(C) if c != blank])
    tl = rng.integers(0, S + 1, size=N)
    il = rng.integers(0, T + 1, size=N)
    il[0] = T
    targets = [labels[rng.integers(0, labels.size, size=u)] for u in tl]
    return x.astype(WORK), targets, il


@pytest.mark.parametrize(("T", "C", "S"), [(1, 3, 1), (7, 4, 3), (100, 10, 20), (1000, 20, 60)])
def test_scaled_and_logspace_agree(T, C, S):
    """|log p_scaled - log p_log| <= 8 u T (1 + |log p|), u = 2^-64, a worst case.

    Scaled: each step forms a sum of at most three non-negative terms (2 roundings), y = exp(x)
    (1, plus exp's own error below 1 ulp) and one product (1); the power-of-two rescaling is
    exact: a relative error below 5u per step, 5 T u on p, so 5 T u + u |log p| on log p.
    Log space: each step rounds two logaddexp and one addition of x, each an absolute error of
    about u |log alpha_t| + u, where the dominant states have |log alpha_t| <= |log p|: at
    most 3 T u (1 + |log p|) in all. Both together stay under 8 T u (1 + |log p|). The
    occupations exp(alpha + b - log p) inherit the same absolute error in their exponent:
    |gamma_s - gamma_l| <= 8 T u (1 + |log p|) gamma + u. (Measured: about 1% of the bound
    at T = 1000, 20480 u for |log p| = 3700: the roundings do not all add up.)"""
    rng = np.random.default_rng(T)
    for blank in (0, C - 1):
        x, targets, il = random_problem(rng, T, 5, C, S, blank)
        lat = Lattice.build(x, targets, il, blank)
        probs = np.where(x == -np.inf, 0, np.exp(x)).astype(WORK)
        lp_s, g_s, fine = _scaled(lat, probs, True)
        lp_l, g_l = _logspace(lat, True)
        assert fine.all()
        u = np.ldexp(WORK(1), -64)
        ok = np.isfinite(lp_l)
        np.testing.assert_array_equal(np.isfinite(lp_s), ok)
        bound = 8 * u * T * (1 + np.abs(lp_l[ok]))
        assert np.all(np.abs(lp_s[ok] - lp_l[ok]) <= bound)
        gbound = (8 * u * T * (1 + np.abs(lp_l)))[None, :, None]
        diff = np.abs(g_s - g_l)[:, ok]
        assert np.all(diff <= gbound[:, ok] + u)
        # solve takes the scaled answer here
        res = solve(lat, False)
        np.testing.assert_array_equal(res.log_p, lp_s)


def logspace_answer(x: np.ndarray, targets, il, blank: int = 0) -> np.ndarray:
    x3 = np.asarray(x, dtype=WORK)[:, None, :]
    lat = Lattice.build(x3, [np.asarray(targets, np.int64)], np.array([il]), blank)
    return -_logspace(lat, False)[0]


@pytest.mark.parametrize("big", [44.0, 45.0, 50.0, 1000.0])
def test_large_log_prob_fallback(big):
    x = log_normalise(np.array([[0.1, 0.5, -0.3], [0.2, 0.0, 1.0], [0.3, -1.0, 0.4]]))
    x[1, 1] = big  # on some paths of "1 2"
    want = bf_loss(x, [1, 2], 3, 0)
    got = ctc_loss(x, np.array([1, 2]), 3, 2, reduction="none")
    assert_ulps(got, want, floor=LOSS_FLOOR)
    if big > 44.5:
        np.testing.assert_array_equal(got, logspace_answer(x, [1, 2], 3))


def test_tiny_log_prob_fallback():
    x = log_normalise(np.array([[0.1, 0.5, -0.3], [0.2, 0.0, 1.0], [0.3, -1.0, 0.4]]))
    x[1] = [-5000.0, -5000.5, -5001.25]  # every path passes step 1
    want = bf_loss(x, [1, 2], 3, 0)
    assert 5000 < want < 5010
    got = ctc_loss(x, np.array([1, 2]), 3, 2, reduction="none")
    assert_ulps(got, want)
    np.testing.assert_array_equal(got, logspace_answer(x, [1, 2], 3))
    # only on some paths: the others dominate
    y = log_normalise(np.array([[0.1, 0.5, -0.3], [0.2, 0.0, 1.0], [0.3, -1.0, 0.4]]))
    y[1, 0] = -5000.0
    assert_ulps(ctc_loss(y, np.array([1, 2]), 3, 2, reduction="none"), bf_loss(y, [1, 2], 3, 0))
    g = ctc_loss_gradients(y, np.array([1, 2]), 3, 2, reduction="sum")["log_probs"]
    want_g = -bf_occupation(y, [1, 2], 3, 0)
    assert_ulps(g, want_g, floor=GRAD_FLOOR)


def test_underflowing_lattice_falls_back():
    """A long input where one state's alpha falls far below its row's maximum."""
    T = 1000
    x = np.full((T, 3), -0.01)
    x[:, 2] = -400.0  # label 2 almost never
    x = log_normalise(x)
    got = ctc_loss(x, np.array([1, 2, 1]), T, 3, reduction="none")
    np.testing.assert_array_equal(got, logspace_answer(x, [1, 2, 1], T))
    assert np.isfinite(got)


def test_nan_log_probs():
    x = log_normalise(np.array([[0.1, 0.5, -0.3], [0.2, 0.0, 1.0], [0.3, -1.0, 0.4]]))
    # NaN on a read step of a used class: NaN loss (the brute force sum is NaN)
    y = x.copy()
    y[1, 1] = np.nan
    assert mpmath.isnan(bf_loss(y, [1, 2], 3, 0))
    assert np.isnan(ctc_loss(y, np.array([1, 2]), 3, 2, reduction="none"))
    # NaN beyond the input length or in a class the target does not use: not read
    y = x.copy()
    y[2, 1] = np.nan
    assert_ulps(ctc_loss(y, np.array([1, 2]), 2, 2, reduction="none"), bf_loss(y, [1, 2], 2, 0))
    y = x.copy()
    y[1, 2] = np.nan
    assert_ulps(ctc_loss(y, np.array([1]), 3, 1, reduction="none"), bf_loss(y, [1], 3, 0))


# ---------------------------------------------------------------------------------------
# Bad input


def _raises(argument: str, *args, **kwargs) -> None:
    for fn in (ctc_loss, ctc_loss_gradients, ctc_loss_from_scores, ctc_loss_from_scores_gradients):
        with pytest.raises(OracleInputError) as info:
            fn(*args, **kwargs)
        assert info.value.argument == argument, str(info.value)


X3 = log_normalise(np.zeros((4, 2, 3)))
X2 = log_normalise(np.zeros((4, 3)))
PAD = np.array([[1, 2], [2, 0]])


@pytest.mark.parametrize(
    ("argument", "args", "kwargs"),
    [
        ("targets", (X3, np.array([[1, 3], [2, 0]]), [4, 4], [2, 1]), {}),
        ("targets", (X3, np.array([[1, -1], [2, 0]]), [4, 4], [2, 1]), {}),
        ("targets", (X3, np.array([[1, 0], [2, 0]]), [4, 4], [2, 1]), {}),  # blank inside
        ("targets", (X3, np.array([1, 2, 2]), [4, 4], [2, 1]), {"blank": 2}),
        ("targets", (X2, np.array([1, 5]), 4, 2), {}),
        ("target_lengths", (X3, PAD, [4, 4], [3, 1]), {}),  # > S
        ("target_lengths", (X3, np.array([1, 2, 2]), [4, 4], [1, 1]), {}),  # sum != len
        ("target_lengths", (X2, np.array([1, 2]), 4, 3), {}),  # unbatched > S
        ("input_lengths", (X3, PAD, [5, 4], [2, 1]), {}),
        ("input_lengths", (X3, PAD, [-1, 4], [2, 1]), {}),
        ("target_lengths", (X3, PAD, [4, 4], [-1, 1]), {}),
        ("input_lengths", (X3, PAD, [4, 4, 4], [2, 1]), {}),
        ("target_lengths", (X3, PAD, [4, 4], [2]), {}),
        ("input_lengths", (X2, np.array([1]), [4, 4], 1), {}),
        ("targets", (X3, np.array([[1, 2]]), [4, 4], [2, 1]), {}),  # padded rows != N
        ("targets", (X3, np.ones((2, 2, 1), np.int64), [4, 4], [1, 1]), {}),
        ("targets", (X2, np.array([[1, 2], [1, 2]]), 4, 2), {}),  # unbatched, 2 rows
        ("target_lengths", (X2, np.array([[1, 2]]), 4, 3), {}),  # unbatched (1, S), U > S
        ("blank", (X3, PAD, [4, 4], [2, 1]), {"blank": 3}),
        ("blank", (X3, PAD, [4, 4], [2, 1]), {"blank": -1}),
        ("blank", (X3, PAD, [4, 4], [2, 1]), {"blank": 0.0}),
        ("blank", (X3, PAD, [4, 4], [2, 1]), {"blank": True}),
        ("targets", (X3, PAD.astype(np.float64), [4, 4], [2, 1]), {}),
        ("input_lengths", (X3, PAD, [4.0, 4.0], [2, 1]), {}),
        ("target_lengths", (X3, PAD, [4, 4], np.array([2.0, 1.0])), {}),
        ("target_lengths", (X3, PAD, [4, 4], [True, False]), {}),
        ("reduction", (X3, PAD, [4, 4], [2, 1]), {"reduction": "avg"}),
        ("reduction", (X3, PAD, [4, 4], [2, 1]), {"reduction": None}),
        ("zero_infinity", (X3, PAD, [4, 4], [2, 1]), {"zero_infinity": 1}),
        ("zero_infinity", (X3, PAD, [4, 4], [2, 1]), {"zero_infinity": "yes"}),
        ("zero_infinity", (X3, PAD, [4, 4], [2, 1]), {"zero_infinity": None}),
        ("log_probs", (np.zeros(4), np.array([1]), 4, 1), {}),
        ("log_probs", (np.zeros((4, 2, 3, 1)), PAD, [4, 4], [2, 1]), {}),
        ("log_probs", (X3.astype(bool), PAD, [4, 4], [2, 1]), {}),
    ],
)
def test_input_errors(argument, args, kwargs):
    if argument == "log_probs":
        for fn in (ctc_loss, ctc_loss_gradients):
            with pytest.raises(OracleInputError) as info:
                fn(*args, **kwargs)
            assert info.value.argument == argument
        return
    _raises(argument, *args, **kwargs)


# ---------------------------------------------------------------------------------------
# Invariants


@SETTINGS
@given(pb=problems(), data=st.data())
def test_shifting_a_step_shifts_the_loss(pb, data):
    x, il, tl, blank = pb["x"], pb["il"], pb["tl"], pb["blank"]
    T, N, _ = x.shape
    t, n = data.draw(st.integers(0, T - 1)), data.draw(st.integers(0, N - 1))
    k = data.draw(st.sampled_from([-3.0, -0.5, 0.25, 2.0, 7.0]))
    base = ctc_loss(x, pb["padded"], il, tl, blank=blank, reduction="none")
    y = x.copy()
    y[t, n] += k
    got = ctc_loss(y, pb["padded"], il, tl, blank=blank, reduction="none")
    others = np.arange(N) != n
    np.testing.assert_array_equal(got[others], base[others])
    if t >= il[n] or not np.isfinite(base[n]):
        np.testing.assert_array_equal(got[n], base[n])
        return
    # every alignment passes step t once: loss - k, to rounding (2 ULPs of each + floor)
    want = to_mpf(base[n]) - to_mpf(k)
    assert_ulps(got[n], want, ulps=4, floor=2 * LOSS_FLOOR)


@SETTINGS
@given(pb=problems(), data=st.data())
def test_relabelling_classes(pb, data):
    x, il, tl, blank = pb["x"], pb["il"], pb["tl"], pb["blank"]
    C = x.shape[2]
    perm = np.array(data.draw(st.permutations(range(C))))  # new class of old class c
    inv = np.argsort(perm)
    y = x[:, :, inv]  # y[..., perm[c]] = x[..., c]
    targets = [[int(perm[c]) for c in tg] for tg in pb["targets"]]
    base = ctc_loss(x, concat(pb["targets"]), il, tl, blank=blank, reduction="none")
    got = ctc_loss(y, concat(targets), il, tl, blank=int(perm[blank]), reduction="none")
    np.testing.assert_array_equal(got, base)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nonfinite_entry_outside_every_alignment(bad):
    """x[0, 2] (label 2 of "1 2" at t = 0): no alignment starts with the second label."""
    x = log_normalise(np.array([[0.1, 0.5, -0.3], [0.2, 0.0, 1.0], [0.3, -1.0, 0.4]]))
    x[0, 2] = bad
    want = bf_loss(x, [1, 2], 3, 0)
    assert mpmath.isfinite(want)
    assert_ulps(ctc_loss(x, np.array([1, 2]), 3, 2, reduction="none"), want)
    g = ctc_loss_gradients(x, np.array([1, 2]), 3, 2, reduction="sum")["log_probs"]
    assert g[0, 2] == 0 and np.all(np.isfinite(g))


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nonfinite_entry_after_which_no_alignment_ends(bad):
    """x[2, 1] (label 1 of "1 2" at the last step t = 2): no alignment ends on label 1."""
    x = log_normalise(np.array([[0.1, 0.5, -0.3], [0.2, 0.0, 1.0], [0.3, -1.0, 0.4]]))
    x[2, 1] = bad
    assert_ulps(ctc_loss(x, np.array([1, 2]), 3, 2, reduction="none"), bf_loss(x, [1, 2], 3, 0))
    g = ctc_loss_gradients(x, np.array([1, 2]), 3, 2, reduction="sum")["log_probs"]
    assert_ulps(g, -bf_occupation(x, [1, 2], 3, 0), floor=GRAD_FLOOR)
