"""Oracle for ``torch.nn.functional.multilabel_margin_loss`` / ``torch.nn.MultiLabelMarginLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import WORK, OracleInputError, reduction_grad, resolve_reduction
from .multi_margin_loss import class_scores, hinge_arguments

__all__ = ["multilabel_margin_loss", "multilabel_margin_loss_gradients"]

PAD = -1


def label_targets(target: Any, shape: tuple[int, ...], classes: int) -> np.ndarray:
    """Integer targets of the input's shape, each a label in ``[0, C)`` or the pad -1."""
    t = np.asarray(target)
    if t.dtype.kind not in "iu":
        raise OracleInputError(
            "target", f"label targets must be an integer tensor, got dtype {t.dtype}"
        )
    if t.shape != shape:
        raise OracleInputError(
            "target", f"shape {t.shape} is not the input's shape {shape} (same size required)"
        )
    bad = (t < PAD) | (t >= classes)
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        raise OracleInputError(
            "target",
            f"target{list(i)} = {int(t[i])} is neither a label in [0, C={classes}) nor the "
            "padding -1",
        )
    return t.astype(np.int64)


class _MultiLabel:
    """Checked operands and, per sample, its (label j, class i) hinge pairs.

    ``pairs``: (row, j, y_j, i) index arrays over every term of the documented double sum:
    j over the considered block (the target's entries before its first -1, repeated labels
    included), i over the classes not in that block's label set.
    """

    def __init__(self, input: Any, target: Any) -> None:
        x, self.unbatched = class_scores(input)
        self.x = x
        n, c = x.shape
        self.n, self.c = n, c
        t = label_targets(target, (c,) if self.unbatched else (n, c), c).reshape(n, c)
        # the considered block: the entries before the first -1 (C when there is none)
        first_pad = np.where((t == PAD).any(axis=1), np.argmax(t == PAD, axis=1), c)
        considered = np.arange(c)[None, :] < first_pad[:, None]  # (n, j)
        is_label = np.zeros((n, c), dtype=bool)  # (n, class): in the label set Y_n
        rows, js = np.nonzero(considered)
        is_label[rows, t[rows, js]] = True
        # every (row, j, i) with j considered and i not a label
        pair = considered[:, :, None] & ~is_label[:, None, :]  # (n, j, i)
        self.rows, self.js, self.cls = np.nonzero(pair)
        self.labels = t[self.rows, self.js]
        self.z = hinge_arguments(1.0, x[self.rows, self.labels], x[self.rows, self.cls])

    @property
    def out_shape(self) -> tuple[int, ...]:
        return () if self.unbatched else (self.n,)

    def unreduced(self) -> np.ndarray:
        with np.errstate(all="ignore"):
            h = np.maximum(WORK(0), self.z)  # NaN propagates
            loss = np.zeros(self.n, dtype=WORK)
            np.add.at(loss, self.rows, h)
            return (loss / WORK(self.c)).astype(WORK)


def _reduce(loss: np.ndarray, reduction: str, out_shape: tuple[int, ...]) -> np.ndarray:
    if reduction == "none":
        return loss.reshape(out_shape)
    with np.errstate(all="ignore"):
        total = np.sum(loss, dtype=WORK)
        if reduction == "mean":
            total = total / WORK(loss.size)
    return np.asarray(total, dtype=WORK)


def multilabel_margin_loss(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Multi-label hinge loss, as documented for ``MultiLabelMarginLoss`` (Documentation:
    torch 2.13).

    Documented formula, for each sample (1D input ``x``, 1D target ``y``)::

        \text{loss}(x, y) = \sum_{ij}\frac{\max(0, 1 - (x[y[j]] - x[i]))}{\text{x.size}(0)}

    "where x \in \{0, \cdots, \text{x.size}(0) - 1\}" (the index i is meant),
    "y \in \{0, \cdots, \text{y.size}(0) - 1\}" (the index j), "0 \leq y[j] \leq
    \text{x.size}(0)-1, and i \neq y[j] for all i and j". "y and x must have the same size."
    "The criterion only considers a contiguous block of non-negative targets that starts at
    the front", and the target is "label targets padded by -1".

    Readings chosen (the docs are terse):

    - j runs over the considered block: the target's entries before its first -1 (all C
      entries when there is no -1). Entries after the first -1 are ignored, whatever their
      value, as the docstring's own example ``[3, 0, -1, 1]`` shows ("not after label -1").
    - i runs over the classes that are not ``y[j]`` for any considered j ("i \neq y[j] for
      all i and j").
    - A repeated label (``[3, 3, -1, 1]``) is two values of j, so its terms count twice: the
      sum is over target indices j, not over the set of labels.
    - A target whose first entry is -1 considers no label: the loss of that sample is the
      empty sum, 0. So is a sample whose labels cover all C classes (no i is left).
    - Every entry must be a label in ``[0, C)`` or the padding -1 (a value < -1 is neither);
      any other value, a non-integer target, a target shape other than the input's, an
      input that is not ``(C)`` or ``(N, C)``, or ``C = 0`` (the loss divides by C) raises
      ``OracleInputError``.

    The denominator ``x.size(0)`` of the 1D sample is C. Reductions over the batch:
    ``'mean'`` divides the sum of the ``(N)`` output by N (0/0 = NaN for N = 0), ``'sum'``,
    ``'none'`` (``(N)``, or ``()`` for a ``(C)`` input). The deprecated
    ``size_average``/``reduce`` override ``reduction`` when given.

    ``1 - x[y[j]] + x[i]`` is formed accurately (``hinge_arguments``). NaN and ±inf are data:
    ``max(0, NaN) = NaN`` (IEEE 754-2019 ``maximum``). Returns a ``WORK`` array.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    ml = _MultiLabel(input, target)
    return _reduce(ml.unreduced(), red, ml.out_shape)


def multilabel_margin_loss_gradients(
    input: Any,
    target: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradient of :func:`multilabel_margin_loss` with respect to ``input``
    (Documentation: torch 2.13; derived by hand).

    torch 2.13 differentiates only ``input`` (the target holds integer labels), so only
    ``"input"`` is returned.

    Derivation: each term is ``max(0, z_{jl})`` with ``z_{jl} = 1 - x[y[j]] + x[i]``; its
    derivative is ``H(z) = 1`` for ``z > 0`` and 0 for ``z <= 0`` (the subgradient 0 at the
    hinge ``z == 0``, which the docs leave open), NaN for ``z = NaN``. So, per sample::

        dl/dx[i] = (1/C) sum_j H(1 - x[y[j]] + x[i])                 (i not a label)
        dl/dx[k] = -(1/C) sum_{j: y[j] = k} sum_{i} H(1 - x[k] + x[i]) (k a label)

    (a repeated label contributes once per repetition), and ``dL/dx_n = r_n dl_n/dx_n`` with
    ``r_n`` the gradient of the reduction (``g_n``, ``g``, or ``g / N`` for ``'mean'``).
    ``grad_output`` defaults to ones.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    ml = _MultiLabel(input, target)
    r = reduction_grad(grad_output, ml.out_shape, red).reshape(ml.n)
    g = np.zeros((ml.n, ml.c), dtype=WORK)
    with np.errstate(all="ignore"):
        active = np.where(np.isnan(ml.z), np.nan, (ml.z > 0).astype(WORK)).astype(WORK)
        s = r[ml.rows] * active / WORK(ml.c)
        np.add.at(g, (ml.rows, ml.cls), s)
        np.add.at(g, (ml.rows, ml.labels), -s)
    shape = (ml.c,) if ml.unbatched else (ml.n, ml.c)
    return {"input": g.reshape(shape)}
