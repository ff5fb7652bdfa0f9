"""An independent, deliberately plain mpmath reference for the triplet losses.

It never calls the oracle. Inputs are converted exactly (tests.mp_reference.to_mpf); each
coordinate difference x - y + eps is formed exactly (at 2300 bits, enough for any float64
operands) and the documented formulas (torch 2.13) are evaluated at 50 digits:
PairwiseDistance ``(sum |x - y + eps|^p)^(1/p)``, ``1 - x.y / (max(|x|, 1e-8) max(|y|,
1e-8))``, the one-sided squared distance ``sum max(x - y, 0)^2`` and the count of unequal
coordinates; the hinge ``max(d(a, p) - d_neg + margin, 0)`` with ``d_neg = d(p, n)`` where
swap finds it strictly smaller than ``d(a, n)``; sums with ``mpmath.fsum``.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from tests.mp_reference import mpf, to_mp_array, to_mpf

EXACT_BITS = 2300
COSINE_EPS = mpf("1e-8")


def _row_pairs(x: np.ndarray, y: np.ndarray):
    x2 = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
    y2 = y.reshape(-1, y.shape[-1]) if y.ndim else y.reshape(1, 1)
    return x2, y2


def pairwise(x: np.ndarray, y: np.ndarray, p: Any, eps: Any) -> list:
    x2, y2 = _row_pairs(x, y)
    out = []
    for r in range(x2.shape[0]):
        with mpmath.workprec(EXACT_BITS):
            v = [x2[r, k] - y2[r, k] + eps for k in range(x2.shape[1])]
        v = [+t for t in v]
        if p == 1:
            out.append(mpmath.fsum(abs(t) for t in v))
        elif p == 2:
            out.append(mpmath.sqrt(mpmath.fsum(t * t for t in v)))
        else:
            s = mpmath.fsum(mpmath.power(abs(t), p) for t in v)
            out.append(mpmath.power(s, 1 / mpf(p)) if s != 0 else mpf(0))
    return out


def cosine(x: np.ndarray, y: np.ndarray) -> list:
    x2, y2 = _row_pairs(x, y)
    out = []
    for r in range(x2.shape[0]):
        xs, ys = list(x2[r]), list(y2[r])
        nx = mpmath.sqrt(mpmath.fsum(t * t for t in xs))
        ny = mpmath.sqrt(mpmath.fsum(t * t for t in ys))
        dot = mpmath.fsum(a * b for a, b in zip(xs, ys, strict=True))
        out.append(1 - dot / (max(nx, COSINE_EPS) * max(ny, COSINE_EPS)))
    return out


def one_sided(x: np.ndarray, y: np.ndarray) -> list:
    x2, y2 = _row_pairs(x, y)
    out = []
    for r in range(x2.shape[0]):
        with mpmath.workprec(EXACT_BITS):
            w = [x2[r, k] - y2[r, k] for k in range(x2.shape[1])]
        out.append(mpmath.fsum(max(+t, mpf(0)) ** 2 for t in w))
    return out


def count(x: np.ndarray, y: np.ndarray) -> list:
    x2, y2 = _row_pairs(x, y)
    return [
        mpf(sum(1 for a, b in zip(x2[r], y2[r], strict=True) if a != b)) for r in range(len(x2))
    ]


def distance(name: str | None, p: Any = 2, eps: Any = 1e-6):
    if name in (None, "pairwise"):
        return lambda x, y: pairwise(x, y, p, to_mpf(eps))
    return {"cosine": cosine, "one_sided_sq": one_sided, "count": count}[name]


def triplet_mp(a, p, n, dist, margin: Any, swap: bool, reduction: str) -> Any:
    """Loss on object arrays of mpf (rows of the last dimension)."""
    d_ap, d_an = dist(a, p), dist(a, n)
    d_pn = dist(p, n) if swap else d_an
    terms = []
    for i in range(len(d_ap)):
        neg = d_pn[i] if swap and d_pn[i] < d_an[i] else d_an[i]
        with mpmath.workprec(EXACT_BITS):
            z = d_ap[i] - neg + margin
        z = +z
        terms.append(z if z > 0 else mpf(0))
    if reduction == "none":
        shape = a.shape[:-1]
        return np.array(terms, dtype=object).reshape(shape)
    total = mpmath.fsum(terms)
    if reduction == "sum":
        return total
    return total / len(terms) if terms else mpmath.nan


def reference(
    a, p, n, *, distance_function=None, margin=1.0, pnorm=2, eps=1e-6, swap=False, reduction="mean"
) -> Any:
    """Reference value for numpy inputs (converted exactly)."""
    dist = distance(distance_function, to_mpf(pnorm), to_mpf(eps))
    return triplet_mp(
        to_mp_array(a), to_mp_array(p), to_mp_array(n), dist, to_mpf(margin), swap, reduction
    )
