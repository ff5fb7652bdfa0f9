"""Golden cases: hand-derived values from fixtures/golden/*.toml, with their derivations."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "golden"
TENSORS = (
    "input",
    "input1",
    "input2",
    "anchor",
    "positive",
    "negative",
    "target",
    "var",
    "weight",
)


@dataclass(frozen=True)
class Golden:
    name: str
    function: str
    tensors: dict[str, np.ndarray]
    options: dict[str, Any]
    expected: np.ndarray
    tolerance_ulp: float
    derivation: str


def load_golden(directory: Path = GOLDEN) -> list[Golden]:
    cases = []
    for path in sorted(directory.glob("*.toml")):
        for raw in tomllib.loads(path.read_text()).get("case", []):
            if not str(raw.get("derivation", "")).strip():
                raise ValueError(f"{path}: golden case {raw.get('name')} has no derivation")
            cases.append(
                Golden(
                    name=raw["name"],
                    function=raw["function"],
                    tensors={k: np.asarray(raw[k], dtype=np.float64) for k in TENSORS if k in raw},
                    options=dict(raw.get("options", {})),
                    expected=np.asarray(raw["expected"], dtype=np.float64),
                    tolerance_ulp=float(raw.get("tolerance_ulp", 0.0)),
                    derivation=raw["derivation"],
                )
            )
    return cases
