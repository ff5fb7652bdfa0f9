"""Oracle for ``torch.nn.functional.binary_cross_entropy_with_logits`` / ``BCEWithLogitsLoss``.

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
from ._logistic import (
    floating,
    in_unit_interval,
    same_shape,
    sigmoid,
    softplus,
    times_positive,
)

__all__ = ["binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_gradients"]


class _Operands:
    """Checked operands: ``x`` (logits), ``y`` (target), ``w`` and ``p`` broadcast (or None)."""

    def __init__(self, input: Any, target: Any, weight: Any, pos_weight: Any) -> None:
        self.x = floating(input, "input")
        self.y = floating(target, "target")
        same_shape(self.x, self.y, "target")
        in_unit_interval(self.y, "target")
        shape = self.x.shape
        self.w = None if weight is None else broadcast_weight(as_work(weight, "weight"), shape)
        self.p = (
            None
            if pos_weight is None
            else broadcast_weight(as_work(pos_weight, "pos_weight"), shape, "pos_weight")
        )

    def positive_factor(self) -> np.ndarray:
        """``p y``: the factor of ``-log sigmoid(x)`` (``y`` when no pos_weight is given)."""
        with np.errstate(all="ignore"):
            return self.y if self.p is None else self.p * self.y

    def loss(self) -> np.ndarray:
        with np.errstate(all="ignore"):
            # -log sigmoid(x) = softplus(-x), -log(1 - sigmoid(x)) = softplus(x)
            x = self.x
            loss = times_positive(self.positive_factor(), softplus(-x), x) + times_positive(
                WORK(1) - self.y, softplus(x), x
            )
            if self.w is not None:
                loss = self.w * loss
        return np.asarray(loss, dtype=WORK)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> np.ndarray:
    r"""Binary cross entropy of logits, as documented for ``BCEWithLogitsLoss``.

    Documentation: torch 2.13. Documented formulas::

        l_n = - w_n \left[ y_n \cdot \log \sigma(x_n)
        + (1 - y_n) \cdot \log (1 - \sigma(x_n)) \right]

    and, with ``pos_weight`` ("the weight of the positive answer for the class c")::

        l_{n,c} = - w_{n,c} \left[ p_c y_{n,c} \cdot \log \sigma(x_{n,c})
        + (1 - y_{n,c}) \cdot \log (1 - \sigma(x_{n,c})) \right]

    then ``mean(L)`` ("the sum of the output will be divided by the number of elements in
    the output"), ``sum(L)`` or ``L``. Evaluated with the stable
    ``-log sigmoid(x) = softplus(-x)`` and ``-log(1 - sigmoid(x)) = softplus(x)``
    (oracle._logistic), never rounding an intermediate.

    Readings where the docs are terse:

    - "Target: (*), same shape as the input", "with values between 0 and 1": other shapes,
      elements outside ``[0, 1]`` (NaN included) and integer targets raise
      ``OracleInputError``.
    - ``weight`` "supports broadcasting to a common shape ... with respect to the output
      (and target) shape": it broadcasts (numpy rules) to the input's shape and may not
      enlarge it (the output has the input's shape). ``pos_weight`` is "broadcasted with
      target" by "PyTorch's broadcasting semantics" ((C,) for an (N, C) target, [C, 1, 1]
      for [C, H, W]): the same rule. Neither is restricted in sign by the docs.
    - ±inf and NaN are data and go through the formula with IEEE arithmetic, including its
      ``0 * inf``: a logit of +inf with target 1 gives ``1 * 0 + 0 * inf = NaN``, as does
      -inf with target 0; -inf with target 0.5 gives +inf. A positive term too small for
      WORK (softplus(-1e300)) is carried as WORK's smallest positive value
      (``oracle._logistic.times_positive``), so an infinite weight times it is ±inf, as in
      exact arithmetic, not ``0 * inf``.

    The deprecated ``size_average``/``reduce`` override ``reduction`` when given.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    ops = _Operands(input, target, weight, pos_weight)
    return reduce_loss(ops.loss(), red)


def binary_cross_entropy_with_logits_gradients(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Any = None,
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`binary_cross_entropy_with_logits` (torch 2.13 docs; by hand).

    torch 2.13 differentiates ``input`` and ``target``; it refuses ``weight`` and
    ``pos_weight`` ("... is not differentiable with respect to argument 'weight'" /
    "'pos_weight'"), so only those two are returned.

    Derivation: ``l = w [p y softplus(-x) + (1 - y) softplus(x)]`` with
    ``softplus'(x) = sigmoid(x)`` and ``1 - sigmoid(x) = sigmoid(-x)``; with ``r`` the
    reduction's gradient (``g``, or ``g/N`` for 'mean'; ``p = 1`` without pos_weight)::

        dL/dx = r w [(1 - y) sigmoid(x) - p y sigmoid(-x)]
        dL/dy = r w [p softplus(-x) - softplus(x)]

    Both are differences of two terms that can cancel (exactly where the true slope is
    small). ``dL/dx`` is formed as written, a few ``WORK`` roundings (each <= 2**-64
    relative) of non-negative terms (for ``p >= 0``), so its absolute error is below
    ``2**-61`` times the sum of the terms' magnitudes. ``dL/dy`` uses the identity
    ``softplus(x) = softplus(-x) + x`` to choose, per element, the form with the smaller
    terms: ``p a - b`` or ``(p - 1) a - x`` (``a = softplus(-x)``, ``b = softplus(x)``);
    with ``p = 1`` the second is ``-x``, exact. Infinite ``x`` takes the documented form
    literally (IEEE): ``dL/dx`` is ``r w (1 - y)`` at +inf and ``-r w p y`` at -inf;
    ``dL/dy`` is ``-inf`` at +inf and ``p * inf`` at -inf. ``grad_output`` defaults to ones.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    ops = _Operands(input, target, weight, pos_weight)
    r = reduction_grad(grad_output, ops.x.shape, red)
    x, y = ops.x, ops.y
    one = WORK(1)
    with np.errstate(all="ignore"):
        py = ops.positive_factor()
        dx = times_positive(one - y, sigmoid(x), x) - times_positive(py, sigmoid(-x), x)
        dy = _target_slope(x, one if ops.p is None else ops.p)
        scale = r if ops.w is None else r * ops.w
        grads = {"input": scale * dx, "target": scale * dy}
    return finish_gradients(grads, {"input": x.shape, "target": y.shape})


def _target_slope(x: np.ndarray, p: np.ndarray | np.floating[Any]) -> np.ndarray:
    """``p softplus(-x) - softplus(x)`` in the form whose terms are smaller (see above)."""
    one = WORK(1)
    with np.errstate(all="ignore"):
        a, b = softplus(-x), softplus(x)
        literal = times_positive(np.broadcast_to(p, np.shape(x)), a, x) - b
        shifted = (p - one) * a - x
        use_shifted = np.isfinite(x) & (np.abs((p - one) * a) + np.abs(x) < np.abs(p * a) + b)
        return np.asarray(np.where(use_shifted, shifted, literal), dtype=WORK)
