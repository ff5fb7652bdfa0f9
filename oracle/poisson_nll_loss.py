r"""Oracle for ``torch.nn.functional.poisson_nll_loss`` / ``torch.nn.PoissonNLLLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.

Documented (``help(torch.nn.PoissonNLLLoss)``)::

    target ~ Poisson(input)
    loss(input, target) = input - target * log(input) + log(target!)

    "The last term can be omitted or approximated with Stirling formula. The
    approximation is used for target values more than 1. For targets less or
    equal to 1 zeros are added to the loss."

    log_input: "if True the loss is computed as exp(input) - target*input, if False the
        loss is input - target*log(input+eps)."
    full: "whether to compute full loss, i. e. to add the Stirling approximation term
        target*log(target) - target + 0.5 * log(2*pi*target)."
    eps: "Small value to avoid evaluation of log(0) when log_input = False. Default: 1e-8"
    Shape: "Input: (*) ... Target: (*), same shape as the input. Output: scalar by default.
        If reduction is 'none', then (*), the same shape as the input."
    functional: "input: Expectation of underlying Poisson distribution."

Readings chosen where the docs are silent:

- ``target``: the docs give no domain beyond "a random sample"; the issue asks for
  non-integer targets too, so any real target is data (negative ones included: the
  Stirling term is added only for ``target > 1``, so they get none).
- ``input`` with ``log_input=False`` is the Poisson mean ("Expectation of underlying
  Poisson distribution"), which is never negative: ``input < 0`` there is rejected
  (``-0.0`` and NaN are not ``< 0``: NaN is data). With ``log_input=True`` input is the
  log of the mean and any real value is valid.
- ``eps``: any real number (the docs put no constraint on it); it enters only as the
  documented ``log(input + eps)``, so ``eps = 0`` with ``input = 0`` gives ``log(0) = -inf``
  by IEEE arithmetic.
- Shapes: the docs say "same shape as the input", so a target of another shape is rejected
  even where it would broadcast.
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

__all__ = [
    "PI",
    "poisson_nll_loss",
    "poisson_nll_loss_gradients",
]

#: pi to the working precision (np.pi is only float64).
PI = WORK("3.14159265358979323846264338327950288")


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise OracleInputError(name, f"must be a bool, got {value!r}")
    return bool(value)


def _eps(value: Any) -> np.floating[Any]:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise OracleInputError("eps", f"must be a real number, got {value!r}")
    return WORK(value)


def log_shifted(x: np.ndarray, eps: np.floating[Any]) -> np.ndarray:
    """``log(x + eps)`` accurate to a few WORK roundings: near ``x + eps = 1`` the sum's
    rounding would be amplified by log's condition number 1/|log(x + eps)|, so for x in
    [0.5, 2] it is taken as ``log1p((x - 1) + eps)`` (``x - 1`` is exact there)."""
    with np.errstate(all="ignore"):
        near_one = (x >= 0.5) & (x <= 2)
        return np.where(near_one, np.log1p((x - 1) + eps), np.log(x + eps)).astype(WORK)


class _Terms:
    """Checked operands: ``x``, ``t`` in WORK, the options, and the resolved reduction."""

    def __init__(
        self,
        input: Any,
        target: Any,
        log_input: Any,
        full: Any,
        size_average: Any,
        eps: Any,
        reduce: Any,
        reduction: Any,
    ) -> None:
        self.reduction = resolve_reduction(size_average, reduce, reduction)
        self.log_input = _flag("log_input", log_input)
        self.full = _flag("full", full)
        self.eps = _eps(eps)
        self.x = as_work(input, "input")
        self.t = as_work(target, "target")
        if self.t.shape != self.x.shape:
            raise OracleInputError(
                "target",
                f"shape {tuple(self.t.shape)} is not the input's shape {tuple(self.x.shape)} "
                "(documented: same shape as the input)",
            )
        if not self.log_input:
            with np.errstate(invalid="ignore"):
                negative = self.x < 0
            if negative.any():
                i = tuple(int(j) for j in np.argwhere(negative)[0])
                raise OracleInputError(
                    "input",
                    f"input{list(i)} = {float(self.x[i])!r} < 0: with log_input=False input is "
                    "the Poisson mean (documented: expectation of the Poisson distribution)",
                )

    def loss(self) -> np.ndarray:
        """The documented sum, grouped so that the large terms that cancel near the
        minimum are combined first: with the Stirling term (y > 1), ``-y x + y log y`` is
        formed as ``y (log y - x)`` and ``-y log(x + eps) + y log y`` as
        ``y (log y - log(x + eps))`` (the same IEEE classes for ±inf and NaN operands)."""
        x, t = self.x, self.t
        half = WORK(0.5)
        with np.errstate(all="ignore"):
            lx = x if self.log_input else log_shifted(x, self.eps)
            mean = np.exp(x) if self.log_input else x
            loss = mean - t * lx
            if self.full:
                grouped = (mean - t) + t * (np.log(t) - lx) + half * np.log(WORK(2) * PI * t)
                loss = np.where(t <= 1, loss, grouped)  # a NaN target is not <= 1
        return np.asarray(loss, dtype=WORK)

    def slopes(self) -> tuple[np.ndarray, np.ndarray]:
        x, t = self.x, self.t
        with np.errstate(all="ignore"):
            if self.log_input:
                dx = np.exp(x) - t
                lx = x
            else:
                dx = WORK(1) - t / (x + self.eps)
                lx = log_shifted(x, self.eps)
            dt = -lx
            if self.full:  # -lx + log y + 1/(2y), the logs combined first
                dt = np.where(t <= 1, dt, (np.log(t) - lx) + WORK(0.5) / t)
        return np.asarray(dx, dtype=WORK), np.asarray(dt, dtype=WORK)


def poisson_nll_loss(
    input: Any,
    target: Any,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-08,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Poisson negative log likelihood (Documentation: torch 2.13; see the module docstring).

    ``l_n = exp(x_n) - y_n x_n`` (``log_input=True``) or ``x_n - y_n log(x_n + eps)``
    (``log_input=False``), plus with ``full=True`` the Stirling term
    ``y_n log y_n - y_n + 0.5 log(2 pi y_n)`` for ``y_n > 1`` and 0 for ``y_n <= 1``
    (documented: "For targets less or equal to 1 zeros are added to the loss"). Then
    ``'mean'`` divides the sum by the number of elements (0/0 = NaN for an empty input),
    ``'sum'`` sums, ``'none'`` returns ``l``; ``size_average``/``reduce`` override
    ``reduction`` as documented (``oracle._common.resolve_reduction``). NaN and ±inf follow
    IEEE arithmetic through the formula (``0 * inf`` is NaN).

    Raises ``OracleInputError`` for: a target not of the input's shape, ``input < 0`` with
    ``log_input=False``, an unknown reduction, non-bool ``log_input``/``full``, a non-real
    ``eps``.
    """
    terms = _Terms(input, target, log_input, full, size_average, eps, reduce, reduction)
    return reduce_loss(terms.loss(), terms.reduction)


def poisson_nll_loss_gradients(
    input: Any,
    target: Any,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-08,
    reduce: bool | None = None,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`poisson_nll_loss` for ``input`` and ``target`` (torch 2.13
    differentiates both; derived by hand from the documented formula).

    Derivation, with ``r_n`` the reduction's seed (``g``, or ``g/N`` for ``'mean'``)::

        log_input=True:   dl/dx = exp(x) - y            dl/dy = -x + S'(y)
        log_input=False:  dl/dx = 1 - y / (x + eps)     dl/dy = -log(x + eps) + S'(y)

    with ``S'(y) = d/dy [y log y - y + 0.5 log(2 pi y)] = log y + 1/(2y)`` for ``y > 1``
    (full=True only) and ``S'(y) = 0`` for ``y <= 1``, where the documented term is the
    constant 0; a NaN target is not ``<= 1``, so its term, and derivative, are NaN. At ``y = 1`` the Stirling term jumps (from 0 to ``0.5 log(2 pi) - 1``) as
    ``y`` crosses 1; the documented value at ``y = 1`` is the zero branch, so the derivative
    there is that branch's, 0 (a one-sided derivative; the target is a value of the dtype,
    so whether ``y <= 1`` never depends on rounding). Then ``dL/dx_n = r_n dl/dx_n`` and
    ``dL/dy_n = r_n dl/dy_n``.
    """
    terms = _Terms(input, target, log_input, full, size_average, eps, reduce, reduction)
    r = reduction_grad(grad_output, terms.x.shape, terms.reduction)
    dx, dt = terms.slopes()
    with np.errstate(all="ignore"):
        return {
            "input": np.asarray(r * dx, dtype=WORK),
            "target": np.asarray(r * dt, dtype=WORK),
        }
