"""LossSpec entries of the multi-class hinge losses: MultiMarginLoss and MultiLabelMarginLoss.

MultiMargin: l_n = sum_{i != y_n} w_{y_n} max(0, margin - x_{n,y_n} + x_{n,i})^p / C, with
p in {1, 2}, any real margin (0 and negative included), an optional class weight (C,)
given to the module's constructor. MultiLabelMargin: l_n = sum_j sum_{i not a label}
max(0, 1 - x_{n,y_j} + x_{n,i}) / C over the labels before the target's first -1. Inputs
(N, C) or unbatched (C,); 'mean' divides by N.

Regimes: ``well`` ([-16, 16]), ``edge`` (NaN, ±inf, subnormals, the largest finite values),
``tie`` (scores k/8 with some hinge arguments exactly 0, every partial sum exact in the
dtype: the subgradient convention at the hinge is checked bit for bit) and ``bulk`` (a
seeded (256, C) batch, C up to 64). The drawn batch is never empty: torch returns
uninitialised memory for a reduced empty batch (registered; suites/test_*_margin_special_
cases.py covers N = 0 through the registry), and the API-equivalence tests compare two
torch calls bit for bit, which that garbage breaks.

The bounds (``term_scale``, ``gradient_scale``; see ``HingeTable``) carry the rounding of the
hinge argument ``margin - x[y] + x[i]``, which cancels near the hinge, so that rule 3/4
judge torch's dtype arithmetic by what it can achieve; the budgets in
fixtures/tolerances.toml (terms_u = 1) rely on them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from oracle._common import OracleInputError, reduction_grad
from oracle.multi_margin_loss import hinge_arguments
from suites.dtypes import info, is_representable, overflow_threshold, to_dtype
from suites.specs._types import InvalidInput, LossSpec, Option, TensorArg
from suites.strategies import arrays, bulk_values

LD = np.longdouble
MARGINS = (1.0, 0.0, 0.5, 2.0, 0.25, -0.5, -1.0)
MAX_CLASSES = 6
MAX_BATCH = 4
BULK_BATCH = 256
BULK_MULTI_MARGIN_CLASSES = (16, 64)
BULK_MULTILABEL_SHAPE = (32, 8)  # N * C <= 256: the target still inlines in a reproducer
REGIMES = ("well", "edge", "tie", "bulk")
# |z - fl(z)| <= DELTA_U * u * (|margin| + |x[y]| + |x[i]|) + DELTA_SUB * smallest
# subnormal: margin rounded to the dtype and two additions, each off by u times its
# magnitude or, in the subnormal range, half a subnormal spacing (a margin below it
# flushes to 0): 3u to first order, 4u bounds it; 3 half spacings, 2 bound them
DELTA_U = 4
DELTA_SUB = 2


def p_values(dtype: str) -> st.SearchStrategy[int]:
    return st.sampled_from((1, 2))


def margin_values(dtype: str) -> st.SearchStrategy[float]:
    """Dyadic margins (ties land on the grid), 0 and negative ones, and arbitrary reals."""
    return st.one_of(st.sampled_from(MARGINS), st.floats(-4.0, 4.0))


# -- drawing ----------------------------------------------------------------------------


@st.composite
def _layout(draw: st.DrawFn) -> tuple[tuple[int, ...], bool]:
    c = draw(st.integers(1, MAX_CLASSES))
    if draw(st.integers(0, 3)) == 0:
        return (c,), True
    return (draw(st.integers(1, MAX_BATCH)), c), False


def _grid(draw: st.DrawFn, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """k/8 for |k| <= 64: with a dyadic margin |m| <= 2 every partial sum of the hinge
    argument is a multiple of 1/8 below 19 in magnitude, exact even in bfloat16."""
    n = math.prod(shape)
    ks = draw(st.lists(st.integers(-64, 64), min_size=n, max_size=n))
    return to_dtype(np.array(ks, dtype=np.float64).reshape(shape) / 8.0, dtype)


def _tie(draw: st.DrawFn, x: np.ndarray, row: int, a: int, b: int, margin: float, dtype: str):
    """Set x[row, b] = x[row, a] - margin when that is exact in the dtype (a hinge tie)."""
    want = float(x[row, a]) - margin
    v = to_dtype(np.array(want), dtype)
    if float(v) == want and draw(st.booleans()):
        x[row, b] = v


def _weight(draw: st.DrawFn, dtype: str, c: int, regime: str) -> np.ndarray:
    if regime == "edge" and draw(st.booleans()):
        return draw(arrays(dtype, (c,), "edge"))
    if regime == "tie":
        ks = draw(st.lists(st.integers(-16, 16), min_size=c, max_size=c))
        return to_dtype(np.array(ks, dtype=np.float64) / 4.0, dtype)
    return draw(arrays(dtype, (c,), "well", -4.0, 4.0))  # negative weights too


@st.composite
def draw_multi_margin_inputs(
    draw: st.DrawFn, dtype: str, regime: str, options: dict[str, Any], include: frozenset[str]
) -> dict[str, Any]:
    """input (N, C) or (C,), int64 target (N,) or (), weight (C,) when included."""
    if regime == "bulk":
        seed = draw(st.integers(0, 2**32 - 1))
        c = draw(st.sampled_from(BULK_MULTI_MARGIN_CLASSES))
        size = BULK_BATCH * c
        x = bulk_values(seed, size, dtype, scale=2.0).reshape(BULK_BATCH, c)
        y = np.random.default_rng(seed + 1).integers(0, c, BULK_BATCH).astype(np.int64)
        out: dict[str, Any] = {
            "input": x,
            "target": y,
            "_sources": {"input": f"bulk_values({seed}, {size}, {dtype!r}, scale=2.0)"},
        }
        if "weight" in include:
            out["weight"] = _weight(draw, dtype, c, "well")
        return out
    shape, unbatched = draw(_layout())
    c = shape[-1]
    x2 = _grid(draw, shape, dtype) if regime == "tie" else draw(arrays(dtype, shape, regime))
    x2 = x2.reshape(-1, c)
    n = x2.shape[0]
    y = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=np.int64)
    if regime == "tie":
        margin = float(options.get("margin", 1.0))
        for row in range(n):
            for i in range(c):
                if i != y[row]:
                    _tie(draw, x2, row, int(y[row]), i, margin, dtype)
    out = {
        "input": x2.reshape(shape),
        "target": y.reshape(()) if unbatched else y,
    }
    if "weight" in include:
        out["weight"] = _weight(draw, dtype, c, regime)
    return out


def _label_row(draw: st.DrawFn, c: int) -> list[int]:
    """Labels (repeats allowed), then -1 unless all C are labels, then any values in [-1, C)."""
    k = draw(st.integers(0, c))
    if draw(st.booleans()):
        labels = draw(st.permutations(range(c)))[:k]
    else:
        labels = draw(st.lists(st.integers(0, c - 1), min_size=k, max_size=k))
    rest = draw(st.lists(st.integers(-1, c - 1), min_size=c - k, max_size=c - k))
    if rest:
        rest[0] = -1
    return [*labels, *rest]


@st.composite
def draw_multilabel_inputs(
    draw: st.DrawFn, dtype: str, regime: str, options: dict[str, Any], include: frozenset[str]
) -> dict[str, Any]:
    """input (N, C) or (C,) and an int64 target of the same shape, padded by -1."""
    if regime == "bulk":
        seed = draw(st.integers(0, 2**32 - 1))
        n, c = BULK_MULTILABEL_SHAPE
        x = bulk_values(seed, n * c, dtype, scale=2.0).reshape(n, c)
        rng = np.random.default_rng(seed + 1)
        t = np.full((n, c), -1, dtype=np.int64)
        for row in range(n):
            k = int(rng.integers(0, c + 1))
            t[row, :k] = rng.permutation(c)[:k]
        return {
            "input": x,
            "target": t,
            "_sources": {"input": f"bulk_values({seed}, {n * c}, {dtype!r}, scale=2.0)"},
        }
    shape, _ = draw(_layout())
    c = shape[-1]
    x2 = _grid(draw, shape, dtype) if regime == "tie" else draw(arrays(dtype, shape, regime))
    x2 = x2.reshape(-1, c)
    t = np.array([_label_row(draw, c) for _ in range(x2.shape[0])], dtype=np.int64)
    if regime == "tie":
        for row in range(x2.shape[0]):
            labels = _considered(t[row])
            for i in range(c):
                if labels and i not in labels:
                    _tie(draw, x2, row, labels[0], i, 1.0, dtype)
    return {"input": x2.reshape(shape), "target": t.reshape(shape)}


def _considered(row: np.ndarray) -> list[int]:
    out = []
    for v in row.tolist():
        if v < 0:
            break
        out.append(int(v))
    return out


def _multi_margin_drawer(draw, dtype, regime, options, include):
    return draw(draw_multi_margin_inputs(dtype, regime, options, include))


def _multilabel_drawer(draw, dtype, regime, options, include):
    return draw(draw_multilabel_inputs(dtype, regime, options, include))


# -- the hinge terms of a case, and what rounding in the dtype can do to them -----------


def _exact_in(v: np.ndarray, dtype: str) -> np.ndarray:
    """True where the longdouble value v is exactly a finite value of the dtype."""
    with np.errstate(all="ignore"):
        v64 = v.astype(np.float64)
        return np.isfinite(v) & (v64.astype(LD) == v) & is_representable(v64, dtype)


def _exact_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):
        s = a + b
        bb = s - a
        return s, (a - (s - bb)) + (b - bb)


class HingeTable:
    """Every hinge term ``w max(0, z)^p``, ``z = m - x[row, a] + x[row, b]``, of a case.

    Arrays over the terms: ``row``, ``a`` (the target class), ``b`` (the other class), ``z``
    (accurate), ``w`` (|weight| of the row's target, 1 without a weight), and:

    - ``exact``: every operand and partial sum (m, m - x_a, x_b - x_a, m + x_b, z) is a
      value of the dtype, so torch forms z exactly in any order of evaluation;
    - ``delta``: the bound DELTA_U * u * (|m| + |x_a| + |x_b|) + DELTA_SUB subnormal
      spacings on |fl(z) - z| for the other finite terms (0 where exact, or where an
      operand is ±inf or NaN: IEEE is exact there);
    - ``counted``: z > -delta, the terms torch may find active (z > 0 after its rounding);
    - ``ambiguous``: not exact and |z| <= delta, where rounding decides the hinge's side.
    """

    def __init__(self, case: Any) -> None:
        self.dtype = case.dtype
        self.p = int(case.effective_options().get("p", 1))
        margin = float(case.effective_options().get("margin", 1.0))
        x = np.asarray(case.inputs["input"]).astype(LD)
        self.unbatched = x.ndim == 1
        x = x.reshape(-1, x.shape[-1])
        self.n, self.c = x.shape
        target = np.asarray(case.inputs["target"]).reshape(self.n, -1)
        if case.spec.loss == "MultiMarginLoss":
            rows, b = np.nonzero(np.arange(self.c)[None, :] != target)
            a = target[rows, 0]
            weight = case.inputs.get("weight")
            w = np.ones(rows.size, dtype=LD)
            if weight is not None:
                w = np.abs(np.asarray(weight).astype(LD))[a]
        else:
            rows, a, b = _label_pairs(target)
            w = np.ones(rows.size, dtype=LD)
        self.row, self.a, self.b, self.w = rows, a, b, w
        xa, xb = x[rows, a], x[rows, b]
        m = LD(margin)
        self.z = hinge_arguments(m, xa, xb)
        u = info(self.dtype).unit_roundoff
        with np.errstate(all="ignore"):
            finite = np.isfinite(xa) & np.isfinite(xb) & np.isfinite(m)
            parts = [_exact_sum(m, -xa), _exact_sum(xb, -xa), _exact_sum(m, xb)]
            exact = _exact_in(np.full(rows.shape, m), self.dtype) & _exact_in(self.z, self.dtype)
            for s, e in parts:
                exact &= (e == 0) & _exact_in(s, self.dtype)
            self.partials = np.stack([np.abs(s + e) for s, e in parts]) if rows.size else None
            self.exact = exact
            scale = np.abs(m) + np.abs(xa) + np.abs(xb)
            sub = LD(info(self.dtype).smallest_subnormal)
            delta = LD(DELTA_U * u) * scale + DELTA_SUB * sub
            self.delta = np.where(finite & ~exact, delta, LD(0))
            self.counted = self.z > -self.delta
            self.ambiguous = ~exact & finite & (np.abs(self.z) <= self.delta)
        self.u, self.sub = LD(u), LD(info(self.dtype).smallest_subnormal)

    @property
    def out_shape(self) -> tuple[int, ...]:
        return () if self.unbatched else (self.n,)

    def per_row(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n, dtype=LD)
        np.add.at(out, self.row, values)
        return out

    def forward_error(self, terms: np.ndarray) -> np.ndarray:
        """Per unreduced term n, a bound on torch's error in the dtype:

        sum over counted terms of w e_i / C, e_i = delta (p = 1) or delta (2|z| + delta)
        (p = 2: |fl(z)^2 - z^2|), plus (K_n + 2) u |l_n| for the K_n - 1 additions of the
        row's sum, the square, the weight product and the division by C (all terms of a
        row share one sign, so each rounding is relative to |l_n|), plus
        (K_n (max(w, 1) + 2) + 1) subnormal spacings for those operations when they
        underflow."""
        with np.errstate(all="ignore"):
            e = self.delta if self.p == 1 else self.delta * (2 * np.abs(self.z) + self.delta)
            e = np.where(self.counted, np.nan_to_num(self.w * e / self.c, posinf=0.0), 0)
            k = self.per_row(self.counted.astype(LD))
            w1 = np.nan_to_num(np.maximum(self.w, LD(1)), nan=1.0, posinf=1.0)
            w_row = self.per_row(np.where(self.counted, w1, 0))
            t = np.abs(np.asarray(terms, dtype=LD).reshape(self.n))
            t = np.where(np.isfinite(t), t, 0)  # a nonfinite term is judged by class
            sub = (w_row + 2 * k + 1) * self.sub
            return self.per_row(e) + (k + 2) * self.u * t + sub

    def gradient_error(self, grad_output: Any, reduction: str) -> np.ndarray:
        """Per element of grad[input], a bound on torch's error in the dtype.

        With r_n the reduction's seed and s = |r_n| w p max(0, z)^(p-1) / C the slope a
        counted term gives its two elements (+ for x_b, - for x_a): p = 1 has a jump of
        |r_n| w / C where the term is ambiguous (rounding decides whether it is active);
        p = 2 has 2 delta |r_n| w / C from fl(z). Each element sums the k terms that touch
        it (k = 1 for an x_b of MultiMargin, K_n for its x_a): (k + 5) u sum(s) for those
        additions and up to five roundings of the product r w p z / C (r = g / N rounded
        included), plus k subnormal spacings."""
        r = np.abs(reduction_grad(grad_output, self.out_shape, reduction).reshape(self.n))
        rr = r[self.row].astype(LD)
        with np.errstate(all="ignore"):
            if self.p == 1:
                slope = np.ones_like(self.z)
                jump = np.where(self.ambiguous, LD(1), LD(0))
            else:
                slope = 2 * np.maximum(self.z, 0)
                jump = 2 * self.delta
            scale = rr * self.w / self.c
            s = np.where(self.counted, np.nan_to_num(scale * slope, posinf=0.0), 0)
            j = np.where(self.counted, np.nan_to_num(scale * jump, posinf=0.0), 0)
            out_abs = np.zeros((self.n, self.c), dtype=LD)
            out_sum = np.zeros((self.n, self.c), dtype=LD)
            out_k = np.zeros((self.n, self.c), dtype=LD)
            for col in (self.a, self.b):
                np.add.at(out_abs, (self.row, col), j)
                np.add.at(out_sum, (self.row, col), s)
                np.add.at(out_k, (self.row, col), self.counted.astype(LD))
            err = out_abs + (out_k + 5) * self.u * out_sum + out_k * self.sub
        return err.reshape((self.c,) if self.unbatched else (self.n, self.c))


def _label_pairs(target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, label, class) for every term of the multilabel double sum."""
    n, c = target.shape
    pad = target < 0
    first = np.where(pad.any(axis=1), np.argmax(pad, axis=1), c)
    considered = np.arange(c)[None, :] < first[:, None]
    is_label = np.zeros((n, c), dtype=bool)
    rows, js = np.nonzero(considered)
    is_label[rows, target[rows, js]] = True
    rows, js, cls = np.nonzero(considered[:, :, None] & ~is_label[:, None, :])
    return rows, target[rows, js], cls


_TABLES: dict[tuple, HingeTable | None] = {}
_TABLES_KEPT = 32


def _key(case: Any) -> tuple:
    arrays = tuple(
        (name, a.dtype.str, a.shape, a.tobytes())
        for name, a in sorted(case.inputs.items())
        for a in [np.asarray(a)]
    )
    options = tuple(sorted((k, repr(v)) for k, v in case.effective_options().items()))
    return (case.spec.loss, case.dtype, arrays, options)


def _table(case: Any) -> HingeTable | None:
    """The case's HingeTable (None for an invalid input), memoised: features and the bounds
    of one case ask for it several times."""
    key = _key(case)
    if key not in _TABLES:
        try:
            table: HingeTable | None = HingeTable(case)
        except (OracleInputError, ValueError, IndexError, TypeError):
            table = None  # an invalid input: no hinge terms to describe
        if len(_TABLES) >= _TABLES_KEPT:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[key] = table
    return _TABLES[key]


def term_scale(case: Any) -> np.ndarray | None:
    """M_n with torch's elementwise error <= terms_u * u * M_n for terms_u = 1 (see
    HingeTable.forward_error)."""
    table = _table(case)
    if table is None:
        return None
    import oracle

    opts = {k: v for k, v in case.options.items() if k not in ("size_average", "reduce")}
    opts["reduction"] = "none"
    kw = dict(opts)
    if "weight" in case.inputs:
        kw["weight"] = case.inputs["weight"]
    with np.errstate(all="ignore"):
        terms = getattr(oracle, case.spec.oracle)(case.inputs["input"], case.inputs["target"], **kw)
    return (table.forward_error(terms) / table.u).reshape(table.out_shape)


def gradient_scale(case: Any, name: str, grad_output: Any) -> np.ndarray | None:
    """G with torch's gradient error <= terms_u * u * G for terms_u = 1."""
    table = _table(case)
    if table is None or name != "input":
        return None
    return table.gradient_error(grad_output, case.reduction) / table.u


def features(case: Any) -> set[str]:
    """hinge_tie: a hinge argument is exactly 0; hinge_near_tie: one is within its rounding
    error of 0 (rounding decides its side); nan_hinge: one is NaN; weight_times_idle_hinge
    and weight_times_idle_slope: a nonfinite weight meets an inactive hinge (see
    _nonfinite_weight_features); rounded_hinge_overflow: a near tie's weight turns the
    rounding into an overflow (_rounded_hinge_overflows); hinge_overflow: a partial sum of a hinge
    argument, z^p, w z^p or a row's sum reaches the dtype's overflow threshold while every
    operand is finite; empty_batch, unbatched; for MultiLabelMarginLoss also no_labels (a
    row starting with -1), repeated_label, ignored_after_pad (a value other than -1 after
    the first -1), all_labels (a row whose labels cover every class)."""
    out: set[str] = set()
    x = np.asarray(case.inputs.get("input"))
    if x.ndim == 1:
        out.add("unbatched")
    if x.ndim == 2 and x.shape[0] == 0:
        out.add("empty_batch")
    table = _table(case)
    if table is None:
        return out
    z = table.z
    if np.any(z == 0):
        out.add("hinge_tie")
    if np.any(table.ambiguous):
        out.add("hinge_near_tie")
    if np.any(np.isnan(z)):
        out.add("nan_hinge")
    weight = case.inputs.get("weight")
    if weight is not None and z.size:
        out |= _nonfinite_weight_features(table, np.asarray(weight, dtype=np.float64))
    if _overflows(table, weight):
        out.add("hinge_overflow")
    if _rounded_hinge_overflows(table):
        out.add("rounded_hinge_overflow")
    if case.spec.loss == "MultiLabelMarginLoss":
        out |= _label_features(np.asarray(case.inputs["target"]).reshape(table.n, table.c))
    return out


def _nonfinite_weight_features(table: HingeTable, weight: np.ndarray) -> set[str]:
    """Where the documented w[y] * max(0, z)^p, formed for every hinge, meets a nonfinite
    w[y] and an inactive hinge (inf * 0 = NaN) that torch never forms.

    weight_times_idle_hinge: visible in the loss: a row with w[y] = ±inf and an inactive
    hinge, or with w[y] = NaN and no active hinge (with one, torch's row is NaN too).
    weight_times_idle_slope: visible in the gradient: a row with a nonfinite w[y] and an
    inactive hinge (the oracle's slope w[y] * 0 is NaN, torch's is 0)."""
    out: set[str] = set()
    w = weight[table.a]
    with np.errstate(invalid="ignore"):
        idle = table.z <= 0
        active = table.per_row((table.z > 0).astype(LD)) > 0
    if np.any(~np.isfinite(w) & idle):
        out.add("weight_times_idle_slope")
    if np.any(np.isinf(w) & idle) or np.any(np.isnan(w) & ~active[table.row]):
        out.add("weight_times_idle_hinge")
    return out


def _rounded_hinge_overflows(table: HingeTable) -> bool:
    """A hinge whose side rounding decides (``ambiguous``) carries a weight so large that
    the difference reaches the dtype's overflow threshold (the forward's w e / C, the
    gradient's 2 delta |r| w / C or |r| w / C for |r| <= 4), or an infinite one: the exact value and
    torch's then differ in class (±inf against finite), not just in value."""
    if not np.any(table.ambiguous):
        return False
    big = overflow_threshold(table.dtype)
    with np.errstate(all="ignore"):
        d = table.delta if table.p == 1 else table.delta * (2 * np.abs(table.z) + table.delta)
        reach = table.w * (d + 8 * table.delta + 4) / table.c
        return bool(np.any(table.ambiguous & ~(reach < big)))


def _overflows(table: HingeTable, weight: Any) -> bool:
    if table.partials is None:
        return False
    big = overflow_threshold(table.dtype)
    with np.errstate(all="ignore"):
        finite = np.isfinite(table.partials).all(axis=0) & np.isfinite(table.z)
        if weight is not None:
            finite &= np.isfinite(np.asarray(weight, dtype=np.float64))[table.a]
        zp = np.abs(table.z) ** table.p
        mags = [*table.partials, np.abs(table.z), zp, table.w * zp]
        hit = any(np.any(finite & (v >= big)) for v in mags)
        rows = table.per_row(np.where(finite & table.counted, table.w * zp, 0))
        return hit or bool(np.any(rows >= big))


def _label_features(t: np.ndarray) -> set[str]:
    out: set[str] = set()
    for row in t:
        labels = _considered(row)
        if not labels:
            out.add("no_labels")
        if len(set(labels)) < len(labels):
            out.add("repeated_label")
        if len(set(labels)) == row.size:
            out.add("all_labels")
        if np.any(row[len(labels) + 1 :] != -1):
            out.add("ignored_after_pad")
    return out


# -- invalid inputs -----------------------------------------------------------------------

X24 = [[0.1, 0.2, 0.4, 0.8], [1.0, -0.5, 0.3, 0.2]]
X4 = [0.1, 0.2, 0.4, 0.8]
REDUCTION_RULE = "reduction is one of 'none', 'mean', 'sum'"

MULTI_MARGIN_INVALID = (
    InvalidInput(
        "class-index-equal-to-C",
        "target",
        {"input": X24, "target": [4, 0]},
        rule="0 <= targets[i] <= C-1",
        out_of_bounds=True,
    ),
    InvalidInput(
        "negative-class-index",
        "target",
        {"input": X24, "target": [-1, 0]},
        rule="0 <= targets[i] <= C-1",
        out_of_bounds=True,
    ),
    InvalidInput(
        "floating-class-indices",
        "target",
        {"input": X24, "target": [3.0, 0.0]},
        rule="the target holds class indices (an integer tensor)",
    ),
    InvalidInput(
        "target-of-shape-(N,1)",
        "target",
        {"input": X24, "target": [[3], [0]]},
        rule="Target: (N) or ()",
    ),
    InvalidInput(
        "target-longer-than-batch",
        "target",
        {"input": X24, "target": [3, 0, 1]},
        rule="Target: (N) for an (N, C) input",
    ),
    InvalidInput(
        "unbatched-input-with-target-(1,)",
        "target",
        {"input": X4, "target": [3]},
        rule="Target: () for a (C) input",
    ),
    InvalidInput(
        "weight-of-wrong-size",
        "weight",
        {"input": X24, "target": [3, 0], "weight": [1.0, 2.0, 3.0]},
        rule="weight has to be a Tensor of size C",
    ),
    InvalidInput(
        "weight-of-shape-(1,C)",
        "weight",
        {"input": X24, "target": [3, 0], "weight": [[1.0, 2.0, 3.0, 4.0]]},
        rule="weight has to be a Tensor of size C (1D)",
    ),
    *(
        InvalidInput(
            f"p={p!r}",
            "p",
            {"input": X24, "target": [3, 0]},
            {"p": p},
            rule="1 and 2 are the only supported values of p",
        )
        for p in (0, 3)
    ),
    InvalidInput(
        "unknown-reduction",
        "reduction",
        {"input": X24, "target": [3, 0]},
        {"reduction": "avg"},
        rule=REDUCTION_RULE,
    ),
    InvalidInput(
        "input-(N,C,d)",
        "input",
        {"input": [X24], "target": [[3, 0]]},
        rule="Input: (N, C) or (C)",
    ),
    InvalidInput(
        "input-0-dim",
        "input",
        {"input": 0.5, "target": 0},
        rule="Input: (N, C) or (C)",
    ),
    InvalidInput(
        "input-without-classes",
        "input",
        {"input": [[], []], "target": [0, 0]},
        rule="C >= 1 (the loss divides by C = x.size(0))",
        out_of_bounds=True,
    ),
)

T24 = [[3, 0, -1, 1], [1, -1, 0, 0]]
MULTILABEL_INVALID = (
    InvalidInput(
        "label-equal-to-C",
        "target",
        {"input": X24, "target": [[4, 0, -1, 1], [1, -1, 0, 0]]},
        rule="0 <= y[j] <= x.size(0)-1",
        out_of_bounds=True,
    ),
    InvalidInput(
        "label-below-the-padding",
        "target",
        {"input": X24, "target": [[-2, 0, -1, 1], [1, -1, 0, 0]]},
        rule="label targets padded by -1: values are labels in [0, C) or -1",
        out_of_bounds=True,
    ),
    InvalidInput(
        "label-past-C-after-the-padding",
        "target",
        {"input": X24, "target": [[3, 0, -1, 7], [1, -1, 0, 0]]},
        rule="label targets padded by -1: values are labels in [0, C) or -1",
        out_of_bounds=True,
    ),
    InvalidInput(
        "floating-labels",
        "target",
        {"input": X24, "target": [[3.0, 0.0, -1.0, 1.0], [1.0, -1.0, 0.0, 0.0]]},
        rule="the target holds class indices (an integer tensor)",
    ),
    InvalidInput(
        "target-narrower-than-input",
        "target",
        {"input": X24, "target": [[3, 0, -1], [1, -1, 0]]},
        rule="y and x must have the same size",
    ),
    InvalidInput(
        "unbatched-input-with-target-(1,C)",
        "target",
        {"input": X4, "target": [[3, 0, -1, 1]]},
        rule="y and x must have the same size",
    ),
    InvalidInput(
        "unknown-reduction",
        "reduction",
        {"input": X24, "target": T24},
        {"reduction": "avg"},
        rule=REDUCTION_RULE,
    ),
    InvalidInput(
        "input-(N,C,d)",
        "input",
        {"input": [X24], "target": [T24]},
        rule="Input: (C) or (N, C)",
    ),
    InvalidInput(
        "input-0-dim",
        "input",
        {"input": 0.5, "target": 0},
        rule="Input: (C) or (N, C)",
    ),
    InvalidInput(
        "input-without-classes",
        "input",
        {"input": [[], []], "target": [[], []]},
        rule="C >= 1 (the loss divides by C = x.size(0))",
        out_of_bounds=True,
    ),
)

# -- the specs ----------------------------------------------------------------------------

INPUT = TensorArg("input", differentiable=True)
TARGET = TensorArg("target", differentiable=False)
# torch refuses a weight that requires grad ("not differentiable with respect to argument
# 'weight'"), so it is not differentiated
WEIGHT = TensorArg(
    "weight", differentiable=False, positional=False, optional=True, module_init=True
)

MULTI_MARGIN = LossSpec(
    loss="MultiMarginLoss",
    coverage=("hinge_tie", "unbatched", "empty_batch", "bulk"),
    functional="multi_margin_loss",
    oracle="multi_margin_loss",
    args=(INPUT, TARGET, WEIGHT),
    options=(
        Option("p", 1, p_values, doc="1 and 2 are the only supported values"),
        Option("margin", 1.0, margin_values, doc="any real; 0 and negative included"),
    ),
    draw_inputs=_multi_margin_drawer,
    regimes=REGIMES,
    features=features,
    legacy_reduction_args=True,
    doc="l_n = sum_{i != y} w[y] max(0, margin - x[y] + x[i])^p / C",
    invalid=MULTI_MARGIN_INVALID,
    scale_args=("weight",),
    broadcasts=False,
    term_scale=term_scale,
    gradient_scale=gradient_scale,
)

MULTILABEL_MARGIN = LossSpec(
    loss="MultiLabelMarginLoss",
    coverage=(
        "hinge_tie",
        "repeated_label",
        "ignored_after_pad",
        "no_labels",
        "all_labels",
        "unbatched",
        "empty_batch",
    ),
    functional="multilabel_margin_loss",
    oracle="multilabel_margin_loss",
    args=(INPUT, TARGET),
    options=(),
    draw_inputs=_multilabel_drawer,
    regimes=REGIMES,
    features=features,
    legacy_reduction_args=True,
    doc="l_n = sum_j sum_{i not a label} max(0, 1 - x[y_j] + x[i]) / C, labels before -1",
    invalid=MULTILABEL_INVALID,
    broadcasts=False,
    term_scale=term_scale,
    gradient_scale=gradient_scale,
)

SPECS = (MULTI_MARGIN, MULTILABEL_MARGIN)
