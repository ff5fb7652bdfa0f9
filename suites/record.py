"""The JSON record of one compared case: one shape for every test that records.

Identity (test, kind, spec, loss, variant, api, device, dtype, reduction), the case (kwargs
with tensors shown as "<tensor>", shapes, regime, features), and the judgement (verdict,
rule, quantity, message, max abs/rel/ULP error, registry ids, reproducer).
"""

from __future__ import annotations

from typing import Any

from suites.case import LossCase


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
) -> dict[str, Any]:
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
        "verdict": verdict,
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
