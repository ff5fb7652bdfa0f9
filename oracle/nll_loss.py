"""Oracle for ``torch.nn.functional.nll_loss`` / ``torch.nn.NLLLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._classification import (
    check_ignore_index,
    check_weight,
    class_indices,
    mean_or_sum,
    rows_of,
    seed,
)
from ._common import WORK, resolve_reduction

__all__ = ["nll_loss", "nll_loss_gradients"]


class _Picked:
    """The documented terms ``-w_{y_n} x_{n,y_n}`` of every row, and their denominators."""

    def __init__(
        self,
        input: Any,
        target: Any,
        weight: Any,
        size_average: bool | None,
        ignore_index: Any,
        reduce: bool | None,
        reduction: str,
    ) -> None:
        self.reduction = resolve_reduction(size_average, reduce, reduction)
        ii = check_ignore_index(ignore_index)
        self.rows = rows_of(input)
        w = check_weight(weight, self.rows.classes)
        self.y, self.kept = class_indices(target, self.rows, ii)
        b = self.rows.x.shape[0]
        x_y, w_y = np.zeros(b, dtype=WORK), np.ones(b, dtype=WORK)
        if self.rows.classes:  # with C = 0 every target is ignored (checked above)
            x_y = self.rows.x[np.arange(b), self.y]
            if w is not None:
                w_y = w[self.y]
        with np.errstate(all="ignore"):
            # an ignored element is 0: its term (x_{n,ignore_index} may not even exist) is
            # not evaluated, so a NaN or inf elsewhere in its row cannot leak into the loss
            self.w_y = np.where(self.kept, w_y, 0).astype(WORK)
            self.loss = np.where(self.kept, -(w_y * x_y), 0).astype(WORK)
            self.denominator = np.sum(self.w_y, dtype=WORK)


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Negative log likelihood, as documented for ``NLLLoss`` (Documentation: torch 2.13).

    Documented formula::

        \ell(x, y) = L = \{l_1,\dots,l_N\}^\top, \\
        l_n = - w_{y_n} x_{n,y_n}, \\
        w_{c} = \text{weight}[c] \cdot \mathbb{1}\{c \not= \text{ignore\_index}\},

    and, if reduction is not 'none'::

        \ell(x, y) = \sum_{n=1}^N \frac{1}{\sum_{n=1}^N w_{y_n}} l_n  (reduction='mean')
        \ell(x, y) = \sum_{n=1}^N l_n                                 (reduction='sum')

    where "N spans the minibatch dimension as well as d_1, ..., d_k" (shapes ``(C)`` with
    target ``()``, ``(N, C)`` with ``(N)``, ``(N, C, d_1, ..., d_K)`` with
    ``(N, d_1, ..., d_K)``). ``weight`` "has to be a Tensor of size `C`", else "treated as
    if having all ones"; any real values, including 0 and negative ones, are data.

    Readings where the docs are silent:

    * An element whose target is ``ignore_index`` is exactly 0 and adds 0 to the mean's
      denominator (``w_{ignore_index} = 0``); ``x_{n,ignore_index}`` is never read (it need
      not exist), so its row may hold NaN or inf without effect.
    * ``input`` "is expected to be log-probabilities", but the formula is defined for any
      real ``x``: values > 0, ±inf and NaN are data (``-w x`` under IEEE arithmetic).
    * 'mean' divides by ``sum w_{y_n}`` over the non-ignored targets as written, so all
      targets ignored, ``N = 0`` or a zero total weight give ``0/0 = NaN`` (``±inf`` when the
      numerator is not 0 but the weights cancel to 0).
    * The target must be int64 ("long"): ``CrossEntropyLoss`` requires long class indices
      and is documented as LogSoftmax followed by this loss on the same target.
    * The deprecated ``size_average``/``reduce`` override ``reduction`` when given.

    Returns a ``WORK`` array of the target's shape for 'none', else a 0-d array.
    """
    t = _Picked(input, target, weight, size_average, ignore_index, reduce, reduction)
    if t.reduction == "none":
        return t.rows.to_batch_shape(t.loss)
    return mean_or_sum(t.loss, t.reduction, t.denominator)


def nll_loss_gradients(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradient of :func:`nll_loss` with respect to ``input`` (derived by hand).

    Documentation: torch 2.13. From ``l_n = -w_{y_n} x_{n,y_n}``:
    ``dl_n/dx_{n,c} = -w_{y_n} [c = y_n]``, and 0 for an ignored element ("ignored and does
    not contribute to the input gradient"). With ``r_n`` the gradient of the reduction
    (``g_n`` for 'none', ``g`` for 'sum', ``g / sum_m w_{y_m}`` for 'mean', the denominator
    not depending on ``x``)::

        dL/dx_{n,c} = -r_n w_{y_n} [c = y_n]

    Only ``"input"`` is returned: torch 2.13 refuses to differentiate ``weight`` ("The
    function 'nll_loss_forward' is not differentiable with respect to argument 'weight'")
    and the target holds integers. ``grad_output`` defaults to ones.
    """
    t = _Picked(input, target, weight, size_average, ignore_index, reduce, reduction)
    r = seed(grad_output, t.rows.batch_shape, t.reduction, t.denominator)
    b, c = t.rows.x.shape
    grad = np.zeros((b, c), dtype=WORK)
    with np.errstate(all="ignore"):
        if b and c:
            grad[np.arange(b), t.y] = np.where(t.kept, -(r * t.w_y), 0)
    return {"input": t.rows.to_input_layout(grad)}
