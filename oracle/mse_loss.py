"""Oracle for ``torch.nn.functional.mse_loss`` / ``torch.nn.MSELoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import WORK, Pointwise, resolve_reduction

__all__ = ["mse_loss", "mse_loss_gradients"]


def _terms(p: Pointwise) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):
        return p.d * p.d, WORK(2) * p.d


def mse_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
) -> np.ndarray:
    r"""Mean squared error, as documented for ``MSELoss`` (Documentation: torch 2.13).

    Documented formula::

        \ell(x, y) = L = \{l_1,\dots,l_N\}^\top, \quad l_n = \left( x_n - y_n \right)^2

    then ``mean(L)`` for ``reduction='mean'`` ("the sum of the output will be divided by the
    number of elements in the output"), ``sum(L)`` for ``'sum'``, ``L`` for ``'none'``.
    ``weight`` ("Weights for each sample") multiplies each element, ``w_n l_n``, before the
    reduction; ``'mean'`` still divides by the number of elements, not by ``sum(w)``. The
    deprecated ``size_average``/``reduce`` override ``reduction`` when given.

    ``input`` and ``target`` broadcast with numpy's rules; ``weight`` must broadcast to
    their common shape. Computed in ``WORK`` precision, whose range holds ``(1e308)^2``
    (the float64 overflow happens only when the caller rounds the result); NaN propagates
    and ±inf follows IEEE arithmetic. Returns a ``WORK`` array of the unreduced shape for
    ``'none'``, else a 0-d array.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    p = Pointwise(input, target, weight)
    loss, _ = _terms(p)
    return p.forward(loss, red)


def mse_loss_gradients(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Any = None,
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`mse_loss` (Documentation: torch 2.13; derived by hand).

    Derivation: with ``d_n = x_n - y_n``, ``l_n = d_n^2`` so ``dl_n/dd_n = 2 d_n``. With
    ``r_n`` the gradient of the reduction (``g`` for ``'none'`` and ``'sum'``, ``g/N`` for
    ``'mean'``)::

        dL/dx_n = 2 r_n w_n d_n,   dL/dy_n = -2 r_n w_n d_n,   dL/dw_n = r_n d_n^2

    No kinks. ``d = ±inf`` gives gradient ±inf (times the sign of ``r w``); NaN gives NaN.
    Each gradient is summed back to its argument's original (pre-broadcast) shape. Keys:
    ``"input"``, ``"target"``, and ``"weight"`` when a weight is given. ``grad_output``
    defaults to ones.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    p = Pointwise(input, target, weight)
    loss, slope = _terms(p)
    return p.gradients(loss, slope, red, grad_output)
