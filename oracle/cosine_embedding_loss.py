"""Oracle for ``torch.nn.functional.cosine_embedding_loss`` / ``torch.nn.CosineEmbeddingLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import (
    WORK,
    OracleInputError,
    _scalar_option,
    as_work,
    reduce_loss,
    reduction_grad,
    resolve_reduction,
)

__all__ = ["Cosines", "cosine_embedding_loss", "cosine_embedding_loss_gradients"]


def _check_shapes(x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> None:
    """Documented shapes: Input1 (N, D) or (D); Input2 "same shape as Input1"; Target (N)
    or () (the batch of the inputs, () for an unbatched (D) pair)."""
    if x1.ndim not in (1, 2):
        raise OracleInputError("input1", f"shape {x1.shape} is not (N, D) or (D)")
    if x2.shape != x1.shape:
        raise OracleInputError("input2", f"shape {x2.shape} is not input1's {x1.shape}")
    want = x1.shape[:-1]
    if y.shape != want:
        raise OracleInputError("target", f"shape {y.shape} is not {want} for inputs {x1.shape}")


def _check_labels(y: np.ndarray) -> None:
    bad = ~((y == 1) | (y == -1))  # NaN is not a label either
    if np.any(bad):
        v = y[bad].ravel()[0]
        raise OracleInputError("target", f"must contain 1 or -1, got {float(v)!r}")


def _check_margin(margin: Any) -> np.floating[Any]:
    m = _scalar_option("margin", margin)
    if not -1 <= m <= 1:  # NaN fails too
        raise OracleInputError("margin", f"should be a number from -1 to 1, got {float(m)!r}")
    return m


@dataclass
class Cosines:
    """The per-sample pieces of the documented loss, in ``WORK``, over rows (N, D).

    ``dot = sum_i x1_i x2_i``, ``n1 = ||x1||``, ``n2 = ||x2||``, ``cos = dot / (n1 n2)``;
    every operand is the exact upcast of the input; each product of two inputs of at most
    32-bit significands is exact in ``WORK`` (64-bit significand); float64 products and
    the sums round once per operation (relative 2^-64), see tests/test_oracle_pair_margin.py
    for the allowance that follows."""

    x1: np.ndarray
    x2: np.ndarray
    y: np.ndarray
    dot: np.ndarray
    n1: np.ndarray
    n2: np.ndarray
    cos: np.ndarray
    unbatched: bool

    @classmethod
    def of(cls, input1: Any, input2: Any, target: Any) -> Cosines:
        x1 = as_work(input1, "input1")
        x2 = as_work(input2, "input2")
        y = as_work(target, "target")
        _check_shapes(x1, x2, y)
        _check_labels(y)
        unbatched = x1.ndim == 1
        rows = (1 if unbatched else x1.shape[0], x1.shape[-1])  # reshape(-1, 0) is ambiguous
        x1, x2 = x1.reshape(rows), x2.reshape(rows)
        with np.errstate(all="ignore"):
            dot = np.sum(x1 * x2, axis=1, dtype=WORK)
            n1 = np.sqrt(np.sum(x1 * x1, axis=1, dtype=WORK))
            n2 = np.sqrt(np.sum(x2 * x2, axis=1, dtype=WORK))
            cos = (dot / (n1 * n2)).astype(WORK)
        return cls(x1, x2, y.reshape(-1), dot, n1, n2, cos, unbatched)

    @property
    def out_shape(self) -> tuple[int, ...]:
        return () if self.unbatched else (self.y.size,)

    def loss(self, m: Any) -> np.ndarray:
        """``1 - cos`` where y = 1, ``max(0, cos - margin)`` where y = -1 (NaN propagates)."""
        with np.errstate(all="ignore"):
            pos = WORK(1) - self.cos
            neg = np.maximum(WORK(0), self.cos - WORK(m))
            return np.where(self.y == 1, pos, neg).astype(WORK)


def cosine_embedding_loss(
    input1: Any,
    input2: Any,
    target: Any,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Cosine embedding loss, as documented for ``CosineEmbeddingLoss`` (Documentation:
    torch 2.13).

    Documented formula, "for each sample"::

        \text{loss}(x, y) = \begin{cases}
        1 - \cos(x_1, x_2), & \text{if } y = 1 \\
        \max(0, \cos(x_1, x_2) - \text{margin}), & \text{if } y = -1
        \end{cases}

    with ``cos(x1, x2) = x1 . x2 / (||x1|| ||x2||)`` over the embedding dimension D (the
    docs name the cosine and nothing else: no epsilon). Shapes: "Input1: (N, D) or (D)",
    "Input2: (N, D) or (D), same shape as Input1", "Target: (N) or ()", "Output: If
    reduction is 'none', then (N), otherwise scalar" (() for an unbatched pair); the label
    y holds "values 1 or -1"; ``margin`` "Should be a number from -1 to 1, 0 to 0.5 is
    suggested" with default 0. Reductions as documented ('mean' divides by N; 0/0 = NaN
    for N = 0), legacy ``size_average``/``reduce`` included.

    Bad input (``OracleInputError``): inputs that are not 1-D or 2-D, input2 of another
    shape (no broadcasting: "same shape"), a target whose shape is not the inputs' batch,
    a target value other than 1 or -1 (NaN included), a margin outside [-1, 1] (NaN
    included: "should be a number from -1 to 1"), an unknown reduction.

    Readings where the docs are silent: a zero vector (or D = 0) makes the documented
    quotient 0/0 = NaN, so the loss is NaN (torch adds an undocumented epsilon instead:
    registered). NaN and ±inf elements flow through the formula with IEEE arithmetic
    (``inf / inf = NaN``). ``max(0, NaN) = NaN``.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    c = Cosines.of(input1, input2, target)
    m = _check_margin(margin)
    loss = c.loss(m).reshape(c.out_shape)
    return reduce_loss(loss, red)


def cosine_embedding_loss_gradients(
    input1: Any,
    input2: Any,
    target: Any,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`cosine_embedding_loss` (Documentation: torch 2.13; derived by
    hand).

    torch 2.13 differentiates ``input1`` and ``input2``; it gives no gradient for
    ``target`` (autograd reports it unused: the label only selects a branch), so none is
    returned. Derivation: with ``c = x1 . x2 / (n1 n2)``, ``n_k = ||x_k||``::

        dc/dx1_i = x2_i / (n1 n2) - c x1_i / n1^2,   dc/dx2_i = x1_i / (n1 n2) - c x2_i / n2^2

    (from d(x1 . x2)/dx1_i = x2_i and dn1/dx1_i = x1_i / n1). For y = 1, ``dl/dx = -dc/dx``;
    for y = -1, ``dl/dx = H(c - margin) dc/dx`` with ``H(z) = 1`` for z > 0, 0 for z < 0,
    and, at the kink ``c == margin`` where the docs are silent, the subgradient 0 (the
    hinge is inactive at 0, as for ``relu`` and the project's other hinges);
    ``H(NaN) = NaN``. Each row is multiplied by the reduction's seed ``r_n`` (``g``, or
    ``g/N`` for 'mean'). A zero vector gives NaN (0/0), as the forward.
    """
    return _gradients(
        WORK(0), input1, input2, target, margin, size_average, reduce, reduction, grad_output
    )


def gradients_active_at_tie(*args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
    """:func:`cosine_embedding_loss_gradients` with the other one-sided derivative at an
    exact kink ``c == margin`` (y = -1): ``H(0) = 1``, the active side. Not the oracle's
    reading; the suite uses it to tell a different subgradient convention at a tie from a
    wrong gradient."""
    return _gradients(WORK(1), *args, **kwargs)


def _gradients(
    tie: Any,
    input1: Any,
    input2: Any,
    target: Any,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    """The gradients with ``H(0) = tie``."""
    red = resolve_reduction(size_average, reduce, reduction)
    c = Cosines.of(input1, input2, target)
    m = _check_margin(margin)
    r = reduction_grad(grad_output, c.out_shape, red).reshape(-1)
    with np.errstate(all="ignore"):
        z = c.cos - WORK(m)
        h = np.where(np.isnan(z), np.nan, np.where(z == 0, tie, (z > 0).astype(WORK)))
        slope = np.where(c.y == 1, WORK(-1), h).astype(WORK)  # dl/dc per row
        s = (r * slope)[:, None]
        prod = (c.n1 * c.n2)[:, None]
        cos = c.cos[:, None]
        d1 = c.x2 / prod - cos * c.x1 / (c.n1 * c.n1)[:, None]
        d2 = c.x1 / prod - cos * c.x2 / (c.n2 * c.n2)[:, None]
        # where, not a product: an inactive hinge has slope 0 even where dc/dx is NaN
        idle = (slope == 0)[:, None]
        g1 = np.where(idle, WORK(0), s * d1).astype(WORK)
        g2 = np.where(idle, WORK(0), s * d2).astype(WORK)
    shape = c.x1.shape if not c.unbatched else (c.x1.shape[-1],)
    return {"input1": g1.reshape(shape), "input2": g2.reshape(shape)}
