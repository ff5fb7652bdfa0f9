"""The JSON record of one compared case: one shape for every test that records.

Identity (test, kind, spec, loss, variant, api, device, dtype, reduction), the case (kwargs
with tensors shown as "<tensor>", shapes, regime, features, and ``case_id``: a digest of
the exact inputs), and the judgement (verdict, rule, quantity, torch's ``outcome`` class,
message, max abs/rel/ULP error, registry ids, reproducer).

``case_id`` depends only on what was drawn (never on torch), so two runs of the
derandomized profile on two torch releases can be matched case by case
(``python -m reports diff``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from suites.case import LossCase


def case_digest(case: LossCase, grad_output: np.ndarray | None = None) -> str:
    """16 hex digits of SHA-256 over the case's spec, api, dtype, reduction, regime, options
    and every input (name, dtype, shape and bytes), plus the upstream gradient if any."""
    h = hashlib.sha256()

    def add(label: str, value: object) -> None:
        h.update(label.encode())
        h.update(b"\0")
        h.update(value if isinstance(value, bytes) else repr(value).encode())
        h.update(b"\0")

    add("spec", case.spec.name)
    add("api", case.api)
    add("dtype", case.dtype)
    add("reduction", case.reduction)
    add("regime", case.regime)
    for name in sorted(case.options):
        add(f"option:{name}", case.options[name])
    arrays = dict(case.inputs)
    if grad_output is not None:
        arrays["<grad_output>"] = np.asarray(grad_output)
    for name in sorted(arrays):
        a = np.asarray(arrays[name])  # its own shape: ascontiguousarray makes 0-d into (1,)
        add(f"input:{name}", (str(a.dtype), a.shape, case.sequences.get(name)))
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def case_record(
    test_id: str,
    kind: str,
    case: LossCase,
    device: str,
    verdict: str,
    quantity: str,
    comparison: Any = None,
    known: list[str] | tuple[str, ...] = (),
    reproducer: str = "",
    message: str = "",
    outcome: str | None = None,
    grad_output: np.ndarray | None = None,
) -> dict[str, Any]:
    """One record; ``outcome`` is torch's result class (:func:`outcome_class`)."""
    kwargs: dict[str, Any] = dict(case.options)
    for name in case.keyword_tensors:
        kwargs[name] = "<tensor>"
    spec = case.spec
    return {
        "test": test_id,
        "kind": kind,
        "spec": spec.name,
        "loss": spec.loss,
        "variant": spec.variant,
        "api": case.api,
        "device": device,
        "dtype": case.dtype,
        "reduction": case.reduction,
        "kwargs": kwargs,
        "shapes": case.shapes,
        "regime": case.regime,
        "features": sorted(case.features),
        "case_id": case_digest(case, grad_output),
        "verdict": verdict,
        "outcome": outcome,
        "rule": getattr(comparison, "rule", None),
        "quantity": quantity,
        "message": message or getattr(comparison, "message", ""),
        "max_abs": getattr(comparison, "max_abs", None),
        "max_rel": getattr(comparison, "max_rel", None),
        "max_ulp": getattr(comparison, "max_ulp", None),
        "known_id": ",".join(known) or None,
        "reproducer": reproducer,
    }


def presence_record(
    test_id: str,
    spec: Any,
    api: str,
    device: str,
    dtype: str,
    reduction: str,
    name: str,
    torch_version: str,
) -> dict[str, Any]:
    """A loss, option or tensor argument this torch lacks (verdict ``absent``)."""
    return {
        "test": test_id,
        "kind": "presence",
        "spec": spec.name,
        "loss": spec.loss,
        "variant": spec.variant,
        "api": api,
        "device": device,
        "dtype": dtype,
        "reduction": reduction,
        "kwargs": {},
        "verdict": "absent",
        "quantity": name,
        "message": f"torch {torch_version} has no {name!r} for {spec.name} ({api})",
    }


def outcome_class(
    value: Any = None, exception: BaseException | None = None, comparison: Any = None
) -> str:
    """Torch's result class, what a release diff compares: ``raises <ExceptionType>``,
    ``none`` (no value, e.g. no gradient), ``nan`` (any NaN), ``inf`` (any infinity) or
    ``finite``; a gradient that is the other one-sided derivative at a tie, or the spec's
    alternative quantity, adds `` (other side at tie)`` or `` (<label>)``."""
    if exception is not None:
        # an exception from an isolated child process carries its original type's name
        return f"raises {getattr(exception, 'type_name', type(exception).__name__)}"
    if value is None:
        return "none"
    with np.errstate(all="ignore"):
        a = np.asarray(value, dtype=np.float64)
        base = "nan" if np.isnan(a).any() else "inf" if np.isinf(a).any() else "finite"
    if getattr(comparison, "other_side", False):
        return base + " (other side at tie)"
    label = getattr(comparison, "alternative", None)
    return f"{base} ({label})" if label else base
