"""Oracle for ``torch.nn.functional.binary_cross_entropy`` / ``torch.nn.BCELoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import (
    WORK,
    as_work,
    broadcast_weight,
    finish_gradients,
    reduce_loss,
    reduction_grad,
    resolve_reduction,
)
from ._logistic import floating, in_unit_interval, logit, same_shape

__all__ = ["LOG_CLAMP", "binary_cross_entropy", "binary_cross_entropy_gradients"]

#: "BCELoss clamps its log function outputs to be greater than or equal to -100".
LOG_CLAMP = WORK(-100)
#: exp(-100) to WORK precision: log(p) < -100 exactly when p < exp(-100) (no float64 or
#: narrower value lies between exp(-100) and this rounding of it; tests/ checks neighbours).
_EXP_CLAMP = np.exp(LOG_CLAMP)


class _Operands:
    """Checked, upcast operands: ``x`` (input), ``y`` (target), ``w`` (broadcast weight)."""

    def __init__(self, input: Any, target: Any, weight: Any) -> None:
        self.x = floating(input, "input")
        self.y = floating(target, "target")
        same_shape(self.x, self.y, "target")
        in_unit_interval(self.x, "input")
        in_unit_interval(self.y, "target")
        self.w = (
            None if weight is None else broadcast_weight(as_work(weight, "weight"), self.x.shape)
        )

    def clamped_logs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``max(log x, -100)``, ``max(log(1 - x), -100)`` and where each log is clamped."""
        with np.errstate(all="ignore"):
            low = self.x < _EXP_CLAMP  # log x < -100 (x = 0 included)
            high = (WORK(1) - self.x) < _EXP_CLAMP  # log(1 - x) < -100: x = 1 for p <= 64 bits
            log_x = np.where(low, LOG_CLAMP, np.log(self.x))
            log_1mx = np.where(high, LOG_CLAMP, np.log1p(-self.x))
        return log_x.astype(WORK), log_1mx.astype(WORK), low, high

    def loss(self) -> np.ndarray:
        log_x, log_1mx, _, _ = self.clamped_logs()
        with np.errstate(all="ignore"):
            loss = -(self.y * log_x + (WORK(1) - self.y) * log_1mx)
            if self.w is not None:
                loss = self.w * loss
        return np.asarray(loss, dtype=WORK)


def binary_cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Binary cross entropy of probabilities, as documented for ``BCELoss``.

    Documentation: torch 2.13. Documented formula::

        \ell(x, y) = L = \{l_1,\dots,l_N\}^\top, \quad
        l_n = - w_n \left[ y_n \cdot \log x_n + (1 - y_n) \cdot \log (1 - x_n) \right]

    then ``mean(L)`` ("the sum of the output will be divided by the number of elements in
    the output"), ``sum(L)`` or ``L``. "Our solution is that BCELoss clamps its log function
    outputs to be greater than or equal to -100": each log is ``max(log(.), -100)``, so
    ``x = 0`` or ``1`` gives a finite loss and ``0 * log 0`` never arises.

    Readings where the docs are terse:

    - ``input`` holds probabilities and ``target`` "values between 0 and 1": an element
      outside ``[0, 1]``, NaN included (not a number between 0 and 1), raises
      ``OracleInputError``; so do integer arrays (integer probabilities).
    - "Target: (*), same shape as the input": a target of any other shape is rejected.
    - ``weight``: the module docs say "a manual rescaling weight given to the loss of each
      batch element. If given, has to be a Tensor of size `nbatch`"; the functional docs say
      "if provided it's repeated to match input tensor shape". Since the input is ``(*)``
      (any shape) the oracle reads both as: the weight is repeated (broadcast, numpy rules)
      to the input's shape and must not enlarge it; a batch weight of a ``(N, C)`` input
      is then written ``(N, 1)``. ``'mean'`` still divides by the number of elements.
    - ±inf and NaN in ``weight`` are data (IEEE arithmetic); ``0 * inf`` gives NaN.

    The deprecated ``size_average``/``reduce`` override ``reduction`` when given.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    ops = _Operands(input, target, weight)
    return reduce_loss(ops.loss(), red)


def binary_cross_entropy_gradients(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`binary_cross_entropy` (Documentation: torch 2.13; by hand).

    torch 2.13 differentiates ``input`` and ``target``; it refuses ``weight`` ("The
    function 'binary_cross_entropy' is not differentiable with respect to argument
    'weight'"), so no weight gradient is returned.

    Derivation from the documented clamped formula
    ``l = -w [y c(log x) + (1 - y) c(log(1 - x))]`` with ``c(t) = max(t, -100)``:
    ``c`` is the identity where ``t > -100`` and constant (derivative 0) where
    ``t < -100`` (``t = -100`` exactly needs ``x = exp(-100)``, which no floating input
    is). So ``d c(log x)/dx = 1/x`` for ``x > exp(-100)`` and 0 below (``x = 0``
    included); ``d c(log(1 - x))/dx = -1/(1 - x)`` for ``x < 1`` (``1 - x`` of a float64
    ``x < 1`` is at least 2**-53) and 0 at ``x = 1``. With ``r`` the reduction's gradient
    (``g``, or ``g/N`` for 'mean')::

        dL/dx = -r w [y/x - (1 - y)/(1 - x)] = r w (x - y) / (x (1 - x))   (no clamp)
              =  r w (1 - y) / (1 - x)                                    (x < exp(-100))
              = -r w y / x = -r w y                                       (x = 1)
        dL/dy = -r w [c(log x) - c(log(1 - x))]

    The unclamped input gradient is evaluated as ``(x - y) / (x (1 - x))`` (one exact-ish
    difference instead of two cancelling quotients); the unclamped target gradient as
    ``-r w logit(x)`` with the cancellation-free logit of ``oracle._logistic``.
    ``grad_output`` defaults to ones.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    ops = _Operands(input, target, weight)
    r = reduction_grad(grad_output, ops.x.shape, red)
    x, y = ops.x, ops.y
    log_x, log_1mx, low, high = ops.clamped_logs()
    one = WORK(1)
    with np.errstate(all="ignore"):
        free = (x - y) / (x * (one - x))
        dx = np.where(low, (one - y) / (one - x), np.where(high, -y / x, free))
        dy = np.where(low | high, -(log_x - log_1mx), -logit(x))
        scale = r if ops.w is None else r * ops.w
        grads = {"input": scale * dx, "target": scale * dy}
    shapes = {"input": x.shape, "target": y.shape}
    return finish_gradients(grads, shapes)
