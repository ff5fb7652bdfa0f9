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


def _int_literal(a: np.ndarray) -> str:
    return "[" + ", ".join(str(int(v)) for v in a.ravel()) + "]"


def sequence_expr(name: str, a: np.ndarray, kind: str) -> str:
    """``name = [...]`` (or a tuple, or an int for a 0-d array): a Python sequence input."""
    if np.ndim(a) == 0:
        return f"{name} = {int(a)}"
    values = ", ".join(str(int(v)) for v in np.ravel(a))
    return f"{name} = ({values},)" if kind == "tuple" else f"{name} = [{values}]"


def tensor_expr(name: str, a: np.ndarray, dtype: str, device: str, source: str | None) -> str:
    """``name = torch.tensor(...)`` rebuilding ``a`` bit for bit: floating arrays at the
    test dtype, integer arrays (class indices, lengths) at their own integer dtype."""
    shape = tuple(a.shape)
    if not np.issubdtype(a.dtype, np.floating):
        if source is not None:
            return f"{name} = torch.from_numpy({source}).reshape({shape}).to({device!r})"
        if a.size > INLINE_LIMIT:
            return f"{name} = ...  # {shape} array too large to inline; rerun the test to see it"
        int_dtype = "int64" if a.dtype == np.int64 else str(a.dtype)
        return (
            f"{name} = torch.tensor({_int_literal(a)}, dtype=torch.{int_dtype})"
            f".reshape({shape}).to({device!r})"
        )
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
        *spec.reproducer_imports,
        "nan, inf = float('nan'), float('inf')",
    ]
    if case.sources:
        lines.append(
            "from suites.strategies import bulk_classes, bulk_scores, bulk_values"
            "  # pip install -e . first"
        )
    for name, a in case.inputs.items():
        if name in case.sequences:
            lines.append(sequence_expr(name, a, case.sequences[name]))
        else:
            lines.append(tensor_expr(name, a, case.dtype, device, case.sources.get(name)))
    for g in grads:
        lines.append(f"{g}.requires_grad_(True)")
    pos = ", ".join(a.passed_as or a.name for a in spec.args if a.positional)
    options = case.options
    if spec.torch_options:
        try:
            options = spec.torch_options(case.options)
        except Exception as exc:  # this torch cannot build them: say so, never crash
            lines.append(f"# torch cannot build these options: {type(exc).__name__}: {exc}")
    tensor_kw = {a.name: a for a in spec.args if a.name in case.keyword_tensors}
    if case.api == "functional":
        args = ", ".join(
            x for x in (pos, ", ".join(f"{k}={k}" for k in tensor_kw), _kwargs(options)) if x
        )
        lines.append(f"loss = F.{spec.functional}({args})")
    elif spec.module_reproducer is not None:
        lines.extend(spec.module_reproducer(case))
    else:
        init = ", ".join(
            x
            for x in (
                ", ".join(f"{k}={k}" for k, a in tensor_kw.items() if a.module_init),
                _kwargs(options),
            )
            if x
        )
        fwd = ", ".join(
            x
            for x in (pos, ", ".join(f"{k}={k}" for k, a in tensor_kw.items() if not a.module_init))
            if x
        )
        lines.append(f"loss = torch.nn.{spec.loss}({init})({fwd})")
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
