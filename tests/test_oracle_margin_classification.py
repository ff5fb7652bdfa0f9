"""The margin classification oracles (multi_margin_loss, multilabel_margin_loss) against an
independent mpmath reference, finite differences, their invariants and input errors.

The reference below is written from the documented formulas (torch 2.13) and never calls
the oracle: each hinge argument ``margin - x[y] + x[i]`` is summed exactly (at 2300 bits,
enough for any three float64 values) and then rounded to 50 digits; ``max(0, NaN)`` is NaN;
``w[y] * max(0, z)^p`` is formed for every ``i != y``; rows are summed with ``mpmath.fsum``.

Budgets: the oracle is within 2 float64 ULPs of the reference. A reduction over rows whose
weights differ in sign may cancel; there the budget adds ``2**-58 * sum |l_n|`` (the
oracle's long-double summation: at most (K + N + 3) roundings of 2**-64 relative to the
magnitudes summed, K, N <= 6 here, < 2**-58). Inside a row every term has the sign of
``w[y]``: no cancellation. Gradients: within 4 ULPs of 50-digit central differences, away
from the hinges (an element whose hinge argument is within 1e-6 of the problem's scale of
0 is skipped); the subgradient at the hinge is checked explicitly: 0 at ``z == 0``.
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
from tests import mp_reference as ref

mpf = ref.mpf
NAN = mpmath.nan
CANCEL = mpf(2) ** -58
EXACT_BITS = 2300
REDUCTIONS = ("none", "mean", "sum")
EDGE = ref.EDGE
MARGINS = [1.0, 0.0, -0.5, 0.25, 2.0, -3.0, 1e-300, 1e300, math.inf, -math.inf, math.nan]

SETTINGS = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------------------
# The independent reference


def hinge(m, xa, xb):
    """max(0, m - xa + xb) with the argument summed exactly; NaN propagates."""
    with mpmath.workprec(EXACT_BITS):
        z = m - xa + xb
    z = +z  # rounded to the 50-digit working precision
    if mpmath.isnan(z):
        return NAN
    return z if z > 0 else mpf(0)


def reduce_rows(rows: list, reduction: str, unbatched: bool):
    if reduction == "none":
        out = np.empty(len(rows), dtype=object)
        out[:] = rows
        return out.reshape(()) if unbatched else out
    total = mpmath.fsum(rows)
    if reduction == "sum":
        return total
    return total / len(rows) if rows else NAN


def multi_margin_mp(x, y, *, p=1, margin=1.0, weight=None, reduction="mean"):
    """The documented loss on object arrays of mpf: x (N, C) or (C), y ints."""
    xs = np.asarray(x, dtype=object)
    unbatched = xs.ndim == 1
    xs = xs.reshape(-1, xs.shape[-1])
    ys = np.asarray(y).reshape(-1)
    c = xs.shape[1]
    m = ref.to_mpf(margin)
    rows = []
    for n in range(xs.shape[0]):
        yn = int(ys[n])
        wy = mpf(1) if weight is None else weight[yn]
        terms = [wy * hinge(m, xs[n, yn], xs[n, i]) ** p for i in range(c) if i != yn]
        rows.append(mpmath.fsum(terms) / c)
    return reduce_rows(rows, reduction, unbatched)


def considered(row) -> list[int]:
    out = []
    for v in row:
        if int(v) < 0:
            break
        out.append(int(v))
    return out


def multilabel_mp(x, t, *, reduction="mean"):
    xs = np.asarray(x, dtype=object)
    unbatched = xs.ndim == 1
    xs = xs.reshape(-1, xs.shape[-1])
    ts = np.asarray(t).reshape(xs.shape)
    c = xs.shape[1]
    one = mpf(1)
    rows = []
    for n in range(xs.shape[0]):
        labels = considered(ts[n])
        terms = [
            hinge(one, xs[n, j], xs[n, i]) for j in labels for i in range(c) if i not in labels
        ]
        rows.append(mpmath.fsum(terms) / c)
    return reduce_rows(rows, reduction, unbatched)


def resolve(reduction, size_average=None, reduce=None) -> str:
    return ref.effective_reduction(reduction, size_average, reduce)


def check_multi_margin(x, y, **kw) -> None:
    got = oracle.multi_margin_loss(x, y, **kw)
    assert got.dtype == oracle.WORK
    red = resolve(kw.get("reduction", "mean"), kw.get("size_average"), kw.get("reduce"))
    w = kw.get("weight")
    opts = {"p": kw.get("p", 1), "margin": kw.get("margin", 1.0)}
    wm = None if w is None else ref.to_mp_array(w)
    want = multi_margin_mp(ref.to_mp_array(x), y, weight=wm, reduction=red, **opts)
    floor = 0
    if red != "none" and w is not None and np.any(np.asarray(w) < 0):
        wa = ref.to_mp_array(np.abs(np.asarray(w)))
        rows = multi_margin_mp(ref.to_mp_array(x), y, weight=wa, reduction="none", **opts)
        finite = [abs(v) for v in np.ravel(rows) if mpmath.isfinite(v)]
        floor = CANCEL * mpmath.fsum(finite) / (len(finite) if red == "mean" and finite else 1)
    ref.assert_ulps(got, want, ulps=2, floor=floor, what=f"multi_margin_loss {kw}")


def check_multilabel(x, t, **kw) -> None:
    got = oracle.multilabel_margin_loss(x, t, **kw)
    assert got.dtype == oracle.WORK
    red = resolve(kw.get("reduction", "mean"), kw.get("size_average"), kw.get("reduce"))
    want = multilabel_mp(ref.to_mp_array(x), t, reduction=red)
    ref.assert_ulps(got, want, ulps=2, what=f"multilabel_margin_loss {kw}")


# ---------------------------------------------------------------------------------------
# Random inputs

values = st.one_of(
    st.floats(-1e6, 1e6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(EDGE),
    st.integers(-16, 16).map(lambda k: k / 8),
)
legacy = st.sampled_from(list(ref.LEGACY))


@st.composite
def scores(draw, unbatched_ok: bool = True):
    c = draw(st.integers(1, 5))
    unbatched = unbatched_ok and draw(st.integers(0, 3)) == 0
    shape = (c,) if unbatched else (draw(st.integers(0, 3)), c)
    dtype = draw(st.sampled_from([np.float64, np.float64, np.float32, np.float16]))
    elems = values if dtype is np.float64 else st.floats(width=32 if dtype is np.float32 else 16)
    return draw(hnp.arrays(dtype, shape, elements=elems))


@SETTINGS
@given(data=st.data())
def test_multi_margin_random_inputs(data):
    x = data.draw(scores())
    c = x.shape[-1]
    n = 1 if x.ndim == 1 else x.shape[0]
    ys = data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    y = np.array(ys[0] if x.ndim == 1 else ys, dtype=np.int64)
    kw: dict = {
        "p": data.draw(st.sampled_from([1, 2])),
        "margin": data.draw(st.one_of(st.sampled_from(MARGINS), st.floats(-8, 8))),
        "reduction": data.draw(st.sampled_from(REDUCTIONS)),
    }
    kw["size_average"], kw["reduce"] = data.draw(legacy)
    if data.draw(st.booleans()):
        welems = st.one_of(st.floats(-4, 4), st.sampled_from(EDGE))
        kw["weight"] = data.draw(hnp.arrays(np.float64, (c,), elements=welems))
    check_multi_margin(x, y, **kw)


@st.composite
def label_targets(draw, shape):
    c = shape[-1]
    rows = []
    for _ in range(1 if len(shape) == 1 else shape[0]):
        k = draw(st.integers(0, c))
        labels = draw(st.lists(st.integers(0, c - 1), min_size=k, max_size=k))
        rest = draw(st.lists(st.integers(-1, c - 1), min_size=c - k, max_size=c - k))
        if rest:
            rest[0] = -1
        rows.append(labels + rest)
    return np.array(rows, dtype=np.int64).reshape(shape)


@SETTINGS
@given(data=st.data())
def test_multilabel_random_inputs(data):
    x = data.draw(scores())
    t = data.draw(label_targets(x.shape))
    kw: dict = {"reduction": data.draw(st.sampled_from(REDUCTIONS))}
    kw["size_average"], kw["reduce"] = data.draw(legacy)
    check_multilabel(x, t, **kw)


@SETTINGS
@given(
    data=st.data(),
    a=st.one_of(st.floats(-1e300, 1e300), st.sampled_from([1e20, -3e16, 1e-300, 0.1])),
    m=st.one_of(st.floats(-4.0, 4.0), st.sampled_from([1.0, 1.0 + 2**-52, 1e-300, 1e-20])),
)
def test_near_the_hinge(data, a, m):
    """x[i] = fl(x[y] - margin) and its float64 neighbours: the hinge argument is the
    rounding error of that difference, tiny against the operands (a cancelling sum of
    three values of different magnitudes, where a naive long-double sum loses it)."""
    base = float(np.float64(a) - np.float64(m))
    near = [np.nextafter(base, -np.inf), base, np.nextafter(base, np.inf)]
    other = data.draw(st.floats(-8.0, 8.0))
    x = np.array([a, *near, other])
    for p in (1, 2):
        for red in REDUCTIONS:
            check_multi_margin(x, np.array(0), p=p, margin=m, reduction=red)
    one = float(np.float64(a) - 1.0)
    xl = np.array([a, np.nextafter(one, -np.inf), one, np.nextafter(one, np.inf), other])
    for red in REDUCTIONS:
        check_multilabel(xl, np.array([0, -1, 0, 0, 0]), reduction=red)


# ---------------------------------------------------------------------------------------
# Explicit inputs


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_edge_grid(reduction, p):
    """Every pair of edge values as (x[y], x[i]), and a third class at 0.5."""
    pairs = [(a, b, 0.5) for a in EDGE for b in EDGE]
    x = np.array(pairs)
    y = np.zeros(len(pairs), dtype=np.int64)
    for margin in MARGINS:
        for w in (None, np.array([2.5, -1.0, 0.5]), np.array([math.inf, 1.0, 1.0])):
            check_multi_margin(x, y, p=p, margin=margin, weight=w, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_edge_grid(reduction):
    pairs = [(a, b, 0.5) for a in EDGE for b in EDGE]
    x = np.array(pairs)
    for t in ([0, -1, 2], [0, 2, -1], [0, 0, -1], [-1, 0, 1], [2, 1, 0], [1, -1, 5]):
        tt = np.tile(np.array(t if t[2] != 5 else [1, -1, 0]), (len(pairs), 1))
        check_multilabel(x, tt, reduction=reduction)


def test_documented_examples():
    """The docstrings' worked examples, by their own arithmetic: 0.325 and 0.85."""
    x = np.array([[0.1, 0.2, 0.4, 0.8]])
    doc_mm = mpf("0.25") * ((1 - (mpf(0.8) - mpf(0.1))) + (1 - (mpf(0.8) - mpf(0.2))))
    doc_mm += mpf("0.25") * (1 - (mpf(0.8) - mpf(0.4)))
    ref.assert_ulps(oracle.multi_margin_loss(x, np.array([3])), doc_mm)
    a, b, c, d = (mpf(v) for v in (0.1, 0.2, 0.4, 0.8))
    doc_ml = mpf("0.25") * ((1 - (a - b)) + (1 - (a - c)) + (1 - (d - b)) + (1 - (d - c)))
    ref.assert_ulps(oracle.multilabel_margin_loss(x, np.array([[3, 0, -1, 1]])), doc_ml)
    check_multi_margin(x, np.array([3]))
    check_multilabel(x, np.array([[3, 0, -1, 1]]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_batch(reduction):
    x, y, t = np.zeros((0, 3)), np.zeros(0, dtype=np.int64), np.zeros((0, 3), dtype=np.int64)
    for got in (
        oracle.multi_margin_loss(x, y, reduction=reduction),
        oracle.multi_margin_loss(x, y, weight=np.ones(3), p=2, reduction=reduction),
        oracle.multilabel_margin_loss(x, t, reduction=reduction),
    ):
        if reduction == "none":
            assert got.shape == (0,)
        elif reduction == "sum":
            assert got.shape == () and got == 0
        else:
            assert got.shape == () and np.isnan(got)
    g = oracle.gradients.multi_margin_loss(x, y, reduction=reduction)["input"]
    assert g.shape == (0, 3)


def test_unbatched_equals_a_batch_of_one():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(5)
    for p in (1, 2):
        a = oracle.multi_margin_loss(x, np.array(2), p=p, reduction="none")
        b = oracle.multi_margin_loss(x[None], np.array([2]), p=p, reduction="none")
        assert a.shape == () and b.shape == (1,) and a == b[0]
    t = np.array([4, 1, -1, 0, 0])
    a = oracle.multilabel_margin_loss(x, t, reduction="none")
    b = oracle.multilabel_margin_loss(x[None], t[None], reduction="none")
    assert a.shape == () and a == b[0]


# ---------------------------------------------------------------------------------------
# Invariants


def test_reductions_and_weights_relate():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 5)) * 3
    y = np.array([0, 4, 2, 2])
    w = rng.standard_normal(5)
    for p in (1, 2):
        none = oracle.multi_margin_loss(x, y, p=p, weight=w, reduction="none")
        total = oracle.multi_margin_loss(x, y, p=p, weight=w, reduction="sum")
        mean = oracle.multi_margin_loss(x, y, p=p, weight=w, reduction="mean")
        assert abs(total - none.sum()) <= 1e-17 * np.abs(none).sum()
        assert abs(mean - total / 4) <= 1e-17 * np.abs(none).sum()
        plain = oracle.multi_margin_loss(x, y, p=p, reduction="none")
        np.testing.assert_array_equal(
            oracle.multi_margin_loss(x, y, p=p, weight=np.ones(5), reduction="none"), plain
        )
        # the weight multiplies the powered hinge: row n scales by w[y_n], for p = 2 too
        np.testing.assert_allclose(np.float64(none), np.float64(w[y] * plain), rtol=2**-60, atol=0)


def test_shift_invariance_and_zero_gradient_sum():
    """Adding one constant to every score of a row changes no hinge argument, so the loss
    is unchanged and each row's gradient sums to 0 (dz/dx_i = 1 and dz/dx_y = -1)."""
    rng = np.random.default_rng(6)
    x = np.round(rng.standard_normal((3, 4)) * 8) / 8
    y = np.array([1, 3, 0])
    t = np.array([[1, 2, -1, 0], [3, -1, 3, 3], [0, 1, 2, 3]])
    for p in (1, 2):
        a = oracle.multi_margin_loss(x, y, p=p, margin=0.75, reduction="none")
        b = oracle.multi_margin_loss(x + 0.5, y, p=p, margin=0.75, reduction="none")
        np.testing.assert_array_equal(a, b)
        g = oracle.gradients.multi_margin_loss(x, y, p=p, margin=0.75, reduction="none")
        np.testing.assert_array_equal(g["input"].sum(axis=1), 0)
    np.testing.assert_array_equal(
        oracle.multilabel_margin_loss(x, t, reduction="none"),
        oracle.multilabel_margin_loss(x - 2.0, t, reduction="none"),
    )
    g = oracle.gradients.multilabel_margin_loss(x, t, reduction="none")["input"]
    np.testing.assert_array_equal(g.sum(axis=1), 0)


def test_multilabel_with_one_label_is_multi_margin_with_p1_margin1():
    """One considered label y: sum_{i != y} max(0, 1 - x[y] + x[i]) / C, the MultiMargin
    formula with p = 1, margin = 1."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 4)) * 2
    y = np.array([0, 1, 2, 3, 1])
    t = np.full((5, 4), -1)
    t[:, 0] = y
    t[:, 2] = 3  # after the padding: ignored
    for red in REDUCTIONS:
        np.testing.assert_array_equal(
            oracle.multilabel_margin_loss(x, t, reduction=red),
            oracle.multi_margin_loss(x, y, reduction=red),
        )
        gl = oracle.gradients.multilabel_margin_loss(x, t, reduction=red)["input"]
        gm = oracle.gradients.multi_margin_loss(x, y, reduction=red)["input"]
        np.testing.assert_array_equal(gl, gm)


def test_multilabel_readings():
    """Values after the first -1 are ignored; a repeated label counts twice; no label, or
    every class a label, gives 0."""
    x = np.array([0.1, 0.2, 0.4, 0.8])
    f = oracle.multilabel_margin_loss
    base = f(x, np.array([3, 0, -1, 1]))
    for tail in ([3, 0, -1, 2], [3, 0, -1, -1], [3, 0, -1, 0]):
        assert f(x, np.array(tail)) == base
    once, twice = f(x, np.array([3, -1, 0, 0])), f(x, np.array([3, 3, -1, 1]))
    assert once > 0 and twice == 2 * once
    assert f(x, np.array([-1, 0, 1, 2])) == 0 and f(x, np.array([2, 0, 3, 1])) == 0
    g = oracle.gradients.multilabel_margin_loss(x, np.array([3, 3, -1, 1]), reduction="sum")
    g1 = oracle.gradients.multilabel_margin_loss(x, np.array([3, -1, 1, 1]), reduction="sum")
    np.testing.assert_array_equal(g["input"], 2 * g1["input"])


@pytest.mark.parametrize(("size_average", "reduce"), list(ref.LEGACY))
def test_legacy_arguments(size_average, reduce):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4))
    for red in REDUCTIONS:
        kw = {"size_average": size_average, "reduce": reduce, "reduction": red}
        check_multi_margin(x, np.array([0, 1, 3]), **kw)
        check_multilabel(x, np.array([[0, 1, -1, 0], [3, -1, 0, 0], [-1, 0, 0, 0]]), **kw)


# ---------------------------------------------------------------------------------------
# Gradients against central finite differences

GRAD_SETTINGS = settings(SETTINGS, max_examples=25)


def _near_hinge_mask(x, pairs, scale) -> np.ndarray:
    """Elements of x touched by a hinge within 1e-6 * scale of 0 (their FD would cross it)."""
    skip = np.zeros(x.shape, dtype=bool)
    for (n, a, b), z in pairs:
        if abs(z) <= 1e-6 * scale:
            skip[n, a] = skip[n, b] = True
    return skip


def _fd_check(loss: str, x, target, reduction, g, **kw):
    x2 = x.reshape(-1, x.shape[-1])
    n_rows, c = x2.shape
    t2 = np.asarray(target).reshape(n_rows, -1)
    margin = kw.get("margin", 1.0)
    pairs = []
    for n in range(n_rows):
        if loss == "multi_margin_loss":
            a = int(t2[n, 0])
            pairs += [((n, a, i), margin - x2[n, a] + x2[n, i]) for i in range(c) if i != a]
        else:
            labels = considered(t2[n])
            pairs += [
                ((n, a, i), 1.0 - x2[n, a] + x2[n, i])
                for a in labels
                for i in range(c)
                if i not in labels
            ]
    scale = max(float(np.max(np.abs(x), initial=0.0)), abs(margin), 1.0)
    skip = _near_hinge_mask(x2, pairs, scale).reshape(x.shape)
    got = getattr(oracle.gradients, loss)(x, target, reduction=reduction, grad_output=g, **kw)
    assert sorted(got) == ["input"]
    g_mp = ref.to_mp_array(g)
    weight = kw.get("weight")
    w_mp = None if weight is None else ref.to_mp_array(weight)
    opts = {k: v for k, v in kw.items() if k in ("p", "margin")}

    def scalar(args):
        if loss == "multi_margin_loss":
            out = multi_margin_mp(args["input"], target, weight=w_mp, reduction=reduction, **opts)
        else:
            out = multilabel_mp(args["input"], target, reduction=reduction)
        if reduction == "none":
            return mpmath.fsum(np.asarray(g_mp * out).ravel().tolist())
        return g_mp[()] * out

    fd = ref.central_differences(
        scalar, {"input": ref.to_mp_array(x)}, ["input"], {"input": skip}, {"input": scale}
    )["input"]
    gmax = float(np.max(np.abs(g), initial=0.0))
    wmax = 1.0 if weight is None else float(np.max(np.abs(weight), initial=1.0))
    bound = ref.mpf(2**-58) * gmax * wmax * 2 * (scale + abs(margin)) * c * c
    assert got["input"].shape == x.shape and got["input"].dtype == oracle.WORK
    for idx in np.ndindex(x.shape):
        if fd[idx] is not None:
            ref.assert_ulps(got["input"][idx], fd[idx], ulps=4, floor=bound, what=f"{loss} {kw}")


@st.composite
def grad_cases(draw):
    scale = draw(st.sampled_from([1e-200, 1e-5, 1.0, 1e5, 1e150]))
    c = draw(st.integers(1, 4))
    shape = (c,) if draw(st.integers(0, 3)) == 0 else (draw(st.integers(1, 3)), c)
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-4.0, 4.0))) * scale
    reduction = draw(st.sampled_from(REDUCTIONS))
    out = (() if len(shape) == 1 else shape[:1]) if reduction == "none" else ()
    g = draw(hnp.arrays(np.float64, out, elements=st.floats(-4.0, 4.0)))
    return x, reduction, g, scale


@GRAD_SETTINGS
@given(case=grad_cases(), data=st.data())
def test_multi_margin_gradients_match_finite_differences(case, data):
    x, reduction, g, scale = case
    c = x.shape[-1]
    n = 1 if x.ndim == 1 else x.shape[0]
    ys = data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))
    y = np.array(ys[0] if x.ndim == 1 else ys)
    kw = {
        "p": data.draw(st.sampled_from([1, 2])),
        "margin": data.draw(st.sampled_from([1.0, 0.0, -0.5, 2.5])) * scale,
    }
    if data.draw(st.booleans()):
        kw["weight"] = data.draw(hnp.arrays(np.float64, (c,), elements=st.floats(-3.0, 3.0)))
    _fd_check("multi_margin_loss", x, y, reduction, g, **kw)


@GRAD_SETTINGS
@given(case=grad_cases(), data=st.data())
def test_multilabel_gradients_match_finite_differences(case, data):
    x, reduction, g, _ = case
    t = data.draw(label_targets(x.shape))
    _fd_check("multilabel_margin_loss", x, t, reduction, g)


# ---------------------------------------------------------------------------------------
# Subgradients at the hinge, and special values


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("margin", [1.0, 0.0, -0.5, 2.0**900, 2.0**-1074])
def test_multi_margin_subgradient_at_the_hinge_is_zero(p, margin):
    """z == 0 exactly (x[i] = x[y] - margin, exact): the term is inactive, no slope."""
    x = np.array([[4 * margin, 3 * margin, -1e300], [0.0, 0.0, -margin]])
    assert x[0, 0] - x[0, 1] == margin and x[1, 0] - x[1, 2] == margin  # exact ties
    y = np.array([0, 0])
    g = oracle.gradients.multi_margin_loss(x, y, p=p, margin=margin, reduction="none")["input"]
    assert g[0, 1] == 0 and g[1, 2] == 0
    # row 1: z for class 1 is margin - 0 + 0 = margin: active only for margin > 0
    ld = oracle.WORK
    want = (ld(1) if p == 1 else 2 * ld(margin)) / 3 if margin > 0 else ld(0)
    assert g[1, 1] == want and g[1, 0] == -want
    # row 0: the tie and margin - 4 margin - 1e300 < 0: no active hinge
    loss = oracle.multi_margin_loss(x, y, p=p, margin=margin, reduction="none")
    assert loss[0] == 0


def test_multilabel_subgradient_at_the_hinge_is_zero():
    x = np.array([1.0, 0.0, 0.5, -2.0])
    g = oracle.gradients.multilabel_margin_loss(x, np.array([0, -1, 0, 0]), reduction="sum")
    np.testing.assert_array_equal(g["input"], np.array([-0.25, 0.0, 0.25, 0.0]))


def test_gradients_at_infinity_and_nan():
    inf, nan = math.inf, math.nan
    x = np.array([[inf, 0.0, 0.5], [0.0, -inf, 0.5], [nan, 0.0, 0.5], [inf, inf, 0.0]])
    y = np.array([1, 1, 1, 1])
    g1 = oracle.gradients.multi_margin_loss(x, y, reduction="none")["input"]
    np.testing.assert_array_equal(np.float64(g1[0]), [1 / 3, -2 / 3, 1 / 3])
    np.testing.assert_array_equal(np.float64(g1[1]), [1 / 3, -2 / 3, 1 / 3])
    assert np.isnan(g1[2, 0]) and np.isnan(g1[2, 1]) and np.float64(g1[2, 2]) == 1 / 3
    assert np.isnan(g1[3, 0]) and np.isnan(g1[3, 1])
    g2 = oracle.gradients.multi_margin_loss(x, y, p=2, reduction="none")["input"]
    assert g2[0, 0] == inf and g2[0, 1] == -inf and g2[1, 1] == -inf
    # an infinite weight times an inactive hinge's slope 0 is NaN (forward: inf * 0 = NaN)
    w = np.array([1.0, inf, 1.0])
    xw = np.array([[0.0, 0.5, -3.0]])
    assert np.isnan(oracle.multi_margin_loss(xw, np.array([1]), weight=w, reduction="sum"))
    gw = oracle.gradients.multi_margin_loss(xw, np.array([1]), weight=w, reduction="sum")
    assert gw["input"][0, 0] == inf and np.isnan(gw["input"][0, 2])


def test_grad_output_defaults_to_ones():
    x = np.array([[1.0, -2.0, 0.5], [0.25, 0.0, 3.0]])
    for red, g in (("none", np.ones(2)), ("mean", np.array(1.0)), ("sum", np.array(1.0))):
        a = oracle.gradients.multi_margin_loss(x, np.array([0, 2]), reduction=red)
        b = oracle.gradients.multi_margin_loss(x, np.array([0, 2]), reduction=red, grad_output=g)
        np.testing.assert_array_equal(a["input"], b["input"])
        t = np.array([[0, -1, 0], [2, 1, -1]])
        a = oracle.gradients.multilabel_margin_loss(x, t, reduction=red)
        b = oracle.gradients.multilabel_margin_loss(x, t, reduction=red, grad_output=g)
        np.testing.assert_array_equal(a["input"], b["input"])


def test_torch_takes_the_same_convention_at_the_hinge():
    """torch's kernels treat the hinge as active only for z > 0: at z == 0 exactly their
    gradient equals the oracle's subgradient 0 (torch run here, nothing copied from it)."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    x = np.array([[1.0, 0.0, 0.5, 2.0], [0.0, 0.0, -1.0, 1.0]])  # z = 0 at [0, 1], [1, 1]
    y = np.array([0, 0])
    for p in (1, 2):
        xt = torch.tensor(x, requires_grad=True)
        out = F.multi_margin_loss(xt, torch.tensor(y), p=p, reduction="sum")
        (gt,) = torch.autograd.grad(out, [xt])
        go = oracle.gradients.multi_margin_loss(x, y, p=p, reduction="sum")["input"]
        np.testing.assert_array_equal(gt.numpy(), np.float64(go))
        assert go[0, 1] == 0
    t = np.array([[0, -1, 0, 0], [0, -1, 0, 0]])
    xt = torch.tensor(x, requires_grad=True)
    (gt,) = torch.autograd.grad(
        F.multilabel_margin_loss(xt, torch.tensor(t), reduction="sum"), [xt]
    )
    go = oracle.gradients.multilabel_margin_loss(x, t, reduction="sum")["input"]
    np.testing.assert_array_equal(gt.numpy(), np.float64(go))


# ---------------------------------------------------------------------------------------
# Input errors


def raises(argument: str, fn, *args, match: str | None = None, **kwargs) -> None:
    with pytest.raises(OracleInputError) as info:
        fn(*args, **kwargs)
    assert info.value.argument == argument, str(info.value)
    if match is not None:
        assert match in info.value.rule, info.value.rule


X24 = np.array([[0.1, 0.2, 0.4, 0.8], [1.0, -0.5, 0.3, 0.2]])
MM = (oracle.multi_margin_loss, oracle.gradients.multi_margin_loss)
ML = (oracle.multilabel_margin_loss, oracle.gradients.multilabel_margin_loss)
T24 = np.array([[3, 0, -1, 1], [1, -1, 0, 0]])


@pytest.mark.parametrize(
    ("argument", "x", "y", "kw", "match"),
    [
        ("target", X24, np.array([4, 0]), {}, "outside [0, C=4)"),
        ("target", X24, np.array([-1, 0]), {}, "outside [0, C=4)"),
        ("target", X24, np.array([3.0, 0.0]), {}, "integer"),
        ("target", X24, np.array([True, False]), {}, "integer"),
        ("target", X24, np.array([[3], [0]]), {}, "is not (2,)"),
        ("target", X24, np.array([3, 0, 1]), {}, "is not (2,)"),
        ("target", X24[0], np.array([3]), {}, "is not ()"),
        ("target", X24, np.array(3), {}, "is not (2,)"),
        ("weight", X24, np.array([3, 0]), {"weight": np.ones(3)}, "one weight per class"),
        ("weight", X24, np.array([3, 0]), {"weight": np.ones((1, 4))}, "(C,)"),
        ("weight", X24, np.array([3, 0]), {"weight": np.array([True] * 4)}, None),
        ("p", X24, np.array([3, 0]), {"p": 3}, "1 or 2"),
        ("p", X24, np.array([3, 0]), {"p": 0}, "1 or 2"),
        ("p", X24, np.array([3, 0]), {"p": 1.5}, "1 or 2"),
        ("p", X24, np.array([3, 0]), {"p": True}, "1 or 2"),
        ("p", X24, np.array([3, 0]), {"p": math.nan}, "1 or 2"),
        ("p", X24, np.array([3, 0]), {"p": "1"}, "1 or 2"),
        ("margin", X24, np.array([3, 0]), {"margin": "1"}, "real"),
        ("margin", X24, np.array([3, 0]), {"margin": None}, "real"),
        ("reduction", X24, np.array([3, 0]), {"reduction": "avg"}, None),
        ("size_average", X24, np.array([3, 0]), {"size_average": "yes"}, None),
        ("input", X24[None], np.array([[3, 0]]), {}, "(N, C) or (C)"),
        ("input", np.array(0.5), np.array(0), {}, "(N, C) or (C)"),
        ("input", np.zeros((2, 0)), np.array([0, 0]), {}, "no classes"),
        ("input", np.array([[1j, 2j]]), np.array([0]), {}, None),
    ],
)
def test_multi_margin_input_errors(argument, x, y, kw, match):
    for fn in MM:
        raises(argument, fn, x, y, match=match, **kw)


@pytest.mark.parametrize(
    ("argument", "x", "t", "kw", "match"),
    [
        ("target", X24, np.array([[4, 0, -1, 1], [1, -1, 0, 0]]), {}, "[0, C=4)"),
        ("target", X24, np.array([[-2, 0, -1, 1], [1, -1, 0, 0]]), {}, "padding -1"),
        ("target", X24, np.array([[3, 0, -1, 7], [1, -1, 0, 0]]), {}, "[0, C=4)"),
        ("target", X24, np.array([[3, 0, -1, -9], [1, -1, 0, 0]]), {}, "padding -1"),
        ("target", X24, T24.astype(float), {}, "integer"),
        ("target", X24, T24[:, :3], {}, "same size"),
        ("target", X24, T24[:1], {}, "same size"),
        ("target", X24[0], T24[:1], {}, "same size"),
        ("target", X24[0], T24, {}, "same size"),
        ("reduction", X24, T24, {"reduction": "MEAN"}, None),
        ("reduce", X24, T24, {"reduce": 1.0}, None),
        ("input", X24[None], T24[None], {}, "(N, C) or (C)"),
        ("input", np.array(0.5), np.array(0), {}, "(N, C) or (C)"),
        ("input", np.zeros((2, 0)), np.zeros((2, 0), dtype=np.int64), {}, "no classes"),
        ("input", np.array(["a", "b"]), np.array([0, -1]), {}, None),
    ],
)
def test_multilabel_input_errors(argument, x, t, kw, match):
    for fn in ML:
        raises(argument, fn, x, t, match=match, **kw)


def test_grad_output_must_have_the_output_shape():
    for red, g in (("none", np.ones(3)), ("none", np.ones(())), ("mean", np.ones(2))):
        raises(
            "grad_output",
            oracle.gradients.multi_margin_loss,
            X24,
            np.array([3, 0]),
            reduction=red,
            grad_output=g,
        )
        raises(
            "grad_output",
            oracle.gradients.multilabel_margin_loss,
            X24,
            T24,
            reduction=red,
            grad_output=g,
        )


def test_documented_options_are_accepted():
    """p as 1, 2 (ints or equal floats), any real margin (NaN, ±inf are data)."""
    for p in (1, 2, 1.0, np.int64(2)):
        oracle.multi_margin_loss(X24, np.array([3, 0]), p=p)
    for m in (0.0, -2.0, math.inf, math.nan, 3, np.float32(0.5)):
        oracle.multi_margin_loss(X24, np.array([3, 0]), margin=m)
    oracle.multi_margin_loss(X24, np.array([3, 0]), weight=np.arange(4))  # integer weights
    oracle.multilabel_margin_loss(X24, T24.astype(np.int32))
