"""Oracle for ``torch.nn.functional.smooth_l1_loss`` / ``torch.nn.SmoothL1Loss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import WORK, Pointwise, check_nonnegative, resolve_reduction, sign

__all__ = ["smooth_l1_loss", "smooth_l1_loss_gradients"]


def _terms(p: Pointwise, beta: np.floating[Any]) -> tuple[np.ndarray, np.ndarray]:
    half = WORK(0.5)
    with np.errstate(all="ignore"):
        a = np.abs(p.d)
        quad = a < beta  # never true for beta == 0: no division by zero is taken
        loss = np.where(quad, half * p.d * p.d / beta, a - half * beta)
        slope = np.where(quad, p.d / beta, sign(p.d))
    return loss.astype(WORK), slope.astype(WORK)


def smooth_l1_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> np.ndarray:
    r"""Smooth L1 loss, as documented for ``SmoothL1Loss`` (Documentation: torch 2.13).

    Documented formula::

        l_n = \begin{cases}
        0.5 (x_n - y_n)^2 / beta, & \text{if } |x_n - y_n| < beta \\
        |x_n - y_n| - 0.5 * beta, & \text{otherwise }
        \end{cases}

    then ``mean(L)`` for ``reduction='mean'`` ("the sum of the output will be divided by the
    number of elements in the output"), ``sum(L)`` for ``'sum'``, ``L`` for ``'none'``.
    ``beta`` "must be non-negative" (negative and NaN raise ``OracleInputError``). "When
    beta is 0, Smooth L1 loss is equivalent to L1 loss": the formula gives exactly that,
    since ``|d| < 0`` never holds. ``+inf`` is allowed (0 for finite ``d``). The deprecated
    ``size_average``/``reduce`` override ``reduction`` when given. NaN propagates, ±inf
    follows IEEE arithmetic in the formula (``|inf| - 0.5 beta = inf``).
    """
    red = resolve_reduction(size_average, reduce, reduction)
    b = check_nonnegative("beta", beta)
    p = Pointwise(input, target)
    loss, _ = _terms(p, b)
    return p.forward(loss, red)


def smooth_l1_loss_gradients(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`smooth_l1_loss` (Documentation: torch 2.13; derived by hand).

    Derivation: with ``d_n = x_n - y_n``, ``dl_n/dd_n = d_n / beta`` if ``|d_n| < beta``
    else ``sign(d_n)`` (continuous at ``|d_n| == beta``). With ``r_n`` the gradient of the
    reduction (``g`` for ``'none'`` and ``'sum'``, ``g/N`` for ``'mean'``)::

        dL/dx_n = r_n dl_n/dd_n,   dL/dy_n = -dL/dx_n

    Subgradient convention ``sign(0) = 0``: with ``beta = 0`` (L1) and ``x_n == y_n`` the
    gradients are 0. ``d = ±inf`` gives ``±1``. Each gradient is summed back to its
    argument's original shape. Keys ``"input"`` and ``"target"`` (no weight argument).
    ``grad_output`` defaults to ones.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    b = check_nonnegative("beta", beta)
    p = Pointwise(input, target)
    loss, slope = _terms(p, b)
    return p.gradients(loss, slope, red, grad_output)
