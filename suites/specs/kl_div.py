"""LossSpec of KLDivLoss (``kl_div``), with ``log_target`` and the 'batchmean' reduction.

l = y (log y - x) (``log_target=False``) or exp(t) (t - x) (``log_target=True``), the input
x a log-probability; input and target of one shape ("Target: (*), same shape as the
input"); reductions 'none', 'mean', 'sum' and 'batchmean' (sum / input.size(0)).

Regimes: ``well`` (log-probabilities in [-16, 4], probabilities in [0, 2]), ``edge``
(NaN, ±inf, ±0, subnormals, the largest values, negative targets), ``zeros`` (target
probabilities exactly 0, log-targets -inf, and infinite inputs next to them: the
``0 log 0`` convention of the oracle) and ``bulk`` (a (32, 8) batch of log-softmax inputs
and softmax targets).

Error model (the budgets in fixtures/tolerances.toml use terms_u = 1: ``term_scale`` and
``gradient_scale`` return torch's first-order rounding error in units of u):

- ``log_target=False``: torch's value is a difference of y log y and y x formed in the
  dtype (its target gradient at y = 0 is log 0 + 0/0, the derivative of xlogy(y, y)), or
  y (log y - x): either way the log (within 1 ulp, 2u), the products and the difference
  round at most 3 times relative to |y| (|log y| + |x|), which the difference cancels
  when x is near log y: M = 3 |y| (|log y| + |x|).
- ``log_target=True``: exp(t) within 2u, t - x one rounding, the product one: no
  cancellation, M = 4 |l|; where exp(t) is subnormal in the dtype it is off by half a
  subnormal spacing, which |t - x| multiplies: + 0.5 s_min |t - x| / u.
- Gradients: d/dx = -r y or -r exp(t) (products: 3 |r y|, 3 |r exp t| + the subnormal
  term); d/dy = r (log y + 1 - x), formed as a sum of products that cancel:
  3 |r| (|log y| + 1 + |x|); d/dt = r exp(t) (t - x + 1), the product rule's two terms
  cancel where t - x is near -1: 3 |r| exp(t) (|t - x| + 1) + the subnormal term.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from oracle._common import reduction_grad
from oracle.kl_div import batch_size
from suites.dtypes import info, overflow_threshold, to_dtype
from suites.specs._types import InvalidInput, LossSpec, Option, TensorArg
from suites.strategies import arrays, bulk_values, shapes

LD = np.longdouble
REDUCTIONS = ("none", "mean", "sum", "batchmean")
BULK_SHAPE = (32, 8)  # 256 elements: the reproducer inlines them
LOG_LO, LOG_HI = -16.0, 4.0


def log_target_values(dtype: str) -> st.SearchStrategy[bool]:
    return st.booleans()


def _log_target(options: dict[str, Any]) -> bool:
    return bool(options.get("log_target", False))


def _log_softmax(v: np.ndarray) -> np.ndarray:
    m = v.max(axis=-1, keepdims=True)
    return v - m - np.log(np.exp(v - m).sum(axis=-1, keepdims=True))


def _mask(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    n = math.prod(shape)
    return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool).reshape(
        shape
    )


def draw_kl_inputs(draw: st.DrawFn, dtype: str, regime: str, options: dict, include) -> dict:
    log_target = _log_target(options)
    if regime == "bulk":
        seed = draw(st.integers(0, 2**32 - 1))
        n = math.prod(BULK_SHAPE)
        x = _log_softmax(bulk_values(seed, n, "float64", 2.0).reshape(BULK_SHAPE))
        t = _log_softmax(bulk_values(seed + 1, n, "float64", 2.0).reshape(BULK_SHAPE))
        y = t if log_target else np.exp(t)
        return {"input": to_dtype(x, dtype), "target": to_dtype(y, dtype)}
    shape = draw(shapes())
    if regime == "edge":
        return {
            "input": draw(arrays(dtype, shape, "edge")),
            "target": draw(arrays(dtype, shape, "edge")),
        }
    x = draw(arrays(dtype, shape, "well", LOG_LO, LOG_HI))
    if log_target:
        y = draw(arrays(dtype, shape, "well", LOG_LO, 2.0))
    else:
        y = draw(arrays(dtype, shape, "well", 0.0, 2.0))
    if regime == "zeros":
        zero = -np.inf if log_target else draw(st.sampled_from((0.0, -0.0)))
        zeros = _mask(draw, shape)
        y = np.where(zeros, y.dtype.type(zero), y)
        if draw(st.booleans()):  # an infinite log-probability at some of them
            inf = x.dtype.type(draw(st.sampled_from((-np.inf, np.inf))))
            x = np.where(zeros & _mask(draw, shape), inf, x)
    return {"input": x, "target": y}


def _drawer(draw, dtype, regime, options, include):
    return draw_kl_inputs(draw, dtype, regime, options, include)


# -- the terms of a case and what the dtype does to them ---------------------------------


def _operands(case: Any) -> tuple[np.ndarray, np.ndarray] | None:
    x = np.asarray(case.inputs.get("input"))
    y = np.asarray(case.inputs.get("target"))
    if x.shape != y.shape:
        return None
    return x.astype(LD), y.astype(LD)


def _seed(case: Any, grad_output: Any, shape: tuple[int, ...]) -> np.ndarray:
    red = case.reduction
    base = "sum" if red == "batchmean" else red
    r = np.abs(reduction_grad(grad_output, shape, base))
    if red == "batchmean":
        r = r / LD(batch_size(shape))
    return r


def term_scale(case: Any) -> np.ndarray | None:
    """M_n: torch's rounding error of term n is at most u M_n (module docstring)."""
    ops = _operands(case)
    if ops is None:
        return None
    x, y = ops
    d = info(case.dtype)
    u, sub = LD(d.unit_roundoff), LD(d.smallest_subnormal)
    with np.errstate(all="ignore"):
        if _log_target(case.effective_options()):
            p = np.exp(y)
            m = 4 * np.abs(p * (y - x)) + LD(0.5) * sub * np.abs(y - x) / u
        else:
            m = 3 * np.abs(y) * (np.abs(np.log(np.abs(y))) + np.abs(x))
    return np.nan_to_num(m, nan=0.0, posinf=0.0)


def gradient_scale(case: Any, name: str, grad_output: Any) -> np.ndarray | None:
    """G: torch's rounding error of gradient ``name`` is at most u G elementwise.

    The products' relative errors (module docstring), plus what the subnormal range adds,
    in units of u (each product or quotient landing there is off by half a subnormal
    spacing, s/2, instead of u of itself): a subnormal seed r (g / N) carries s/2 into
    every term built from it, so s/2 times their magnitudes; torch's target gradient of
    y log y takes r y / y, and a subnormal r y comes back divided by y: s / (2 |y|); and
    s/2 for each of the (at most three) products of one element."""
    ops = _operands(case)
    if ops is None:
        return None
    x, y = ops
    d = info(case.dtype)
    u, sub, tiny = LD(d.unit_roundoff), LD(d.smallest_subnormal), LD(d.tiny)
    half = LD(0.5) * sub / u  # half a subnormal spacing, in units of u
    r = _seed(case, grad_output, x.shape)
    with np.errstate(all="ignore"):
        r_sub = (r > 0) & (r < tiny)
        if _log_target(case.effective_options()):
            p = np.exp(y)
            if name == "input":
                g = 3 * r * p + half * r + half * (2 + np.where(r_sub, p, 0))
            else:
                span = np.abs(y - x) + 1
                g = 3 * r * p * span + half * r * span + half * (3 + np.where(r_sub, p * span, 0))
        elif name == "input":
            g = 3 * r * np.abs(y) + half * (2 + np.where(r_sub, np.abs(y), 0))
        else:
            ay = np.abs(y)
            span = np.abs(np.log(ay)) + 1 + np.abs(x)
            ry_sub = (r * ay > 0) & (r * ay < tiny)
            g = 3 * r * span + half * (3 + np.where(r_sub, span, 0) + np.where(ry_sub, 1 / ay, 0))
    return np.nan_to_num(g, nan=0.0, posinf=0.0)


def mean_denominator(case: Any) -> tuple[float, float]:
    """The documented denominators: N (the number of elements) for 'mean', input.size(0)
    (a 0-d input: 1, the oracle's reading) for 'batchmean'; neither is a sum torch
    accumulates, so its rounding is 0."""
    shape = np.shape(case.inputs["input"])
    if case.reduction == "batchmean":
        return float(batch_size(shape)), 0.0
    return float(math.prod(shape)), 0.0


def features(case: Any) -> set[str]:
    """zero_target: a target probability of exactly 0 (y = ±0, or t = -inf with
    log_target); zero_target_finite_input / zero_target_infinite_input: next to a finite
    or a nonfinite input; extreme_target: y = +inf or a log-target NaN/inf in the target
    gradient's reach (y = ±0 or +inf without log_target: where torch's target gradient is
    NaN); infinite_target_nonnegative_input: y = +inf next to a finite x >= 0 (the term is
    +inf; y log y - y x formed as inf - inf is NaN); negative_target: y < 0 without
    log_target (log of a negative: NaN);
    kl_overflow: exp(t), y log y, y x or the term reaches the dtype's overflow threshold
    while its operands are finite; exp_underflow_times_inf: a finite log-target whose
    exp flushes to 0 in the dtype meets an infinite t - x; batchmean_0d: 'batchmean' of a
    0-d input; legacy_overrides_batchmean: size_average/reduce given with
    reduction='batchmean' (which they override) and input.size(0) != 1;
    target_broadcasts (invalid input)."""
    out: set[str] = set()
    x_raw, y_raw = case.inputs.get("input"), case.inputs.get("target")
    if x_raw is None or y_raw is None:
        return out
    legacy = "size_average" in case.options or "reduce" in case.options
    batchmean = case.options.get("reduction") == "batchmean"
    if legacy and batchmean and batch_size(np.shape(x_raw)) != 1:
        out.add("legacy_overrides_batchmean")
    if np.shape(x_raw) != np.shape(y_raw):
        try:
            np.broadcast_shapes(np.shape(x_raw), np.shape(y_raw))
            out.add("target_broadcasts")
        except ValueError:
            pass
        return out
    x, y = np.asarray(x_raw).astype(LD), np.asarray(y_raw).astype(LD)
    if np.ndim(x_raw) == 0 and case.reduction == "batchmean":
        out.add("batchmean_0d")
    big = overflow_threshold(case.dtype)
    half_sub = LD(info(case.dtype).smallest_subnormal) / 2
    with np.errstate(all="ignore"):
        if _log_target(case.effective_options()):
            zero = y == -np.inf
            finite_t = np.isfinite(y)
            p = np.exp(y)
            if np.any(finite_t & (p >= big)):
                out.add("kl_overflow")
            if np.any(finite_t & np.isfinite(x) & (np.abs(p * (y - x)) >= big)):
                out.add("kl_overflow")
            if np.any(finite_t & (p <= half_sub) & np.isinf(y - x)):
                out.add("exp_underflow_times_inf")
        else:
            zero = y == 0
            if np.any(y < 0):
                out.add("negative_target")
            if np.any(zero | (y == np.inf)):
                out.add("extreme_target")
            if np.any((y == np.inf) & np.isfinite(x) & (x >= 0)):
                out.add("infinite_target_nonnegative_input")
            ok = np.isfinite(x) & np.isfinite(y)
            mags = (np.abs(y * np.log(y)), np.abs(y * x), np.abs(y * (np.log(y) - x)))
            if any(np.any(ok & (m >= big)) for m in mags):
                out.add("kl_overflow")
    if np.any(zero):
        out.add("zero_target")
        if np.any(zero & np.isfinite(x)):
            out.add("zero_target_finite_input")
        if np.any(zero & ~np.isfinite(x)):
            out.add("zero_target_infinite_input")
    return out


# -- invalid inputs -------------------------------------------------------------------------

X = [[-1.0, -2.0, -0.5], [-0.25, -3.0, -1.5]]
Y = [[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]
KL_INVALID = (
    InvalidInput(
        "unknown-reduction",
        "reduction",
        {"input": X, "target": Y},
        {"reduction": "avg"},
        rule="reduction is one of 'none', 'batchmean', 'sum', 'mean'",
    ),
    InvalidInput(
        "target-of-the-last-dimension-only",
        "target",
        {"input": X, "target": [0.2, 0.3, 0.5]},
        rule="Target: (*), same shape as the input",
    ),
    InvalidInput(
        "target-with-a-batch-the-input-lacks",
        "target",
        {"input": [-1.0, -2.0, -0.5], "target": Y},
        rule="Target: (*), same shape as the input",
    ),
    InvalidInput(
        "target-of-shape-(2,1)",
        "target",
        {"input": X, "target": [[0.5], [0.25]]},
        rule="Target: (*), same shape as the input",
    ),
    InvalidInput(
        "shapes-do-not-broadcast",
        "target",
        {"input": X, "target": [0.5, 0.5]},
        rule="Target: (*), same shape as the input",
    ),
)

KL_DIV = LossSpec(
    loss="KLDivLoss",
    functional="kl_div",
    oracle="kl_div",
    args=(TensorArg("input", differentiable=True), TensorArg("target", differentiable=True)),
    options=(Option("log_target", False, log_target_values, doc="whether target is in log space"),),
    draw_inputs=_drawer,
    regimes=("well", "edge", "zeros", "bulk"),
    features=features,
    reductions=REDUCTIONS,
    legacy_reduction_args=True,
    doc="l = y (log y - x), or exp(t) (t - x) with log_target; batchmean = sum / input.size(0)",
    invalid=KL_INVALID,
    mean_denominator=mean_denominator,
    term_scale=term_scale,
    gradient_scale=gradient_scale,
    coverage=(
        "zero_target",
        "zero_target_finite_input",
        "zero_target_infinite_input",
        "negative_target",
        "batchmean_0d",
        "zero_dim",
        "empty",
        "nan",
        "inf",
        "subnormal",
        "bulk",
    ),
)

SPECS = (KL_DIV,)
