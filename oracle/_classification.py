"""Shared pieces of the classification oracles: NLL, cross entropy, linear cross entropy.

Written from torch 2.13's documentation of ``NLLLoss``, ``CrossEntropyLoss`` and
``linear_cross_entropy``; never imports torch. Everything is computed in ``WORK`` precision.

Layout: an input of shape ``(C,)`` (unbatched) or ``(N, C, d_1, ..., d_K)`` is viewed as
``B`` rows of ``C`` classes (``B = 1`` unbatched, else ``N d_1 ... d_K``), class axis last;
the unreduced loss has the "batch shape" ``()`` or ``(N, d_1, ..., d_K)``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import WORK, OracleInputError, as_work, check_nonnegative

__all__ = [
    "Rows",
    "as_target",
    "check_ignore_index",
    "check_label_smoothing",
    "check_weight",
    "class_indices",
    "log_softmax",
    "mean_or_sum",
    "seed",
    "softmax_complements",
]

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Rows:
    """An input seen as ``B`` rows of ``C`` classes (class axis last), in ``WORK``."""

    x: np.ndarray  # (B, C)
    input_shape: Shape
    batch_shape: Shape  # the shape of the unreduced loss

    @property
    def classes(self) -> int:
        return self.x.shape[1]

    def to_input_layout(self, rows: np.ndarray) -> np.ndarray:
        """Inverse of the row view: ``(B, C)`` back to the input's shape."""
        if len(self.input_shape) == 1:
            return np.array(rows.reshape(self.input_shape), dtype=WORK)
        moved = rows.reshape((*self.batch_shape[:1], *self.batch_shape[1:], self.classes))
        return np.array(np.moveaxis(moved, -1, 1), dtype=WORK)

    def to_batch_shape(self, per_row: np.ndarray) -> np.ndarray:
        return np.array(per_row.reshape(self.batch_shape), dtype=WORK)


def rows_of(input: Any, name: str = "input") -> Rows:
    """The row view of a logits / log-probabilities input of shape (C,) or (N, C, d...)."""
    x = as_work(input, name)
    if x.ndim == 0:
        raise OracleInputError(
            name, "is 0-d: it has no class dimension (expected (C,), (N, C) or (N, C, d1, ...))"
        )
    if x.ndim == 1:
        return Rows(x.reshape((1, x.shape[0])), x.shape, ())
    c = x.shape[1]
    batch = (x.shape[0], *x.shape[2:])
    moved = np.moveaxis(x, 1, -1).reshape((math.prod(batch), c))
    return Rows(np.array(moved, dtype=WORK), x.shape, batch)


def check_ignore_index(value: Any, name: str = "ignore_index") -> int:
    """``ignore_index`` is documented as an int."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise OracleInputError(name, f"must be an int, got {value!r}")
    return int(value)


def check_label_smoothing(value: Any) -> np.floating[Any]:
    """``label_smoothing``: "A float in [0.0, 1.0]" (NaN is outside)."""
    eps = check_nonnegative("label_smoothing", value)
    if not eps <= 1:
        raise OracleInputError("label_smoothing", f"must be in [0, 1], got {float(eps)!r}")
    return eps


def check_weight(weight: Any, classes: int) -> np.ndarray | None:
    """``weight``: "If given, has to be a Tensor of size `C`" (1-D, C elements, real)."""
    if weight is None:
        return None
    w = as_work(weight, "weight")
    if w.shape != (classes,):
        raise OracleInputError(
            "weight", f"shape {tuple(w.shape)} is not (C,) = ({classes},): one weight per class"
        )
    return w


def as_target(target: Any) -> np.ndarray:
    """``target`` as a numpy array (any dtype: the caller checks it), or ``OracleInputError``."""
    try:
        return np.asarray(target)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise OracleInputError("target", f"cannot be read as an array ({exc})") from None


def class_indices(target: Any, rows: Rows, ignore_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate class-index targets; return ``(y, kept)`` per row (``y`` is 0 where ignored).

    Documented: shape ``()`` for an unbatched input, else ``(N, d_1, ..., d_K)``; "The
    target data type is required to be long"; each value in ``[0, C)``, or equal to
    ``ignore_index`` ("this index may not necessarily be in the class range").
    """
    t = as_target(target)
    if t.dtype != np.int64:
        raise OracleInputError("target", f"class indices must be int64 (long), got dtype {t.dtype}")
    if t.shape != rows.batch_shape:
        raise OracleInputError(
            "target",
            f"shape {tuple(t.shape)} is not the class-index shape {rows.batch_shape} of input "
            f"shape {rows.input_shape}",
        )
    flat = t.reshape(-1)
    kept = flat != ignore_index
    bad = kept & ((flat < 0) | (flat >= rows.classes))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        where = np.unravel_index(i, rows.batch_shape) if rows.batch_shape else ()
        raise OracleInputError(
            "target",
            f"target[{tuple(int(v) for v in where)}] = {int(flat[i])} is outside "
            f"[0, C={rows.classes}) and is not ignore_index={ignore_index}",
        )
    return np.where(kept, flat, 0).astype(np.intp), kept


def log_softmax(x: np.ndarray) -> np.ndarray:
    r"""``log(exp(x_c) / sum_i exp(x_i))`` over the last axis of ``(B, C)``, in ``WORK``.

    Finite rows: the exact value by log-sum-exp, ``(x_c - m) - log1p(sum_{i != k}
    exp(x_i - m))`` with ``m = x_k`` the (first) maximum; both parts are <= 0, so nothing
    cancels, and ``log1p`` keeps ``-log p_k`` accurate when ``p_k`` is near 1.

    Infinite and NaN logits follow the documented formula under IEEE arithmetic
    (``exp(+inf) = inf``, ``exp(-inf) = 0``, ``inf/inf = 0/0 = NaN``, ``a/inf = 0``,
    ``log 0 = -inf``):
    a NaN anywhere in the row gives NaN for every class (the sum is NaN); a row with +inf
    logits gives NaN for those classes and ``-inf`` for the others (their ratio is
    ``a/inf = 0``); a row of only -inf gives NaN (``0/0``); a -inf logit in a row with a
    finite maximum gives ``-inf`` (``exp(-inf) = 0`` adds nothing to the sum).
    """
    b, c = x.shape
    out = np.empty((b, c), dtype=WORK)
    if b == 0 or c == 0:
        return out
    with np.errstate(all="ignore"):
        nan_row = np.isnan(x).any(axis=1)
        pinf = x == np.inf
        pinf_row = pinf.any(axis=1) & ~nan_row
        ninf_row = (x == -np.inf).all(axis=1)
        finite_row = ~(nan_row | pinf_row | ninf_row)
        xf = np.where(finite_row[:, None], x, 0).astype(WORK)
        k = np.argmax(xf, axis=1)
        m = xf[np.arange(b), k]
        z = xf - m[:, None]
        others = np.ones((b, c), dtype=bool)
        others[np.arange(b), k] = False
        s = np.sum(np.where(others, np.exp(z), 0), axis=1, dtype=WORK)
        lsm = z - np.log1p(s)[:, None]
        out[...] = np.where(finite_row[:, None], lsm, np.nan)
        out[pinf_row] = np.where(pinf[pinf_row], np.nan, -np.inf)
    return out


def softmax_complements(logp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p = exp(log p)``, ``1 - p`` without cancellation, and the argmax mask per row.

    ``1 - p_j`` is computed as ``1 - p_j`` where ``p_j`` is not the row's largest (there
    ``p_j <= 1/2``), and as ``sum_{i != k} p_i`` at the largest ``p_k`` (near 1 when one
    logit dominates, where ``1 - p_k`` would cancel).
    """
    b, c = logp.shape
    with np.errstate(all="ignore"):
        p = np.exp(logp).astype(WORK)
        top = np.zeros((b, c), dtype=bool)
        if b and c:
            top[np.arange(b), np.argmax(np.where(np.isnan(p), -1, p), axis=1)] = True
        rest = np.sum(np.where(top, 0, p), axis=1, dtype=WORK)
        comp = np.where(top, rest[:, None], 1 - p).astype(WORK)
    return p, comp, top


def mean_or_sum(loss: np.ndarray, reduction: str, denominator: Any) -> np.ndarray:
    """``'sum'``: sum of the loss (0 when empty); ``'mean'``: that sum over ``denominator``."""
    with np.errstate(all="ignore"):
        total = np.sum(loss, dtype=WORK)
        if reduction == "sum":
            return np.asarray(total, dtype=WORK)
        return np.asarray(total / WORK(denominator), dtype=WORK)


def seed(grad_output: Any, batch_shape: Shape, reduction: str, denominator: Any) -> np.ndarray:
    """``r_n = dL/dl_n`` per element of the unreduced loss, flattened to ``(B,)``.

    ``g`` for ``'none'`` (``grad_output`` of the loss's shape), ``g`` for ``'sum'`` and
    ``g / denominator`` for ``'mean'`` (``grad_output`` 0-d); ``None`` means ones.
    """
    out_shape = batch_shape if reduction == "none" else ()
    if grad_output is None:
        g = np.ones(out_shape, dtype=WORK)
    else:
        g = as_work(grad_output, "grad_output")
        if g.shape != out_shape:
            raise OracleInputError(
                "grad_output",
                f"shape {tuple(g.shape)} is not the output shape {tuple(out_shape)}",
            )
    with np.errstate(all="ignore"):
        if reduction == "mean":
            g = g / WORK(denominator)
    return np.broadcast_to(g, batch_shape).reshape(-1).astype(WORK)
