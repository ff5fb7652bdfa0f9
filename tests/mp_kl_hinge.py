"""An independent, deliberately plain mpmath reference for KLDivLoss and HingeEmbeddingLoss.

It never calls the oracle. Inputs are converted exactly to ``mpf`` (``tests/mp_reference``)
and the documented formulas (torch 2.13) are evaluated element by element at 50 digits,
sums with ``mpmath.fsum``. The special values are spelled out case by case rather than left
to mpmath (whose ``log`` of a negative number is complex):

- KLDivLoss, ``y (log y - x)`` or ``exp(t) (t - x)``: a target probability of 0 (y = 0, or
  t = -inf) gives ``0 - 0 * x``, i.e. 0 for finite x and NaN otherwise (the ``0 log 0 = 0``
  convention the oracle documents); a negative y gives NaN; for finite t, exp(t) > 0, so an
  infinite t - x gives that infinity. 'batchmean' divides the sum by ``shape[0]`` (1 for a
  0-d input).
- HingeEmbeddingLoss, ``x`` (y = 1) or ``max(0, margin - x)`` (y = -1), NaN propagating;
  its slope 0 at the kink (the oracle's documented subgradient: a hinge is inactive at 0)
  is written here as the rule "z > 0 is active".
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from tests.mp_reference import LEGACY, to_mp_array, to_mpf

mpf = mpmath.mpf
NAN = mpmath.nan
INF = mpmath.inf


def effective(reduction: str, size_average: bool | None, reduce: bool | None) -> str:
    legacy = LEGACY[(size_average, reduce)]
    return reduction if legacy is None else legacy


def _isfinite(v: Any) -> bool:
    return not (mpmath.isnan(v) or mpmath.isinf(v))


# -- KLDivLoss --------------------------------------------------------------------------------


def kl_term(x: Any, y: Any, log_target: bool) -> Any:
    """The documented pointwise KL term of one element."""
    if mpmath.isnan(x) or mpmath.isnan(y):
        return NAN
    if not log_target:
        if y == 0:
            return mpf(0) if _isfinite(x) else NAN
        if y < 0:
            return NAN
        if mpmath.isinf(y):  # y = +inf: inf * (inf - x)
            return NAN if x == INF else INF
        return y * (mpmath.log(y) - x)
    t = y
    if t == -INF:
        return mpf(0) if _isfinite(x) else NAN
    if t == INF:
        return NAN if x == INF else INF
    d = t - x
    if mpmath.isinf(d):
        return d
    return mpmath.exp(t) * d


def kl_slopes(x: Any, y: Any, log_target: bool) -> tuple[Any, Any]:
    """(dl/dx, dl/dy) of one element, from the hand formulas of the docs' term."""
    if not log_target:
        dx = -y
        if mpmath.isnan(x) or mpmath.isnan(y) or y < 0:
            return dx, NAN
        if y == 0:
            return dx, (NAN if x == -INF else -INF)
        if mpmath.isinf(y):
            return dx, (NAN if x == INF else INF)
        return dx, mpmath.log(y) + 1 - x
    t = y
    if mpmath.isnan(x) or mpmath.isnan(t):
        return (NAN if mpmath.isnan(t) else -mpmath.exp(t)), NAN
    if t == -INF:
        return mpf(0), (mpf(0) if _isfinite(x) else NAN)
    if t == INF:
        return -INF, (NAN if x == INF else INF)
    d = t - x
    if mpmath.isinf(d):
        return -mpmath.exp(t), d
    return -mpmath.exp(t), mpmath.exp(t) * (d + 1)


def _kl_denominator(reduction: str, shape: tuple[int, ...]) -> int:
    if reduction == "batchmean":
        return shape[0] if shape else 1
    return int(np.prod(shape)) if shape else 1


def kl_div(
    input: Any,
    target: Any,
    reduction: str = "mean",
    log_target: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
) -> Any:
    """Reference value: an object array of mpf for 'none', else one mpf."""
    red = effective(reduction, size_average, reduce)
    x, y = to_mp_array(input), to_mp_array(target)
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        out[idx] = kl_term(x[idx], y[idx], log_target)
    if red == "none":
        return out
    total = mpmath.fsum(out.ravel().tolist())
    if red == "sum":
        return total
    den = _kl_denominator(red, x.shape)
    return NAN if den == 0 else total / den


def kl_abs_terms(input: Any, target: Any, log_target: bool = False) -> Any:
    """sum |l_n|: what a cancelling signed sum is relative to."""
    x, y = to_mp_array(input), to_mp_array(target)
    terms = [kl_term(x[i], y[i], log_target) for i in np.ndindex(x.shape)]
    return mpmath.fsum(abs(v) for v in terms if _isfinite(v))


def kl_div_gradients(
    input: Any,
    target: Any,
    reduction: str = "mean",
    log_target: bool = False,
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    """Hand-formula gradients (object arrays of mpf), with the reduction's seed."""
    x, y = to_mp_array(input), to_mp_array(target)
    shape = x.shape
    if reduction == "none":
        g = to_mp_array(np.ones(shape) if grad_output is None else grad_output)
    else:
        g0 = mpf(1) if grad_output is None else to_mpf(grad_output)
        den = 1 if reduction == "sum" else _kl_denominator(reduction, shape)
        g = np.full(shape, g0 / den, dtype=object)
    gx = np.empty(shape, dtype=object)
    gy = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        dx, dy = kl_slopes(x[idx], y[idx], log_target)
        gx[idx], gy[idx] = g[idx] * dx, g[idx] * dy
    return {"input": gx, "target": gy}


# -- HingeEmbeddingLoss ------------------------------------------------------------------------


def hinge_term(x: Any, y: Any, margin: Any) -> Any:
    if y == 1:
        return x
    z = margin - x
    if mpmath.isnan(z):
        return NAN
    return z if z > 0 else mpf(0)


def hinge_slope(x: Any, y: Any, margin: Any) -> Any:
    if y == 1:
        return mpf(1)
    z = margin - x
    if mpmath.isnan(z):
        return NAN
    return mpf(-1) if z > 0 else mpf(0)


def hinge_embedding_loss(
    input: Any,
    target: Any,
    margin: float = 1.0,
    reduction: str = "mean",
    size_average: bool | None = None,
    reduce: bool | None = None,
) -> Any:
    red = effective(reduction, size_average, reduce)
    x, y, m = to_mp_array(input), to_mp_array(target), to_mpf(margin)
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        out[idx] = hinge_term(x[idx], y[idx], m)
    if red == "none":
        return out
    total = mpmath.fsum(out.ravel().tolist())
    if red == "sum":
        return total
    return NAN if out.size == 0 else total / out.size


def hinge_gradient(
    input: Any, target: Any, margin: float = 1.0, reduction: str = "mean", grad_output: Any = None
) -> np.ndarray:
    x, y, m = to_mp_array(input), to_mp_array(target), to_mpf(margin)
    if reduction == "none":
        g = to_mp_array(np.ones(x.shape) if grad_output is None else grad_output)
    else:
        g0 = mpf(1) if grad_output is None else to_mpf(grad_output)
        n = 1 if reduction == "sum" else max(int(np.prod(x.shape)) if x.shape else 1, 0)
        g = np.full(x.shape, g0 / n if n else NAN, dtype=object)
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        out[idx] = g[idx] * hinge_slope(x[idx], y[idx], m)
    return out
