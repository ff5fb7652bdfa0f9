"""Oracle for ``torch.nn.functional.margin_ranking_loss`` / ``torch.nn.MarginRankingLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

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

__all__ = [
    "gradients_active_at_tie",
    "hinge_argument",
    "margin_ranking_loss",
    "margin_ranking_loss_gradients",
]

Shape = tuple[int, ...]


def _check_shapes(x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> None:
    """Documented shapes: Input1 (N) or (); Input2 and Target "same shape as" Input1."""
    if x1.ndim > 1:
        raise OracleInputError("input1", f"shape {x1.shape} is not (N) or ()")
    if x2.shape != x1.shape:
        raise OracleInputError("input2", f"shape {x2.shape} is not input1's {x1.shape}")
    if y.shape != x1.shape:
        raise OracleInputError("target", f"shape {y.shape} is not the inputs' {x1.shape}")


def _check_labels(y: np.ndarray) -> None:
    bad = ~((y == 1) | (y == -1))  # NaN is not a label either
    if np.any(bad):
        v = y[bad].ravel()[0]
        raise OracleInputError("target", f"must contain 1 or -1, got {float(v)!r}")


def _operands(
    input1: Any, input2: Any, target: Any, margin: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x1 = as_work(input1, "input1")
    x2 = as_work(input2, "input2")
    y = as_work(target, "target")
    _check_shapes(x1, x2, y)
    _check_labels(y)
    m = _scalar_option("margin", margin)
    return x1, x2, y, m


def hinge_argument(x1: np.ndarray, x2: np.ndarray, y: np.ndarray, m: Any) -> np.ndarray:
    """``z = -y (x1 - x2) + margin`` in ``WORK`` (exact for inputs of at most 64-bit
    significands whose difference stays in range, then one rounding for the margin)."""
    with np.errstate(all="ignore"):
        return (-y * (x1 - x2) + WORK(m)).astype(WORK)


def _hinge(z: np.ndarray) -> np.ndarray:
    """``max(0, z)`` with ``max(0, NaN) = NaN`` (the IEEE 754-2019 ``maximum``)."""
    with np.errstate(all="ignore"):
        return np.maximum(WORK(0), z).astype(WORK)


def margin_ranking_loss(
    input1: Any,
    input2: Any,
    target: Any,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Margin ranking loss, as documented for ``MarginRankingLoss`` (Documentation: torch 2.13).

    Documented formula, "for each pair of samples in the mini-batch"::

        \text{loss}(x1, x2, y) = \max(0, -y * (x1 - x2) + \text{margin})

    with "a label 1D mini-batch or 0D Tensor y (containing 1 or -1)"; shapes: "Input1: (N)
    or ()", "Input2: (N) or (), same shape as the Input1", "Target: (N) or (), same shape as
    the inputs"; "Output: scalar. If reduction is 'none' and Input size is not (), then
    (N)". ``margin`` "Has a default value of 0"; the docs put no bound on it, so any real
    is accepted (0 and negative included; ±inf and NaN flow through the formula). Then
    ``'mean'`` ("the sum of the output will be divided by the number of elements in the
    output"; 0/0 = NaN for N = 0), ``'sum'``, ``'none'``; the legacy ``size_average`` /
    ``reduce`` override ``reduction`` as documented.

    Bad input (``OracleInputError``): an input of more than one dimension, input2 or
    target of another shape than input1 (the docs say "same shape": no broadcasting), a
    target value other than 1 or -1 (NaN included), an unknown reduction. NaN and ±inf
    inputs are data: ``max(0, NaN) = NaN``, ``inf - inf = NaN``.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    x1, x2, y, m = _operands(input1, input2, target, margin)
    loss = _hinge(hinge_argument(x1, x2, y, m))
    return reduce_loss(loss, red)


def margin_ranking_loss_gradients(
    input1: Any,
    input2: Any,
    target: Any,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`margin_ranking_loss` (Documentation: torch 2.13; derived by hand).

    torch 2.13 differentiates all three tensors (``input1``, ``input2`` and ``target``:
    the documented formula is a polynomial in y, and autograd gives its derivative).
    Derivation: with ``z_n = -y_n (x1_n - x2_n) + margin`` and ``l_n = max(0, z_n)``,
    ``dl_n/dz_n = H(z_n)`` and::

        dl_n/dx1_n = -y_n H(z_n),   dl_n/dx2_n = y_n H(z_n),
        dl_n/dy_n  = -(x1_n - x2_n) H(z_n)

    ``H(z) = 1`` for ``z > 0`` and 0 for ``z < 0``. At the kink ``z = 0`` the docs are
    silent; the oracle takes the subgradient 0 (the hinge is inactive at 0), the convention
    of ``max(0, x)`` everywhere else in torch (``relu``'s gradient at 0 is 0) and in this
    project (MultiMarginLoss, README). ``H(NaN) = NaN``: a NaN hinge argument gives NaN
    gradients. Each is multiplied by the reduction's seed ``r_n`` (``g``, or ``g/N`` for
    ``'mean'``); ``grad_output`` ``g`` defaults to ones.
    """
    return _gradients(
        WORK(0), input1, input2, target, margin, size_average, reduce, reduction, grad_output
    )


def gradients_active_at_tie(*args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
    """:func:`margin_ranking_loss_gradients` with the other one-sided derivative at an exact
    kink ``z = 0``: ``H(0) = 1`` (the active side). Not the oracle's reading; the suite uses
    it to tell a different subgradient convention at a tie from a wrong gradient."""
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
    x1, x2, y, m = _operands(input1, input2, target, margin)
    z = hinge_argument(x1, x2, y, m)
    r = reduction_grad(grad_output, x1.shape, red)
    with np.errstate(all="ignore"):
        h = np.where(np.isnan(z), np.nan, np.where(z == 0, tie, (z > 0).astype(WORK)))
        h = h.astype(WORK)
        rh = r * h
        return {
            "input1": (-y * rh).astype(WORK),
            "input2": (y * rh).astype(WORK),
            # where, not a product: an inactive hinge with x1 - x2 = ±inf has slope 0
            "target": np.where(h != 0, -(x1 - x2) * h * r, h * r).astype(WORK),
        }
