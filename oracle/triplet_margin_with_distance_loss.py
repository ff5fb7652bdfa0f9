"""Oracle for ``torch.nn.functional.triplet_margin_with_distance_loss`` /
``torch.nn.TripletMarginWithDistanceLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import OracleInputError, as_work, check_reduction, reduce_loss
from ._distance import named_distance
from .triplet_margin_loss import NAMES, Triplet, check_margin, check_swap

__all__ = ["triplet_margin_with_distance_loss", "triplet_margin_with_distance_loss_gradients"]


def _triplet(anchor, positive, negative, distance_function, margin, swap) -> Triplet:
    dist = named_distance(distance_function)
    m = check_margin(margin, strict=False)
    sw = check_swap(swap)
    x = {k: as_work(v, k) for k, v in zip(NAMES, (anchor, positive, negative), strict=True)}
    for k in NAMES:
        if x[k].ndim == 0:
            raise OracleInputError(k, "a 0-d tensor is not (N, *)")
    for k in NAMES[1:]:
        if x[k].shape != x["anchor"].shape:
            raise OracleInputError(
                k, f"shape {x[k].shape} differs from the anchor's {x['anchor'].shape}"
            )
    return Triplet(x["anchor"], x["positive"], x["negative"], dist, m, sw)


def triplet_margin_with_distance_loss(
    anchor: Any,
    positive: Any,
    negative: Any,
    *,
    distance_function: Any = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Triplet margin loss with a distance function, as documented for
    ``TripletMarginWithDistanceLoss`` (Documentation: torch 2.13).

    Documented formula::

        l_i = max{ d(a_i, p_i) - d(a_i, n_i) + margin, 0 }

    "d is a nonnegative, real-valued function quantifying the closeness of two tensors";
    "If not specified, nn.PairwiseDistance will be used" (p = 2, eps = 1e-6:
    ``||x - y + eps e||_2``). ``margin``: "A nonnegative margin" (negative and NaN raise;
    0 is allowed). swap: "If True, and if the positive example is closer to the negative
    example than the anchor is, swaps the positive example and the anchor in the loss
    computation" (strict; see ``oracle.triplet_margin_loss.Triplet``). Inputs "(N, *)",
    the three of one shape (others raise); the loss has the shape of the distance's output
    (``(N)``, or ``()`` for a distance that reads a (D) input as one vector), 'mean' divides
    by its number of elements, 'sum' sums. There are no legacy size_average/reduce args.

    ``distance_function`` (the oracle's protocol, since a torch callable cannot run here):
    ``None`` (the default distance), a name of ``oracle._distance.NAMED`` (``'pairwise'``,
    ``'cosine'`` = 1 - cosine_similarity(dim=-1), ``'one_sided_sq'``, ``'count'``), or any
    object with ``__call__(x1, x2)`` and ``gradients(x1, x2) -> (dd/dx1, dd/dx2)`` in
    ``WORK`` arrays (see oracle._distance).
    """
    red = check_reduction(reduction)
    t = _triplet(anchor, positive, negative, distance_function, margin, swap)
    return reduce_loss(t.loss, red)


def triplet_margin_with_distance_loss_gradients(
    anchor: Any,
    positive: Any,
    negative: Any,
    *,
    distance_function: Any = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients for anchor, positive and negative (derived by hand: see
    ``oracle.triplet_margin_loss.Triplet.gradients`` and the distance's ``gradients``).

    A distance without a gradient path in torch (``'count'``: piecewise constant) has the
    derivative 0 almost everywhere; the oracle returns 0 for every element (torch cannot
    differentiate such a loss at all: its backward raises, a registered behaviour).
    """
    red = check_reduction(reduction)
    t = _triplet(anchor, positive, negative, distance_function, margin, swap)
    return t.gradients(red, grad_output)


def gradients_active_at_tie(
    anchor: Any,
    positive: Any,
    negative: Any,
    *,
    distance_function: Any = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    """:func:`triplet_margin_with_distance_loss_gradients` with the hinge's other one-sided
    derivative, 1, at an exact tie z == 0 (not the oracle's reading: see
    ``oracle.triplet_margin_loss.Triplet``)."""
    red = check_reduction(reduction)
    t = _triplet(anchor, positive, negative, distance_function, margin, swap).active_at_tie()
    return t.gradients(red, grad_output)
