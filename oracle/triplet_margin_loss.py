"""Oracle for ``torch.nn.functional.triplet_margin_loss`` / ``torch.nn.TripletMarginLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
The hinge and swap logic (``Triplet``) is shared with triplet_margin_with_distance_loss.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import (
    WORK,
    OracleInputError,
    as_work,
    reduce_loss,
    reduction_grad,
    resolve_reduction,
)
from ._distance import PairwiseDistance, check_p

__all__ = ["Triplet", "check_margin", "triplet_margin_loss", "triplet_margin_loss_gradients"]

NAMES = ("anchor", "positive", "negative")


def check_margin(margin: Any, *, strict: bool) -> np.floating[Any]:
    """``margin``: "greater than 0" (TripletMarginLoss, ``strict``) or "nonnegative"
    (TripletMarginWithDistanceLoss); NaN is neither. +inf is allowed (the loss is +inf)."""
    if isinstance(margin, bool | np.bool_) or not isinstance(
        margin, int | float | np.integer | np.floating
    ):
        raise OracleInputError("margin", f"must be a real number, got {margin!r}")
    m = WORK(margin)
    ok = m > 0 if strict else m >= 0
    if not ok:
        rule = "greater than 0" if strict else "nonnegative"
        raise OracleInputError("margin", f"must be {rule}, got {float(margin)!r}")
    return m


def check_swap(swap: Any) -> bool:
    if not isinstance(swap, bool | np.bool_):
        raise OracleInputError("swap", f"must be a bool, got {swap!r}")
    return bool(swap)


class Triplet:
    r"""The unreduced triplet hinge for a distance ``d`` (documented for both losses)::

        l_i = max{ d(a_i, p_i) - d(a_i, n_i) + margin, 0 }

    swap (with-distance docs, torch 2.13): "If True, and if the positive example is closer
    to the negative example than the anchor is, swaps the positive example and the anchor
    in the loss computation": the negative distance becomes ``d(p_i, n_i)`` (positive in
    the anchor's place) exactly where ``d(p_i, n_i) < d(a_i, n_i)``; at equality ("closer"
    is strict) the anchor's ``d(a_i, n_i)`` is kept, which decides the gradient at a swap
    tie. A NaN ``d(p_i, n_i)`` is not closer: no swap. TripletMarginLoss's docs only cite
    the paper (Balntas et al.), whose swap is min(d(a, n), d(p, n)): the same value.

    ``z_i = d(a_i, p_i) - d_neg + margin``; NaN propagates through ``max``. The hinge's
    slope is 1 where z > 0, 0 where z < 0 and NaN where z is NaN. At z = 0 exactly the docs
    are silent and every element of [0, 1] is a subgradient; the oracle takes 0, the
    project's convention for every hinge (a hinge at exactly 0 is inactive, as ``relu``'s
    gradient at 0 and MultiMarginLoss's), one reading for every loss so that torch's
    choices can be compared across them. torch 2.13 takes 1 there (the active side), as in
    HingeEmbedding, MarginRanking and CosineEmbedding (registered:
    hinge-tie-takes-the-active-slope); :meth:`active_at_tie` gives that other one-sided
    derivative, so that the suite tells the convention from a wrong subgradient.
    """

    def __init__(
        self, anchor: Any, positive: Any, negative: Any, dist: Any, margin: Any, swap: bool
    ) -> None:
        given = (anchor, positive, negative)
        self.x = {k: as_work(v, k) for k, v in zip(NAMES, given, strict=True)}
        self.dist, self.margin, self.swap = dist, margin, swap
        a, p, n = (self.x[k] for k in NAMES)
        with np.errstate(all="ignore"):
            self.d_ap = np.asarray(dist(a, p), dtype=WORK)
            self.d_an = np.asarray(dist(a, n), dtype=WORK)
            if swap:
                self.d_pn = np.asarray(dist(p, n), dtype=WORK)
                self.swapped = self.d_pn < self.d_an
                self.d_neg = np.where(self.swapped, self.d_pn, self.d_an)
            else:
                self.swapped = np.zeros(self.d_an.shape, dtype=bool)
                self.d_neg = self.d_an
            self.z = (self.d_ap - self.d_neg) + margin
            self.loss = np.where(np.isnan(self.z), self.z, np.maximum(self.z, WORK(0)))
            self.slope = np.where(np.isnan(self.z), np.nan, (self.z > 0).astype(WORK))
        self.shape = self.loss.shape

    def active_at_tie(self) -> Triplet:
        """The same triplets with the hinge's other one-sided slope, 1, at z == 0 exactly."""
        self.slope = np.where(self.z == 0, WORK(1), self.slope).astype(WORK)
        return self

    def gradients(self, reduction: str, grad_output: Any) -> dict[str, np.ndarray]:
        r"""Chain rule (derived by hand): with ``s_i = r_i h_i`` (``r`` the reduction's
        seed, ``h`` the hinge slope) and ``G1, G2`` the distance's partial derivatives in
        its first and second argument::

            no swap:  dL/da = s (G1(a,p) - G1(a,n)), dL/dp = s G2(a,p), dL/dn = -s G2(a,n)
            swapped:  dL/da = s G1(a,p), dL/dp = s (G2(a,p) - G1(p,n)), dL/dn = -s G2(p,n)

        The swap is written d_neg = w d(p, n) + (1 - w) d(a, n) with w = 1 where swapped,
        and every product of the chain rule is formed under IEEE arithmetic, inactive rows
        and the unused swap branch included: a factor 0 times an undefined distance
        gradient (inf/inf at an infinite coordinate) is NaN; NaN slopes propagate.
        """
        r = reduction_grad(grad_output, self.shape, reduction)
        a, p, n = (self.x[k] for k in NAMES)
        e = (..., None)
        with np.errstate(all="ignore"):
            s = (r * self.slope)[e]
            g1_ap, g2_ap = self.dist.gradients(a, p)
            g1_an, g2_an = self.dist.gradients(a, n)
            if self.swap:
                g1_pn, g2_pn = self.dist.gradients(p, n)
            else:
                g1_pn = g2_pn = np.zeros_like(g1_ap)
            w = self.swapped[e].astype(WORK)  # d_neg = w d(p, n) + (1 - w) d(a, n)
            ga = g1_ap - (1 - w) * g1_an
            gp = g2_ap - w * g1_pn
            gn = -(w * g2_pn + (1 - w) * g2_an)
            out = {}
            for name, g in (("anchor", ga), ("positive", gp), ("negative", gn)):
                out[name] = (s * g).astype(WORK)
        return out


def _triplet(anchor, positive, negative, margin, p, eps, swap) -> Triplet:
    m = check_margin(margin, strict=True)
    dist = PairwiseDistance(check_p(p), eps)
    sw = check_swap(swap)
    x = {k: as_work(v, k) for k, v in zip(NAMES, (anchor, positive, negative), strict=True)}
    for k in NAMES:
        if x[k].ndim not in (1, 2):
            raise OracleInputError(k, f"shape {x[k].shape} is not (N, D) or (D)")
    for k in NAMES[1:]:
        if x[k].shape != x["anchor"].shape:
            raise OracleInputError(
                k, f"shape {x[k].shape} differs from the anchor's {x['anchor'].shape}"
            )
    return Triplet(x["anchor"], x["positive"], x["negative"], dist, m, sw)


def triplet_margin_loss(
    anchor: Any,
    positive: Any,
    negative: Any,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-06,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Triplet margin loss, as documented for ``TripletMarginLoss`` (torch 2.13).

    Documented formula::

        L(a, p, n) = max{ d(a_i, p_i) - d(a_i, n_i) + margin, 0 },
        d(x_i, y_i) = || x_i - y_i ||_p

    "The norm is calculated using the specified p value and a small constant eps is added
    for numerical stability." The docs do not say where eps goes; ``p`` is "The norm degree
    for pairwise distance", and ``nn.PairwiseDistance`` documents
    ``dist(x, y) = || x - y + eps e ||_p`` (e the vector of ones): the oracle uses that
    distance (oracle._distance.pairwise_distance), eps inside the norm, added to every
    coordinate of the difference. ``p`` is a finite nonzero real (PairwiseDistance: "Can be
    negative"; p = 0, ±inf and NaN raise, see check_p); ``margin`` must be "greater than 0"
    (0, negative and NaN raise). Shapes: "(N, D) or (D)", all three equal (others raise,
    naming the argument). Output (N) for 'none' with (N, D) inputs, a scalar otherwise;
    'mean' divides by the number of elements of the output (N = 0 gives NaN), 'sum' sums;
    the deprecated size_average/reduce override ``reduction`` as documented. ``swap`` and
    the hinge's subgradient: see ``Triplet``.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    t = _triplet(anchor, positive, negative, margin, p, eps, swap)
    return reduce_loss(t.loss, red)


def triplet_margin_loss_gradients(
    anchor: Any,
    positive: Any,
    negative: Any,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-06,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`triplet_margin_loss` for anchor, positive and negative (torch
    2.13 differentiates all three; there is no other tensor argument).

    Derivation: see ``Triplet.gradients`` (hinge and swap) and
    ``oracle._distance.pairwise_distance_gradient`` (``dd/dv_i = sign(v_i)(|v_i|/d)^(p-1)``
    with ``v = x1 - x2 + eps e``; ``dd/dx1 = dd/dv``, ``dd/dx2 = -dd/dv``; 0 where
    ``v_i = 0`` and where ``v = 0``). ``grad_output`` defaults to ones of the output's shape.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    t = _triplet(anchor, positive, negative, margin, p, eps, swap)
    return t.gradients(red, grad_output)


def gradients_active_at_tie(
    anchor: Any,
    positive: Any,
    negative: Any,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-06,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    """:func:`triplet_margin_loss_gradients` with the hinge's other one-sided derivative, 1,
    at an exact tie z == 0. Not the oracle's reading; the suite uses it to tell a different
    subgradient convention at a tie from a wrong gradient."""
    red = resolve_reduction(size_average, reduce, reduction)
    t = _triplet(anchor, positive, negative, margin, p, eps, swap).active_at_tie()
    return t.gradients(red, grad_output)
