"""Oracle for ``torch.nn.functional.l1_loss`` / ``torch.nn.L1Loss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import Pointwise, resolve_reduction, sign

__all__ = ["l1_loss", "l1_loss_gradients"]


def _terms(p: Pointwise) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):
        return np.abs(p.d), sign(p.d)


def l1_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> np.ndarray:
    r"""Mean absolute error, as documented for ``L1Loss`` (Documentation: torch 2.13).

    Documented formula::

        \ell(x, y) = L = \{l_1,\dots,l_N\}^\top, \quad l_n = \left| x_n - y_n \right|

    then ``mean(L)`` for ``reduction='mean'`` ("the sum of the output will be divided by the
    number of elements in the output"), ``sum(L)`` for ``'sum'``, ``L`` for ``'none'``.
    ``weight`` ("Weights for each sample") multiplies each element, ``w_n l_n``, before the
    reduction; ``'mean'`` still divides by the number of elements, not by ``sum(w)``. The
    deprecated ``size_average``/``reduce`` override ``reduction`` when given.

    ``input`` and ``target`` broadcast with numpy's rules; ``weight`` must broadcast to
    their common shape. Computed in ``WORK`` precision; NaN propagates and ±inf follows
    IEEE arithmetic (``|inf - y| = inf``, ``inf - inf = NaN``). Returns a ``WORK`` array of
    the unreduced shape for ``'none'``, else a 0-d array.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    p = Pointwise(input, target, weight)
    loss, _ = _terms(p)
    return p.forward(loss, red)


def l1_loss_gradients(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`l1_loss` (Documentation: torch 2.13; derived by hand).

    Derivation: with ``d_n = x_n - y_n``, ``l_n = |d_n|`` so ``dl_n/dd_n = sign(d_n)``,
    ``dd_n/dx_n = 1``, ``dd_n/dy_n = -1``. With ``r_n`` the gradient of the reduction
    (``g`` for ``'none'``, ``g`` for ``'sum'``, ``g/N`` for ``'mean'``)::

        dL/dx_n = r_n w_n sign(d_n),   dL/dy_n = -r_n w_n sign(d_n),   dL/dw_n = r_n |d_n|

    At the kink ``x_n == y_n`` the subgradient convention is ``sign(0) = 0``, so both
    gradients are 0 there. ``sign(±inf) = ±1``; NaN gives NaN. Each gradient is summed back
    to its argument's original (pre-broadcast) shape. Keys: ``"input"``, ``"target"``, and
    ``"weight"`` when a weight is given. ``grad_output`` defaults to ones.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    p = Pointwise(input, target, weight)
    loss, slope = _terms(p)
    return p.gradients(loss, slope, red, grad_output)
