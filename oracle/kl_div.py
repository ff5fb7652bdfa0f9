"""Oracle for ``torch.nn.functional.kl_div`` / ``torch.nn.KLDivLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import WORK, OracleInputError, as_work, reduction_grad, resolve_reduction

__all__ = ["KL_REDUCTIONS", "batch_size", "kl_div", "kl_div_gradients", "kl_terms"]

#: The reductions documented for ``kl_div`` (torch 2.13): "'none' | 'batchmean' | 'sum' |
#: 'mean'".
KL_REDUCTIONS: tuple[str, ...] = ("none", "batchmean", "sum", "mean")


def batch_size(input_shape: tuple[int, ...]) -> int:
    """The documented 'batchmean' denominator: ``input.size(0)``.

    The docs: ``loss = loss_pointwise.sum() / input.size(0)`` ("the sum of the output will
    be divided by the batchsize"); Input is ``(*)``, any number of dimensions, so a 1-d
    input of length C has batch size C (the docs name no other batch dimension). A 0-d
    input has no ``size(0)``: the docs are silent; the oracle reads a 0-d tensor as one
    sample (batch size 1), the reading under which a scalar behaves as its one-element
    reshape ``input.reshape(1)`` does, and 'batchmean' equals 'sum' and 'mean' there.
    """
    return int(input_shape[0]) if len(input_shape) else 1


def _log_target_flag(log_target: Any) -> bool:
    if not isinstance(log_target, bool | np.bool_):
        raise OracleInputError("log_target", f"must be a bool, got {log_target!r}")
    return bool(log_target)


def _operands(input: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    x = as_work(input, "input")
    y = as_work(target, "target")
    if x.shape != y.shape:
        raise OracleInputError(
            "target",
            f"shape {tuple(y.shape)} is not the input's shape {tuple(x.shape)} "
            "(documented: 'Target: (*), same shape as the input')",
        )
    return x, y


def kl_terms(
    x: np.ndarray, y: np.ndarray, log_target: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The unreduced loss and its two partial derivatives, elementwise, in ``WORK``.

    Returns ``(l, dl/dx, dl/dy)``; see :func:`kl_div` and :func:`kl_div_gradients` for the
    formulas and conventions.
    """
    zero, one = WORK(0), WORK(1)
    with np.errstate(all="ignore"):
        if not log_target:
            log_y = np.log(y)  # -inf at y = ±0, NaN for y < 0 (no restriction is documented)
            loss = y * (log_y - x)
            # 0 log 0 = 0: the term at y = 0 is 0 - 0 * x (0 for finite x, NaN otherwise)
            loss = np.where(y == 0, zero - y * x, loss)
            dx = -y
            dy = log_y + one - x
            return loss.astype(WORK), dx.astype(WORK), dy.astype(WORK)
        t = y
        p = np.exp(t)
        d = t - x
        loss = p * d
        dt = p * (d + one)
        finite_t = np.isfinite(t)
        # a finite t has 0 < exp(t) < inf even where exp under/overflows WORK: a tiny p
        # times an infinite d is that infinity; d == 0 gives an exact 0
        under = finite_t & (p == 0) & np.isinf(d)
        loss = np.where(under, d, loss)
        dt = np.where(under, d, dt)
        loss = np.where(finite_t & (d == 0), zero, loss)
        dt = np.where(finite_t & (d + one == 0), zero, dt)
        # t = -inf is a target probability of exactly 0: 0 log 0 = 0, then -0 * x
        gone = t == -np.inf
        zero_times_x = zero - p * x  # p == 0 here: 0 for finite x, NaN for ±inf or NaN
        loss = np.where(gone, zero_times_x, loss)
        dt = np.where(gone, zero_times_x, dt)
        dx = -p
        return loss.astype(WORK), dx.astype(WORK), dt.astype(WORK)


def _reduce(loss: np.ndarray, reduction: str, input_shape: tuple[int, ...]) -> np.ndarray:
    if reduction == "none":
        return loss
    with np.errstate(all="ignore"):
        total = np.sum(loss, dtype=WORK)
        if reduction == "sum":
            return np.asarray(total, dtype=WORK)
        den = loss.size if reduction == "mean" else batch_size(input_shape)
        return np.asarray(total / WORK(den), dtype=WORK)


def kl_div(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> np.ndarray:
    r"""Kullback-Leibler divergence loss, as documented for ``KLDivLoss`` (Documentation:
    torch 2.13).

    Documented formula (``KLDivLoss``)::

        L(y_pred, y_true) = y_true * log(y_true / y_pred)
                          = y_true * (log y_true - log y_pred)

    "this loss expects the argument input in the log-space" (``x = log y_pred``), and::

        if not log_target:  # default
            loss_pointwise = target * (target.log() - input)
        else:
            loss_pointwise = target.exp() * (target - input)

        if reduction == "mean":  # default
            loss = loss_pointwise.mean()
        elif reduction == "batchmean":  # mathematically correct
            loss = loss_pointwise.sum() / input.size(0)
        elif reduction == "sum":
            loss = loss_pointwise.sum()
        else:  # reduction == "none"
            loss = loss_pointwise

    Shapes: "Input: (*)", "Target: (*), same shape as the input": a target of another
    shape is rejected (``OracleInputError`` naming ``target``), even one that broadcasts.
    ``reduction`` is one of 'none', 'batchmean', 'sum', 'mean'; the deprecated
    ``size_average``/``reduce`` override it with 'none'/'mean'/'sum' as documented.

    Readings where the docs are silent:

    - ``0 log 0 = 0``. The docs do not say what a target probability of exactly 0 gives
      (the "roughly equivalent" code would give ``0 * -inf = NaN``); the oracle takes the
      limit of ``y log y`` as y -> 0+, the convention of the KL divergence the docs refer
      to ("aligns with the KL math definition"). The term at ``y = ±0`` is then
      ``0 - 0 * x``: 0 for finite x, NaN for ``x = ±inf`` or NaN (IEEE ``0 * inf``).
    - ``log_target=True`` with ``target = -inf`` is the same target probability 0 (its
      exp is exactly 0) and gets the same value, ``0 - 0 * x``. For finite ``t``,
      ``exp(t) > 0``: a term ``exp(t) (t - x)`` with ``t - x = ±inf`` is ``±inf`` even when
      ``exp(t)`` underflows, and it is 0 when ``t == x``.
    - The target's range is not restricted by the docs: a negative target follows the
      formula (``log`` of a negative is NaN), a target above 1 too.
    - 'batchmean' divides by :func:`batch_size`: ``input.size(0)``; a 0-d input counts as
      one sample. An input with ``size(0) == 0`` gives ``0 / 0 = NaN``, as 'mean' does for
      an empty input; 'sum' of an empty input is 0.

    NaN and ±inf follow IEEE arithmetic through the formula. Returns a ``WORK`` array.
    """
    red = resolve_reduction(size_average, reduce, reduction, KL_REDUCTIONS)
    lt = _log_target_flag(log_target)
    x, y = _operands(input, target)
    loss, _, _ = kl_terms(x, y, lt)
    return _reduce(loss, red, x.shape)


def _seed(grad_output: Any, shape: tuple[int, ...], reduction: str) -> np.ndarray:
    """dL/dl_n for each unreduced term: g, g, g / N ('mean') or g / B ('batchmean')."""
    if reduction != "batchmean":
        return reduction_grad(grad_output, shape, reduction)
    r = reduction_grad(grad_output, shape, "sum")
    with np.errstate(all="ignore"):
        return (r / WORK(batch_size(shape))).astype(WORK)


def kl_div_gradients(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`kl_div` (Documentation: torch 2.13; derived by hand).

    torch 2.13 differentiates both ``input`` and ``target`` (either flag of
    ``log_target``), so both are returned. With ``r_n`` the reduction's seed (``g`` for
    'none' and 'sum', ``g / N`` for 'mean', ``g / B`` for 'batchmean', B of
    :func:`batch_size`):

    ``log_target=False``, ``l = y (log y - x)``::

        dl/dx = -y,    dl/dy = log y + 1 - x

    At ``y = 0`` the loss (with ``0 log 0 = 0``) is only defined for ``y >= 0``; its
    one-sided derivative is ``lim (y log y - y x) / y = log 0 - x = -inf`` (for finite x),
    which the formula gives under IEEE arithmetic; ``y = +inf`` gives ``+inf``, ``y < 0``
    NaN.

    ``log_target=True``, ``l = exp(t) (t - x)``::

        dl/dx = -exp(t),    dl/dt = exp(t) (t - x) + exp(t) = exp(t) (t - x + 1)

    At ``t = -inf`` (a target probability of 0, see :func:`kl_div`) ``dl/dt`` is the limit
    ``0 - 0 * x``: 0 for finite x, NaN otherwise; ``dl/dx = -0``. For finite t with
    ``t - x = ±inf``, ``dl/dt = ±inf`` even where ``exp(t)`` underflows.

    ``dL/dx_n = r_n dl_n/dx_n`` and ``dL/dy_n = r_n dl_n/dy_n`` (no broadcasting: input and
    target have one shape). ``grad_output`` defaults to ones of the output's shape.
    """
    red = resolve_reduction(size_average, reduce, reduction, KL_REDUCTIONS)
    lt = _log_target_flag(log_target)
    x, y = _operands(input, target)
    _, dx, dy = kl_terms(x, y, lt)
    r = _seed(grad_output, x.shape, red)
    with np.errstate(all="ignore"):
        return {"input": (r * dx).astype(WORK), "target": (r * dy).astype(WORK)}
