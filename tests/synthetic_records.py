"""One synthetic case record in the harness's schema (``suites/record.py``), for the report
tests: a passing float32 CPU forward case of ``spec``; keywords override any field."""

from __future__ import annotations

from typing import Any


def synthetic_record(spec: str = "HuberLoss", **over: Any) -> dict[str, Any]:
    """A record of ``spec``; ``test`` follows the spec and dtype unless given."""
    dtype = over.get("dtype", "float32")
    base: dict[str, Any] = {
        "test": f"suites/test_forward.py::test_forward[{spec}-{dtype}-cpu-functional-mean]",
        "kind": "forward",
        "spec": spec,
        "loss": spec.split("[")[0],
        "variant": "",
        "api": "functional",
        "device": "cpu",
        "dtype": dtype,
        "reduction": "mean",
        "kwargs": {"reduction": "mean"},
        "shapes": {"input": [3, 4], "target": [3, 4]},
        "regime": "well",
        "features": [],
        "case_id": "0" * 16,
        "verdict": "pass",
        "outcome": "finite",
        "rule": None,
        "quantity": "output",
        "message": "",
        "max_abs": 1e-7,
        "max_rel": 1e-7,
        "max_ulp": 0.5,
        "known_id": None,
        "reproducer": "import torch\n",
    }
    base.update(over)
    return base
