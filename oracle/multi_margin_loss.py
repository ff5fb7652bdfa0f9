"""Oracle for ``torch.nn.functional.multi_margin_loss`` / ``torch.nn.MultiMarginLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.

Also home of :func:`hinge_arguments`, the accurate ``margin - x[y] + x[i]`` that the
multilabel margin loss shares.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._common import WORK, OracleInputError, as_work, reduction_grad, resolve_reduction

__all__ = ["hinge_arguments", "multi_margin_loss", "multi_margin_loss_gradients"]

PS = (1, 2)


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's TwoSum: ``s = fl(a + b)`` and the exact error ``e``, ``a + b == s + e``."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


def hinge_arguments(margin: Any, x_target: np.ndarray, x_other: np.ndarray) -> np.ndarray:
    """``margin - x_target + x_other`` in ``WORK``, with the sign always right.

    The three-term sum cancels near the hinge, so it is not formed naively: two TwoSums give
    ``t + e + f`` exactly, and ``fl(t + fl(e + f))`` has a relative error of about
    ``2 u_WORK`` (when ``f != 0`` there was no cancellation in ``t``; when ``f == 0`` the
    pair ``(t, e)`` is exact), so an exact zero stays zero and a nonzero argument keeps its
    sign. Where an operand is ±inf or NaN the plain IEEE sum is used instead.
    """
    m = np.asarray(margin, dtype=WORK)
    a = np.asarray(x_target, dtype=WORK)
    b = np.asarray(x_other, dtype=WORK)
    with np.errstate(all="ignore"):
        naive = (m - a) + b
        s, e = _two_sum(m, -a)
        t, f = _two_sum(s, b)
        accurate = t + (e + f)
        finite = np.isfinite(m) & np.isfinite(a) & np.isfinite(b)
        return np.where(finite, accurate, naive).astype(WORK)


def check_p(p: Any) -> int:
    """``p`` is 1 or 2 (the documented set); a bool or anything else is rejected."""
    if (
        isinstance(p, bool | np.bool_)
        or not isinstance(p, numbers.Real)
        or p not in PS  # NaN, 3, 1.5 ...
    ):
        raise OracleInputError("p", f"must be 1 or 2 (the only supported values), got {p!r}")
    return int(p)


def check_margin(margin: Any) -> np.floating[Any]:
    """A real number; NaN and ±inf are data (they flow through the formula)."""
    if isinstance(margin, bool | np.bool_) or not isinstance(margin, numbers.Real):
        raise OracleInputError("margin", f"must be a real number, got {margin!r}")
    return WORK(margin)


def class_targets(target: Any, batch_shape: tuple[int, ...], classes: int) -> np.ndarray:
    """Integer class indices of shape ``batch_shape``, each in ``[0, classes)``."""
    t = np.asarray(target)
    if t.dtype.kind not in "iu":
        raise OracleInputError(
            "target", f"class indices must be an integer tensor, got dtype {t.dtype}"
        )
    if t.shape != batch_shape:
        raise OracleInputError(
            "target",
            f"shape {t.shape} is not {batch_shape} (the input's batch shape: (N) for an "
            "(N, C) input, () for a (C) input)",
        )
    bad = (t < 0) | (t >= classes)
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        raise OracleInputError(
            "target", f"target{list(i)} = {int(t[i])} is outside [0, C={classes})"
        )
    return t.astype(np.int64)


def class_scores(input: Any) -> tuple[np.ndarray, bool]:
    """The input as ``(N, C)`` in ``WORK``, and whether it was unbatched ``(C)``."""
    x = as_work(input, "input")
    if x.ndim not in (1, 2):
        raise OracleInputError("input", f"must have shape (N, C) or (C), got {x.shape}")
    if x.shape[-1] < 1:
        raise OracleInputError(
            "input", f"shape {x.shape} has no classes (C = 0; the loss divides by C)"
        )
    return (x[None, :] if x.ndim == 1 else x), x.ndim == 1


class _MultiMargin:
    """The checked operands: ``x`` (N, C), ``y`` (N,), ``w_y`` (N,) or None, ``z`` (N, C)."""

    def __init__(
        self, input: Any, target: Any, p: Any, margin: Any, weight: Any, reduction: str
    ) -> None:
        self.x, self.unbatched = class_scores(input)
        n, c = self.x.shape
        self.n, self.c = n, c
        self.p = check_p(p)
        self.margin = check_margin(margin)
        y = class_targets(target, () if self.unbatched else (n,), c)
        self.y = y.reshape(n)
        self.w_y: np.ndarray | None = None
        if weight is not None:
            w = as_work(weight, "weight")
            if w.shape != (c,):
                raise OracleInputError(
                    "weight", f"shape {w.shape} is not (C,) = ({c},) (one weight per class)"
                )
            self.w_y = w[self.y]
        self.reduction = reduction
        rows = np.arange(n)
        x_y = self.x[rows, self.y]
        self.z = hinge_arguments(self.margin, x_y[:, None], self.x)
        self.others = np.ones((n, c), dtype=bool)
        self.others[rows, self.y] = False  # the sum runs over i != y

    @property
    def out_shape(self) -> tuple[int, ...]:
        return () if self.unbatched else (self.n,)

    def unreduced(self) -> np.ndarray:
        with np.errstate(all="ignore"):
            h = np.maximum(WORK(0), self.z) ** self.p  # np.maximum propagates NaN
            if self.w_y is not None:
                h = self.w_y[:, None] * h
            h = np.where(self.others, h, WORK(0))
            return (np.sum(h, axis=1, dtype=WORK) / WORK(self.c)).astype(WORK)

    def slopes(self) -> np.ndarray:
        """d l_n / d z_{n,i}: w p max(0, z)^(p-1) H(z), H(z) = 1 for z > 0, 0 for z <= 0."""
        with np.errstate(all="ignore"):
            active = np.where(np.isnan(self.z), np.nan, (self.z > 0).astype(WORK)).astype(WORK)
            s = active if self.p == 1 else WORK(2) * np.maximum(WORK(0), self.z)
            if self.w_y is not None:
                s = self.w_y[:, None] * s
            return np.where(self.others, s, WORK(0)).astype(WORK) / WORK(self.c)


def _reduce(loss: np.ndarray, reduction: str, out_shape: tuple[int, ...]) -> np.ndarray:
    if reduction == "none":
        return loss.reshape(out_shape)
    with np.errstate(all="ignore"):
        total = np.sum(loss, dtype=WORK)
        if reduction == "mean":
            total = total / WORK(loss.size)
    return np.asarray(total, dtype=WORK)


def multi_margin_loss(
    input: Any,
    target: Any,
    p: int = 1,
    margin: float = 1.0,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Multi-class hinge loss, as documented for ``MultiMarginLoss`` (Documentation:
    torch 2.13).

    Documented formula, for each mini-batch sample (1D input ``x``, scalar target ``y``)::

        \text{loss}(x, y) = \frac{\sum_i \max(0, \text{margin} - x[y] + x[i])^p}{\text{x.size}(0)}

    "where i \in \{0, \cdots, \text{x.size}(0) - 1\} and i \neq y", and with a weight::

        \text{loss}(x, y) = \frac{\sum_i w[y] * \max(0, \text{margin} - x[y] + x[i])^p}{\text{x.size}(0)}

    So the weight multiplies the powered hinge (``w[y] max(0, z)^p``, not ``max(0, w[y] z)^p``:
    torch 2.13's docstring writes it this way since pytorch/pytorch#104844), and the
    denominator ``x.size(0)`` of the 1D sample is ``C``, the number of classes. The
    reductions then act over the batch: ``'mean'``: "the sum of the output will be divided by
    the number of elements in the output" (``N``; 0/0 = NaN for an empty batch), ``'sum'``,
    ``'none'`` (shape of the target). The deprecated ``size_average``/``reduce`` override
    ``reduction`` when given.

    Shapes: input ``(N, C)`` or ``(C)``; target ``(N)`` or ``()``, integer class indices
    "0 <= targets[i] <= C-1"; ``weight`` "has to be a Tensor of size C" (the functional's
    docstring calls it "Weights for each sample", but defers to the module's: "See
    MultiMarginLoss for details"; the module's per-class reading is the one followed);
    ``p``: "1 and 2 are the only supported values". Anything else raises ``OracleInputError`` (so does ``C = 0``:
    there is no class and the formula divides by 0). ``margin`` is any real; 0 and negative
    margins are allowed (the docs restrict nothing).

    Arithmetic: ``z = margin - x[y] + x[i]`` is formed accurately (see
    :func:`hinge_arguments`), everything else in ``WORK``. NaN and ±inf are data, evaluated
    literally through the formula with IEEE arithmetic: ``max(0, NaN) = NaN`` (IEEE 754-2019
    ``maximum``, as ``torch.maximum`` does), and ``w[y] * max(0, z)^p`` is formed for every
    ``i != y``, so an infinite or NaN ``w[y]`` times an inactive hinge's 0 is NaN. Returns a
    ``WORK`` array.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    mm = _MultiMargin(input, target, p, margin, weight, red)
    return _reduce(mm.unreduced(), red, mm.out_shape)


def multi_margin_loss_gradients(
    input: Any,
    target: Any,
    p: int = 1,
    margin: float = 1.0,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradient of :func:`multi_margin_loss` with respect to ``input`` (Documentation:
    torch 2.13; derived by hand).

    torch 2.13 differentiates only ``input``: ``target`` holds integer class indices, and a
    ``weight`` that requires grad is refused ("The function 'multi_margin_loss' is not
    differentiable with respect to argument 'weight'"), so only ``"input"`` is returned.

    Derivation: with ``z_{n,i} = margin - x_{n,y_n} + x_{n,i}`` and
    ``l_n = (1/C) sum_{i != y_n} w_{y_n} max(0, z_{n,i})^p``,
    ``d max(0, z)^p / dz = p max(0, z)^(p-1) H(z)`` with ``H(z) = 1`` for ``z > 0`` and
    ``H(z) = 0`` for ``z <= 0``. The convention at the hinge ``z == 0`` (where ``max(0, z)``
    has the subgradients ``[0, 1]`` for ``p = 1`` and the docs leave it open) is the
    subgradient 0; for ``p = 2`` the derivative ``2 max(0, z)`` is 0 there anyway.
    ``H(NaN) = NaN``. Since ``dz_{n,i}/dx_{n,i} = 1`` and ``dz_{n,i}/dx_{n,y_n} = -1``::

        dL/dx_{n,i}   = r_n s_{n,i}                      (i != y_n)
        dL/dx_{n,y_n} = -r_n sum_{i != y_n} s_{n,i}
        s_{n,i} = w_{y_n} p max(0, z_{n,i})^(p-1) H(z_{n,i}) / C

    with ``r_n`` the gradient of the reduction (``g_n`` for ``'none'``, ``g`` for ``'sum'``,
    ``g / N`` for ``'mean'``). An inactive hinge with an infinite weight gives
    ``inf * 0 = NaN``, as in the forward. ``grad_output`` defaults to ones.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    mm = _MultiMargin(input, target, p, margin, weight, red)
    r = reduction_grad(grad_output, mm.out_shape, red).reshape(mm.n)
    with np.errstate(all="ignore"):
        s = mm.slopes()
        g = r[:, None] * s
        rows = np.arange(mm.n)
        g[rows, mm.y] = -(r * np.sum(s, axis=1, dtype=WORK))
    shape = (mm.c,) if mm.unbatched else (mm.n, mm.c)
    return {"input": g.reshape(shape).astype(WORK)}
