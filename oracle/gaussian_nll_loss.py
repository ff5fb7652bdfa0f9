r"""Oracle for ``torch.nn.functional.gaussian_nll_loss`` / ``torch.nn.GaussianNLLLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.

Documented (``help(torch.nn.GaussianNLLLoss)``)::

    loss = 1/2 (log(max(var, eps)) + (input - target)^2 / max(var, eps)) + const.

    "where eps is used for stability. By default, the constant term of the loss function
    is omitted unless full is True. If var is not the same size as input (due to a
    homoscedastic assumption), it must either have a final dimension of 1 or have one
    fewer dimension (with all other sizes being the same) for correct broadcasting."
    eps: "value used to clamp var (see note below), for stability. Default: 1e-6."
    reduction: "'mean': the output is the average of all batch member losses, 'sum': the
        output is the sum of all batch member losses."
    Shape: "Input: (N, *) or (*) ... Target: (N, *) or (*), same shape as the input, or
        same shape as the input but with one dimension equal to 1 (to allow for
        broadcasting). Var: (N, *) or (*), same shape as the input, or same shape as the
        input but with one dimension equal to 1, or same shape as the input but with one
        fewer dimension (to allow for broadcasting), or a scalar value. Output: scalar if
        reduction is 'mean' (default) or 'sum'. If reduction is 'none', then (N, *), same
        shape as the input."
    Note: "The clamping of var is ignored with respect to autograd, and so the gradients
        are unaffected by it."
    functional: "var: Tensor of positive variance(s), one for each of the expectations in
        the input (heteroscedastic), or a single one (homoscedastic), or a positive scalar
        value to be used for all expectations."

Readings chosen:

- The constant of ``full=True`` is that of the Gaussian density, ``0.5 log(2 pi)`` (the
  docs name it only "const."; the Gaussian negative log likelihood fixes it).
- ``var`` shapes, from the Shape section (the main text's "a final dimension of 1" is the
  narrower statement; the Shape section allows any one dimension equal to 1, and we
  follow it): the input's shape; the input's number of dimensions with exactly one
  dimension 1 where the input's is not; the input's shape without its last dimension
  (one variance per row: the homoscedastic case, broadcast along the last dimension); or
  a Python real number (``var: Tensor | float``). A 0-d tensor is a Tensor and must meet
  the shape rules (it is the input's shape only for a 0-d input, or one fewer dimension
  for a 1-d input). ``target``: the input's shape, or that shape with exactly one
  dimension 1. Anything else is rejected, also where numpy would broadcast it.
- ``var`` must be positive: ``var <= 0`` (``-0.0`` and 0 included) is rejected; NaN is
  data.
- 'mean' divides by the number of elements of the unreduced loss (input's shape).
- The gradient where the clamp is active, read from the Note: the formula alone would make
  ``max(var, eps)`` constant in ``var`` for ``var < eps`` (derivative 0, and only one-sided
  derivatives at ``var == eps``). The Note says the clamp "is ignored with respect to
  autograd, and so the gradients are unaffected by it": the chain rule passes through the
  clamp as through the identity, while the forward value stays the clamped one. So with
  ``v = max(var, eps)`` and ``d = input - target``::

      dl/dvar = 0.5 (1/v - d^2 / v^2)   for every var, including var < eps

  continuous at ``var == eps`` (both sides evaluate at ``v = eps``): no subgradient choice
  is left, so the clamp point needs no tie convention.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._common import WORK, OracleInputError, as_work, check_reduction, reduce_loss, reduction_grad
from .poisson_nll_loss import PI

__all__ = ["HALF_LOG_2PI", "gaussian_nll_loss", "gaussian_nll_loss_gradients", "var_layout"]

#: The constant of ``full=True``: 0.5 log(2 pi), to the working precision.
HALF_LOG_2PI = WORK(0.5) * np.log(WORK(2) * PI)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise OracleInputError(name, f"must be a bool, got {value!r}")
    return bool(value)


def _real(name: str, value: Any) -> np.floating[Any]:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise OracleInputError(name, f"must be a real number, got {value!r}")
    return WORK(value)


def _one_dim_one(shape: tuple[int, ...], full: tuple[int, ...]) -> bool:
    """``shape`` is ``full`` with exactly one dimension set to 1 (where ``full``'s is not)."""
    if len(shape) != len(full):
        return False
    differ = [i for i, (a, b) in enumerate(zip(shape, full, strict=True)) if a != b]
    return len(differ) == 1 and shape[differ[0]] == 1


def var_layout(var_shape: tuple[int, ...], input_shape: tuple[int, ...]) -> str | None:
    """'same', 'one_dim_one', 'fewer_dims' (the input's shape without its last dimension),
    or None (not a documented var shape)."""
    if var_shape == input_shape:
        return "same"
    if _one_dim_one(var_shape, input_shape):
        return "one_dim_one"
    if len(input_shape) >= 1 and var_shape == input_shape[:-1]:
        return "fewer_dims"
    return None


class _Terms:
    """Checked operands broadcast to the input's shape: ``x``, ``y``, ``v`` (raw var),
    ``vc = max(v, eps)``, ``d = x - y``; ``scalar_var`` for a Python-number var."""

    def __init__(self, input: Any, target: Any, var: Any, full: Any, eps: Any, reduction: Any):
        self.reduction = check_reduction(reduction)
        self.full = _flag("full", full)
        self.eps = _real("eps", eps)
        x = as_work(input, "input")
        y = as_work(target, "target")
        self.shape = tuple(x.shape)
        self.target_shape = tuple(y.shape)
        if self.target_shape != self.shape and not _one_dim_one(self.target_shape, self.shape):
            raise OracleInputError(
                "target",
                f"shape {self.target_shape} is neither the input's shape {self.shape} nor that "
                "shape with one dimension equal to 1",
            )
        self.scalar_var = isinstance(var, numbers.Real) and not isinstance(var, bool | np.bool_)
        if self.scalar_var:
            v = np.full(self.shape, WORK(var), dtype=WORK)
            self.var_shape: tuple[int, ...] = ()
        else:
            raw = as_work(var, "var")
            self.var_shape = tuple(raw.shape)
            layout = var_layout(self.var_shape, self.shape)
            if layout is None:
                raise OracleInputError(
                    "var",
                    f"shape {self.var_shape} is not a documented var shape for input shape "
                    f"{self.shape} (same shape, one dimension 1, or one fewer dimension)",
                )
            if layout == "fewer_dims":
                raw = raw.reshape((*self.var_shape, 1))
            v = np.broadcast_to(raw, self.shape)
        with np.errstate(invalid="ignore"):
            bad = v <= 0
        if bad.any():
            i = tuple(int(j) for j in np.argwhere(bad)[0])
            raise OracleInputError(
                "var", f"var = {float(v[i])!r} is not positive (documented: positive variances)"
            )
        self.x = x
        self.y = np.broadcast_to(y, self.shape)
        self.v = v
        with np.errstate(all="ignore"):
            self.vc = np.maximum(v, self.eps)  # NaN propagates
            self.d = self.x - self.y

    def loss(self) -> np.ndarray:
        with np.errstate(all="ignore"):
            loss = WORK(0.5) * (np.log(self.vc) + self.d * self.d / self.vc)
            if self.full:
                loss = loss + HALF_LOG_2PI
        return np.asarray(loss, dtype=WORK).reshape(self.shape)

    def sum_to(self, grad: np.ndarray, shape: tuple[int, ...], fewer: bool) -> np.ndarray:
        """Sum a gradient of the input's shape back to a broadcast argument's shape."""
        g = np.asarray(grad, dtype=WORK)
        if fewer:
            return g.sum(axis=-1, dtype=WORK).reshape(shape)
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and self.shape[i] != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True, dtype=WORK)
        return np.array(g.reshape(shape), dtype=WORK)


def gaussian_nll_loss(
    input: Any,
    target: Any,
    var: Any,
    full: bool = False,
    eps: float = 1e-06,
    reduction: str = "mean",
) -> np.ndarray:
    r"""Gaussian negative log likelihood (Documentation: torch 2.13; see the module docstring).

    ``l_n = 0.5 (log(max(v_n, eps)) + (x_n - y_n)^2 / max(v_n, eps))``, plus
    ``0.5 log(2 pi)`` with ``full=True``; ``'mean'`` averages over the elements of ``l``
    (0/0 = NaN when empty), ``'sum'`` sums, ``'none'`` returns ``l`` (the input's shape).
    NaN and ±inf follow IEEE arithmetic (``max`` propagates a NaN var).

    Raises ``OracleInputError`` for: a target or var shape the Shape section does not
    allow, ``var <= 0``, an unknown reduction, a non-bool ``full``, a non-real ``eps``.
    """
    terms = _Terms(input, target, var, full, eps, reduction)
    return reduce_loss(terms.loss(), terms.reduction)


def gaussian_nll_loss_gradients(
    input: Any,
    target: Any,
    var: Any,
    full: bool = False,
    eps: float = 1e-06,
    reduction: str = "mean",
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`gaussian_nll_loss` for ``input``, ``target`` and a tensor
    ``var`` (torch 2.13 differentiates all three; a Python-number var has none).

    Derivation, with ``v = max(var, eps)``, ``d = x - y`` and ``r_n`` the reduction's seed::

        dl/dx = d / v        dl/dy = -d / v        dl/dvar = 0.5 (1/v - d^2 / v^2)

    The last one passes through the clamp as the identity (the Note: "The clamping of var
    is ignored with respect to autograd"), for ``var < eps`` too, where the formula alone
    would give 0; see the module docstring. A broadcast target or var gets the sum of its
    elements' contributions (over the dimension that is 1, or over the last dimension for
    a var with one fewer dimension). ``full`` adds a constant: no gradient.
    """
    terms = _Terms(input, target, var, full, eps, reduction)
    r = reduction_grad(grad_output, terms.shape, terms.reduction)
    with np.errstate(all="ignore"):
        gx = r * terms.d / terms.vc
        gv = r * WORK(0.5) * (WORK(1) / terms.vc - terms.d * terms.d / (terms.vc * terms.vc))
    out = {
        "input": np.asarray(gx, dtype=WORK).reshape(terms.shape),
        "target": terms.sum_to(-gx, terms.target_shape, fewer=False),
    }
    if not terms.scalar_var:
        fewer = var_layout(terms.var_shape, terms.shape) == "fewer_dims"
        out["var"] = terms.sum_to(gv, terms.var_shape, fewer)
    return out
