"""Runs torch calls that may read or write out of bounds in a separate process.

An invalid class index (``target >= C``) is checked by torch's CPU kernels, but a kernel
that misses the check reads or writes outside its buffers, and on CUDA the check is a
device-side assert that poisons the whole process. So the suite never makes such a call in
its own process: ``run_isolated`` pickles the cases to ``python -m suites.isolated``, which
runs each one forward only (never a backward) and sends back what torch did: the value, the
exception's type and message, the warnings. A process that dies (a segfault, an abort) is
reported as such for every case it was running, never as a crash of the suite.

On the CPU one process runs a whole batch; on any other device each case gets its own
process, so that one device-side assert cannot be blamed on the cases after it.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300


@dataclass(frozen=True)
class Job:
    """What the child needs to rebuild a case: everything but the spec object itself."""

    spec: str
    dtype: str
    api: str
    inputs: dict[str, np.ndarray]
    options: dict[str, Any]
    reduction: str
    sequences: dict[str, str]


class IsolatedError(Exception):
    """An exception torch raised in the child process, by type name and message."""

    def __init__(self, type_name: str, message: str) -> None:
        self.type_name = type_name
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.type_name}: {self.args[0]}"


def job_of(case: Any) -> Job:
    return Job(
        case.spec.name,
        case.dtype,
        case.api,
        case.inputs,
        case.options,
        case.reduction,
        case.sequences,
    )


def run_isolated(cases: list[Any], device: str) -> list[Any]:
    """The Outcome of each case, each run forward in a child process."""
    from suites.targets import Outcome

    jobs = [job_of(c) for c in cases]
    on_cpu = device.split(":")[0] == "cpu"
    batches = ([jobs] if jobs else []) if on_cpu else [[j] for j in jobs]
    outcomes: list[Outcome] = []
    for batch in batches:
        outcomes.extend(_run_batch(batch, device))
    return outcomes


def _run_batch(jobs: list[Job], device: str) -> list[Any]:
    from suites.targets import Outcome

    payload = pickle.dumps((device, jobs))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "suites.isolated"],
            input=payload,
            capture_output=True,
            cwd=ROOT,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        died = IsolatedError("TimeoutExpired", f"the isolated process ran past {TIMEOUT_S} s")
        return [Outcome(exception=died) for _ in jobs]
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        died = IsolatedError(
            "ProcessDied",
            f"the isolated process exited with status {proc.returncode}: {' | '.join(tail)}",
        )
        return [Outcome(exception=died) for _ in jobs]
    results = pickle.loads(proc.stdout)
    out = []
    for r in results:
        exc = None if r["error"] is None else IsolatedError(*r["error"])
        out.append(
            Outcome(value=r["value"], dtype=r["dtype"], exception=exc, warnings=r["warnings"])
        )
    return out


def _child() -> None:
    import torch

    from suites.case import LossCase
    from suites.specs import by_name
    from suites.targets import TorchTarget

    torch.set_num_threads(1)
    device, jobs = pickle.loads(sys.stdin.buffer.read())
    target = TorchTarget(device)
    results = []
    for j in jobs:
        case = LossCase(
            by_name(j.spec),
            j.dtype,
            j.api,
            "invalid",
            j.inputs,
            j.options,
            j.reduction,
            sequences=j.sequences,
        )
        o = target.run(case)  # forward only: never a backward on such an input
        err = None if o.exception is None else (type(o.exception).__name__, str(o.exception))
        results.append({"value": o.value, "dtype": o.dtype, "error": err, "warnings": o.warnings})
    sys.stdout.buffer.write(pickle.dumps(results))


if __name__ == "__main__":
    _child()
