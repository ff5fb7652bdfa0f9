"""Oracle for ``torch.nn.functional.linear_cross_entropy`` / ``torch.nn.LinearCrossEntropyLoss``.

Documentation: torch 2.13 (new in 2.13). Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._classification import check_ignore_index
from ._common import WORK, OracleInputError, as_work, check_reduction
from .cross_entropy import DEFAULT_IGNORE_INDEX, CrossEntropyTerms

__all__ = ["linear_cross_entropy", "linear_cross_entropy_gradients"]


class _Linear:
    """The logits ``linear(input, linear_weight) + linear_bias`` in ``WORK``, exactly summed.

    Unbatched: ``z_c = sum_i W_{c,i} x_i + b_c`` of shape ``(C,)``. Batched:
    ``z_{n,c,d} = sum_i x_{n,i} W_{c,d,i} + b_{c,d}`` of shape ``(N, C, d_1, ..., d_K)``.
    """

    def __init__(self, input: Any, linear_weight: Any, linear_bias: Any) -> None:
        self.x = x = as_work(input, "input")
        self.w = w = as_work(linear_weight, "linear_weight")
        if x.ndim not in (1, 2):
            raise OracleInputError(
                "input", f"is {x.ndim}-d: expected (in_features,) or (N, in_features)"
            )
        if w.ndim < 2:
            raise OracleInputError(
                "linear_weight",
                f"is {w.ndim}-d: expected (C, in_features) or (C, d_1, ..., d_K, in_features)",
            )
        if w.shape[-1] != x.shape[-1]:
            raise OracleInputError(
                "linear_weight",
                f"last dimension {w.shape[-1]} is not in_features = {x.shape[-1]} of input "
                f"shape {tuple(x.shape)}",
            )
        if w.ndim > 2 and x.ndim == 1:
            raise OracleInputError(
                "input",
                f"is unbatched {tuple(x.shape)}, but the K-dimensional linear_weight "
                f"{tuple(w.shape)} requires batched input (N, in_features)",
            )
        self.b = None
        if linear_bias is not None:
            self.b = as_work(linear_bias, "linear_bias")
            if self.b.shape != w.shape[:-1]:
                raise OracleInputError(
                    "linear_bias",
                    f"shape {tuple(self.b.shape)} is not (C, d_1, ..., d_K) = "
                    f"{tuple(w.shape[:-1])} of linear_weight shape {tuple(w.shape)}",
                )
        with np.errstate(all="ignore"):
            z = np.tensordot(x, w, axes=([x.ndim - 1], [w.ndim - 1])).astype(WORK)
            if self.b is not None:
                z = z + self.b
        self.logits = np.array(z, dtype=WORK)

    def backward(self, dz: np.ndarray) -> dict[str, np.ndarray]:
        """``dL/dinput``, ``dL/dlinear_weight`` and ``dL/dlinear_bias`` from ``dL/dz``."""
        x, w = self.x, self.w
        outer = dz.ndim - (x.ndim - 1)  # the axes of dz that index (C, d_1, ..., d_K)
        with np.errstate(all="ignore"):
            if x.ndim == 1:
                gx = np.tensordot(dz, w, axes=(list(range(dz.ndim)), list(range(outer))))
                gw = np.multiply.outer(dz, x)
                gb = dz
            else:
                axes = list(range(1, dz.ndim))
                gx = np.tensordot(dz, w, axes=(axes, list(range(outer))))
                gw = np.tensordot(dz, x, axes=([0], [0]))
                gb = np.sum(dz, axis=0, dtype=WORK)
        out = {
            "input": np.array(gx, dtype=WORK).reshape(x.shape),
            "linear_weight": np.array(gw, dtype=WORK).reshape(w.shape),
        }
        if self.b is not None:
            out["linear_bias"] = np.array(gb, dtype=WORK).reshape(self.b.shape)
        return out


def _terms(
    input: Any,
    linear_weight: Any,
    target: Any,
    linear_bias: Any,
    weight: Any,
    reduction: str,
    ignore_index: Any,
    label_smoothing: Any,
) -> tuple[_Linear, CrossEntropyTerms]:
    red = check_reduction(reduction)
    ii = DEFAULT_IGNORE_INDEX if ignore_index is None else check_ignore_index(ignore_index)
    lin = _Linear(input, linear_weight, linear_bias)
    return lin, CrossEntropyTerms(lin.logits, target, weight, ii, red, label_smoothing)


def linear_cross_entropy(
    input: Any,
    linear_weight: Any,
    target: Any,
    *,
    linear_bias: Any = None,
    weight: Any = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: Any = None,
) -> np.ndarray:
    r"""Cross entropy of linearly transformed inputs (Documentation: torch 2.13).

    Documented as equivalent to::

      logits = linear(input, linear_weight)
      loss = cross_entropy(logits, target, **kwargs)

    with ``linear_bias`` "added to the linear projection (shape (C,) or (C, d_1, ..., d_K)
    for K-dimensional loss, matching linear_weight)". Shapes: input ``(in_features)`` or
    ``(N, in_features)``; linear weight ``(C, in_features)`` or ``(C, d_1, ..., d_K,
    in_features)``, and "multi-dimensional weights (K > 0) require batched input"; the
    logits are then ``(C)``, ``(N, C)`` or ``(N, C, d_1, ..., d_K)``. The cross entropy is
    :func:`oracle.cross_entropy` (every reading documented there) with ``weight``,
    ``reduction``, ``label_smoothing`` and ``ignore_index``, whose default ``None`` "is
    mapped to -100" for class indices. With probability targets, to which it "is only
    applicable when the target contains class indices", ``None`` and -100 (the value with
    which the documented reference ``cross_entropy`` accepts them) are accepted, any other
    value raises.

    The logits are formed exactly from the inputs in ``WORK`` precision (no rounding to the
    inputs' dtype). ``options`` (``LinearCrossEntropyOptions``: chunking and accumulation
    settings) is accepted whatever it is and ignored: it selects an implementation, and the
    documented value is that of the reference formula above.
    """
    del options
    lin, terms = _terms(
        input,
        linear_weight,
        target,
        linear_bias,
        weight,
        reduction,
        ignore_index,
        label_smoothing,
    )
    del lin
    return terms.reduce()


def linear_cross_entropy_gradients(
    input: Any,
    linear_weight: Any,
    target: Any,
    *,
    linear_bias: Any = None,
    weight: Any = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: Any = None,
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`linear_cross_entropy` (Documentation: torch 2.13; by hand).

    With ``G = dL/dz`` the logit gradient of :func:`oracle.cross_entropy` (derived there)
    and ``z_{n,c,d} = sum_i x_{n,i} W_{c,d,i} + b_{c,d}``::

        dL/dx_{n,i}   = sum_{c,d} G_{n,c,d} W_{c,d,i}
        dL/dW_{c,d,i} = sum_n G_{n,c,d} x_{n,i}
        dL/db_{c,d}   = sum_n G_{n,c,d}

    (unbatched: drop ``n``). Keys: ``"input"``, ``"linear_weight"``, ``"linear_bias"`` when a
    bias is given, and with probability targets ``"target"`` and ``"weight"`` (when given)
    as for cross_entropy. torch 2.13 differentiates exactly these: with class indices it
    refuses ``weight`` ("'nll_loss_forward' is not differentiable with respect to argument
    'weight'"). ``options`` is ignored; ``grad_output`` defaults to ones.
    """
    del options
    lin, terms = _terms(
        input,
        linear_weight,
        target,
        linear_bias,
        weight,
        reduction,
        ignore_index,
        label_smoothing,
    )
    grads = terms.gradients(grad_output)
    out = lin.backward(terms.rows.to_input_layout(grads.pop("logits")))
    if "target" in grads:
        out["target"] = terms.rows.to_input_layout(grads["target"])
    if "weight" in grads:
        out["weight"] = grads["weight"]
    return out
