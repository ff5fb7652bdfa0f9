"""Oracle for ``torch.nn.functional.hinge_embedding_loss`` / ``torch.nn.HingeEmbeddingLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._common import (
    WORK,
    OracleInputError,
    as_work,
    reduce_loss,
    reduction_grad,
    resolve_reduction,
)

__all__ = ["hinge_embedding_loss", "hinge_embedding_loss_gradients", "hinge_terms"]


def _margin(margin: Any) -> np.floating[Any]:
    """Any real number: the docs give only "margin (float, optional): Has a default value
    of `1`", so 0, negative values, ±inf and NaN are all allowed (NaN and inf then follow
    IEEE arithmetic)."""
    if isinstance(margin, bool | np.bool_) or not isinstance(margin, numbers.Real | np.ndarray):
        raise OracleInputError("margin", f"must be a real number, got {margin!r}")
    arr = np.asarray(margin)
    if arr.shape != () or arr.dtype.kind not in "fiu":
        raise OracleInputError("margin", f"must be a real number, got {margin!r}")
    return WORK(arr)


def _operands(input: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    x = as_work(input, "input")
    y = as_work(target, "target")
    if x.shape != y.shape:
        raise OracleInputError(
            "target",
            f"shape {tuple(y.shape)} is not the input's shape {tuple(x.shape)} "
            "(documented: 'Target: (*), same shape as the input')",
        )
    bad = ~((y == 1) | (y == -1))
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        raise OracleInputError(
            "target",
            f"target{list(i)} = {float(y[i])!r}: the labels tensor must contain 1 or -1",
        )
    return x, y


def hinge_terms(
    x: np.ndarray, y: np.ndarray, margin: np.floating[Any], tie: Any = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The unreduced loss and ``dl/dx`` elementwise, in ``WORK`` (see the public docs);
    ``tie`` is ``H(0)``, the hinge's slope factor at the kink ``z = 0`` (0: inactive)."""
    with np.errstate(all="ignore"):
        z = margin - x  # its sign is exact: fl(a - b) is 0 only for a == b, else signed
        hinge = np.maximum(WORK(0), z)  # NaN propagates
        loss = np.where(y == 1, x, hinge)
        slope_neg = np.where(z > 0, WORK(-1), np.where(z == 0, -WORK(tie), WORK(0)))
        slope_neg = np.where(np.isnan(z), WORK(np.nan), slope_neg)
        slope = np.where(y == 1, WORK(1), slope_neg)
    return loss.astype(WORK), slope.astype(WORK)


def hinge_embedding_loss(
    input: Any,
    target: Any,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Hinge embedding loss, as documented for ``HingeEmbeddingLoss`` (Documentation:
    torch 2.13).

    Documented formula, for "an input tensor x and a labels tensor y (containing 1 or
    -1)"::

        l_n = x_n                      if y_n = 1,
              max{0, margin - x_n}     if y_n = -1,

        loss = mean(L) ('mean'), sum(L) ('sum'), L ('none')

    "'mean': the sum of the output will be divided by the number of elements in the
    output" (0/0 = NaN for an empty input); "Input: (*) ... The sum operation operates over
    all the elements"; "Target: (*), same shape as the input". So any shape, 0-d included,
    is allowed; a target of another shape (even one that broadcasts) or with a value other
    than 1 or -1 (0, 2, NaN, ...) raises ``OracleInputError`` naming ``target``. ``margin``
    is any real (the docs place no restriction: 0, negative, ±inf and NaN are data).
    The deprecated ``size_average``/``reduce`` override ``reduction`` as documented.

    ``max{0, z}`` with ``z = NaN`` is NaN (IEEE: the formula's value is undefined), and
    ±inf follow IEEE arithmetic (``margin = inf`` with ``x = inf`` gives NaN).
    """
    red = resolve_reduction(size_average, reduce, reduction)
    m = _margin(margin)
    x, y = _operands(input, target)
    loss, _ = hinge_terms(x, y, m)
    return reduce_loss(loss, red)


def hinge_embedding_loss_gradients(
    input: Any,
    target: Any,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradient of :func:`hinge_embedding_loss` (Documentation: torch 2.13; derived by hand).

    Only ``input`` is returned: torch 2.13 does not differentiate ``target`` (a target that
    requires grad is not part of the graph: ``torch.autograd.grad`` reports it unused), and
    the labels ±1 are discrete anyway.

    Derivation, with ``z_n = margin - x_n``::

        dl_n/dx_n = 1                 if y_n = 1  (whatever x_n is: d x / dx = 1)
                    -1                if y_n = -1 and z_n > 0
                    0                 if y_n = -1 and z_n < 0
                    0                 if y_n = -1 and z_n = 0  (the kink: see below)
                    NaN               if y_n = -1 and z_n is NaN

    At the kink ``x_n = margin`` every value in [-1, 0] is a subgradient and the docs do
    not choose. The oracle takes 0, the project's convention for every hinge (a hinge at
    exactly 0 is inactive, as ``relu``'s gradient at 0 and MultiMarginLoss's): one reading
    for every loss, so that torch's choices can be compared across them. torch 2.13 takes
    -1 here (the active side), as in ``margin_ranking_loss``, while MultiMarginLoss and
    MultiLabelMarginLoss take 0: registered as ``hinge-tie-takes-the-active-slope``;
    :func:`gradients_active_at_tie` gives that other one-sided derivative, so that the
    suite tells the convention from a wrong subgradient. ``dL/dx_n = r_n dl_n/dx_n`` with ``r_n`` the
    reduction's seed (``g``, ``g`` or ``g / N``). ``grad_output`` defaults to ones.
    """
    return _gradients(WORK(0), input, target, margin, size_average, reduce, reduction, grad_output)


def gradients_active_at_tie(*args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
    """:func:`hinge_embedding_loss_gradients` with the other one-sided derivative at an exact
    kink ``x = margin`` (y = -1): -1, the active side. Not the oracle's reading; the suite
    uses it to tell a different subgradient convention at a tie from a wrong gradient."""
    return _gradients(WORK(1), *args, **kwargs)


def _gradients(
    tie: Any,
    input: Any,
    target: Any,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    """The gradient with the hinge's slope factor ``tie`` at its kink."""
    red = resolve_reduction(size_average, reduce, reduction)
    m = _margin(margin)
    x, y = _operands(input, target)
    _, slope = hinge_terms(x, y, m, tie)
    r = reduction_grad(grad_output, x.shape, red)
    with np.errstate(all="ignore"):
        return {"input": (r * slope).astype(WORK)}
