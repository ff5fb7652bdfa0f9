"""Budgets of the acceptance rules, loaded from ``fixtures/tolerances.toml``.

Every budget carries its derivation; the loader refuses one without. The last entry that
matches a (spec, quantity, dtype, device) wins, so the file reads from general to specific.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

TOLERANCES = Path(__file__).resolve().parent.parent / "fixtures" / "tolerances.toml"
QUANTITIES = ("output", "gradient")
FIELDS = {"losses", "quantity", "dtypes", "devices", "ulp", "terms_u", "sum_steps"}
FIELDS |= {"floor_subnormals", "derivation"}


@dataclass(frozen=True)
class Budget:
    losses: tuple[str, ...]
    quantity: str
    dtypes: tuple[str, ...]
    devices: tuple[str, ...]
    ulp: float
    terms_u: float
    sum_steps: float
    floor_subnormals: float
    derivation: str

    def matches(self, spec: str, quantity: str, dtype: str, device: str) -> bool:
        dev = device.split(":")[0]
        return (
            quantity == self.quantity
            and any(
                spec == p or fnmatchcase(spec, p) or spec.split("[")[0] == p for p in self.losses
            )
            and any(fnmatchcase(dtype, p) for p in self.dtypes)
            and any(fnmatchcase(dev, p) for p in self.devices)
        )


def parse_budgets(text: str, source: str = "<string>") -> tuple[Budget, ...]:
    data = tomllib.loads(text)
    out = []
    for i, raw in enumerate(data.get("budget", [])):
        where = f"{source}: budget #{i + 1}"
        missing = FIELDS - set(raw)
        if missing:
            raise ValueError(f"{where} lacks {sorted(missing)}")
        extra = set(raw) - FIELDS
        if extra:
            raise ValueError(f"{where} has unknown fields {sorted(extra)}")
        if not str(raw["derivation"]).strip():
            raise ValueError(f"{where}: a budget needs its derivation")
        if raw["quantity"] not in QUANTITIES:
            raise ValueError(f"{where}: quantity must be one of {QUANTITIES}")
        out.append(
            Budget(
                losses=tuple(raw["losses"]),
                quantity=raw["quantity"],
                dtypes=tuple(raw["dtypes"]),
                devices=tuple(raw["devices"]),
                ulp=float(raw["ulp"]),
                terms_u=float(raw["terms_u"]),
                sum_steps=float(raw["sum_steps"]),
                floor_subnormals=float(raw["floor_subnormals"]),
                derivation=str(raw["derivation"]).strip(),
            )
        )
    return tuple(out)


@cache
def load_budgets(path: Path = TOLERANCES) -> tuple[Budget, ...]:
    return parse_budgets(path.read_text(), str(path))


def budget_for(spec: str, quantity: str, dtype: str, device: str) -> Budget:
    chosen = None
    for b in load_budgets():
        if b.matches(spec, quantity, dtype, device):
            chosen = b
    if chosen is None:
        raise LookupError(f"no budget in {TOLERANCES} for {spec} {quantity} {dtype} {device}")
    return chosen
