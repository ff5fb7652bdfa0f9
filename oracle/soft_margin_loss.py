"""Oracle for ``torch.nn.functional.soft_margin_loss`` / ``torch.nn.SoftMarginLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import WORK, as_work, finish_gradients, reduce_loss, reduction_grad, resolve_reduction
from ._logistic import floating, in_set, same_shape, sigmoid, softplus

__all__ = ["soft_margin_loss", "soft_margin_loss_gradients"]

LABELS = (1.0, -1.0)


def _margins(input: Any, target: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked ``x``, ``y`` and the margin ``-y x`` (exact: ``y`` is ±1)."""
    x = floating(input, "input")
    y = as_work(target, "target")
    same_shape(x, y, "target")
    in_set(y, "target", LABELS)
    with np.errstate(all="ignore"):
        return x, y, np.asarray(-y * x, dtype=WORK)


def soft_margin_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Two-class logistic loss, as documented for ``SoftMarginLoss`` (torch 2.13).

    Documentation: torch 2.13. Documented formula, for ``target`` "containing 1 or -1"::

        \text{loss}(x, y) = \sum_i \frac{\log(1 + \exp(-y[i]*x[i]))}{\text{x.nelement}()}

    i.e. ``l_i = log(1 + exp(-y_i x_i))`` and ``'mean'`` divides their sum by the number of
    elements; ``'sum'`` sums, ``'none'`` returns ``l``. Evaluated as ``softplus(-y x)``
    (oracle._logistic), which never overflows: ``l`` is ``-y x`` up to ``exp(y x)`` for
    large margins, +inf only for an infinite one.

    Readings: "Target: (*), same shape as the input" (other shapes raise, no broadcasting);
    a target element other than 1 or -1 (NaN included) raises ``OracleInputError``; the
    target's dtype may be integer or floating (the docs name values, not a dtype). NaN and
    ±inf in ``input`` are data. The deprecated ``size_average``/``reduce`` override
    ``reduction`` when given.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    _, _, m = _margins(input, target)
    return reduce_loss(softplus(m), red)


def soft_margin_loss_gradients(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradient of :func:`soft_margin_loss` (Documentation: torch 2.13; derived by hand).

    torch 2.13 differentiates ``input`` only: "The function 'soft_margin_loss' is not
    differentiable with respect to argument 'target'", so no target gradient is returned
    (the target is a label, ±1, anyway).

    Derivation: ``l = softplus(m)`` with ``m = -y x``; ``softplus' = sigmoid``, so
    ``dl/dx = -y sigmoid(-y x)``. With ``r`` the reduction's gradient (``g``, or ``g/N``
    for 'mean')::

        dL/dx = -r y sigmoid(-y x)

    A product of one-signed factors: no cancellation. ``x = ±inf`` gives ``-y`` or 0 (times
    ``r``). ``grad_output`` defaults to ones.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    x, y, m = _margins(input, target)
    r = reduction_grad(grad_output, x.shape, red)
    with np.errstate(all="ignore"):
        gx = -r * y * sigmoid(m)
    return finish_gradients({"input": gx}, {"input": x.shape})
