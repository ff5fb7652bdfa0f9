"""Shared pieces of the oracle: input checks, broadcasting, reductions and their gradients.

Everything here is written from torch's documentation, never from its code, and never
imports torch. All arithmetic is done in ``WORK`` precision from the exact upcast of the
inputs; no intermediate is ever rounded to the dtype of the inputs.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "REDUCTIONS",
    "WORK",
    "OracleInputError",
    "Pointwise",
    "as_work",
    "broadcast_inputs",
    "broadcast_weight",
    "check_nonnegative",
    "check_positive",
    "check_reduction",
    "finish_gradients",
    "reduce_loss",
    "reduction_grad",
    "resolve_reduction",
    "sign",
    "unbroadcast",
    "weighted_mean",
]

#: Working precision. On x86-64 Linux this is the 80-bit x87 extended type (64-bit
#: significand), more accurate than the float64 results it judges. Where the platform's
#: ``long double`` is plain float64 the oracle still works, with float64 accuracy.
WORK: type[np.floating[Any]] = np.longdouble

#: The reductions documented for the pointwise regression losses.
REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")

Shape = tuple[int, ...]


class OracleInputError(ValueError):
    """An input the documentation does not allow; names the argument and the rule broken."""

    def __init__(self, argument: str, rule: str) -> None:
        self.argument = argument
        self.rule = rule
        super().__init__(f"{argument}: {rule}")

    def __reduce__(self) -> tuple[type[OracleInputError], tuple[str, str]]:
        return (type(self), (self.argument, self.rule))


def as_work(x: Any, name: str) -> np.ndarray:
    """Upcast ``x`` exactly to a ``WORK`` array.

    Accepts Python ints and floats, numpy scalars and arrays of any real floating or integer
    dtype (float16/float32/float64/longdouble; bfloat16 arrives as float32). Booleans,
    complex numbers and object arrays are rejected with an ``OracleInputError`` naming
    ``name``. Every accepted value is exactly representable in ``WORK`` (integers up to
    64 bits included), so the upcast never rounds.
    """
    if isinstance(x, bool | np.bool_):
        raise OracleInputError(name, "must be a real floating or integer array, got bool")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise OracleInputError(name, f"cannot be read as an array ({exc})") from None
    kind = arr.dtype.kind
    if kind not in "fiu":
        raise OracleInputError(
            name, f"must be a real floating or integer array, got dtype {arr.dtype}"
        )
    if kind in "iu" and arr.dtype.itemsize > 8:  # pragma: no cover - no such dtype today
        raise OracleInputError(name, f"integer dtype {arr.dtype} is wider than 64 bits")
    return arr.astype(WORK, copy=True)


def _scalar_option(name: str, value: Any) -> np.floating[Any]:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real | np.ndarray):
        raise OracleInputError(name, f"must be a real number, got {value!r}")
    arr = np.asarray(value)
    if arr.shape != () or arr.dtype.kind not in "fiu":
        raise OracleInputError(name, f"must be a real number, got {value!r}")
    return WORK(arr)


def _show(value: Any) -> str:
    return repr(float(value)) if isinstance(value, numbers.Real) else repr(value)


def check_positive(name: str, value: Any) -> np.floating[Any]:
    """Return ``value`` as a ``WORK`` scalar if it is a real number > 0 (NaN is rejected)."""
    v = _scalar_option(name, value)
    if not v > 0:  # also catches NaN
        raise OracleInputError(name, f"must be positive, got {_show(value)}")
    return v


def check_nonnegative(name: str, value: Any) -> np.floating[Any]:
    """Return ``value`` as a ``WORK`` scalar if it is a real number >= 0 (NaN is rejected)."""
    v = _scalar_option(name, value)
    if not v >= 0:  # also catches NaN
        raise OracleInputError(name, f"must be non-negative, got {_show(value)}")
    return v


def check_reduction(reduction: Any, allowed: tuple[str, ...] = REDUCTIONS) -> str:
    """Return ``reduction`` if it is one of ``allowed``, else raise naming ``reduction``."""
    if not isinstance(reduction, str) or reduction not in allowed:
        names = ", ".join(repr(a) for a in allowed)
        raise OracleInputError("reduction", f"{reduction!r} is not one of {names}")
    return reduction


def _legacy_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise OracleInputError(name, f"must be None or a bool, got {value!r}")
    return bool(value)


def resolve_reduction(
    size_average: bool | None,
    reduce: bool | None,
    reduction: str,
    allowed: tuple[str, ...] = REDUCTIONS,
) -> str:
    """Resolve the deprecated ``size_average``/``reduce`` pair against ``reduction``.

    Documented rule (torch 2.13): both default to ``True`` when ``None``; "specifying either
    of those two args will override :attr:`reduction`"; ``reduce=False`` returns the
    per-element loss and "ignores :attr:`size_average`"; otherwise ``size_average=True``
    averages and ``size_average=False`` sums. So ``reduce=False -> 'none'``,
    ``reduce=True, size_average=True -> 'mean'``, ``reduce=True, size_average=False ->
    'sum'``. When a legacy argument is given, ``reduction`` is overridden and therefore not
    looked at (not even validated); the result is validated against ``allowed``.
    """
    if size_average is None and reduce is None:
        return check_reduction(reduction, allowed)
    avg = True if size_average is None else _legacy_flag("size_average", size_average)
    red = True if reduce is None else _legacy_flag("reduce", reduce)
    resolved = "none" if not red else ("mean" if avg else "sum")
    return check_reduction(resolved, allowed)


def _shape_str(shape: Shape) -> str:
    return str(tuple(shape))


def broadcast_inputs(**arrays: np.ndarray) -> tuple[Shape, dict[str, np.ndarray]]:
    """Broadcast the arrays against each other with numpy's rules, in argument order.

    Returns the common shape and a dict of read-only broadcast views. If an argument does not
    broadcast with the shape of the arguments before it, raises ``OracleInputError`` naming
    that argument, e.g. ``"target: shape (3,) does not broadcast with input shape (2,)"``.
    """
    shape: Shape = ()
    names: list[str] = []
    for name, arr in arrays.items():
        try:
            shape = np.broadcast_shapes(shape, arr.shape)
        except ValueError:
            against = " and ".join(names) if names else "the others"
            raise OracleInputError(
                name,
                f"shape {_shape_str(arr.shape)} does not broadcast with "
                f"{against} shape {_shape_str(shape)}",
            ) from None
        names.append(name)
    return shape, {n: np.broadcast_to(a, shape) for n, a in arrays.items()}


def broadcast_weight(weight: np.ndarray, shape: Shape, name: str = "weight") -> np.ndarray:
    """Broadcast ``weight`` to ``shape`` (the unreduced loss); it may not enlarge it."""
    try:
        return np.broadcast_to(weight, shape)
    except ValueError:
        raise OracleInputError(
            name,
            f"shape {_shape_str(weight.shape)} does not broadcast to the unreduced loss "
            f"shape {_shape_str(shape)}",
        ) from None


def unbroadcast(grad: np.ndarray, shape: Shape) -> np.ndarray:
    """Sum ``grad`` (of a broadcast shape) back to ``shape``, the argument's original shape.

    The adjoint of ``np.broadcast_to(a, grad.shape)``: leading axes that broadcasting added
    are summed away, and axes where the argument had length 1 are summed with keepdims.
    """
    grad = np.asarray(grad, dtype=WORK)
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)), dtype=WORK)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True, dtype=WORK)
    return np.array(grad.reshape(shape), dtype=WORK)


def reduce_loss(loss: np.ndarray, reduction: str) -> np.ndarray:
    """Apply a documented reduction to the unreduced ``loss``.

    ``'none'`` returns the loss itself; ``'sum'`` its sum (0 for an empty loss); ``'mean'``
    "the sum of the output will be divided by the number of elements in the output", so the
    mean of an empty loss is 0/0 = NaN. Reductions return 0-d ``WORK`` arrays.
    """
    reduction = check_reduction(reduction)
    loss = np.asarray(loss, dtype=WORK)
    if reduction == "none":
        return loss
    with np.errstate(all="ignore"):
        total = np.sum(loss, dtype=WORK)
        if reduction == "sum":
            return np.asarray(total, dtype=WORK)
        return np.asarray(total / WORK(loss.size), dtype=WORK)


def weighted_mean(loss: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``sum(w * l) / sum(w)`` in ``WORK`` precision, as a 0-d array.

    ``weight`` must broadcast to the shape of ``loss``. When ``sum(w)`` is 0 the result is
    the IEEE quotient (NaN for 0/0). Not used by the pointwise losses, whose documented
    ``'mean'`` divides by the number of elements; kept for the weighted losses (NLL, ...).
    """
    loss = np.asarray(loss, dtype=WORK)
    w = broadcast_weight(as_work(weight, "weight"), loss.shape)
    with np.errstate(all="ignore"):
        num = np.sum(w * loss, dtype=WORK)
        den = np.sum(w, dtype=WORK)
        return np.asarray(num / den, dtype=WORK)


def reduction_grad(grad_output: Any, loss_shape: Shape, reduction: str) -> np.ndarray:
    """Gradient of the reduced output with respect to each unreduced element, times ``g``.

    ``grad_output`` (``g``) is the gradient flowing into the loss's output: ``None`` means
    ones of the output's shape. For ``'none'`` it must have the loss shape; for ``'sum'`` and
    ``'mean'`` it must be a scalar (0-d). The result has ``loss_shape``: ``g`` for ``'none'``,
    ``g`` broadcast for ``'sum'``, and ``g / N`` for ``'mean'`` with ``N`` the number of
    elements of the unreduced loss.
    """
    reduction = check_reduction(reduction)
    loss_shape = tuple(loss_shape)
    out_shape: Shape = loss_shape if reduction == "none" else ()
    if grad_output is None:
        g = np.ones(out_shape, dtype=WORK)
    else:
        g = as_work(grad_output, "grad_output")
        if g.shape != out_shape:
            raise OracleInputError(
                "grad_output",
                f"shape {_shape_str(g.shape)} is not the output shape {_shape_str(out_shape)}",
            )
    if reduction == "none":
        return g
    n = math.prod(loss_shape)
    with np.errstate(all="ignore"):
        scaled = g / WORK(n) if reduction == "mean" else g
    return np.broadcast_to(scaled, loss_shape).astype(WORK)


def finish_gradients(
    grads: Mapping[str, np.ndarray], shapes: Mapping[str, Shape]
) -> dict[str, np.ndarray]:
    """Unbroadcast each gradient to the original shape of its argument."""
    return {name: unbroadcast(g, shapes[name]) for name, g in grads.items()}


class Pointwise:
    """Broadcast operands of a pointwise loss ``l_n = f(x_n - y_n)``, all in ``WORK``.

    Attributes: ``x``, ``y`` (broadcast input and target), ``d = x - y``, ``shape`` (of the
    unreduced loss), ``w`` (the weight broadcast to ``shape``, or ``None``) and ``shapes``
    (each differentiable argument's original shape, for unbroadcasting gradients).
    """

    def __init__(self, input: Any, target: Any, weight: Any = None) -> None:
        x = as_work(input, "input")
        y = as_work(target, "target")
        self.shape, b = broadcast_inputs(input=x, target=y)
        self.x, self.y = b["input"], b["target"]
        self.shapes: dict[str, Shape] = {"input": x.shape, "target": y.shape}
        self.w: np.ndarray | None = None
        if weight is not None:
            w = as_work(weight, "weight")
            self.w = broadcast_weight(w, self.shape)
            self.shapes["weight"] = w.shape
        with np.errstate(all="ignore"):
            self.d = self.x - self.y

    def forward(self, loss: np.ndarray, reduction: str) -> np.ndarray:
        """Weight the unreduced ``loss`` (``w_n * l_n``) and reduce it."""
        if self.w is not None:
            with np.errstate(all="ignore"):
                loss = self.w * loss
        return reduce_loss(loss, reduction)

    def gradients(
        self, loss: np.ndarray, dloss_dd: np.ndarray, reduction: str, grad_output: Any
    ) -> dict[str, np.ndarray]:
        """Chain rule for ``L = reduce(w * f(x - y))`` given ``l = f(d)`` and ``f'(d)``.

        With ``r = dL/d(w_n l_n)`` from :func:`reduction_grad`:
        ``dL/dx_n = r_n w_n f'(d_n)``, ``dL/dy_n = -dL/dx_n``, ``dL/dw_n = r_n l_n``;
        each then summed back to its argument's original shape.
        """
        r = reduction_grad(grad_output, self.shape, reduction)
        with np.errstate(all="ignore"):
            gx = r * dloss_dd if self.w is None else r * self.w * dloss_dd
            grads = {"input": gx, "target": -gx}
            if self.w is not None:
                grads["weight"] = r * loss
        return finish_gradients(grads, self.shapes)


def sign(d: np.ndarray) -> np.ndarray:
    """``sign(d)`` with ``sign(±0) = 0``, ``sign(±inf) = ±1`` and ``sign(NaN) = NaN``."""
    return np.sign(d).astype(WORK)
