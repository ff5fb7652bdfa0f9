"""Oracle for ``torch.nn.functional.multilabel_soft_margin_loss`` / ``MultiLabelSoftMarginLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import (
    WORK,
    OracleInputError,
    as_work,
    finish_gradients,
    reduce_loss,
    reduction_grad,
    resolve_reduction,
)
from ._logistic import floating, in_set, same_shape, sigmoid, softplus

__all__ = ["multilabel_soft_margin_loss", "multilabel_soft_margin_loss_gradients"]

LABELS = (0.0, 1.0)


class _Operands:
    """Checked ``x`` (N, C), ``y`` (N, C) and ``w`` (C,) or None."""

    def __init__(self, input: Any, target: Any, weight: Any) -> None:
        self.x = floating(input, "input")
        if self.x.ndim != 2:
            raise OracleInputError(
                "input", f"must have shape (N, C), got {self.x.ndim} dimensions {self.x.shape}"
            )
        self.y = as_work(target, "target")
        same_shape(self.x, self.y, "target")
        in_set(self.y, "target", LABELS)
        self.c = self.x.shape[1]
        self.w: np.ndarray | None = None
        if weight is not None:
            w = as_work(weight, "weight")
            if w.shape != (self.c,):
                raise OracleInputError(
                    "weight", f"must be a Tensor of size C = {self.c}, got shape {w.shape}"
                )
            self.w = w

    def class_terms(self) -> np.ndarray:
        """``w_c [y softplus(-x) + (1 - y) softplus(x)]``, shape (N, C)."""
        with np.errstate(all="ignore"):
            t = self.y * softplus(-self.x) + (WORK(1) - self.y) * softplus(self.x)
            if self.w is not None:
                t = self.w * t
        return np.asarray(t, dtype=WORK)

    def loss(self) -> np.ndarray:
        """Per sample: the class terms' sum over C, divided by C (0/0 = NaN for C = 0)."""
        with np.errstate(all="ignore"):
            total = np.sum(self.class_terms(), axis=1, dtype=WORK)
            return np.asarray(total / WORK(self.c), dtype=WORK)


def multilabel_soft_margin_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Multi-label one-versus-all logistic loss, as documented (torch 2.13).

    Documentation: torch 2.13. Documented formula, per sample of the minibatch::

        loss(x, y) = - \frac{1}{C} * \sum_i y[i] * \log((1 + \exp(-x[i]))^{-1})
                         + (1-y[i]) * \log\left(\frac{\exp(-x[i])}{(1 + \exp(-x[i]))}\right)

    with ``y[i] in {0, 1}``; ``weight`` is "a manual rescaling weight given to each class.
    If given, it has to be a Tensor of size `C`", so class ``i``'s term is multiplied by
    ``w_i``. ``(1 + exp(-x))^-1 = sigmoid(x)`` and ``exp(-x)/(1 + exp(-x)) =
    1 - sigmoid(x)``, so ``-log`` of them are ``softplus(-x)`` and ``softplus(x)``, the
    stable forms used here. The per-sample losses (shape (N)) are reduced: ``'mean'``
    divides their sum by N ("the number of elements in the output"), ``'sum'`` sums,
    ``'none'`` returns them.

    Readings: "Input: (N, C)", "Target: (N, C), label targets must have the same shape as
    the input": any other number of dimensions, or a target of another shape, raises
    ``OracleInputError``; so does a target element outside {0, 1} (NaN included) and a
    weight of any shape but (C,). The target may be an integer or floating array (labels).
    C = 0 gives the per-sample loss 0/0 = NaN; N = 0 gives an empty loss ('mean': 0/0).
    NaN and ±inf in ``input`` and ``weight`` are data, IEEE arithmetic included (+inf
    with target 1: ``1 * 0 + 0 * inf = NaN``). The deprecated ``size_average``/``reduce``
    override ``reduction`` when given.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    ops = _Operands(input, target, weight)
    return reduce_loss(ops.loss(), red)


def multilabel_soft_margin_loss_gradients(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`multilabel_soft_margin_loss` (torch 2.13 docs; by hand).

    torch 2.13 differentiates ``input``, ``target`` and ``weight``.

    Derivation: ``l_n = (1/C) sum_c w_c [y softplus(-x) + (1 - y) softplus(x)]``; with
    ``softplus' = sigmoid``, ``1 - sigmoid(x) = sigmoid(-x)`` and ``r_n`` the reduction's
    gradient (``g``, or ``g/N`` for 'mean')::

        dL/dx_nc = (r_n w_c / C) [(1 - y) sigmoid(x) - y sigmoid(-x)]
        dL/dy_nc = (r_n w_c / C) [softplus(-x) - softplus(x)] = -(r_n w_c / C) x
        dL/dw_c  = sum_n (r_n / C) [y softplus(-x) + (1 - y) softplus(x)]

    For a label ``y`` in {0, 1} one of the two terms of ``dL/dx`` is 0: no cancellation.
    ``softplus(-x) - softplus(x) = -x`` exactly, for ±inf too. ``grad_output`` defaults to
    ones.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    ops = _Operands(input, target, weight)
    n = ops.x.shape[0]
    r = reduction_grad(grad_output, (n,), red)
    x, y = ops.x, ops.y
    one = WORK(1)
    with np.errstate(all="ignore"):
        scale = (r / WORK(ops.c))[:, None]
        w = one if ops.w is None else ops.w
        dx = (one - y) * sigmoid(x) - y * sigmoid(-x)
        grads = {"input": scale * w * dx, "target": -(scale * w) * x}
        if ops.w is not None:
            unweighted = y * softplus(-x) + (one - y) * softplus(x)
            grads["weight"] = np.sum(scale * unweighted, axis=0, dtype=WORK)
    shapes = {"input": x.shape, "target": y.shape}
    if ops.w is not None:
        shapes["weight"] = ops.w.shape
    return finish_gradients(grads, shapes)
