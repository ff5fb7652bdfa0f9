"""Timing of the CTC oracle against torch's CPU kernel and torch's Python reference.

Run ``python -m benchmarks.ctc_benchmark [--repeat N] [--quick]`` from the repository root.
A script, not a test: it prints a markdown table (median of ``--repeat`` runs per row).

Inputs (identical for every implementation): T = 1000 steps, N = 32 samples, C = 50
classes, S = 100 (padded targets, labels in [1, C), blank 0), log-probabilities the float64
log_softmax of seeded standard normal scores, int64 lengths, every input length T, target
lengths drawn in [S/2, S]. ``--quick``: T = 100 and S = 20 (a target of 100 labels does not
fit in 100 steps).

Rows: the oracle's forward (``ctc_loss``, reduction 'none') and forward + gradient
(``ctc_loss_gradients``, 'sum'); torch's native kernel (``torch.nn.functional.ctc_loss`` on
one thread) in float64 and float32, forward and forward + backward; the Python reference
``torch.testing._internal.common_nn.ctcloss_reference`` (needs ``expecttest``; skipped with
the reason when it cannot be imported). The sanity column is the largest absolute
difference of each row's per-sample losses (as float64) from the oracle's, and the count of
infinite losses: the reference multiplies float64 probabilities, which underflow once a loss
passes about 708 (every sample at T = 1000, where the losses are near 3600).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from oracle.ctc_loss import ctc_loss, ctc_loss_gradients

__all__ = ["Row", "Setup", "main", "make_inputs", "run"]


@dataclass
class Setup:
    T: int = 1000
    N: int = 32
    C: int = 50
    S: int = 100
    seed: int = 0


@dataclass
class Inputs:
    log_probs: np.ndarray  # (T, N, C) float64
    targets: np.ndarray  # (N, S) int64
    input_lengths: np.ndarray  # (N,) int64
    target_lengths: np.ndarray  # (N,) int64


@dataclass
class Row:
    name: str
    forward_s: float | None = None
    backward_s: float | None = None  # forward + backward (or + gradient)
    losses: np.ndarray | None = None  # per-sample losses as float64
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def make_inputs(setup: Setup) -> Inputs:
    rng = np.random.default_rng(setup.seed)
    z = rng.standard_normal((setup.T, setup.N, setup.C))
    m = z.max(axis=-1, keepdims=True)
    log_probs = z - (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))
    targets = rng.integers(1, setup.C, size=(setup.N, setup.S), dtype=np.int64)
    target_lengths = rng.integers(setup.S // 2, setup.S + 1, size=setup.N, dtype=np.int64)
    input_lengths = np.full(setup.N, setup.T, dtype=np.int64)
    return Inputs(log_probs, targets, input_lengths, target_lengths)


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def oracle_rows(inp: Inputs, repeat: int) -> tuple[Row, dict[str, int]]:
    args = (inp.log_probs, inp.targets, inp.input_lengths, inp.target_lengths)
    fwd_s, losses = median_time(lambda: ctc_loss(*args, reduction="none"), repeat)
    bwd_s, _ = median_time(lambda: ctc_loss_gradients(*args, reduction="sum"), repeat)
    peaks = {}
    for what, fn in (
        ("forward", lambda: ctc_loss(*args, reduction="none")),
        ("gradient", lambda: ctc_loss_gradients(*args, reduction="sum")),
    ):
        tracemalloc.start()
        fn()
        peaks[what] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    row = Row("oracle (numpy, long double)", fwd_s, bwd_s, np.asarray(losses, dtype=np.float64))
    return row, peaks


def torch_rows(inp: Inputs, repeat: int) -> list[Row]:
    import torch

    torch.set_num_threads(1)
    rows = []
    tg = torch.from_numpy(inp.targets)
    il = torch.from_numpy(inp.input_lengths)
    tl = torch.from_numpy(inp.target_lengths)
    for dtype in (torch.float64, torch.float32):
        lp = torch.from_numpy(inp.log_probs).to(dtype)
        fn = torch.nn.functional.ctc_loss

        def forward(lp=lp, fn=fn):
            with torch.no_grad():
                return fn(lp, tg, il, tl, reduction="none")

        def backward(lp=lp, fn=fn):
            x = lp.detach().requires_grad_()
            fn(x, tg, il, tl, reduction="sum").backward()
            return x.grad

        fwd_s, losses = median_time(forward, repeat)
        bwd_s, _ = median_time(backward, repeat)
        name = f"torch native CPU, {str(dtype).removeprefix('torch.')}"
        rows.append(Row(name, fwd_s, bwd_s, losses.double().numpy()))
    return rows


def reference_row(inp: Inputs, repeat: int) -> Row:
    name = "torch ctcloss_reference (Python)"
    try:
        import torch
        from torch.testing._internal.common_nn import ctcloss_reference
    except Exception as exc:
        return Row(name, note=f"skipped: {type(exc).__name__}: {exc}")
    torch.set_num_threads(1)
    lp = torch.from_numpy(inp.log_probs)
    tg = torch.from_numpy(inp.targets)
    il = torch.from_numpy(inp.input_lengths)
    tl = torch.from_numpy(inp.target_lengths)

    def forward():
        with torch.no_grad():
            return ctcloss_reference(lp, tg, il, tl, reduction="none")

    def backward():
        x = lp.detach().requires_grad_()
        ctcloss_reference(x, tg, il, tl, reduction="sum").backward()
        return x.grad

    fwd_s, losses = median_time(forward, repeat)
    try:
        bwd_s, _ = median_time(backward, repeat)
        note = ""
    except RuntimeError as exc:  # no autograd through the reference
        bwd_s, note = None, f"no backward: {exc}"
    return Row(name, fwd_s, bwd_s, losses.double().numpy(), note)


def run(setup: Setup, repeat: int) -> dict[str, Any]:
    """Every row, the oracle's peak memory and the lattice size, as a dict."""
    inp = make_inputs(setup)
    oracle, peaks = oracle_rows(inp, repeat)
    rows = [oracle, *torch_rows(inp, repeat), reference_row(inp, repeat)]
    lattice = setup.T * setup.N * (2 * setup.S + 1) * 16
    return {"setup": setup, "repeat": repeat, "rows": rows, "peaks": peaks, "lattice": lattice}


def _s(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def _difference(losses: np.ndarray, oracle: np.ndarray) -> str:
    """Max |loss - oracle| over the samples, and how many of this row's losses are not
    finite (the Python reference works with float64 probabilities: it underflows to p = 0,
    an infinite loss, once a loss passes about 708)."""
    bad = ~np.isfinite(losses)
    if not bad.any():
        return f"{np.max(np.abs(losses - oracle)):.3g}"
    finite = (
        f"{np.max(np.abs(losses - oracle)[~bad]):.3g} over the finite ones, "
        if (~bad).any()
        else ""
    )
    return f"{finite}{int(bad.sum())}/{bad.size} losses infinite"


def table(result: dict[str, Any]) -> str:
    setup, rows = result["setup"], result["rows"]
    oracle = rows[0]
    lines = [
        f"CTC, T={setup.T}, N={setup.N}, C={setup.C}, S={setup.S}, median of "
        f"{result['repeat']} runs, one thread",
        "",
        "| implementation | forward (s) | forward + backward (s) | oracle / this, forward "
        "| oracle / this, fwd + bwd | max abs loss diff vs oracle |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if row.forward_s is None:
            lines.append(f"| {row.name} | {row.note} | | | | |")
            continue
        diff = "-" if row is oracle else _difference(row.losses, oracle.losses)
        note = f" ({row.note})" if row.note else ""
        lines.append(
            f"| {row.name}{note} | {_s(row.forward_s)} | {_s(row.backward_s)} "
            f"| {_ratio(oracle.forward_s, row.forward_s)} "
            f"| {_ratio(oracle.backward_s, row.backward_s)} | {diff} |"
        )
    mib = 2.0**20
    lat = result["lattice"]
    lines += [
        "",
        f"Oracle peak memory (tracemalloc): forward {result['peaks']['forward'] / mib:.1f} MiB, "
        f"forward + gradient {result['peaks']['gradient'] / mib:.1f} MiB; "
        f"T*N*(2S+1)*16 bytes = {lat / mib:.1f} MiB "
        f"(ratios {result['peaks']['forward'] / lat:.2f} and "
        f"{result['peaks']['gradient'] / lat:.2f}).",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (median)")
    parser.add_argument("--quick", action="store_true", help="T=100, S=20: a smoke run")
    args = parser.parse_args(argv)
    setup = Setup(T=100, S=20) if args.quick else Setup()
    result = run(setup, max(1, args.repeat))
    print(table(result))
    return result


if __name__ == "__main__":
    main()
