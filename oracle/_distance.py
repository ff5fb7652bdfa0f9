"""Distances for the triplet losses, with their gradients (numpy, ``WORK`` precision).

Documentation: torch 2.13. Written from the documentation, not from torch's code.

``pairwise_distance`` is ``torch.nn.functional.pairwise_distance`` / ``nn.PairwiseDistance``
as documented::

    dist(x, y) = || x - y + eps e ||_p,   ||x||_p = (sum_i |x_i|^p)^(1/p)

"where e is the vector of ones", over the last dimension ("Input1: (N, D) or (D)";
"Output: (N) or ()"). ``cosine_distance`` is ``1 - cosine_similarity(x, y, dim=-1)`` with
the documented ``similarity = x . y / (max(||x||_2, eps) max(||y||_2, eps))``, eps = 1e-8.

The distance protocol the triplet oracles take (``Distance``): an object with
``__call__(x1, x2) -> d`` (``WORK`` arrays; ``d`` has the shape of ``x1`` without its last
dimension) and ``gradients(x1, x2) -> (dd/dx1, dd/dx2)``, each of ``x1``'s shape: the
partial derivatives of each d[n] with respect to the elements of row n. ``differentiable``
says whether torch's counterpart has a gradient path at all (a count of unequal
coordinates has none: its derivative is 0 almost everywhere, and the oracle returns 0).
Every function runs under ``np.errstate(all="ignore")``: NaN and ±inf are data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import WORK, OracleInputError

__all__ = [
    "COSINE_EPS",
    "NAMED",
    "CosineDistance",
    "CountDistance",
    "Distance",
    "OneSidedSquaredDistance",
    "PairwiseDistance",
    "check_p",
    "named_distance",
    "pairwise_distance",
    "pairwise_distance_gradient",
]

COSINE_EPS = 1e-8


def check_p(p: Any) -> np.floating[Any]:
    """``p``: "the norm degree. Can be negative" (PairwiseDistance, torch 2.13), i.e. a real
    number. ``(sum |x_i|^p)^(1/p)`` is undefined for p = 0 (1/p), for ±inf (not a real
    number; the formula has no value there) and NaN: those raise ``OracleInputError``."""
    if isinstance(p, bool | np.bool_) or not isinstance(p, int | float | np.integer | np.floating):
        raise OracleInputError("p", f"must be a real number, got {p!r}")
    v = WORK(p)
    if not np.isfinite(v) or v == 0:
        raise OracleInputError(
            "p", f"must be a finite nonzero real (||x||_p = (sum |x_i|^p)^(1/p)), got {p!r}"
        )
    return v


def _diff(x1: np.ndarray, x2: np.ndarray, eps: np.floating[Any]) -> np.ndarray:
    with np.errstate(all="ignore"):
        return (x1 - x2) + eps


def pairwise_distance(
    x1: np.ndarray, x2: np.ndarray, p: np.floating[Any], eps: np.floating[Any]
) -> np.ndarray:
    """``||x1 - x2 + eps e||_p`` over the last dimension, in ``WORK`` (p validated before)."""
    v = _diff(x1, x2, eps)
    with np.errstate(all="ignore"):
        a = np.abs(v)
        if p == 1:
            return np.sum(a, axis=-1, dtype=WORK)
        if p == 2:
            return np.sqrt(np.sum(a * a, axis=-1, dtype=WORK))
        return np.power(np.sum(np.power(a, p), axis=-1, dtype=WORK), WORK(1) / p)


def pairwise_distance_gradient(
    x1: np.ndarray, x2: np.ndarray, p: np.floating[Any], eps: np.floating[Any]
) -> np.ndarray:
    r"""``d dist / d x1`` (and ``d dist / d x2`` is its negative), elementwise.

    Derivation: with ``v = x1 - x2 + eps e`` and ``d = ||v||_p``,
    ``dd/dv_i = sign(v_i) |v_i|^(p-1) d^(1-p) = sign(v_i) (|v_i| / d)^(p-1)``.
    Where ``v_i = 0`` the oracle takes 0 (for p = 1 the midpoint of the one-sided values
    -1 and +1, sign(0) = 0; for p > 1 the derivative itself; for p < 1 the midpoint of
    -inf and +inf), and where ``v = 0`` entirely (d = 0, possible with eps = 0) the
    subgradient 0, the minimum-norm element of the subdifferential of a norm at 0. NaN
    propagates; ``d = inf`` with ``|v_i| = inf`` gives inf/inf = NaN (IEEE).
    """
    v = _diff(x1, x2, eps)
    d = pairwise_distance(x1, x2, p, eps)[..., None]
    with np.errstate(all="ignore"):
        s = np.sign(v).astype(WORK)
        if p == 1:
            return s
        g = s * np.power(np.abs(v) / d, p - 1) if p != 2 else v / d
        return np.where(v == 0, WORK(0), g).astype(WORK)


class PairwiseDistance:
    """``nn.PairwiseDistance(p, eps)`` (defaults p = 2, eps = 1e-6) as a ``Distance``."""

    differentiable = True

    def __init__(self, p: Any = 2.0, eps: Any = 1e-6, name: str = "pairwise") -> None:
        self.p = check_p(p)
        self.eps = WORK(eps)
        self.name = name

    def __call__(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        return pairwise_distance(x1, x2, self.p, self.eps)

    def gradients(self, x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = pairwise_distance_gradient(x1, x2, self.p, self.eps)
        return g, -g


class CosineDistance:
    r"""``1 - cosine_similarity(x1, x2, dim=-1)`` (eps = 1e-8) as a ``Distance``.

    Gradient (derived from the documented similarity): with ``n_k = ||x_k||``,
    ``N_k = max(n_k, eps)`` and ``s = x1 . x2 / (N_1 N_2)``,
    ``ds/dx1 = x2 / (N_1 N_2) - s x1 / (N_1 n_1) [n_1 >= eps]`` (``max(n, eps)`` is constant
    below eps; at ``n = eps`` the norm's branch is taken), so
    ``dd/dx1 = -ds/dx1`` and symmetrically for x2.
    """

    differentiable = True
    name = "cosine"

    def _parts(self, x1: np.ndarray, x2: np.ndarray):
        eps = WORK(COSINE_EPS)
        with np.errstate(all="ignore"):
            n1 = np.sqrt(np.sum(x1 * x1, axis=-1, dtype=WORK))
            n2 = np.sqrt(np.sum(x2 * x2, axis=-1, dtype=WORK))
            c1, c2 = np.maximum(n1, eps), np.maximum(n2, eps)
            s = np.sum(x1 * x2, axis=-1, dtype=WORK) / (c1 * c2)
        return n1, n2, c1, c2, s

    def __call__(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        s = self._parts(x1, x2)[-1]
        with np.errstate(all="ignore"):
            return (WORK(1) - s).astype(WORK)

    def gradients(self, x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n1, n2, c1, c2, s = self._parts(x1, x2)
        eps = WORK(COSINE_EPS)
        e = (..., None)
        with np.errstate(all="ignore"):
            on1 = np.where((n1 >= eps)[e], s[e] * x1 / (c1 * n1)[e], WORK(0))
            on2 = np.where((n2 >= eps)[e], s[e] * x2 / (c2 * n2)[e], WORK(0))
            g1 = -(x2 / (c1 * c2)[e] - on1)
            g2 = -(x1 / (c1 * c2)[e] - on2)
        return g1.astype(WORK), g2.astype(WORK)


class OneSidedSquaredDistance:
    r"""``sum_i max(x1_i - x2_i, 0)^2``: nonnegative, real-valued and asymmetric
    (``d(x, y) != d(y, x)``), which makes the argument order of ``swap`` observable.

    Gradient: ``dd/dx1_i = 2 max(x1_i - x2_i, 0) = -dd/dx2_i`` (continuous: no kink)."""

    differentiable = True
    name = "one_sided_sq"

    def __call__(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            m = np.maximum(x1 - x2, WORK(0))
            return np.sum(m * m, axis=-1, dtype=WORK)

    def gradients(self, x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            g = (2 * np.maximum(x1 - x2, WORK(0))).astype(WORK)
        return g, -g


class CountDistance:
    """The number of coordinates where ``x1_i != x2_i`` (NaN counts as unequal):
    nonnegative and real-valued, piecewise constant. Its derivative is 0 wherever it
    exists (almost everywhere), and the oracle's gradients are 0 everywhere; torch's
    counterpart has no gradient path (``differentiable = False``)."""

    differentiable = False
    name = "count"

    def __call__(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        return np.sum(x1 != x2, axis=-1).astype(WORK)

    def gradients(self, x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = np.zeros(np.broadcast_shapes(x1.shape, x2.shape), dtype=WORK)
        return z, z.copy()


Distance = PairwiseDistance | CosineDistance | OneSidedSquaredDistance | CountDistance

NAMED: dict[str, Any] = {
    "pairwise": PairwiseDistance(),
    "cosine": CosineDistance(),
    "one_sided_sq": OneSidedSquaredDistance(),
    "count": CountDistance(),
}


def named_distance(distance_function: Any) -> Any:
    """``None`` -> the documented default ``nn.PairwiseDistance()``; a name of ``NAMED``;
    or an object following the protocol (``__call__`` and ``gradients``)."""
    if distance_function is None:
        return NAMED["pairwise"]
    if isinstance(distance_function, str):
        if distance_function not in NAMED:
            raise OracleInputError(
                "distance_function", f"unknown distance name {distance_function!r}"
            )
        return NAMED[distance_function]
    if not callable(distance_function) or not hasattr(distance_function, "gradients"):
        raise OracleInputError(
            "distance_function",
            "must be None, a name of oracle._distance.NAMED, or a callable with gradients()",
        )
    return distance_function
