"""Oracle for ``torch.nn.functional.huber_loss`` / ``torch.nn.HuberLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import WORK, Pointwise, check_positive, check_reduction, sign

__all__ = ["huber_loss", "huber_loss_gradients"]


def _terms(p: Pointwise, delta: np.floating[Any]) -> tuple[np.ndarray, np.ndarray]:
    half = WORK(0.5)
    with np.errstate(all="ignore"):
        a = np.abs(p.d)
        quad = a < delta  # False for NaN: NaN then flows through the linear branch
        loss = np.where(quad, half * p.d * p.d, delta * (a - half * delta))
        slope = np.where(quad, p.d, delta * sign(p.d))
    return loss.astype(WORK), slope.astype(WORK)


def huber_loss(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any = None,
) -> np.ndarray:
    r"""Huber loss, as documented for ``HuberLoss`` (Documentation: torch 2.13).

    Documented formula::

        l_n = \begin{cases}
        0.5 (x_n - y_n)^2, & \text{if } |x_n - y_n| < delta \\
        delta * (|x_n - y_n| - 0.5 * delta), & \text{otherwise }
        \end{cases}

    then ``mean(L)`` for ``reduction='mean'`` ("the sum of the output will be divided by the
    number of elements in the output"), ``sum(L)`` for ``'sum'``, ``L`` for ``'none'``.
    ``delta`` "must be positive" (0, negative and NaN raise ``OracleInputError``); ``+inf``
    is allowed and gives ``0.5 d^2`` for finite ``d``. ``weight`` ("Weights for each
    sample") multiplies each element before the reduction; ``'mean'`` still divides by the
    number of elements. At ``|d| == delta`` the "otherwise" branch is taken (both branches
    agree there). NaN propagates, ±inf follows IEEE arithmetic in the formula.
    """
    red = check_reduction(reduction)
    dlt = check_positive("delta", delta)
    p = Pointwise(input, target, weight)
    loss, _ = _terms(p, dlt)
    return p.forward(loss, red)


def huber_loss_gradients(
    input: Any,
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any = None,
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`huber_loss` (Documentation: torch 2.13; derived by hand).

    Derivation: with ``d_n = x_n - y_n``,
    ``dl_n/dd_n = d_n`` if ``|d_n| < delta`` else ``delta * sign(d_n)`` (continuous at
    ``|d_n| == delta``, where both equal ``d_n``). With ``r_n`` the gradient of the
    reduction (``g`` for ``'none'`` and ``'sum'``, ``g/N`` for ``'mean'``)::

        dL/dx_n = r_n w_n dl_n/dd_n,   dL/dy_n = -dL/dx_n,   dL/dw_n = r_n l_n

    No kink at ``d = 0`` (the quadratic branch gives 0); ``sign(0) = 0`` would apply only in
    the linear branch, where ``d != 0``. ``d = ±inf`` gives ``±delta``. Each gradient is
    summed back to its argument's original shape. ``grad_output`` defaults to ones.
    """
    red = check_reduction(reduction)
    dlt = check_positive("delta", delta)
    p = Pointwise(input, target, weight)
    loss, slope = _terms(p, dlt)
    return p.gradients(loss, slope, red, grad_output)
