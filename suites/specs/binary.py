"""LossSpec entries of the binary (logistic) losses: BCELoss, BCEWithLogitsLoss,
SoftMarginLoss and MultiLabelSoftMarginLoss (torch 2.13).

- BCELoss takes probabilities in [0, 1] (input and target, same shape) and a ``weight``
  broadcast to the input; its logs are clamped at -100. Regimes: ``well``, ``edge`` (0, 1,
  subnormals, 1e-30, exp(-100) and their neighbours in the dtype, 1 - 1e-12, ...) and
  ``bulk``.
- BCEWithLogitsLoss takes logits, soft targets in [0, 1], ``weight`` and ``pos_weight``
  (both broadcast to the input: (C,) for (N, C), (C, 1, 1) for (N, C, H, W), ...).
  Regimes ``well``, ``edge``, ``large`` (|x| up to 1e4) and ``bulk``.
- SoftMarginLoss takes targets 1 or -1; MultiLabelSoftMarginLoss an (N, C) input, {0, 1}
  targets and a (C,) ``weight``, with a ``wide`` regime of a few hundred classes.

The features name where torch departs from the documented formula (see
fixtures/known_discrepancies.toml): ``log_clamped`` (an input whose log BCE clamps),
``saturated`` (x (1 - x) < 1e-12, where torch's BCE gradient clamps its denominator),
``exp_overflow`` (exp(-y x) of SoftMarginLoss overflows the dtype), ``infinite_logit``,
``term_underflow`` (a positive loss term underflows the dtype), ``infinite_weight``, and,
for the invalid inputs torch accepts, which documented rule they break.

Rounding-error scales (``term_scale``, ``gradient_scale``) carry the elementwise error of
torch's own formulas where they cancel; fixtures/tolerances.toml has the derivations.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from suites.dtypes import info, overflow_threshold, to_dtype
from suites.specs._types import InvalidInput, LossSpec, TensorArg
from suites.strategies import arrays, bulk_values, finish, float_width, shapes

BULK_SIZE = 4097
EXP_M100 = np.exp(np.longdouble(-100))  # BCE's logs are clamped below -100: x < exp(-100)
SATURATION = np.longdouble(1e-12)  # torch's BCE backward divides by max(x (1 - x), 1e-12)
INF, NAN = math.inf, math.nan


# -- values --------------------------------------------------------------------------------


def neighbours(v: float, dtype: str) -> list[float]:
    """``v`` rounded to the dtype and the dtype's values just below and above it."""
    r = to_dtype(np.array([v]), dtype)
    if dtype == "bfloat16":
        bits = r.view(np.uint32).astype(np.int64)
        up = (bits + (1 << 16)).astype(np.uint32).view(np.float32)
        down = np.maximum(bits - (1 << 16), 0).astype(np.uint32).view(np.float32)
        vals = [down, r, up]
    else:
        s = info(dtype).storage
        vals = [np.nextafter(r, s(-INF)), r, np.nextafter(r, s(INF))]
    return [float(np.asarray(a, dtype=np.float64)[0]) for a in vals]


def probability_specials(dtype: str) -> list[float]:
    """Edge probabilities: 0 and 1, the clamp point exp(-100), 1e-30, 1e-12 and 1 - 1e-12
    with their neighbours, the smallest subnormal and normal, the largest value below 1."""
    d = info(dtype)
    raw = [0.0, 1.0, 0.5, 0.25, 1e-4, d.smallest_subnormal, d.tiny]
    for v in (float(EXP_M100), 1e-30, 1e-12, 1.0 - 1e-12, 1.0):
        raw += neighbours(v, dtype)
    vals = {float(v) for v in to_dtype(np.array(raw), dtype).astype(np.float64)}
    return sorted(v for v in vals if 0.0 <= v <= 1.0)


def probabilities(dtype: str, regime: str) -> st.SearchStrategy[float]:
    w = float_width(dtype)
    uniform = st.floats(0.0, 1.0, width=w, allow_subnormal=regime == "edge")
    if regime == "edge":
        return st.one_of(st.sampled_from(probability_specials(dtype)), uniform)
    return uniform


@st.composite
def probability_arrays(draw: st.DrawFn, dtype: str, shape: tuple[int, ...], regime: str):
    storage = info(dtype).storage
    a = draw(hnp.arrays(storage, shape, elements=probabilities(dtype, regime)))
    return finish(np.asarray(a), dtype)


@st.composite
def label_arrays(draw: st.DrawFn, dtype: str, shape: tuple[int, ...], labels: tuple[float, ...]):
    n = math.prod(shape)
    picks = draw(st.lists(st.sampled_from(labels), min_size=n, max_size=n))
    return to_dtype(np.array(picks, dtype=np.float64).reshape(shape), dtype)


@st.composite
def partner_shape(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to ``shape`` without enlarging it: a suffix of it, with some
    dimensions set to 1 ((C,) for (N, C), (C, 1, 1) for (N, C, H, W), () and ``shape``)."""
    keep = draw(st.integers(0, len(shape)))
    dims = list(shape[len(shape) - keep :])
    for i in range(len(dims)):
        if draw(st.integers(0, 2)) == 0:
            dims[i] = 1
    return tuple(dims)


def _scale_values(draw: st.DrawFn, dtype: str, shape: tuple[int, ...], regime: str) -> np.ndarray:
    """A weight: [0, 4] normally, the full edge vocabulary (NaN, ±inf, negative) at edge."""
    return draw(arrays(dtype, shape, "edge" if regime == "edge" else "well", 0.0, 4.0))


def _logits(draw: st.DrawFn, dtype: str, shape: tuple[int, ...], regime: str) -> np.ndarray:
    if regime == "large":
        hi = min(1e4, info(dtype).max)
        return draw(arrays(dtype, shape, "well", -hi, hi))
    return draw(arrays(dtype, shape, regime))


def bulk_probabilities(seed: int, dtype: str) -> tuple[np.ndarray, str]:
    """|normal(0, 0.4)| clipped to [0, 1]: exact in the dtype, about 1% exactly 1."""
    values = np.abs(bulk_values(seed, BULK_SIZE, dtype, scale=0.4)).clip(0.0, 1.0)
    return values, f"abs(bulk_values({seed}, {BULK_SIZE}, {dtype!r}, scale=0.4)).clip(0.0, 1.0)"


def bulk_labels(seed: int, size: int, dtype: str, low: float) -> tuple[np.ndarray, str]:
    """Labels low or 1 by the sign of a seeded normal vector (exact in every dtype)."""
    picks = bulk_values(seed, size, dtype) > 0
    values = to_dtype(np.where(picks, 1.0, low), dtype)
    expr = f"(bulk_values({seed}, {size}, {dtype!r}) > 0) * {1.0 - low!r} + {low!r}"
    return values, expr


# -- drawers -------------------------------------------------------------------------------


def _bulk_case(draw: st.DrawFn, dtype: str, target_low: float | None, include: frozenset[str]):
    seed = draw(st.integers(0, 2**32 - 1))
    n = BULK_SIZE
    out: dict[str, Any] = {}
    src: dict[str, str] = {}
    if target_low is None:  # BCE: probabilities both
        out["input"], src["input"] = bulk_probabilities(seed, dtype)
        out["target"], src["target"] = bulk_probabilities(seed + 1, dtype)
    else:
        out["input"] = bulk_values(seed, n, dtype, scale=4.0)
        src["input"] = f"bulk_values({seed}, {n}, {dtype!r}, scale=4.0)"
        if target_low == 0.0:  # soft targets in [0, 1]
            out["target"], src["target"] = bulk_probabilities(seed + 1, dtype)
        else:
            out["target"], src["target"] = bulk_labels(seed + 1, n, dtype, target_low)
    for k, name in enumerate(("weight", "pos_weight")):
        if name in include:
            out[name] = np.abs(bulk_values(seed + 2 + k, n, dtype))
            src[name] = f"abs(bulk_values({seed + 2 + k}, {n}, {dtype!r}))"
    out["_sources"] = src
    return out


def draw_bce(draw, dtype, regime, options, include):
    if regime == "bulk":
        return _bulk_case(draw, dtype, None, include)
    shape = draw(shapes())
    out = {
        "input": draw(probability_arrays(dtype, shape, regime)),
        "target": draw(probability_arrays(dtype, shape, regime)),
    }
    if "weight" in include:
        out["weight"] = _scale_values(draw, dtype, draw(partner_shape(shape)), regime)
    return out


def draw_bce_with_logits(draw, dtype, regime, options, include):
    if regime == "bulk":
        return _bulk_case(draw, dtype, 0.0, include)
    shape = draw(shapes())
    target_regime = "edge" if regime == "edge" else "well"
    out = {
        "input": _logits(draw, dtype, shape, regime),
        "target": draw(probability_arrays(dtype, shape, target_regime)),
    }
    for name in ("weight", "pos_weight"):
        if name in include:
            out[name] = _scale_values(draw, dtype, draw(partner_shape(shape)), regime)
    return out


def draw_soft_margin(draw, dtype, regime, options, include):
    if regime == "bulk":
        return _bulk_case(draw, dtype, -1.0, include)
    shape = draw(shapes())
    return {
        "input": _logits(draw, dtype, shape, regime),
        "target": draw(label_arrays(dtype, shape, (1.0, -1.0))),
    }


def draw_multilabel(draw, dtype, regime, options, include):
    if regime == "wide":  # a few hundred classes, seeded like bulk
        seed = draw(st.integers(0, 2**32 - 1))
        n, c = draw(st.integers(1, 3)), draw(st.integers(100, 400))
        x = bulk_values(seed, n * c, dtype, scale=4.0).reshape(n, c)
        y, y_src = bulk_labels(seed + 1, n * c, dtype, 0.0)
        out: dict[str, Any] = {"input": x, "target": y.reshape(n, c)}
        src = {"input": f"bulk_values({seed}, {n * c}, {dtype!r}, scale=4.0)", "target": y_src}
        if "weight" in include:
            out["weight"] = np.abs(bulk_values(seed + 2, c, dtype))
            src["weight"] = f"abs(bulk_values({seed + 2}, {c}, {dtype!r}))"
        out["_sources"] = src
        return out
    n, c = draw(st.integers(0, 5)), draw(st.integers(0, 6))
    out = {
        "input": _logits(draw, dtype, (n, c), regime),
        "target": draw(label_arrays(dtype, (n, c), (0.0, 1.0))),
    }
    if "weight" in include:
        out["weight"] = _scale_values(draw, dtype, (c,), regime)
    return out


# -- features ------------------------------------------------------------------------------


def _ld(case: Any, name: str) -> np.ndarray | None:
    a = case.inputs.get(name)
    return None if a is None else np.asarray(a, dtype=np.longdouble)


def _broadcasts_into(shape: tuple[int, ...], into: tuple[int, ...]) -> bool:
    """``shape`` broadcasts with ``into`` (numpy rules), possibly enlarging it."""
    try:
        np.broadcast_shapes(shape, into)
    except ValueError:
        return False
    return True


def _shape_features(case: Any) -> set[str]:
    """target_broadcasts: the target's shape is not the input's but broadcasts with it
    (what torch accepts without a word where the docs ask for the same shape)."""
    x, y = case.inputs.get("input"), case.inputs.get("target")
    out = set()
    if (
        x is not None
        and y is not None
        and np.shape(x) != np.shape(y)
        and _broadcasts_into(np.shape(y), np.shape(x))
    ):
        out.add("target_broadcasts")
    return out


def _label_features(case: Any, labels: tuple[float, ...]) -> set[str]:
    y = _ld(case, "target")
    if y is None:
        return set()
    ok = np.zeros(y.shape, dtype=bool)
    for v in labels:
        ok |= y == v
    return set() if ok.all() else {"target_not_label"}


def _underflow_features(case: Any, x: np.ndarray | None) -> set[str]:
    """term_underflow: some finite logit is so large that softplus(-|x|) (a loss term, and
    sigmoid(-|x|) in the gradient) underflows to 0 in the dtype while it is positive."""
    if x is None:
        return set()
    tiny = np.longdouble(info(case.dtype).smallest_subnormal) / 2
    with np.errstate(all="ignore"):
        big = np.isfinite(x) & (np.exp(-np.abs(x)) < tiny)
    return {"term_underflow"} if big.any() else set()


def _weight_features(case: Any) -> set[str]:
    """infinite_weight: a weight or pos_weight element is ±inf."""
    for name in ("weight", "pos_weight"):
        w = case.inputs.get(name)
        if w is not None and np.isinf(np.asarray(w, dtype=np.float64)).any():
            return {"infinite_weight"}
    return set()


def bce_features(case: Any) -> set[str]:
    """log_clamped: some input has log x < -100 (x < exp(-100), 0 included) or x == 1;
    saturated: some exact x (1 - x) < 1e-12, where torch's gradient clamps its divisor;
    slope_overflow: some 4 |x - y| / (x (1 - x)) overflows the dtype (torch's gradient forms
    g (x - y) / (x (1 - x)) before the weight and 1/N)."""
    out = _shape_features(case) | _weight_features(case)
    x = _ld(case, "input")
    with np.errstate(all="ignore"):
        if np.any(x < EXP_M100) or np.any(x == 1):
            out.add("log_clamped")
        den = x * (1 - x)
        if np.any(den < SATURATION):
            out.add("saturated")
        # torch divides g (x - y) by x (1 - x) in the dtype (|g| < 4 in the suite's draws)
        y = _ld(case, "target")
        try:
            slope = 4 * np.abs(x - y) / den
        except ValueError:  # shapes that do not broadcast (an invalid input)
            return out
        if np.any(np.isfinite(slope) & (slope >= overflow_threshold(case.dtype))):
            out.add("slope_overflow")
    return out


def bce_with_logits_features(case: Any) -> set[str]:
    """infinite_logit: some input is ±inf; term_underflow; target_outside_unit_interval (an
    invalid input torch accepts)."""
    x, y = _ld(case, "input"), _ld(case, "target")
    out = _shape_features(case) | _underflow_features(case, x) | _weight_features(case)
    if np.any(np.isinf(x)):
        out.add("infinite_logit")
    with np.errstate(all="ignore"):
        if y is not None and not np.all((y >= 0) & (y <= 1)):
            out.add("target_outside_unit_interval")
    return out


def soft_margin_features(case: Any) -> set[str]:
    """exp_overflow: some exp(-y x) reaches the dtype's overflow threshold (or -y x = inf);
    target_not_label (an invalid input: a target other than 1 or -1)."""
    x, y = _ld(case, "input"), _ld(case, "target")
    out = _shape_features(case) | _label_features(case, (1.0, -1.0))
    out |= _underflow_features(case, x)
    limit = np.log(overflow_threshold(case.dtype))
    with np.errstate(all="ignore"):
        try:
            m = -y * x
        except ValueError:  # shapes that do not broadcast (an invalid input)
            return out
    if np.any(m >= limit):
        out.add("exp_overflow")
    return out


def multilabel_features(case: Any) -> set[str]:
    """term_underflow; and the invalid inputs torch accepts: input_not_2d (1-d or more than
    2-d), weight_not_size_c (a weight of another shape that broadcasts), target_not_label."""
    out = _shape_features(case) | _label_features(case, (0.0, 1.0)) | _weight_features(case)
    out |= _underflow_features(case, _ld(case, "input"))
    x, w = case.inputs.get("input"), case.inputs.get("weight")
    if x is not None and np.ndim(x) not in (0, 2):
        out.add("input_not_2d")
    if (
        w is not None
        and x is not None
        and np.ndim(x) > 0
        and np.shape(w) != np.shape(x)[-1:]
        and _broadcasts_into(np.shape(w), np.shape(x))
    ):
        out.add("weight_not_size_c")
    return out


# -- rounding-error scales (rule 3's term_scale, rule 4's gradient_scale) ----------------
#
# Each returns, per element, the first-order rounding error of torch's evaluation in units
# of the dtype's u (the budgets of these losses have terms_u = 1; fixtures/tolerances.toml
# carries the derivations). A log or exp is counted at 1 ulp (<= 2u relative), every other
# operation at u. Only terms that can cancel need a scale: elsewhere the ulp budget holds.

LD = np.longdouble


def _arr(case: Any, name: str, shape: tuple[int, ...], default: float) -> np.ndarray:
    a = case.inputs.get(name)
    if a is None:
        return np.full(shape, LD(default))
    return np.broadcast_to(np.asarray(a, dtype=LD), shape)


def _seed(case: Any, grad_output: Any, shape: tuple[int, ...], n_terms: int) -> np.ndarray:
    """|r|: the gradient seed of each unreduced term (|g|, or |g| / N for 'mean')."""
    g = LD(1) if grad_output is None else np.abs(np.asarray(grad_output, dtype=LD))
    if case.reduction == "mean":
        g = g / LD(max(n_terms, 1))
    return np.broadcast_to(g, shape)


def _sum_steps(n: int) -> int:
    """Roundings a cascade sum of n terms may take: its leaf chunk and its pairwise levels."""
    return min(n, 64) + math.ceil(math.log2(max(n, 2)))


def _acc_ratio(dtype: str) -> float:
    """u_acc / u: the accumulation dtype's unit roundoff in units of the dtype's."""
    from suites.dtypes import ACCUMULATION

    return info(ACCUMULATION[dtype]).unit_roundoff / info(dtype).unit_roundoff


def bce_gradient_scale(case: Any, name: str, grad_output: Any) -> Any:
    """input: torch forms g (x - y) first, which may fall in the subnormal range (off by
    half a subnormal spacing, not by u of itself), then divides it by D = max(x (1 - x),
    1e-12) and multiplies by w (and 1/N for 'mean'): 0.5 s_min |w| s / D, in units of u.
    target: (log(1 - x) - log(x)) w r, each log off by 2u of itself, and the two cancel near
    x = 1/2: 2 (|log x| + |log(1 - x)|) |r w|."""
    x = np.asarray(case.inputs["input"], dtype=LD)
    w = np.abs(_arr(case, "weight", x.shape, 1.0))
    with np.errstate(all="ignore"):
        if name == "input":
            d = info(case.dtype)
            s = LD(1) / max(x.size, 1) if case.reduction == "mean" else LD(1)
            den = np.maximum(x * (1 - x), SATURATION)
            return LD(0.5 * d.smallest_subnormal / d.unit_roundoff) * w * s / den
        if name == "target":
            r = _seed(case, grad_output, x.shape, x.size)
            return 2 * r * w * (np.abs(np.log(x)) + np.abs(np.log1p(-x)))
    return None


def _bce_with_logits_parts(case: Any):
    from oracle._logistic import sigmoid, softplus

    x = np.asarray(case.inputs["input"], dtype=LD)
    y = np.asarray(case.inputs["target"], dtype=LD)
    w = np.abs(_arr(case, "weight", x.shape, 1.0))
    has_p = "pos_weight" in case.inputs
    p = _arr(case, "pos_weight", x.shape, 1.0)
    with np.errstate(all="ignore"):
        return x, y, w, p, has_p, softplus, sigmoid


def bce_with_logits_term_scale(case: Any) -> Any:
    """torch forms (1 - y) x - lw log sigmoid(x), lw = (p - 1) y + 1 (1 without pos_weight):
    (1 - y) x is off by 2u of itself, log sigmoid by 2u, lw by 2u |(p - 1) y| + u |lw|, the
    product and the difference by u each (the difference cancels for x < 0, y ~ 0), the
    weight product by u of the result (the ulp budget's part):
    M = |w| (2 |(1 - y) x| + sp(-x) (4 |lw| + 2 |(p - 1) y|))."""
    x, y, w, p, has_p, softplus, _ = _bce_with_logits_parts(case)
    with np.errstate(all="ignore"):
        pm1y = (p - 1) * y if has_p else np.zeros_like(x)
        lw = pm1y + 1
        return w * (2 * np.abs((1 - y) * x) + softplus(-x) * (4 * np.abs(lw) + 2 * np.abs(pm1y)))


def bce_with_logits_gradient_scale(case: Any, name: str, grad_output: Any) -> Any:
    """input: torch forms (p y + 1 - y) sigmoid(x) - p y (sigmoid(x) - y without pos_weight):
    A = p y + 1 - y is off by u (2 |p y| + 1 + |A|), sigmoid by 2u, the product by u, so the
    cancelling difference is off by u (sigmoid(x) (2 |p y| + 1 + 4 |A|) + |p y|) (2u
    sigmoid(x) without pos_weight), times |r w|. target: log sigmoid(-x) - p log sigmoid(x)
    (p's product adds u): u (2 sp(x) + 3 |p| sp(-x)) |r w|; -x without pos_weight (no
    cancellation: 0). The products by r and w are the ulp budget's."""
    x, y, w, p, has_p, softplus, sigmoid = _bce_with_logits_parts(case)
    r = _seed(case, grad_output, x.shape, x.size)
    with np.errstate(all="ignore"):
        if name == "input":
            if not has_p:
                return 2 * r * w * sigmoid(x)
            py = np.abs(p * y)
            a = np.abs(p * y + 1 - y)
            return r * w * (sigmoid(x) * (2 * py + 1 + 4 * a) + py)
        if name == "target" and has_p:
            return r * w * (2 * softplus(x) + 3 * np.abs(p) * softplus(-x))
    return None


def _multilabel_parts(case: Any):
    from oracle._logistic import softplus

    x = np.asarray(case.inputs["input"], dtype=LD)
    y = np.asarray(case.inputs["target"], dtype=LD)
    c = x.shape[-1] if x.ndim else 1
    w = np.abs(_arr(case, "weight", (c,), 1.0))
    with np.errstate(all="ignore"):
        terms = y * softplus(-x) + (1 - y) * softplus(x)
    return x, y, w, c, terms, softplus


def multilabel_term_scale(case: Any) -> Any:
    """torch forms -(y log sigmoid(x) + (1 - y) log sigmoid(-x)) w per class (2u from the
    log sigmoid, u from the weight product; y in {0, 1} makes the rest exact), sums the C
    classes in the accumulation dtype ((min(C, 64) + ceil(log2 C)) u_acc of the sum of
    magnitudes) and divides by C (the ulp budget's): M_n = (3 + steps u_acc / u) S_n / C
    with S_n = sum_c |w_c| t_nc."""
    x, _, w, c, terms, _ = _multilabel_parts(case)
    if x.ndim != 2 or c == 0:
        return None
    with np.errstate(all="ignore"):
        s = np.sum(w * terms, axis=-1)
        return (3 + _sum_steps(c) * _acc_ratio(case.dtype)) * s / c


def multilabel_gradient_scale(case: Any, name: str, grad_output: Any) -> Any:
    """target: -(log sigmoid(x) - log sigmoid(-x)) w r / C, the logs off by 2u each and
    cancelling near x = 0: 2 (sp(-x) + sp(x)) |r w| / C. weight: the sum over the N rows of
    r_n t_nc / C, each off by 4u of itself (the log sigmoid, the products by r and 1/C),
    plus the sum's (min(N, 64) + ceil(log2 N)) u_acc of their magnitudes.

    And the seed: torch's backward forms r_n / C, then (r_n / C) w_c, in the dtype; below
    its normal range each is off by half a subnormal spacing, not by u of itself, and every
    element built from it inherits that: 0.5 s_min (1 + |w_c|) times the factor applied
    after it (|x| for the target, the sigmoid for the input, t_nc summed for the weight).
    The harness's own seed allowance cannot form r_n w_c, whose shapes (N,) and (C,) do not
    broadcast."""
    from oracle._logistic import sigmoid

    x, y, w, c, terms, softplus = _multilabel_parts(case)
    if x.ndim != 2 or c == 0:
        return None
    n = x.shape[0]
    d = info(case.dtype)
    r = _seed(case, grad_output, (n,), n)[:, None]
    with np.errstate(all="ignore"):
        tiny = LD(d.tiny)
        rc = r / c
        lost = LD(0.5 * d.smallest_subnormal / d.unit_roundoff) * (
            np.where(rc < tiny, 1, 0) + np.where(rc * w < tiny, w, 0)
        )
        if name == "input":
            return lost * ((1 - y) * sigmoid(x) + y * sigmoid(-x))
        if name == "target":
            return 2 * r * w * (softplus(-x) + softplus(x)) / c + lost * np.abs(x)
        if name == "weight":
            per_row = r * terms / c
            own = (4 + _sum_steps(n) * _acc_ratio(case.dtype)) * np.sum(per_row, axis=0)
            seed = LD(0.5 * d.smallest_subnormal / d.unit_roundoff) * np.where(rc < tiny, 1, 0)
            return own + np.sum(seed * terms, axis=0)
    return None


# -- invalid inputs ------------------------------------------------------------------------

P = [[0.25, 0.5, 0.75], [1.0, 0.0, 0.5]]
Q = [[0.0, 1.0, 0.5], [1.0, 1.0, 0.25]]
X = [[1.5, -2.0, 0.25], [0.0, 3.0, -1.0]]
PM1 = [[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]]
ZERO_ONE = [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]


def _reduction_invalid(inputs: dict[str, Any]) -> InvalidInput:
    return InvalidInput(
        "unknown-reduction",
        "reduction",
        inputs,
        {"reduction": "avg"},
        rule="reduction is one of 'none', 'mean', 'sum'",
    )


def _values_invalid(argument: str, base: dict[str, Any], values: dict[str, float], rule: str):
    """One invalid input per bad value: ``argument``'s first element replaced by it."""
    out = []
    for label, v in values.items():
        bad = np.array(base[argument], dtype=np.float64)
        bad.flat[0] = v
        out.append(
            InvalidInput(f"{argument}-{label}", argument, {**base, argument: bad}, rule=rule)
        )
    return tuple(out)


OUTSIDE_UNIT = {"above-1": 1.5, "negative": -0.25, "nan": NAN, "inf": INF}
INTEGER_TARGET = np.array([[1, 0, 1], [0, 0, 1]], dtype=np.int64)

BCE_INVALID = (
    _reduction_invalid({"input": P, "target": Q}),
    InvalidInput(
        "target-shape-differs",
        "target",
        {"input": P, "target": [0.0, 1.0, 0.5]},
        rule="Target: (*), same shape as the input",
    ),
    *_values_invalid("input", {"input": P, "target": Q}, OUTSIDE_UNIT, "input in [0, 1]"),
    *_values_invalid("target", {"input": P, "target": Q}, OUTSIDE_UNIT, "target in [0, 1]"),
    InvalidInput(
        "integer-target",
        "target",
        {"input": P, "target": INTEGER_TARGET},
        rule="target holds probabilities (floating)",
    ),
    InvalidInput(
        "weight-of-size-nbatch-does-not-broadcast",
        "weight",
        {
            "input": [[0.25, 0.5], [0.5, 0.75], [0.1, 0.9]],
            "target": [[0.0, 1.0]] * 3,
            "weight": [1.0, 2.0, 3.0],
        },
        rule="weight is repeated (broadcast) to the input's shape",
    ),
    InvalidInput(
        "weight-enlarges-the-input",
        "weight",
        {"input": P, "target": Q, "weight": np.ones((2, 2, 3))},
        rule="weight is repeated to the input's shape, never beyond it",
    ),
)

BCE_WITH_LOGITS_INVALID = (
    _reduction_invalid({"input": X, "target": Q}),
    InvalidInput(
        "target-shape-differs",
        "target",
        {"input": X, "target": [0.0, 1.0, 0.5]},
        rule="Target: (*), same shape as the input",
    ),
    *_values_invalid("target", {"input": X, "target": Q}, OUTSIDE_UNIT, "target in [0, 1]"),
    InvalidInput(
        "integer-target",
        "target",
        {"input": X, "target": INTEGER_TARGET},
        rule="target holds probabilities (floating)",
    ),
    InvalidInput(
        "weight-does-not-broadcast",
        "weight",
        {"input": X, "target": Q, "weight": [1.0, 2.0]},
        rule="weight broadcasts to the input's shape",
    ),
    InvalidInput(
        "pos_weight-not-of-the-class-dimension",
        "pos_weight",
        {"input": X, "target": Q, "pos_weight": [1.0, 2.0]},
        rule="pos_weight broadcasts with the target (size C along the class dimension)",
    ),
    InvalidInput(
        "pos_weight-of-size-C-against-NCHW",
        "pos_weight",
        {
            "input": np.zeros((2, 3, 2, 2)),
            "target": np.full((2, 3, 2, 2), 0.5),
            "pos_weight": [1.0, 2.0, 3.0],
        },
        rule="pos_weight broadcasts with the target: [C, 1, 1] for [N, C, H, W], not [C]",
    ),
    InvalidInput(
        "pos_weight-enlarges-the-input",
        "pos_weight",
        {"input": X, "target": Q, "pos_weight": np.ones((2, 2, 3))},
        rule="pos_weight broadcasts to the input's shape, never beyond it",
    ),
)

SOFT_MARGIN_INVALID = (
    _reduction_invalid({"input": X, "target": PM1}),
    InvalidInput(
        "target-shape-does-not-broadcast",
        "target",
        {"input": [1.0, 2.0, 3.0], "target": [1.0, -1.0]},
        rule="Target: (*), same shape as the input",
    ),
    InvalidInput(
        "target-shape-differs",
        "target",
        {"input": X, "target": [1.0, -1.0, 1.0]},
        rule="Target: (*), same shape as the input",
    ),
    *_values_invalid(
        "target",
        {"input": X, "target": PM1},
        {"zero": 0.0, "two": 2.0, "half": 0.5, "nan": NAN},
        "target contains 1 or -1",
    ),
)

MULTILABEL_INVALID = (
    _reduction_invalid({"input": X, "target": ZERO_ONE}),
    InvalidInput("input-0d", "input", {"input": 0.5, "target": 1.0}, rule="Input: (N, C)"),
    InvalidInput(
        "input-1d",
        "input",
        {"input": [0.5, -1.0, 2.0], "target": [1.0, 0.0, 1.0]},
        rule="Input: (N, C)",
    ),
    InvalidInput(
        "input-3d",
        "input",
        {"input": np.zeros((2, 3, 2)), "target": np.ones((2, 3, 2))},
        rule="Input: (N, C)",
    ),
    InvalidInput(
        "target-shape-does-not-broadcast",
        "target",
        {"input": X, "target": [[1.0, 0.0], [0.0, 1.0]]},
        rule="Target: (N, C), the same shape as the input",
    ),
    InvalidInput(
        "target-shape-differs",
        "target",
        {"input": X, "target": [1.0, 0.0, 1.0]},
        rule="Target: (N, C), the same shape as the input",
    ),
    *_values_invalid(
        "target",
        {"input": X, "target": ZERO_ONE},
        {"half": 0.5, "minus-one": -1.0, "two": 2.0, "nan": NAN},
        "y[i] in {0, 1}",
    ),
    InvalidInput(
        "weight-of-size-N",
        "weight",
        {"input": X, "target": ZERO_ONE, "weight": [1.0, 2.0]},
        rule="weight has to be a Tensor of size C",
    ),
    *(
        InvalidInput(
            f"weight-of-shape-{'x'.join(map(str, shape)) or 'scalar'}",
            "weight",
            {"input": X, "target": ZERO_ONE, "weight": np.full(shape, 2.0)},
            rule="weight has to be a Tensor of size C",
        )
        for shape in ((1,), (), (2, 3), (2, 1), (1, 2, 3))
    ),
)

# -- the specs -----------------------------------------------------------------------------


def _tensor(name: str, differentiable: bool) -> TensorArg:
    return TensorArg(name, differentiable, positional=False, optional=True, module_init=True)


INPUT = TensorArg("input", differentiable=True)

BCE = LossSpec(
    loss="BCELoss",
    coverage=("log_clamped", "saturated", "empty", "bulk"),
    functional="binary_cross_entropy",
    oracle="binary_cross_entropy",
    args=(INPUT, TensorArg("target", differentiable=True), _tensor("weight", False)),
    options=(),
    draw_inputs=draw_bce,
    regimes=("well", "edge", "edge", "bulk"),
    features=bce_features,
    legacy_reduction_args=True,
    doc="l_n = -w_n [y_n max(log x_n, -100) + (1 - y_n) max(log(1 - x_n), -100)]",
    invalid=BCE_INVALID,
    scale_args=("weight",),
    gradient_scale=bce_gradient_scale,
)

BCE_WITH_LOGITS = LossSpec(
    loss="BCEWithLogitsLoss",
    coverage=("infinite_logit", "empty", "bulk"),
    functional="binary_cross_entropy_with_logits",
    oracle="binary_cross_entropy_with_logits",
    args=(
        INPUT,
        TensorArg("target", differentiable=True),
        _tensor("weight", False),
        _tensor("pos_weight", False),
    ),
    options=(),
    draw_inputs=draw_bce_with_logits,
    regimes=("well", "edge", "large", "bulk"),
    features=bce_with_logits_features,
    legacy_reduction_args=True,
    doc="l_n = -w_n [p_n y_n log sigmoid(x_n) + (1 - y_n) log(1 - sigmoid(x_n))]",
    invalid=BCE_WITH_LOGITS_INVALID,
    scale_args=("weight", "pos_weight"),
    term_scale=bce_with_logits_term_scale,
    gradient_scale=bce_with_logits_gradient_scale,
)

SOFT_MARGIN = LossSpec(
    loss="SoftMarginLoss",
    coverage=("exp_overflow", "target_broadcasts", "empty", "bulk"),
    functional="soft_margin_loss",
    oracle="soft_margin_loss",
    args=(INPUT, TensorArg("target", differentiable=False)),
    options=(),
    draw_inputs=draw_soft_margin,
    regimes=("well", "edge", "large", "bulk"),
    features=soft_margin_features,
    legacy_reduction_args=True,
    doc="l_i = log(1 + exp(-y_i x_i)), y_i in {1, -1}",
    invalid=SOFT_MARGIN_INVALID,
)

MULTILABEL_SOFT_MARGIN = LossSpec(
    loss="MultiLabelSoftMarginLoss",
    coverage=("infinite_weight", "empty"),
    functional="multilabel_soft_margin_loss",
    oracle="multilabel_soft_margin_loss",
    args=(INPUT, TensorArg("target", differentiable=True), _tensor("weight", True)),
    options=(),
    draw_inputs=draw_multilabel,
    regimes=("well", "edge", "large", "wide"),
    features=multilabel_features,
    legacy_reduction_args=True,
    doc="l_n = -(1/C) sum_c w_c [y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]",
    invalid=MULTILABEL_INVALID,
    scale_args=("weight",),
    term_scale=multilabel_term_scale,
    gradient_scale=multilabel_gradient_scale,
)

SPECS = (BCE, BCE_WITH_LOGITS, SOFT_MARGIN, MULTILABEL_SOFT_MARGIN)
