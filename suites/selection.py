"""What a run covers: the specs, dtypes, devices and apis chosen on the command line."""

from __future__ import annotations

from dataclasses import dataclass

from suites.dtypes import DTYPE_NAMES
from suites.specs import APIS, LossSpec, select


@dataclass(frozen=True)
class Selection:
    specs: tuple[LossSpec, ...]
    dtypes: tuple[str, ...]
    devices: tuple[str, ...]
    apis: tuple[str, ...]


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def default_devices() -> list[str]:
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def check_device(device: str) -> str:
    """Accept any device string torch accepts and can allocate on; refuse the rest clearly."""
    import torch

    try:
        torch.empty(1, device=device)
    except Exception as exc:
        raise ValueError(f"--device {device!r} is not usable by this torch: {exc}") from None
    return device


def selection_from(config) -> Selection:
    dtypes = _split(config.getoption("--dtype")) or list(DTYPE_NAMES)
    bad = [d for d in dtypes if d not in DTYPE_NAMES]
    if bad:
        raise ValueError(f"--dtype: unknown {bad}; choose from {', '.join(DTYPE_NAMES)}")
    apis = _split(config.getoption("--api")) or list(APIS)
    bad = [a for a in apis if a not in APIS]
    if bad:
        raise ValueError(f"--api: unknown {bad}; choose from {', '.join(APIS)}")
    devices = _split(config.getoption("--device")) or default_devices()
    devices = [check_device(d) for d in devices]
    specs = select(config.getoption("--loss"))
    return Selection(tuple(specs), tuple(dtypes), tuple(devices), tuple(apis))


def for_specs(predicate):
    """Parametrize a test's ``spec_combo``/``combo`` only over specs the predicate accepts."""

    def mark(fn):
        fn.spec_filter = predicate
        return fn

    return mark
