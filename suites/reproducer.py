"""A runnable torch snippet that reproduces one case, for failure messages and records.

Values are written as the exact float64 of each element (every float16, bfloat16 and
float32 value is a float64), then cast to the test dtype, which is exact. Arrays drawn from
a seeded generator are rebuilt from their seed instead of being inlined.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from suites.case import LossCase

INLINE_LIMIT = 256


def _literal(a: np.ndarray) -> str:
    def one(v: float) -> str:
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(float(v))

    flat = ", ".join(one(v) for v in a.astype(np.float64).ravel())
    return f"[{flat}]"


def tensor_expr(name: str, a: np.ndarray, dtype: str, device: str, source: str | None) -> str:
    shape = tuple(a.shape)
    if source is not None:
        values = f"torch.from_numpy({source}).double()"
    elif a.size > INLINE_LIMIT:
        return f"{name} = ...  # {shape} array too large to inline; rerun the test to see it"
    else:
        values = f"torch.tensor({_literal(a)}, dtype=torch.float64)"
    return f"{name} = {values}.reshape({shape}).to(torch.{dtype}).to({device!r})"


def _kwargs(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


def reproducer(
    case: LossCase,
    device: str,
    grad_output: np.ndarray | None = None,
    grads: tuple[str, ...] = (),
) -> str:
    """Python source that runs the case on torch and prints the loss (and gradients)."""
    spec = case.spec
    lines = [
        "import torch",
        "import torch.nn.functional as F",
        "nan, inf = float('nan'), float('inf')",
    ]
    if case.sources:
        lines.append("from suites.strategies import bulk_values  # pip install -e . first")
    for name, a in case.inputs.items():
        lines.append(tensor_expr(name, a, case.dtype, device, case.sources.get(name)))
    for g in grads:
        lines.append(f"{g}.requires_grad_(True)")
    pos = ", ".join(a.name for a in spec.args if a.positional)
    kw_tensors = {n: n for n in case.keyword_tensors}
    if case.api == "functional":
        args = ", ".join(
            x
            for x in (
                pos,
                ", ".join(f"{k}={v}" for k, v in kw_tensors.items()),
                _kwargs(case.options),
            )
            if x
        )
        lines.append(f"loss = F.{spec.functional}({args})")
    else:
        init = {k: v for k, v in case.options.items()}
        lines.append(f"loss = torch.nn.{spec.loss}({_kwargs(init)})({pos})")
    lines.append("print(loss)")
    if grads:
        if grad_output is not None:
            source = case.sources.get("grad_output")
            lines.append(tensor_expr("grad_output", grad_output, case.dtype, device, source))
            lines.append("loss.backward(grad_output)")
        else:
            lines.append("loss.backward()")
        lines.extend(f"print({g!r}, {g}.grad)" for g in grads)
    return "\n".join(lines)
