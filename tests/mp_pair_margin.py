"""A plain mpmath reference for MarginRankingLoss and CosineEmbeddingLoss (torch 2.13 docs).

Never calls the oracle: every value is converted exactly to an ``mpf`` and the documented
formulas are evaluated element by element at 50 digits (tests/mp_reference.py's context);
sums use ``mpmath.fsum``. No validation: the tests pass documented inputs only, and the
finite differences perturb the target off {1, -1} on purpose.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from tests.mp_reference import effective_reduction, to_mp_array, to_mpf

mpf = mpmath.mpf


def _max0(z: Any) -> Any:
    if mpmath.isnan(z):
        return mpmath.nan
    return z if z > 0 else mpf(0)


def _reduce(terms: np.ndarray, reduction: str) -> Any:
    if reduction == "none":
        return terms
    total = mpmath.fsum(terms.ravel().tolist())
    if reduction == "sum":
        return total
    return total / terms.size if terms.size else mpmath.nan


def ranking_mp(x1: np.ndarray, x2: np.ndarray, y: np.ndarray, margin: Any, reduction: str):
    """On object arrays of mpf: max(0, -y (x1 - x2) + margin) per element, then reduced."""
    out = np.empty(x1.shape, dtype=object)
    for idx in np.ndindex(x1.shape):
        out[idx] = _max0(-y[idx] * (x1[idx] - x2[idx]) + margin)
    return _reduce(out, reduction)


def ranking(input1, input2, target, margin=0.0, reduction="mean", size_average=None, reduce=None):
    red = effective_reduction(reduction, size_average, reduce)
    a, b, y = (to_mp_array(v) for v in (input1, input2, target))
    return ranking_mp(a, b, y, to_mpf(margin), red)


def cosine_of(a: np.ndarray, b: np.ndarray) -> Any:
    dot = mpmath.fsum(a[i] * b[i] for i in range(a.size))
    n1 = mpmath.sqrt(mpmath.fsum(v * v for v in a))
    n2 = mpmath.sqrt(mpmath.fsum(v * v for v in b))
    den = n1 * n2
    return mpmath.nan if den == 0 else dot / den


def cosine_mp(x1: np.ndarray, x2: np.ndarray, y: np.ndarray, margin: Any, reduction: str):
    """On object arrays of mpf, (N, D) or (D): 1 - cos (y = 1), max(0, cos - m) (y = -1)."""
    unbatched = x1.ndim == 1
    a, b = x1.reshape(-1, x1.shape[-1]), x2.reshape(-1, x2.shape[-1])
    yy = y.reshape(-1)
    out = np.empty(yy.shape, dtype=object)
    for n in range(yy.size):
        c = cosine_of(a[n], b[n])
        out[n] = 1 - c if yy[n] == 1 else _max0(c - margin)
    if unbatched:
        out = out.reshape(())
    return _reduce(out, reduction)


def cosine(input1, input2, target, margin=0.0, reduction="mean", size_average=None, reduce=None):
    red = effective_reduction(reduction, size_average, reduce)
    a, b, y = (to_mp_array(v) for v in (input1, input2, target))
    return cosine_mp(a, b, y, to_mpf(margin), red)
