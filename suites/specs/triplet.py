"""LossSpec entries of the triplet losses: TripletMarginLoss, TripletMarginWithDistanceLoss.

l_i = max(d(a_i, p_i) - d_neg + margin, 0), d_neg = d(a_i, n_i), or d(p_i, n_i) where
``swap`` finds the positive closer to the negative. TripletMarginLoss: d = ||x - y + eps||_p
(p, eps, margin > 0, legacy size_average/reduce); TripletMarginWithDistanceLoss: a distance
function drawn by name (suites/specs/_distances.py), margin >= 0.

Regimes: ``well`` ([-16, 16], with equal vectors planted: the zero difference where eps
matters), ``edge`` (0, ±0, subnormals, the largest finite values, ±inf, NaN), ``scaled``
(well values times 2^k over the dtype's range: norms large and small), ``tie`` (a dyadic
grid where the hinge argument z, and with ``swap`` d(a, n) - d(p, n), is exactly 0 and
every distance is exact in the dtype: the subgradients are checked bit for bit; the tie
regime sets eps = 0, p in {1, 2} and a dyadic margin in the drawn options so that ties
exist), ``bulk`` (a seeded (64, 4) batch).

Rounding model (``TripletTable``; derivations in the docstrings): every distance torch
forms in the dtype is off by at most Delta_d, the hinge argument by Delta_z; a hinge
within Delta_z of 0 that is not exact is a near tie (rounding decides its side: the
gradient allowance is the jump between the one-sided slopes, for that row only), and so is
a swap within rounding of a tie. ``term_scale`` / ``gradient_scale`` carry these bounds
(in units of u) to rules 3 and 4; the budgets in fixtures/tolerances.toml use terms_u = 1.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from oracle._common import OracleInputError, reduction_grad
from oracle._distance import COSINE_EPS, NAMED, PairwiseDistance
from suites.dtypes import ACCUMULATION, info, is_representable, overflow_threshold, to_dtype
from suites.specs import _distances
from suites.specs._ties import active_at_tie
from suites.specs._types import InvalidInput, LossSpec, Option, TensorArg
from suites.strategies import arrays, bulk_values

LD = np.longdouble
NAMES = ("anchor", "positive", "negative")
REGIMES = ("tie", "well", "edge", "scaled", "bulk")
BULK_SHAPE = (64, 4)
TIE_MARGINS = (0.25, 0.5, 1.0, 2.0)
MAX_D = 5
MAX_N = 4
# exponent ranges of the scaled regime: well values (|x| <= 16) times 2^k stay finite
SCALE_EXPONENTS = {
    "float16": (-24, 11),
    "bfloat16": (-130, 122),
    "float32": (-130, 122),
    "float64": (-1070, 1018),
}


# -- options -----------------------------------------------------------------------------


def positive_margins(dtype: str) -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from((1.0, 0.5, 2.0, 0.25, 4.0)), st.floats(1e-3, 8.0))


def nonnegative_margins(dtype: str) -> st.SearchStrategy[float]:
    """0 is documented ("nonnegative") but rejected by torch (registered): drawn rarely."""
    return st.one_of(
        st.sampled_from((1.0, 0.5, 2.0, 0.25, 4.0, 1.0, 0.5, 2.0, 0.0)), st.floats(1e-3, 8.0)
    )


def p_values(dtype: str) -> st.SearchStrategy[float]:
    """Norm degrees >= 1 (the rounding model bounds |dd/dv_i| by 1 there); p < 1 and
    negative p are special cases (suites/test_triplet_margin_special_cases.py)."""
    return st.one_of(st.sampled_from((1, 2, 1.5, 3, 2.0, 1.0)), st.floats(1.0, 4.0))


def eps_values(dtype: str) -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from((1e-6, 0.0, 1e-3, 0.5, -1e-6)), st.floats(0.0, 1e-2))


def swap_values(dtype: str) -> st.SearchStrategy[bool]:
    return st.booleans()


def distance_values(dtype: str) -> st.SearchStrategy[str | None]:
    return st.sampled_from((None, *_distances.NAMES))


# -- drawing -----------------------------------------------------------------------------


@st.composite
def _shape(draw: st.DrawFn) -> tuple[int, ...]:
    d = draw(st.integers(1, MAX_D))
    if draw(st.integers(0, 3)) == 0:
        return (d,)
    return (draw(st.integers(0, MAX_N)), d)


def _plant_equal(draw: st.DrawFn, x: dict[str, np.ndarray]) -> None:
    """Sometimes make two of the three vectors equal row by row (a zero difference)."""
    how = draw(st.sampled_from(("none", "none", "ap", "an", "pn")))
    if how == "ap":
        x["positive"] = x["anchor"].copy()
    elif how == "an":
        x["negative"] = x["anchor"].copy()
    elif how == "pn":
        x["negative"] = x["positive"].copy()


def _distance_of(spec_loss: str, options: dict[str, Any]):
    if spec_loss == "TripletMarginLoss":
        return PairwiseDistance(options.get("p", 2), options.get("eps", 1e-6))
    name = options.get("distance_function")
    return NAMED["pairwise"] if name is None else NAMED[name]


def _tie_options(draw: st.DrawFn, spec_loss: str, options: dict[str, Any]) -> None:
    """Options under which exact ties exist on the grid (set in the case's options)."""
    m = options.get("margin", 1.0)
    allowed = TIE_MARGINS
    if spec_loss != "TripletMarginLoss" and options.get("distance_function") in (
        "cosine",
        "count",
    ):
        allowed = (1.0, 2.0)
    if m not in allowed:
        options["margin"] = draw(st.sampled_from(allowed))
    if spec_loss != "TripletMarginLoss" and options.get("distance_function") in (None, "pairwise"):
        # the default distance's eps = 1e-6 makes its ties inexact: the tie regime draws an
        # exact distance instead (the default distance's near ties come from the others)
        options["distance_function"] = draw(st.sampled_from(("one_sided_sq", "cosine")))
        if options.get("margin", 1.0) not in (1.0, 2.0):
            options["margin"] = draw(st.sampled_from((1.0, 2.0)))
    if spec_loss == "TripletMarginLoss":
        if options.get("p", 2) not in (1, 2):
            options["p"] = draw(st.sampled_from((1, 2)))
        options["eps"] = 0.0


def _axis(d: int, j: int, k: int) -> np.ndarray:
    v = np.zeros(d)
    v[j] = k / 8.0
    return v


def _tie_rows(draw, dtype, shape, dist, margin: float, swap: bool, axis_only: bool):
    """Rows built on the grid k/8: positive and negative differ from the anchor along one
    coordinate (or, for the cosine distance, all three are axis vectors), with the
    negative chosen so that z = 0 exactly (or, with swap, d(p, n) = d(a, n)) when the
    grid allows it."""
    d = shape[-1]
    rows = 1 if len(shape) == 1 else shape[0]
    out = {k: np.zeros((rows, d)) for k in NAMES}
    for r in range(rows):
        j = draw(st.integers(0, d - 1))
        if axis_only:
            a = _axis(d, j, draw(st.integers(-16, 16).filter(bool)))
            p = _axis(d, draw(st.integers(0, d - 1)), draw(st.integers(-16, 16).filter(bool)))
            cands = [_axis(d, lc, k) for lc in range(d) for k in range(-16, 17) if k]
        else:
            ks = draw(st.lists(st.integers(-32, 32), min_size=d, max_size=d))
            a = np.array(ks, dtype=np.float64) / 8.0
            p = a + _axis(d, j, draw(st.integers(-16, 16)))
            cands = [a + _axis(d, lc, k) for lc in range(d) for k in range(-16, 17)]
        c = np.array(cands)
        aa, pp = a[None, :].astype(LD), p[None, :].astype(LD)
        with np.errstate(all="ignore"):
            z = dist(aa, pp) - dist(np.repeat(aa, len(c), 0), c.astype(LD)) + LD(margin)
            d_pn = dist(np.repeat(pp, len(c), 0), c.astype(LD))
            d_an = dist(np.repeat(aa, len(c), 0), c.astype(LD))
        picks = ("hinge",) * 3 + (("swap", "closer") if swap else ()) + ("any",)
        pick = draw(st.sampled_from(picks))
        if pick == "hinge":
            pool = np.flatnonzero(z == 0)
        elif pick == "swap":
            pool = np.flatnonzero(d_pn == d_an)
        elif pick == "closer":
            pool = np.flatnonzero((d_pn < d_an) & (z > 0))
        else:
            pool = np.arange(len(c))
        if pick == "any" or pool.size == 0:
            pool = np.arange(len(c))
        n = c[pool[draw(st.integers(0, pool.size - 1))]]
        out["anchor"][r], out["positive"][r], out["negative"][r] = a, p, n
    return {k: to_dtype(v.reshape(shape), dtype) for k, v in out.items()}


def _drawer(spec_loss: str):
    def draw_inputs(draw, dtype, regime, options, include):
        if regime == "bulk":
            seed = draw(st.integers(0, 2**32 - 1))
            size = BULK_SHAPE[0] * BULK_SHAPE[1]
            out: dict[str, Any] = {}
            src = {}
            for i, k in enumerate(NAMES):
                out[k] = bulk_values(seed + i, size, dtype, scale=2.0).reshape(BULK_SHAPE)
                src[k] = f"bulk_values({seed + i}, {size}, {dtype!r}, scale=2.0)"
            out["_sources"] = src
            return out
        shape = draw(_shape())
        if regime == "tie" and math.prod(shape) > 0:
            _tie_options(draw, spec_loss, options)
            dist = _distance_of(spec_loss, options)
            axis = options.get("distance_function") == "cosine"
            swap = bool(options.get("swap", False))
            return _tie_rows(draw, dtype, shape, dist, options.get("margin", 1.0), swap, axis)
        sub = "well" if regime in ("scaled", "tie") else regime
        x = {k: draw(arrays(dtype, shape, sub)) for k in NAMES}
        _plant_equal(draw, x)
        if regime == "scaled":
            lo, hi = SCALE_EXPONENTS[dtype]
            k = draw(st.integers(lo, hi))
            x = {n: to_dtype(v.astype(np.float64) * 2.0**k, dtype) for n, v in x.items()}
        return x

    return draw_inputs


# -- the rounding model --------------------------------------------------------------------


def _exact_in(v: np.ndarray, dtype: str) -> np.ndarray:
    with np.errstate(all="ignore"):
        v64 = np.asarray(v, dtype=LD).astype(np.float64)
        return np.isfinite(v) & (v64.astype(LD) == v) & is_representable(v64, dtype)


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a + b and its rounding error in LD (Knuth's TwoSum): exact iff the error is 0."""
    with np.errstate(all="ignore"):
        s = a + b
        bb = s - a
        return s, (a - (s - bb)) + (b - bb)


class DistanceError:
    """torch's error in one distance d(x1, x2), row by row, computed in the dtype.

    ``d`` (exact), ``delta`` (bound on |fl(d) - d|, 0 where torch's d is exact), ``exact``,
    ``g1``, ``g2`` (the oracle's dd/dx1, dd/dx2), ``dg1``, ``dg2`` (bounds on torch's error
    in them), ``overflow`` (an intermediate reaches the dtype's, or the accumulation
    dtype's, overflow threshold while the operands are finite), ``underflow`` (a sum of
    |v_i|^p underflows the accumulation dtype while v != 0: the unscaled norm loses d)."""

    def __init__(self, dist: Any, x1: np.ndarray, x2: np.ndarray, dtype: str) -> None:
        self.dtype = dtype
        d_info = info(dtype)
        self.u, self.sub = LD(d_info.unit_roundoff), LD(d_info.smallest_subnormal)
        acc = info(ACCUMULATION[dtype])
        self.acc_tiny, self.acc_sub = LD(acc.tiny), LD(acc.smallest_subnormal)
        self.big, self.acc_big = overflow_threshold(dtype), overflow_threshold(ACCUMULATION[dtype])
        self.dim = x1.shape[-1]
        with np.errstate(all="ignore"):
            self.d = np.asarray(dist(x1, x2), dtype=LD)
            self.g1, self.g2 = (np.asarray(g, dtype=LD) for g in dist.gradients(x1, x2))
            self.finite = np.isfinite(x1).all(-1) & np.isfinite(x2).all(-1)
            self.overflow = np.zeros(self.d.shape, dtype=bool)
            self.underflow = np.zeros(self.d.shape, dtype=bool)
            self.below_eps = np.zeros(self.d.shape, dtype=bool)
            self.eps_underflow = np.zeros(self.d.shape, dtype=bool)
            kind = type(dist).__name__
            if kind == "PairwiseDistance":
                self._pairwise(dist, x1, x2)
            elif kind == "CosineDistance":
                self._cosine(x1, x2)
            elif kind == "OneSidedSquaredDistance":
                self._one_sided(x1, x2)
            else:  # the count: exact integers, no gradient
                self.delta = np.zeros(self.d.shape, dtype=LD)
                self.exact = np.ones(self.d.shape, dtype=bool)
                self.dg1 = np.zeros(self.g1.shape, dtype=LD)
                self.dg2 = self.dg1
            self.delta = np.where(np.isfinite(self.delta), self.delta, LD(0))
            self.delta = np.where(self.finite, self.delta, LD(0))

    def _pairwise(self, dist: Any, x1: np.ndarray, x2: np.ndarray) -> None:
        """v = fl(fl(x1 - x2) + eps): each rounding u relative, or half a subnormal
        spacing; eps itself rounded to the dtype (u |eps|): |fl(v_i) - v_i| <= delta_i =
        3u (|x1_i - x2_i| + |eps|) + 2 subnormals, 0 where x1 - x2 and v are values of the
        dtype. |dd/dv_i| <= 1 for p >= 1, so the coordinates move d by sum delta_i; the
        norm's own rounding (|v_i|^p, the D - 1 additions, the 1/p-th power by exp/log,
        whose arguments and exponent 1/p are rounded) adds (D + 10 + 2 |p ln d|) u d
        (p not in {1, 2}; D + 6 for p in {1, 2}) and
        (D + 2) subnormals; a sum S = sum |v_i|^p whose terms underflow the accumulation
        dtype loses up to D smallest subnormals of it, a relative error of
        D sub_acc / (p S) in d (capped at d). torch's d is exact where v has at most one
        nonzero coordinate, exact in the dtype (and its square, for p = 2) and p in
        {1, 2}. Gradient dd/dv_i = f(v_i) / d^(p-1), f(v) = sign(v)|v|^(p-1) increasing
        in v: over the box |v_i' - v_i| <= delta_i, |d' - d| <= Delta_d its extremes are
        at the corners (f(v +- delta) over d -+ Delta_d), which bounds torch's value
        together with 6u |g| for its own roundings; capped at 2 + 6u since |g| <= 1."""
        p, eps = dist.p, dist.eps
        u, sub, dtype = self.u, self.sub, self.dtype
        w = x1 - x2
        v = w + eps
        eps_exact = bool(_exact_in(np.asarray(eps, dtype=LD), dtype)) or eps == 0
        exact_v = _exact_in(w, dtype) & _exact_in(v, dtype) & eps_exact
        delta = np.where(exact_v, LD(0), 3 * u * (np.abs(w) + abs(eps)) + 2 * sub)
        delta = np.where(np.isfinite(v), delta, LD(0))
        a = np.abs(v)
        s = np.sum(a**p, axis=-1)
        d = self.d
        nonzero = np.sum(a != 0, axis=-1)
        sq_ok = np.all(_exact_in(a * a, dtype) | (a == 0), axis=-1) | (p == 1)
        self.exact = (
            np.all(delta == 0, axis=-1) & (nonzero <= 1) & (p in (1, 2)) & sq_ok & self.finite
        )
        # pow by exp/log: |v|^p and s^(1/p) carry the rounding of their exp arguments,
        # u |p ln|v|| and u |ln s| / p relative, and of 1/p itself, u |ln d|: measured up to
        # 42u on d for p = 3 and d ~ 1.2e4 in float32; 2 |p ln d| + 4 bounds it
        log_term = (
            2 * abs(p) * np.abs(np.log(np.where(np.isfinite(d) & (d > 0), d, 1))) + 4
            if p not in (1, 2)
            else LD(0)
        )
        under = np.where(s > 0, np.minimum(LD(1), self.dim * self.acc_sub / (p * s)), LD(0))
        under = np.where(s < self.acc_tiny, under, LD(0))
        big = (a >= self.big).any(-1) | (s >= self.acc_big) | (np.abs(w) >= self.big).any(-1)
        big = big | (d >= self.big)  # the distance itself past the dtype's range
        # torch's backward forms |v_k|^(p-1) and d^(p-1) in the dtype for p not in {1, 2}
        self.overflow = self.finite & big
        if p not in (1, 2):  # finite coordinates of a row that also holds ±inf count too
            fin = np.where(np.isfinite(a), a, 0).max(axis=-1, initial=0)
            top = np.maximum(np.where(np.isfinite(d), d, 0), fin) ** (p - 1)
            self.overflow = self.overflow | (top >= self.big)
        # torch's backward forms d^(p-1) (and |v_k|^(p-1)) in the dtype for p not in {1, 2}
        pow_under = (p not in (1, 2)) & (d > 0) & (d ** (p - 1) < LD(info(dtype).tiny))
        self.underflow = self.finite & (((s < self.acc_tiny) & (nonzero > 0)) | pow_under)
        dd = (
            np.sum(delta, axis=-1)
            + (self.dim + 6 + log_term) * u * d
            + (self.dim + 2) * sub
            + under * d
        )
        self.delta = np.where(self.exact, LD(0), dd)
        lo = np.maximum(d - self.delta, LD(0))[..., None]
        hi = (d + self.delta)[..., None]
        q = p - 1

        def f(t):
            return np.sign(t) * np.abs(t) ** q if q != 0 else np.sign(t)

        fu, fl = f(v + delta), f(v - delta)
        with np.errstate(all="ignore"):
            top = np.where(fu >= 0, fu / np.where(lo > 0, lo, 0) ** q, fu / hi**q)
            bot = np.where(fl >= 0, fl / hi**q, fl / np.where(lo > 0, lo, 0) ** q)
            if q == 0:
                top, bot = fu, fl
            spread = np.maximum(top - self.g1, self.g1 - bot)
        spread = np.where(np.isnan(spread), LD(2), spread)
        exact_g = self.exact[..., None] & (delta == 0)
        # the backward's own roundings: 6u; for p not in {1, 2} it forms |v_k|^(p-1) and
        # d^(p-1) by exp/log in the dtype, each exp argument (p - 1) ln x (and the rounded
        # exponent) off by up to 4 |p - 1| (|ln d| + 1) u: 8 |p - 1| (|ln d| + 1) u more
        own = LD(6)
        if p not in (1, 2):
            own = (
                own
                + 8
                * abs(q)
                * (np.abs(np.log(np.where(np.isfinite(d) & (d > 0), d, 1))) + 1)[..., None]
            )
        dg = np.minimum(np.where(exact_g, LD(0), spread) + own * u * np.abs(self.g1), 2 + own * u)
        self.dg1 = np.where(np.isfinite(self.g1), dg, LD(0))
        self.dg2 = self.dg1

    def _cosine(self, x1: np.ndarray, x2: np.ndarray) -> None:
        """s = x1.x2 / (max(|x1|, eps) max(|x2|, eps)) in the dtype: the dot product and
        the norms' sums take D - 1 additions each, with the products, square roots,
        clamps and the division: |fl(s) - s| <= (D + 8) u (sum|x1_i x2_i| / (N1 N2) + |s|)
        + 4 subnormals; 1 - s adds u. Exact where every vector has at most one nonzero
        coordinate (s in {-1, 0, 1}, every operation exact). Gradient
        -(x2 / (N1 N2) - s x1 / (N1 n1)): (2D + 10) u (|x2| / (N1 N2) + |s||x1| / (N1 n1))
        for its roundings plus |ds| |x1| / (N1 n1) for the error of s it uses."""
        u, sub, eps = self.u, self.sub, LD(COSINE_EPS)
        n1 = np.sqrt(np.sum(x1 * x1, axis=-1))
        n2 = np.sqrt(np.sum(x2 * x2, axis=-1))
        c1, c2 = np.maximum(n1, eps), np.maximum(n2, eps)
        s = 1 - self.d
        mag = np.sum(np.abs(x1 * x2), axis=-1) / (c1 * c2)
        ds = (self.dim + 8) * u * (mag + np.abs(s)) + 4 * sub
        one_axis = ((x1 != 0).sum(-1) <= 1) & ((x2 != 0).sum(-1) <= 1)
        sq_ok = np.all(_exact_in(x1 * x1, self.dtype) & _exact_in(x2 * x2, self.dtype), -1)
        self.exact = one_axis & sq_ok & self.finite & (n1 >= eps) & (n2 >= eps)
        self.delta = np.where(self.exact, LD(0), ds + u)
        e = (..., None)
        t1 = np.abs(x2) / (c1 * c2)[e] + np.where(
            (n1 >= eps)[e], np.abs(s)[e] * np.abs(x1) / (c1 * n1)[e], 0
        )
        t2 = np.abs(x1) / (c1 * c2)[e] + np.where(
            (n2 >= eps)[e], np.abs(s)[e] * np.abs(x2) / (c2 * n2)[e], 0
        )
        r1 = np.where((n1 >= eps)[e], ds[e] * np.abs(x1) / (c1 * n1)[e], 0)
        r2 = np.where((n2 >= eps)[e], ds[e] * np.abs(x2) / (c2 * n2)[e], 0)
        k = 2 * self.dim + 10
        # an exact s does not make the gradient exact: its two terms cancel (parallel
        # vectors), so the rounding bound applies everywhere
        self.dg1 = k * u * t1 + r1 + 4 * sub
        self.dg2 = k * u * t2 + r2 + 4 * sub
        self.dg1 = np.nan_to_num(self.dg1, nan=0.0, posinf=0.0)
        self.dg2 = np.nan_to_num(self.dg2, nan=0.0, posinf=0.0)
        prods = np.concatenate([np.abs(x1 * x2), x1 * x1, x2 * x2], axis=-1)
        # 16x below the threshold: the norms' sums and a kernel that normalises first
        # (x / ||x||) round near the top of the range
        self.overflow = self.finite & (
            (prods >= self.big / 16).any(-1) | (np.sum(prods, -1) >= self.acc_big / 16)
        )
        self.below_eps = self.finite & (((n1 > 0) & (n1 < eps)) | ((n2 > 0) & (n2 < eps)))
        # float16: eps rounds to 0, and squares below its subnormal range flush to 0
        small = (
            (n1 < eps) | (n2 < eps) | (x1 * x1 < self.sub).any(-1) | (x2 * x2 < self.sub).any(-1)
        )
        self.eps_underflow = self.finite & (self.dtype == "float16") & small

    def _one_sided(self, x1: np.ndarray, x2: np.ndarray) -> None:
        """m_i = max(fl(x1_i - x2_i), 0): delta_i = u |x1_i - x2_i| + sub (0 where exact);
        d = sum m_i^2 moves by sum (2 m_i delta_i + delta_i^2), and its squares and D - 1
        additions add (D + 2) u d + (D + 2) subnormals. Exact where at most one m_i is
        nonzero and every m_i^2 is a value of the dtype. Gradient 2 m_i: 2 delta_i + 4u
        |g| (the doubling and the seed's products)."""
        u, sub = self.u, self.sub
        w = x1 - x2
        m = np.maximum(w, 0)
        delta = np.where(_exact_in(w, self.dtype), LD(0), u * np.abs(w) + sub)
        delta = np.where(np.isfinite(w), delta, LD(0))
        one = ((m != 0).sum(-1) <= 1) & np.all(_exact_in(m * m, self.dtype), -1)
        self.exact = one & np.all(delta == 0, -1) & self.finite
        dd = np.sum(2 * m * delta + delta * delta, -1) + (self.dim + 2) * (u * self.d + sub)
        self.delta = np.where(self.exact, LD(0), dd)
        g = np.where(delta == 0, LD(0), 2 * delta) + 4 * u * np.abs(self.g1)
        self.dg1 = np.where(np.isfinite(g), g, LD(0))
        self.dg2 = self.dg1
        # finite coordinates of a row that also holds ±inf count too
        mf, wf = np.where(np.isfinite(m), m, 0), np.where(np.isfinite(w), w, 0)
        self.overflow = ((mf * mf >= self.big).any(-1) | (np.abs(wf) >= self.big).any(-1)) | (
            self.finite & (self.d >= self.big)
        )


class TripletTable:
    """The rows of a case with their distances' errors, the hinge argument z and its
    bound Delta_z, and the tie classification.

    Delta_z = Delta_d(a, p) + Delta_d_neg + 2u (|d_ap| + |d_neg| + |margin|) + 2 subnormals
    (the margin rounded to the dtype and two additions), where Delta_d_neg is the bound of
    the distance used, max(Delta_d(a, n), Delta_d(p, n)) with swap (|min(a', b') - min(a,
    b)| <= max(|a' - a|, |b' - b|)); 0 where both distances are exact and the margin, the
    partial sums and z are values of the dtype. ``hinge_exact``/``hinge_ambiguous``: z
    exact / rounding decides the hinge's side (|z| <= Delta_z, not exact).
    ``swap_ambiguous``: |d(a, n) - d(p, n)| <= their two bounds, not both exact."""

    def __init__(self, case: Any) -> None:
        opts = case.effective_options()
        self.dtype = case.dtype
        self.swap = bool(opts.get("swap", False))
        self.margin = LD(opts.get("margin", 1.0))
        dist = _distance_of(case.spec.loss, opts)
        x = {k: np.asarray(case.inputs[k]).astype(LD) for k in NAMES}
        shapes = {v.shape for v in x.values()}
        if len(shapes) != 1 or x["anchor"].ndim not in (1, 2):
            raise ValueError("not a valid triplet case")
        self.unbatched = x["anchor"].ndim == 1
        a, p, n = (v.reshape(-1, v.shape[-1]) for v in x.values())
        self.rows = a.shape[0]
        self.ap = DistanceError(dist, a, p, self.dtype)
        self.an = DistanceError(dist, a, n, self.dtype)
        self.pn = DistanceError(dist, p, n, self.dtype) if self.swap else None
        u, sub = self.ap.u, self.ap.sub
        self.u, self.sub = u, sub
        with np.errstate(all="ignore"):
            d_an = self.an.d
            if self.pn is not None:
                self.swapped = self.pn.d < d_an
                d_neg = np.where(self.swapped, self.pn.d, d_an)
                delta_neg = np.maximum(self.an.delta, self.pn.delta)
                neg_exact = self.an.exact & self.pn.exact
                gap = np.abs(d_an - self.pn.d)
                self.swap_exact_tie = neg_exact & (gap == 0)
                self.swap_ambiguous = ~neg_exact & (gap <= self.an.delta + self.pn.delta)
            else:
                self.swapped = np.zeros(self.rows, dtype=bool)
                d_neg, delta_neg = d_an, self.an.delta
                neg_exact = self.an.exact
                self.swap_exact_tie = np.zeros(self.rows, dtype=bool)
                self.swap_ambiguous = np.zeros(self.rows, dtype=bool)
            self.z = (self.ap.d - d_neg) + self.margin
            m = self.margin
            exact = self.ap.exact & neg_exact & bool(_exact_in(np.asarray(m), self.dtype))
            for x1, x2 in ((self.ap.d, m), (self.ap.d, -d_neg), (m, -d_neg)):
                total, err = _two_sum(x1, x2)
                exact &= (err == 0) & _exact_in(total, self.dtype)
            exact &= _exact_in(self.z, self.dtype)
            self.hinge_exact = exact
            dz = self.ap.delta + delta_neg + 2 * u * (np.abs(self.ap.d) + np.abs(d_neg) + abs(m))
            dz = dz + 2 * sub
            self.dz = np.where(exact | ~np.isfinite(self.z), LD(0), dz)
            self.dz = np.nan_to_num(self.dz, nan=0.0, posinf=0.0)
            # z >= -Delta_z: at an exact tie torch takes the hinge as active (slope 1, the
            # other one-sided derivative, registered; the oracle's reading is 0), so its
            # rounded distance gradients count when the road compares torch with that side
            self.counted = self.z >= -self.dz
            self.hinge_ambiguous = ~exact & np.isfinite(self.z) & (np.abs(self.z) <= self.dz)
            # the p-norm's backward may divide the seed by d^(p-1) before multiplying by
            # |v_k|^(p-1): a quotient in the subnormal range is exact only to a subnormal
            # spacing, which the product scales back up by up to d^(p-1) (see gradient_error)
            self.quotient_scale = np.zeros(self.rows, dtype=LD)
            if isinstance(dist, PairwiseDistance) and dist.p != 1:
                ds = [e.d for e in (self.ap, self.an, self.pn) if e is not None]
                top = np.maximum.reduce([np.where(np.isfinite(v), v, 0) for v in ds])
                self.quotient_scale = np.nan_to_num(top ** (dist.p - 1), posinf=0.0)

    @property
    def out_shape(self) -> tuple[int, ...]:
        return () if self.unbatched else (self.rows,)

    def forward_error(self) -> np.ndarray:
        """Per row: Delta_z (max(z, 0) is 1-Lipschitz) for a counted hinge, plus u |l|
        for the final rounding; 0 for a hinge certainly inactive (torch's 0 is exact)."""
        with np.errstate(all="ignore"):
            l_abs = np.abs(np.maximum(self.z, 0))
            err = np.where(self.counted, self.dz + self.u * l_abs, LD(0))
        return np.nan_to_num(err, nan=0.0, posinf=0.0)

    def gradient_error(self, name: str, grad_output: Any, reduction: str) -> np.ndarray:
        """Per element of grad[name]: with r the reduction's seed and A the combination of
        distance gradients the oracle uses (e.g. G1(a, p) - G1(a, n) for the anchor),
        torch's value is r' h' A' with |A' - A| <= the sum of the component bounds dg;
        a swap within rounding of its tie may pick the other combination (or mix both):
        the magnitudes of the distance gradients it trades are added; an ambiguous hinge
        may have slope 0 or 1: |A| + dA (the jump) is added; 5u |r A| for r = g / N
        rounded and the products; 2 subnormals; and for the p-norm (p != 1), whose backward
        may form r / d^(p-1) first, a quotient in the subnormal range off by a subnormal
        spacing sub, scaled back by d^(p-1): (|A| + dA) sub d^(p-1)."""
        with np.errstate(all="ignore"):
            r = np.abs(reduction_grad(grad_output, self.out_shape, reduction).reshape(self.rows))
            r = r.astype(LD)[:, None]
            ap, an, pn = self.ap, self.an, self.pn
            sw = self.swapped[:, None]
            if name == "anchor":
                a_val = ap.g1 - np.where(sw, 0, an.g1)
                da = ap.dg1 + np.where(sw, 0, an.dg1)
                trade = (np.abs(an.g1) + an.dg1) if pn is not None else 0
            elif name == "positive":
                a_val = ap.g2 - (np.where(sw, pn.g1, 0) if pn is not None else 0)
                da = ap.dg2 + (np.where(sw, pn.dg1, 0) if pn is not None else 0)
                trade = (np.abs(pn.g1) + pn.dg1) if pn is not None else 0
            else:
                a_val = np.where(sw, pn.g2, an.g2) if pn is not None else an.g2
                da = np.where(sw, pn.dg2, an.dg2) if pn is not None else an.dg2
                trade = (np.abs(an.g2) + an.dg2 + np.abs(pn.g2) + pn.dg2) if pn is not None else 0
            with np.errstate(all="ignore"):
                amb_swap = self.swap_ambiguous[:, None]
                err = da + np.where(amb_swap, trade, 0)
                jump = np.where(self.hinge_ambiguous[:, None], np.abs(a_val) + err, 0)
                total = r * (err + jump) + 5 * self.u * r * np.abs(a_val)
                total = total + (np.abs(a_val) + err) * self.sub * self.quotient_scale[:, None]
                total = np.where(self.counted[:, None], total, 0)
                total = np.nan_to_num(total, nan=0.0, posinf=0.0) + 2 * self.sub
            shape = (self.ap.g1.shape[-1],) if self.unbatched else self.ap.g1.shape
            return total.reshape(shape)


_TABLES: dict[tuple, TripletTable | None] = {}
_KEPT = 32


def _key(case: Any) -> tuple:
    arrays_ = tuple(
        (k, a.dtype.str, a.shape, a.tobytes())
        for k, a in sorted((k, np.asarray(v)) for k, v in case.inputs.items())
    )
    opts = tuple(sorted((k, repr(v)) for k, v in case.effective_options().items()))
    return (case.spec.loss, case.dtype, arrays_, opts)


def _table(case: Any) -> TripletTable | None:
    key = _key(case)
    if key not in _TABLES:
        try:
            table: TripletTable | None = TripletTable(case)
        except (OracleInputError, ValueError, KeyError, TypeError, IndexError):
            table = None
        if len(_TABLES) >= _KEPT:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[key] = table
    return _TABLES[key]


def term_scale(case: Any) -> np.ndarray | None:
    table = _table(case)
    if table is None:
        return None
    return (table.forward_error() / table.u).reshape(table.out_shape)


def gradient_scale(case: Any, name: str, grad_output: Any) -> np.ndarray | None:
    table = _table(case)
    if table is None or name not in NAMES:
        return None
    return table.gradient_error(name, grad_output, case.reduction) / table.u


def features(case: Any) -> set[str]:
    """hinge_tie (z == 0 exactly, computed exactly), hinge_near_tie (rounding decides the
    hinge's side), swapped (some row swaps), swap_tie (d(a, n) == d(p, n) exactly, in a
    row whose hinge is counted: where the documented strict rule and torch's min differ),
    swap_near_tie, equal_vectors (two of the three vectors equal in a row: a zero
    difference, where eps alone makes the distance), zero_difference (x1 - x2 + eps == 0
    in every coordinate of a row: the norm's kink at 0), coordinate_tie (p = 1 and some
    coordinate of v is 0: the kink of |v_i|), norm_overflow, norm_underflow (see
    DistanceError), cosine_below_eps, cosine_eps_underflow, nan_distance, unbatched,
    empty_batch."""
    out: set[str] = set()
    x = np.asarray(case.inputs.get("anchor"))
    if x.ndim == 1:
        out.add("unbatched")
    if x.ndim == 2 and x.shape[0] == 0:
        out.add("empty_batch")
    table = _table(case)
    if table is None:
        return out
    if np.any(table.z == 0) and np.any(table.hinge_exact & (table.z == 0)):
        out.add("hinge_tie")
    if np.any(table.hinge_ambiguous):
        out.add("hinge_near_tie")
    if np.any(table.swapped):
        out.add("swapped")
    if table.swap and np.any(table.an.d == table.pn.d):
        out.add("swap_tie")
    if table.swap and np.any(np.isnan(table.pn.d) & ~np.isnan(table.an.d)):
        out.add("swap_nan_distance")
    if np.any(table.swap_ambiguous & table.counted):
        out.add("swap_near_tie")
    if np.any(np.isnan(table.z)):
        out.add("nan_distance")
    dists = [e for e in (table.ap, table.an, table.pn) if e is not None]
    if any(np.any(e.overflow) for e in dists):
        out.add("norm_overflow")
    if any(np.any(e.underflow) for e in dists):
        out.add("norm_underflow")
    if any(np.any(e.below_eps) for e in dists):
        out.add("cosine_below_eps")
    if any(np.any(e.eps_underflow) for e in dists):
        out.add("cosine_eps_underflow")
    opts = case.effective_options()
    xs = [np.asarray(case.inputs[k]) for k in NAMES]
    with np.errstate(all="ignore"):
        for i, j in ((0, 1), (0, 2), (1, 2)):
            if xs[i].size and np.any(np.all(xs[i] == xs[j], axis=-1)):
                out.add("equal_vectors")
        if case.spec.loss == "TripletMarginLoss":
            eps = np.longdouble(opts.get("eps", 1e-6))
            pairs = [(0, 1), (0, 2)] + ([(1, 2)] if table.swap else [])
            for i, j in pairs:
                v = xs[i].astype(LD) - xs[j].astype(LD) + eps
                if v.size and np.any(np.all(v == 0, axis=-1)):
                    out.add("zero_difference")
                if float(opts.get("p", 2)) == 1 and np.any(v == 0):
                    out.add("coordinate_tie")
    return out


# -- invalid inputs ------------------------------------------------------------------------

A2 = [[0.0, 1.0, 2.0], [1.0, -1.0, 0.5]]
P2 = [[0.5, 1.0, 2.5], [1.0, 0.0, 0.5]]
N2 = [[2.0, -1.0, 0.0], [0.0, 0.0, 0.0]]
TRIPLE = {"anchor": A2, "positive": P2, "negative": N2}
REDUCTION_RULE = "reduction is one of 'none', 'mean', 'sum'"
SHAPE_INVALID = (
    InvalidInput(
        "positive-of-another-dimension",
        "positive",
        {"anchor": A2, "positive": [[0.5, 1.0], [1.0, 0.0]], "negative": N2},
        rule="all three inputs have one shape",
    ),
    InvalidInput(
        "negative-unbatched-against-batched",
        "negative",
        {"anchor": A2, "positive": P2, "negative": [2.0, -1.0, 0.0]},
        rule="all three inputs have one shape",
    ),
    InvalidInput(
        "unknown-reduction", "reduction", TRIPLE, {"reduction": "avg"}, rule=REDUCTION_RULE
    ),
)
TRIPLET_INVALID = (
    *SHAPE_INVALID,
    *(
        InvalidInput(f"margin={m!r}", "margin", TRIPLE, {"margin": m}, rule="margin greater than 0")
        for m in (0.0, -1.0, float("nan"))
    ),
    *(
        InvalidInput(
            f"p={p!r}", "p", TRIPLE, {"p": p}, rule="||x||_p = (sum |x_i|^p)^(1/p): p real, != 0"
        )
        for p in (0, float("inf"), float("nan"))
    ),
    InvalidInput(
        "positive-broadcast-from-(1,D)",
        "positive",
        {"anchor": A2, "positive": [[0.5, 1.0, 2.5]], "negative": N2},
        rule="the shapes of all input tensors should be (N, D)",
    ),
    InvalidInput(
        "inputs-(N,D,K)",
        "anchor",
        {"anchor": [A2], "positive": [P2], "negative": [N2]},
        rule="Input: (N, D) or (D)",
    ),
    InvalidInput(
        "inputs-0-dim",
        "anchor",
        {"anchor": 0.5, "positive": 1.0, "negative": 2.0},
        rule="Input: (N, D) or (D)",
    ),
)
WITH_DISTANCE_INVALID = (
    *SHAPE_INVALID,
    *(
        InvalidInput(f"margin={m!r}", "margin", TRIPLE, {"margin": m}, rule="a nonnegative margin")
        for m in (-1.0, float("nan"))
    ),
)

# -- the specs -------------------------------------------------------------------------------

ARGS = tuple(TensorArg(k, differentiable=True) for k in NAMES)
COMMON_COVERAGE = (
    "hinge_tie",
    "hinge_near_tie",
    "swapped",
    "swap_tie",
    "equal_vectors",
    "unbatched",
    "empty_batch",
    "bulk",
)

TRIPLET_MARGIN = LossSpec(
    tie_gradients=active_at_tie,
    loss="TripletMarginLoss",
    functional="triplet_margin_loss",
    oracle="triplet_margin_loss",
    args=ARGS,
    options=(
        Option("margin", 1.0, positive_margins, doc="greater than 0"),
        Option("p", 2, p_values, doc="the norm degree (real, nonzero)"),
        Option("eps", 1e-6, eps_values, doc="||x - y + eps e||_p (PairwiseDistance)"),
        Option("swap", False, swap_values, doc="distance swap (Balntas et al.)"),
    ),
    draw_inputs=_drawer("TripletMarginLoss"),
    regimes=REGIMES,
    features=features,
    legacy_reduction_args=True,
    doc="l_i = max(||a - p + eps||_p - ||a - n + eps||_p + margin, 0)",
    invalid=TRIPLET_INVALID,
    broadcasts=False,
    term_scale=term_scale,
    gradient_scale=gradient_scale,
    coverage=(*COMMON_COVERAGE, "zero_difference", "coordinate_tie"),
)

TRIPLET_WITH_DISTANCE = LossSpec(
    tie_gradients=active_at_tie,
    loss="TripletMarginWithDistanceLoss",
    functional="triplet_margin_with_distance_loss",
    oracle="triplet_margin_with_distance_loss",
    args=ARGS,
    options=(
        Option("distance_function", None, distance_values, doc="a distance, drawn by name"),
        Option("margin", 1.0, nonnegative_margins, doc="nonnegative"),
        Option("swap", False, swap_values, doc="swap when d(p, n) < d(a, n)"),
    ),
    draw_inputs=_drawer("TripletMarginWithDistanceLoss"),
    regimes=REGIMES,
    features=features,
    since="1.8",
    doc="l_i = max(d(a, p) - d(a, n) + margin, 0) for a distance function d",
    invalid=WITH_DISTANCE_INVALID,
    broadcasts=False,
    term_scale=term_scale,
    gradient_scale=gradient_scale,
    torch_options=_distances.torch_options,
    reproducer_imports=_distances.REPRODUCER_IMPORTS,
    coverage=COMMON_COVERAGE,
)

SPECS = (TRIPLET_MARGIN, TRIPLET_WITH_DISTANCE)
