"""LossSpec entries of the pair losses with a margin: MarginRankingLoss and CosineEmbeddingLoss.

MarginRanking: l_n = max(0, -y_n (x1_n - x2_n) + margin), inputs and target (N) or (), any
real margin (0 and negative included), y in {1, -1}; torch differentiates all three
tensors. CosineEmbedding: l_n = 1 - cos(x1_n, x2_n) for y = 1, max(0, cos - margin) for
y = -1, inputs (N, D) or (D), target (N) or (), margin in [-1, 1]; torch differentiates
the inputs only.

Regimes: ``well``, ``edge`` (NaN, ±inf, subnormals, the largest finite values), ``tie``
(values k/8 where the kink argument is exactly 0 and every partial sum is exact in every
dtype: the subgradient is checked bit for bit), ``bulk`` (a seeded batch of BULK_N), and
for the cosine ``norms`` (rows scaled by powers of two from about 1e-20 to 1e20, clipped to
what the dtype holds, and zero rows).

Rounding (``PairTable``): near ties, where the exact kink argument z lies within torch's
rounding error delta of 0, get the jump between the one-sided derivatives, only there
(``gradient_scale``); the forward is continuous at the kink and takes delta
(``term_scale``). Derivations in PairTable's docstrings and fixtures/tolerances.toml.
float64 cosine draws (well, tie, bulk) are scaled by 2^16 (exact), so that torch's
undocumented epsilon (registered) stays below the float64 rounding there; the ``norms``
regime covers the small norms where it shows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from oracle._common import OracleInputError, reduction_grad
from suites.dtypes import info, is_representable, overflow_threshold, to_dtype
from suites.specs._ties import active_at_tie
from suites.specs._types import InvalidInput, LossSpec, Option, TensorArg
from suites.strategies import arrays, bulk_values

LD = np.longdouble
RANKING_MARGINS = (0.0, 1.0, 0.5, -0.5, 2.0, 0.25, -1.0)
COSINE_MARGINS = (0.0, 0.5, -0.5, 1.0, -1.0, 0.25)
MAX_N = 6
MAX_D = 5
BULK_N = 256
BULK_D = 4
# torch's undocumented epsilon added to each squared norm (measured, see the registry)
TORCH_EPS = 1e-12
FLOAT64_COSINE_SCALE = 2.0**16
# |fl(z) - z| <= DELTA_U * u * (|x1| + |x2| + |margin|) + DELTA_SUB subnormal spacings:
# x1 - x2 (u), the margin rounded to the dtype (u), the addition (u): 3u, 4u bounds it
DELTA_U = 4
DELTA_SUB = 2


def ranking_margins(dtype: str) -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from(RANKING_MARGINS), st.floats(-4.0, 4.0))


def cosine_margins(dtype: str) -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from(COSINE_MARGINS), st.floats(-1.0, 1.0))


def _labels(draw: st.DrawFn, n: int, dtype: str, only: float | None = None) -> np.ndarray:
    if only is not None:
        return to_dtype(np.full(n, only), dtype)
    ys = draw(st.lists(st.sampled_from((1.0, -1.0)), min_size=n, max_size=n))
    return to_dtype(np.array(ys, dtype=np.float64), dtype)


def _grid(draw: st.DrawFn, shape: tuple[int, ...], dtype: str, k: int = 64) -> np.ndarray:
    n = math.prod(shape)
    ks = draw(st.lists(st.integers(-k, k), min_size=n, max_size=n))
    return to_dtype(np.array(ks, dtype=np.float64).reshape(shape) / 8.0, dtype)


# -- MarginRankingLoss: drawing ----------------------------------------------------------


@st.composite
def draw_ranking(
    draw: st.DrawFn, dtype: str, regime: str, options: dict[str, Any], include: frozenset[str]
) -> dict[str, Any]:
    if regime == "bulk":
        seed = draw(st.integers(0, 2**32 - 1))
        y = np.where(np.random.default_rng(seed + 2).random(BULK_N) < 0.5, 1.0, -1.0)
        return {
            "input1": bulk_values(seed, BULK_N, dtype, scale=2.0),
            "input2": bulk_values(seed + 1, BULK_N, dtype, scale=2.0),
            "target": to_dtype(y, dtype),
            "_sources": {
                "input1": f"bulk_values({seed}, {BULK_N}, {dtype!r}, scale=2.0)",
                "input2": f"bulk_values({seed + 1}, {BULK_N}, {dtype!r}, scale=2.0)",
            },
        }
    shape: tuple[int, ...] = () if draw(st.integers(0, 4)) == 0 else (draw(st.integers(0, MAX_N)),)
    n = math.prod(shape)
    y = _labels(draw, n, dtype).reshape(shape)
    if regime == "tie":
        x1 = _grid(draw, shape, dtype)
        margin = float(options.get("margin", 0.0))
        x2 = _grid(draw, shape, dtype).ravel()
        for i in range(n):  # x2 = x1 - y margin makes z = 0 when exact in the dtype
            want = float(x1.ravel()[i]) - float(y.ravel()[i]) * margin
            v = to_dtype(np.array(want), dtype)
            if float(v) == want and draw(st.booleans()):
                x2[i] = v
        return {"input1": x1, "input2": x2.reshape(shape), "target": y}
    return {
        "input1": draw(arrays(dtype, shape, regime)),
        "input2": draw(arrays(dtype, shape, regime)),
        "target": y,
    }


def _ranking_drawer(draw, dtype, regime, options, include):
    return draw(draw_ranking(dtype, regime, options, include))


# -- CosineEmbeddingLoss: drawing --------------------------------------------------------


def _scale_exponents(dtype: str) -> tuple[int, int]:
    """Powers of two 2^j with |j| <= 66 (1e-20 .. 1e20) that keep a row of values up to 1
    finite and above the subnormal range of the dtype."""
    d = info(dtype)
    return max(-66, d.emin + 1), min(66, d.emax - 3)


@st.composite
def _tie_row(draw: st.DrawFn, d: int, margin: float) -> tuple[list[float], list[float]]:
    """A pair on the k/8 grid whose exact cosine is the margin, where one exists."""
    a = draw(st.integers(1, 16)) * draw(st.sampled_from((1, -1)))
    b = draw(st.integers(-16, 16))
    x1 = [0.0] * d
    x2 = [0.0] * d
    if margin == 0.0 and d >= 2:  # orthogonal: x1 . x2 = -a b + b a = 0 exactly
        x1[0], x1[1], x2[0], x2[1] = a, b, -b, a
    elif abs(margin) == 1.0:  # parallel or antiparallel: cos = ±1 (norm |a|)
        x1[0], x2[0] = a, margin * a
    elif abs(margin) == 0.5 and d >= 4:  # (a, a, a, a) . (±a', 0, 0, 0) / (2|a| |a'|)
        c = draw(st.integers(1, 16))
        x1[:4] = [a] * 4
        x2[0] = c if (margin > 0) == (a > 0) else -c
    else:
        return [], []
    return [v / 8.0 for v in x1], [v / 8.0 for v in x2]


@st.composite
def _well_rows(draw: st.DrawFn, dtype: str, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """Magnitudes in [1/4, 2] with random signs (times the float64 scale): every row's norm
    is at least 1/4 and at most 2 sqrt(D), so neither torch's epsilon (registered) nor the
    float16 range of |x1|^2 |x2|^2 (registered) decides a well-conditioned case; zero and
    tiny rows are the edge and norms regimes' business."""
    mags = draw(arrays(dtype, shape, "well", 0.25, 2.0))
    n = math.prod(shape)
    signs = np.array(draw(st.lists(st.sampled_from((1.0, -1.0)), min_size=n, max_size=n)))
    return to_dtype(mags.astype(np.float64) * signs.reshape(shape) * scale, dtype)


@st.composite
def draw_cosine(
    draw: st.DrawFn, dtype: str, regime: str, options: dict[str, Any], include: frozenset[str]
) -> dict[str, Any]:
    scale = FLOAT64_COSINE_SCALE if dtype == "float64" else 1.0
    if regime == "bulk":
        seed = draw(st.integers(0, 2**32 - 1))
        size = BULK_N * BULK_D
        y = np.where(np.random.default_rng(seed + 2).random(BULK_N) < 0.5, 1.0, -1.0)
        s = f", scale={scale}"
        return {
            "input1": bulk_values(seed, size, dtype, scale=scale).reshape(BULK_N, BULK_D),
            "input2": bulk_values(seed + 1, size, dtype, scale=scale).reshape(BULK_N, BULK_D),
            "target": to_dtype(y, dtype),
            "_sources": {
                "input1": f"bulk_values({seed}, {size}, {dtype!r}{s}).reshape({BULK_N}, {BULK_D})",
                "input2": f"bulk_values({seed + 1}, {size}, {dtype!r}{s}).reshape"
                f"({BULK_N}, {BULK_D})",
            },
        }
    d = draw(st.integers(1, MAX_D))
    unbatched = draw(st.integers(0, 3)) == 0
    n = 1 if unbatched else draw(st.integers(0, MAX_N))
    shape = (n, d)
    if regime == "tie":
        margin = float(options.get("margin", 0.0))
        x1 = _grid(draw, shape, dtype, 16).astype(np.float64)
        x2 = _grid(draw, shape, dtype, 16).astype(np.float64)
        x1[:, 0] = np.where(np.all(x1 == 0, axis=1), 0.125, x1[:, 0])  # no zero rows here
        x2[:, 0] = np.where(np.all(x2 == 0, axis=1), -0.125, x2[:, 0])
        for i in range(n):
            a, b = draw(_tie_row(d, margin))
            if a and draw(st.integers(0, 3)) > 0:
                x1[i], x2[i] = a, b
        y = _labels(draw, n, dtype, -1.0)
        x1, x2 = to_dtype(x1 * scale, dtype), to_dtype(x2 * scale, dtype)
    elif regime == "norms":
        lo, hi = _scale_exponents(dtype)
        rows1, rows2 = [], []
        for _ in range(n):
            pair = []
            for _k in range(2):
                v = np.array(draw(st.lists(st.floats(-1, 1), min_size=d, max_size=d)))
                j = draw(st.one_of(st.integers(lo, hi), st.sampled_from((lo, hi))))
                zero = draw(st.integers(0, 7)) == 0
                pair.append(np.zeros(d) if zero else v * 2.0**j)
            rows1.append(pair[0])
            rows2.append(pair[1])
        x1 = to_dtype(np.array(rows1).reshape(shape), dtype)
        x2 = to_dtype(np.array(rows2).reshape(shape), dtype)
        y = _labels(draw, n, dtype)
    elif regime == "well":
        x1, x2 = (draw(_well_rows(dtype, shape, scale)) for _ in range(2))
        y = _labels(draw, n, dtype)
    else:
        x1 = draw(arrays(dtype, shape, regime))
        x2 = draw(arrays(dtype, shape, regime))
        y = _labels(draw, n, dtype)
    if unbatched:
        return {"input1": x1.reshape(d), "input2": x2.reshape(d), "target": y.reshape(())}
    return {"input1": x1, "input2": x2, "target": y}


def _cosine_drawer(draw, dtype, regime, options, include):
    return draw(draw_cosine(dtype, regime, options, include))


# -- the kinks of a case, and what rounding in the dtype can do to them -------------------


def _exact_in(v: np.ndarray, dtype: str) -> np.ndarray:
    with np.errstate(all="ignore"):
        v64 = v.astype(np.float64)
        return np.isfinite(v) & (v64.astype(LD) == v) & is_representable(v64, dtype)


class PairTable:
    """Per unreduced term n of a case: the kink argument z_n (accurate), whether torch forms
    it exactly (``exact``), a bound ``delta`` on |fl(z) - z| otherwise, ``ambiguous``
    (not exact, finite, |z| <= delta: rounding decides the side), the reduction seed r_n,
    and for the cosine the magnitudes the rounding error is relative to.

    MarginRanking: z = -y (x1 - x2) + m; exact where x1 - x2, m and z are values of the
    dtype; delta = 4u (|x1| + |x2| + |m|) + 2 subnormal spacings (x1 - x2, m rounded to
    the dtype, the addition: 3u). Every term has its kink at z = 0.

    CosineEmbedding: cos formed in the dtype from D products and D - 1 additions for the
    dot (each relative to S = sum |x1_i x2_i|), the two squared norms likewise, their
    product, a square root and a division: |fl(cos) - cos| <= ecos =
    u ((D + 1) S / (n1 n2) + (D + 4) |cos|) to first order; delta = 2 ecos + |m| u + 2u
    (the margin rounded, the subtraction). Kink only for y = -1 (z = cos - m). Exact where
    z == 0 with x1 . x2 == 0 and m == 0 (orthogonal rows: the dot is exactly 0 in any
    order, whatever the norms), or the row's squares, norms products and quotient are
    all values of the dtype with torch's epsilon below half an ulp of each squared norm.
    """

    def __init__(self, case: Any) -> None:
        self.loss = case.spec.loss
        self.dtype = case.dtype
        opts = case.effective_options()
        self.margin = LD(float(opts.get("margin", 0.0)))
        self.u = LD(info(case.dtype).unit_roundoff)
        self.sub = LD(info(case.dtype).smallest_subnormal)
        x1 = np.asarray(case.inputs["input1"]).astype(LD)
        x2 = np.asarray(case.inputs["input2"]).astype(LD)
        y = np.asarray(case.inputs["target"]).astype(LD)
        with np.errstate(all="ignore"):
            if self.loss == "MarginRankingLoss":
                self._ranking(x1, x2, y)
            else:
                self._cosine(x1, x2, y)

    def _ranking(self, x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> None:
        if x1.shape != x2.shape or x1.shape != y.shape or x1.ndim > 1:
            raise ValueError("not a documented shape")
        self.out_shape = x1.shape
        x1, x2, y = x1.ravel(), x2.ravel(), y.ravel()
        m = self.margin
        diff = x1 - x2
        self.z = -y * diff + m
        self.kinked = np.ones(self.z.shape, dtype=bool)
        finite = np.isfinite(x1) & np.isfinite(x2) & np.isfinite(m)
        exact = (
            _exact_in(diff, self.dtype)
            & _exact_in(self.z, self.dtype)
            & _exact_in(np.full(self.z.shape, m), self.dtype)
        )
        self.exact = exact
        delta = LD(DELTA_U) * self.u * (np.abs(x1) + np.abs(x2) + abs(m)) + DELTA_SUB * self.sub
        self.delta = np.where(finite & ~exact, delta, LD(0))
        self.ambiguous = ~exact & finite & (np.abs(self.z) <= self.delta)
        self.diff = diff
        big = overflow_threshold(self.dtype)
        self.overflow = bool(np.any(finite & ((np.abs(diff) >= big) | (np.abs(self.z) >= big))))

    def _cosine(self, x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> None:
        if x1.shape != x2.shape or x1.ndim not in (1, 2) or y.shape != x1.shape[:-1]:
            raise ValueError("not a documented shape")
        self.unbatched = x1.ndim == 1
        self.out_shape = y.shape
        d = x1.shape[-1]
        self.d = d
        rows = (1 if self.unbatched else x1.shape[0], d)  # reshape(-1, 0) is ambiguous
        x1, x2, y = x1.reshape(rows), x2.reshape(rows), y.reshape(-1)
        self.x1, self.x2 = x1, x2
        m = self.margin
        dot = np.sum(x1 * x2, axis=1)
        s = np.sum(np.abs(x1 * x2), axis=1)
        sq1, sq2 = np.sum(x1 * x1, axis=1), np.sum(x2 * x2, axis=1)
        n1, n2 = np.sqrt(sq1), np.sqrt(sq2)
        cos = dot / (n1 * n2)
        self.cos, self.n1, self.n2, self.sq1, self.sq2 = cos, n1, n2, sq1, sq2
        self.y = y
        self.z = cos - m
        self.kinked = y == -1
        finite = np.isfinite(x1).all(axis=1) & np.isfinite(x2).all(axis=1) & np.isfinite(cos)
        self.finite = finite
        u = self.u
        # subnormal products and sums: d + 1 half spacings each, relative to n1 n2 or n^2
        sub = (d + 1) * self.sub * (1 / (n1 * n2) + np.abs(cos) * (1 / sq1 + 1 / sq2))
        self.ecos = u * ((d + 1) * s / (n1 * n2) + (d + 4) * np.abs(cos)) + sub
        eps = LD(0) if self.dtype == "float16" else LD(TORCH_EPS)
        orthogonal = (dot == 0) & (m == 0) & (sq1 > 0) & (sq2 > 0)
        grid = (
            _exact_in(sq1, self.dtype)
            & _exact_in(sq2, self.dtype)
            & _exact_in(sq1 * sq2, self.dtype)
            & _exact_in(np.sqrt(sq1 * sq2), self.dtype)
            & _exact_in(dot, self.dtype)
            & _exact_in(cos, self.dtype)
            & (eps < LD(0.5) * self.u * np.minimum(sq1, sq2))
        )
        self.exact = self.kinked & (self.z == 0) & (orthogonal | grid)
        delta = 2 * self.ecos + u * (abs(m) + 2)
        self.delta = np.where(finite & ~self.exact, delta, LD(0))
        self.ambiguous = self.kinked & ~self.exact & finite & (np.abs(self.z) <= self.delta)
        big = overflow_threshold(self.dtype)
        tiny = LD(info(self.dtype).tiny)
        e1, e2 = sq1 + eps, sq2 + eps
        mags = np.maximum(np.maximum(e1 * e2, np.maximum(e1, e2)), np.abs(dot))
        rows_finite = np.isfinite(x1).all(axis=1) & np.isfinite(x2).all(axis=1)
        self.overflow = bool(np.any(rows_finite & (mags >= big)))
        small = (e1 * e2 < tiny) | (e1 < d * tiny) | (e2 < d * tiny)
        self.underflow = bool(np.any(rows_finite & (sq1 > 0) & (sq2 > 0) & small))
        self.epsilon_visible = bool(
            self.dtype != "float16"
            and np.any(rows_finite & (eps / sq1 + eps / sq2 > u / 64) & (sq1 > 0) & (sq2 > 0))
        )
        self.zero_vector = bool(np.any((sq1 == 0) | (sq2 == 0)))

    def seeds(self, grad_output: Any, reduction: str) -> np.ndarray:
        return np.abs(reduction_grad(grad_output, self.out_shape, reduction).reshape(-1))

    # -- the bounds ------------------------------------------------------------------
    def forward_scale(self, terms: np.ndarray) -> np.ndarray:
        """M_n (units of u) with torch's elementwise error <= u M_n.

        MarginRanking: a term whose hinge may be active (z > -delta) is off by at most
        delta (max(0, .) is 1-Lipschitz), else exactly 0: M_n = delta_n / u + |l_n|.
        CosineEmbedding: y = 1: 1 - fl(cos) is off by ecos plus its own rounding u |l|;
        y = -1: max(0, fl(cos) - m) by delta (ecos and the margin's rounding), where the
        hinge may be active. M_n = (that) / u + |l_n|."""
        t = np.abs(np.asarray(terms, dtype=LD).reshape(-1))
        t = np.where(np.isfinite(t), t, 0)
        with np.errstate(all="ignore"):
            if self.loss == "MarginRankingLoss":
                counted = self.z > -self.delta
                e = np.where(counted, self.delta, 0)
            else:
                counted = (self.y == 1) | (self.z > -self.delta)
                e = np.where(self.y == 1, self.ecos + self.u, self.delta)
                e = np.where(counted & self.finite, e, 0)
            m = np.nan_to_num(e / self.u, nan=0.0, posinf=0.0) + t
        return m.reshape(self.out_shape)

    def gradient_scale(self, name: str, grad_output: Any, reduction: str) -> np.ndarray:
        """G (units of u) with torch's gradient error <= u G beyond the budget's ulps.

        MarginRanking: the slope is ∓y H(z) (for the target -(x1 - x2) H(z)); where
        rounding decides the side (ambiguous) the jump is |r| (|r (x1 - x2)| for the
        target); elsewhere the budget's ulps cover the roundings of r = g / N and the
        product. CosineEmbedding: dc/dx1_i = x2_i / (n1 n2) - c x1_i / n1^2 cancels (0 for
        parallel rows): its error is (D + 8) u |r| G_i with G_i = |x2_i| / (n1 n2) +
        |c| |x1_i| / n1^2 (every factor carries the forward's (D + 4) u, the products and
        the subtraction 4 more), plus |r| |x1_i| / n1^2 ecos from fl(cos); where rounding
        decides the side of a y = -1 hinge, the jump |r| |dc/dx_i|; and, for a backward
        intermediate in the subnormal range, 4 spacings times (1 + |x1_i| + |x2_i|) (1 +
        1 / (n1 n2) + 1 / n1^2 + 1 / n2^2) (1 + |c|), the products that follow it; for the
        seed divided by up to Q = max(1, n1 n2) max(1, n1^2, n2^2) there, 4 spacings times
        G_i Q (a relative error s / (2 r / Q) of the term r G_i)."""
        r = self.seeds(grad_output, reduction)
        with np.errstate(all="ignore"):
            if self.loss == "MarginRankingLoss":
                # the jump as torch forms it: r = g / N and x1 - x2 rounded, their product
                jump = np.where(self.ambiguous, r * (1 + 4 * self.u), 0)
                if name == "target":
                    jump = jump * np.abs(np.nan_to_num(self.diff, nan=0.0))
                out = jump / self.u
                return np.nan_to_num(out, nan=0.0, posinf=0.0).reshape(self.out_shape)
            a, b = (self.x1, self.x2) if name == "input1" else (self.x2, self.x1)
            na = (self.n1 if name == "input1" else self.n2)[:, None]
            nn = (self.n1 * self.n2)[:, None]
            c = self.cos[:, None]
            g = np.abs(b) / nn + np.abs(c) * np.abs(a) / (na * na)
            exact_d = np.abs(b / nn - c * a / (na * na))
            rr = r[:, None]
            err = (self.d + 8) * self.u * g + np.abs(a) / (na * na) * self.ecos[:, None]
            # an intermediate of the backward in the subnormal range (the seed times
            # 1 / (n1 n2), c / n^2 or an element) is off by half a spacing, which the
            # later products with elements and those factors carry
            nb = (self.n2 if name == "input1" else self.n1)[:, None]
            amp = (1 + np.abs(a) + np.abs(b)) * (1 + 1 / nn + 1 / (na * na) + 1 / (nb * nb))
            err = err + 4 * self.sub * amp * (1 + np.abs(c)) / np.maximum(rr, self.sub)
            # ... or the seed divided by up to a fourth power of the norms falls there
            # (relative error s / (2 r / Q)), which every later product keeps
            q = np.maximum(1, nn) * np.maximum(1, np.maximum(na * na, nb * nb))
            err = err + np.where(rr > 0, 4 * self.sub * g * q / rr, 0)
            jump = np.where(self.ambiguous[:, None], exact_d + (self.d + 8) * self.u * g, 0)
            out = np.nan_to_num(rr * (err + jump) / self.u, nan=0.0, posinf=0.0)
        shape = (self.d,) if self.unbatched else (self.x1.shape[0], self.d)
        return out.reshape(shape)


_TABLES: dict[tuple, PairTable | None] = {}
_TABLES_KEPT = 32


def _key(case: Any) -> tuple:
    arrays_ = tuple(
        (name, a.dtype.str, a.shape, a.tobytes())
        for name, a in sorted(case.inputs.items())
        for a in [np.asarray(a)]
    )
    options = tuple(sorted((k, repr(v)) for k, v in case.effective_options().items()))
    return (case.spec.loss, case.dtype, arrays_, options)


def _table(case: Any) -> PairTable | None:
    """The case's PairTable (None for an invalid input), memoised per inputs and options."""
    key = _key(case)
    if key not in _TABLES:
        try:
            table: PairTable | None = PairTable(case)
        except (OracleInputError, ValueError, IndexError, TypeError):
            table = None
        if len(_TABLES) >= _TABLES_KEPT:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[key] = table
    return _TABLES[key]


def term_scale(case: Any) -> np.ndarray | None:
    table = _table(case)
    if table is None:
        return None
    import oracle

    opts = {k: v for k, v in case.options.items() if k not in ("size_average", "reduce")}
    opts["reduction"] = "none"
    try:
        with np.errstate(all="ignore"):
            terms = getattr(oracle, case.spec.oracle)(
                case.inputs["input1"], case.inputs["input2"], case.inputs["target"], **opts
            )
    except OracleInputError:
        return None
    return table.forward_scale(terms)


def gradient_scale(case: Any, name: str, grad_output: Any) -> np.ndarray | None:
    table = _table(case)
    if table is None:
        return None
    return table.gradient_scale(name, grad_output, case.reduction)


# -- features ---------------------------------------------------------------------------


def _invalid_features(case: Any, cosine: bool) -> set[str]:
    out: set[str] = set()
    y = np.asarray(case.inputs.get("target"), dtype=np.float64)
    if not np.all((y == 1) | (y == -1)):
        out.add("target_not_label")
    x1, x2 = np.asarray(case.inputs.get("input1")), np.asarray(case.inputs.get("input2"))
    if cosine:
        m = float(case.effective_options().get("margin", 0.0))
        if not -1 <= m <= 1:
            out.add("margin_outside_range")
        documented = x1.ndim in (1, 2) and x2.shape == x1.shape and y.shape == x1.shape[:-1]
        # what torch accepts: (N, D) inputs and a (N) target that broadcast
        accepted = x1.ndim == x2.ndim == 2 and y.ndim == 1 and _broadcast(x1, x2, y[:, None])
    else:
        documented = x1.ndim <= 1 and x2.shape == x1.shape and y.shape == x1.shape
        # what torch accepts: three tensors of one rank that broadcast
        accepted = x1.ndim == x2.ndim == y.ndim and _broadcast(x1, x2, y)
    if not documented:
        out.add("shape_not_documented")
        if accepted:
            out.add("undocumented_shape_accepted")
    return out


def _broadcast(*arrays_: np.ndarray) -> bool:
    try:
        np.broadcast_shapes(*(a.shape for a in arrays_))
    except ValueError:
        return False
    return True


def ranking_features(case: Any) -> set[str]:
    """hinge_tie: some z is exactly 0; hinge_near_tie: rounding decides a side; nan_hinge;
    diff_overflow: x1 - x2 or z reaches the dtype's overflow threshold with finite
    operands; infinite_difference: some x1 - x2 is ±inf; negative_margin, zero_margin;
    invalid inputs: target_not_label, shape_not_documented, undocumented_shape_accepted."""
    out = _invalid_features(case, cosine=False)
    m = float(case.effective_options().get("margin", 0.0))
    out.add("zero_margin" if m == 0 else "negative_margin" if m < 0 else "positive_margin")
    table = _table(case)
    if table is None:
        return out
    if np.any(table.z == 0):
        out.add("hinge_tie")
    if np.any(table.ambiguous):
        out.add("hinge_near_tie")
    if np.any(np.isnan(table.z)):
        out.add("nan_hinge")
    if table.overflow:
        out.add("diff_overflow")
    if np.any(np.isinf(table.diff)):
        out.add("infinite_difference")
    return out


def cosine_features(case: Any) -> set[str]:
    """cos_tie: a y = -1 row with cos == margin exactly; cos_near_tie: rounding decides its
    side; nan_cos; zero_vector; epsilon_visible: torch's epsilon (1e-12 added to each
    squared norm) exceeds u/64 of a squared norm (not in float16, where 1e-12 rounds away);
    norm_product_overflow: |x1|^2, |x2|^2, their product or the dot reaches the overflow
    threshold with finite elements; norm_product_underflow: the product of the squared
    norms (epsilon included) falls below the normal range, or a squared norm below D times
    it; tiny_norm (< 1e-10), huge_norm (> 1e10); unbatched; empty_batch; invalid inputs:
    target_not_label, margin_outside_range, shape_not_documented (and
    undocumented_shape_accepted where torch takes it: see _invalid_features)."""
    out = _invalid_features(case, cosine=True)
    x1 = np.asarray(case.inputs.get("input1"))
    if x1.ndim == 1:
        out.add("unbatched")
    if x1.ndim == 2 and x1.shape[0] == 0:
        out.add("empty_batch")
    table = _table(case)
    if table is None:
        return out
    if np.any(table.kinked & (table.z == 0)):
        out.add("cos_tie")
    if np.any(table.ambiguous):
        out.add("cos_near_tie")
    if np.any(np.isnan(table.cos)):
        out.add("nan_cos")
    for flag in ("zero_vector", "epsilon_visible"):
        if getattr(table, flag):
            out.add(flag)
    if table.overflow:
        out.add("norm_product_overflow")
    if table.underflow:
        out.add("norm_product_underflow")
    with np.errstate(all="ignore"):
        norms = np.concatenate([table.n1, table.n2])
        if np.any((norms > 0) & (norms < 1e-10)):
            out.add("tiny_norm")
        if np.any(np.isfinite(norms) & (norms > 1e10)):
            out.add("huge_norm")
    return out


# -- invalid inputs -----------------------------------------------------------------------

REDUCTION_RULE = "reduction is one of 'none', 'mean', 'sum'"
R3 = {"input1": [1.0, 2.0, 3.0], "input2": [0.5, 2.5, 1.0], "target": [1.0, -1.0, 1.0]}

RANKING_INVALID = (
    *(
        InvalidInput(
            f"target-{v!r}",
            "target",
            {**R3, "target": [1.0, v, -1.0]},
            rule="y containing 1 or -1",
        )
        for v in (0.0, 2.0, 0.5, float("nan"))
    ),
    InvalidInput(
        "input2-of-shape-(1,)",
        "input2",
        {**R3, "input2": [0.5]},
        rule="Input2: (N) or (), same shape as the Input1",
    ),
    InvalidInput(
        "target-of-shape-(1,)",
        "target",
        {**R3, "target": [1.0]},
        rule="Target: (N) or (), same shape as the inputs",
    ),
    InvalidInput(
        "target-0-dim-for-(N)-inputs",
        "target",
        {**R3, "target": 1.0},
        rule="Target: (N) or (), same shape as the inputs",
    ),
    InvalidInput(
        "inputs-(N,D)",
        "input1",
        {"input1": [[1.0, 2.0]], "input2": [[0.5, 3.0]], "target": [[1.0, -1.0]]},
        rule="Input1: (N) or ()",
    ),
    InvalidInput("unknown-reduction", "reduction", R3, {"reduction": "avg"}, rule=REDUCTION_RULE),
)

C23 = {
    "input1": [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]],
    "input2": [[2.0, -1.0, 0.5], [1.0, 1.0, 1.0]],
    "target": [1.0, -1.0],
}

COSINE_INVALID = (
    *(
        InvalidInput(
            f"target-{v!r}", "target", {**C23, "target": [v, -1.0]}, rule="y with values 1 or -1"
        )
        for v in (0.0, 2.0, float("nan"))
    ),
    *(
        InvalidInput(
            f"margin={v!r}",
            "margin",
            C23,
            {"margin": v},
            rule="margin should be a number from -1 to 1",
        )
        for v in (1.5, -2.0, float("nan"))
    ),
    InvalidInput(
        "input2-of-shape-(1,D)",
        "input2",
        {**C23, "input2": [[2.0, -1.0, 0.5]]},
        rule="Input2: (N, D) or (D), same shape as Input1",
    ),
    InvalidInput(
        "target-of-shape-(1,)",
        "target",
        {**C23, "target": [1.0]},
        rule="Target: (N) or ()",
    ),
    InvalidInput(
        "target-(N)-for-unbatched-inputs",
        "target",
        {"input1": [1.0, 2.0], "input2": [2.0, 1.0], "target": [1.0]},
        rule="Target: () for (D) inputs",
    ),
    InvalidInput(
        "inputs-0-dim",
        "input1",
        {"input1": 1.0, "input2": 2.0, "target": 1.0},
        rule="Input1: (N, D) or (D)",
    ),
    InvalidInput(
        "inputs-(N,M,D)",
        "input1",
        {"input1": [C23["input1"]], "input2": [C23["input2"]], "target": [[1.0, -1.0]]},
        rule="Input1: (N, D) or (D)",
    ),
    InvalidInput("unknown-reduction", "reduction", C23, {"reduction": "avg"}, rule=REDUCTION_RULE),
)

# -- the specs ----------------------------------------------------------------------------

MARGIN_RANKING = LossSpec(
    tie_gradients=active_at_tie,
    loss="MarginRankingLoss",
    functional="margin_ranking_loss",
    oracle="margin_ranking_loss",
    args=(
        TensorArg("input1", differentiable=True),
        TensorArg("input2", differentiable=True),
        TensorArg("target", differentiable=True),
    ),
    options=(Option("margin", 0.0, ranking_margins, doc="any real; 0 and negative included"),),
    draw_inputs=_ranking_drawer,
    regimes=("well", "edge", "tie", "bulk"),
    features=ranking_features,
    legacy_reduction_args=True,
    doc="l_n = max(0, -y_n (x1_n - x2_n) + margin), y in {1, -1}",
    invalid=RANKING_INVALID,
    term_scale=term_scale,
    gradient_scale=gradient_scale,
    coverage=(
        "hinge_tie",
        "hinge_near_tie",
        "nan_hinge",
        "infinite_difference",
        "zero_margin",
        "negative_margin",
        "zero_dim",
        "empty",
        "bulk",
    ),
)

COSINE_EMBEDDING = LossSpec(
    tie_gradients=active_at_tie,
    loss="CosineEmbeddingLoss",
    functional="cosine_embedding_loss",
    oracle="cosine_embedding_loss",
    args=(
        TensorArg("input1", differentiable=True),
        TensorArg("input2", differentiable=True),
        # torch gives no gradient for the label (autograd finds it unused)
        TensorArg("target", differentiable=False),
    ),
    options=(Option("margin", 0.0, cosine_margins, doc="from -1 to 1; 0 to 0.5 suggested"),),
    draw_inputs=_cosine_drawer,
    regimes=("well", "edge", "tie", "norms", "bulk"),
    features=cosine_features,
    legacy_reduction_args=True,
    doc="l_n = 1 - cos(x1_n, x2_n) if y = 1, max(0, cos - margin) if y = -1",
    invalid=COSINE_INVALID,
    broadcasts=False,
    term_scale=term_scale,
    gradient_scale=gradient_scale,
    coverage=(
        "cos_tie",
        "cos_near_tie",
        "zero_vector",
        "epsilon_visible",
        "norm_product_underflow",
        "tiny_norm",
        "huge_norm",
        "norm_product_overflow",
        "unbatched",
        "empty_batch",
        "bulk",
    ),
)

SPECS = (MARGIN_RANKING, COSINE_EMBEDDING)
