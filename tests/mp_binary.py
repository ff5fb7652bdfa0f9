"""An independent, deliberately plain mpmath reference for the four binary losses.

It never calls the oracle. Inputs are converted exactly to ``mpf`` (``tests/mp_reference``)
and the documented formulas (torch 2.13) are evaluated element by element at 50 digits
(``mp.dps``), sums with ``mpmath.fsum``. ``log sigmoid(x)`` is written
``-log1p(exp(-x))``, the documented ``log(1 / (1 + exp(-x)))`` with the logarithm of the
sum taken by ``log1p`` so that a tail like exp(-1e4) is not lost to the 50-digit ``1 +``;
mpmath's exponent range is unbounded, so exp(1e4) is finite here. mpmath follows IEEE for
the special values (``0 * inf = nan``, ``log(0) = -inf``, ``exp(-inf) = 0``).
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from tests.mp_reference import LEGACY, to_mp_array

mpf = mpmath.mpf
CLAMP = mpf(-100)


def effective(reduction: str, size_average: bool | None, reduce: bool | None) -> str:
    legacy = LEGACY[(size_average, reduce)]
    return reduction if legacy is None else legacy


def log_sigmoid(x: Any) -> Any:
    """log(1 / (1 + exp(-x))) = -log1p(exp(-x)), in mpmath."""
    if mpmath.isnan(x):
        return mpmath.nan
    return -mpmath.log1p(mpmath.exp(-x))


def clamped_log(p: Any) -> Any:
    """max(log p, -100) for p in [0, 1] (log 0 = -inf is clamped too)."""
    v = mpmath.log(p) if p > 0 else -mpmath.inf
    return v if v > CLAMP else CLAMP


def clamped_log_complement(p: Any) -> Any:
    """max(log(1 - p), -100), the logarithm taken as log1p(-p) (1 - 1e-300 is not 1)."""
    v = mpmath.log1p(-p) if p < 1 else -mpmath.inf
    return v if v > CLAMP else CLAMP


def reduce_mp(terms: np.ndarray, reduction: str) -> Any:
    if reduction == "none":
        return terms
    total = mpmath.fsum(terms.ravel().tolist())
    if reduction == "sum":
        return total
    return total / terms.size if terms.size else mpmath.nan


def _mp(a: Any) -> np.ndarray:
    return a if isinstance(a, np.ndarray) and a.dtype == object else to_mp_array(a)


def _broadcast(a: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    return None if a is None else np.broadcast_to(a, shape)


def bce_terms(x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    out = np.empty(x.shape, dtype=object)
    wb = _broadcast(w, x.shape)
    for i in np.ndindex(x.shape):
        v = -(y[i] * clamped_log(x[i]) + (1 - y[i]) * clamped_log_complement(x[i]))
        out[i] = v if wb is None else wb[i] * v
    return out


def bce_with_logits_terms(
    x: np.ndarray, y: np.ndarray, w: np.ndarray | None, p: np.ndarray | None
) -> np.ndarray:
    out = np.empty(x.shape, dtype=object)
    wb, pb = _broadcast(w, x.shape), _broadcast(p, x.shape)
    for i in np.ndindex(x.shape):
        pos = y[i] if pb is None else pb[i] * y[i]
        v = -(pos * log_sigmoid(x[i]) + (1 - y[i]) * log_sigmoid(-x[i]))
        out[i] = v if wb is None else wb[i] * v
    return out


def soft_margin_terms(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.empty(x.shape, dtype=object)
    for i in np.ndindex(x.shape):
        m = -y[i] * x[i]
        out[i] = mpmath.nan if mpmath.isnan(m) else mpmath.log1p(mpmath.exp(m))
    return out


def multilabel_terms(x: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    n, c = x.shape
    out = np.empty((n,), dtype=object)
    for r in range(n):
        parts = []
        for k in range(c):
            v = y[r, k] * log_sigmoid(x[r, k]) + (1 - y[r, k]) * log_sigmoid(-x[r, k])
            parts.append(v if w is None else w[k] * v)
        out[r] = -mpmath.fsum(parts) / c if c else mpmath.nan
    return out


def reference(loss: str, args: dict[str, Any], reduction: str = "mean") -> Any:
    """The documented loss on exact inputs: ``args`` holds input, target and the optional
    weight / pos_weight (numpy arrays, or object arrays of mpf)."""
    x, y = _mp(args["input"]), _mp(args["target"])
    w = None if args.get("weight") is None else _mp(args["weight"])
    if loss == "binary_cross_entropy":
        terms = bce_terms(x, y, w)
    elif loss == "binary_cross_entropy_with_logits":
        p = None if args.get("pos_weight") is None else _mp(args["pos_weight"])
        terms = bce_with_logits_terms(x, y, w, p)
    elif loss == "soft_margin_loss":
        terms = soft_margin_terms(x, y)
    elif loss == "multilabel_soft_margin_loss":
        terms = multilabel_terms(x, y, w)
    else:
        raise ValueError(loss)
    return reduce_mp(terms, reduction)


def scalar(loss: str, args: dict[str, Any], reduction: str, g: np.ndarray) -> Any:
    """sum(g * loss) for 'none', g * loss otherwise: the function whose derivatives are the
    gradients with grad_output g."""
    out = reference(loss, args, reduction)
    if reduction == "none":
        return mpmath.fsum(np.asarray(g * out, dtype=object).ravel().tolist())
    return g[()] * out
