"""Measure the oracle's worst forward error against mpmath (50 digits), in float64 ULPs.

For each loss, over seeded random inputs (several scales, float64/float32/float16, with
broadcasting) and the all-pairs grid of edge values (±0, subnormals, 1e±300, the largest
float, ±inf, NaN), every reduction, every option (weight, delta, beta including 0, legacy
size_average/reduce pairs): the oracle's result is rounded to float64 and compared with the
mpmath value of the independent reference in ``tests/mp_reference.py``. Weights are
non-negative here (a signed weighted sum can cancel without bound; the tests budget that
separately). A class mismatch (NaN/inf vs finite) is reported as ``inf``.

Usage: ``python tools/measure_oracle_ulp.py [--cases N] [--seed S]``
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import oracle  # noqa: E402
from tests import mp_reference as ref  # noqa: E402

EDGE = ref.EDGE
THRESHOLDS = [5e-324, 1e-300, 1e-8, 0.25, 1.0, 2.0, 3.0, 1e8, 1e300, math.inf]
SCALES = [1e-300, 1e-100, 1e-8, 1.0, 1e8, 1e100, 1e300]


def options(loss: str, rng: np.random.Generator) -> list[dict]:
    opts: list[dict] = [{}]
    if loss == "huber_loss":
        opts = [{"delta": t} for t in THRESHOLDS] + [{"delta": float(rng.uniform(0.1, 5))}]
    if loss == "smooth_l1_loss":
        opts = [{"beta": t} for t in [0.0, *THRESHOLDS]] + [{"beta": float(rng.uniform(0, 5))}]
    return opts


def random_case(rng: np.random.Generator):
    xs = tuple(int(n) for n in rng.integers(1, 5, size=rng.integers(0, 3)))
    ys = tuple(n if rng.random() < 0.7 else 1 for n in xs[int(rng.integers(0, len(xs) + 1)) :])
    dtype = rng.choice([np.float64, np.float64, np.float32, np.float16])
    scale = rng.choice(SCALES) if dtype == np.float64 else 1.0
    x = (rng.standard_normal(xs) * scale).astype(dtype)
    y = (rng.standard_normal(ys) * scale).astype(dtype)
    if rng.random() < 0.2:  # sprinkle edge values
        x = x.astype(np.float64)
        x.flat[int(rng.integers(0, x.size))] = rng.choice(EDGE)
    if rng.random() < 0.2:  # ties
        x = np.broadcast_to(y, np.broadcast_shapes(x.shape, y.shape)).copy()
    return x, y


def measure(loss: str, cases: int, rng: np.random.Generator) -> tuple[float, float, int, str]:
    worst_none, worst_red, count, where = 0.0, 0.0, 0, ""
    f = getattr(oracle, loss)
    grid = (np.array(EDGE)[:, None], np.array(EDGE)[None, :])
    finite = [v for v in EDGE if math.isfinite(v)]
    fgrid = (np.array(finite)[:, None], np.array(finite)[None, :])
    inputs = [grid, fgrid] + [random_case(rng) for _ in range(cases)]
    legacy = list(ref.LEGACY) if ref.HAS_LEGACY[loss] else [(None, None)]
    for x, y in inputs:
        shape = np.broadcast_shapes(np.shape(x), np.shape(y))
        weights = [None]
        if ref.HAS_WEIGHT[loss]:
            weights.append(rng.random(shape[-1:]) * float(rng.choice([1e-3, 1.0, 1e3])))
        for opt in options(loss, rng):
            for w in weights:
                for red in ("none", "mean", "sum"):
                    for sa, rd in legacy if red == "mean" else [(None, None)]:
                        kw = dict(reduction=red, weight=w, size_average=sa, reduce=rd, **opt)
                        got = f(x, y, **ref.call_kwargs(loss, **kw))
                        want = ref.reference(loss, x, y, **kw)
                        err = ref.max_ulp_error(got, want)
                        count += int(np.size(got))
                        eff = ref.effective_reduction(red, sa, rd)
                        if eff == "none" and err > worst_none:
                            worst_none, where = err, f"none {opt} x={x!r} y={y!r}"
                        if eff != "none" and err > worst_red:
                            worst_red = err
    return worst_none, worst_red, count, where


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=300, help="random input pairs per loss")
    ap.add_argument("--seed", type=int, default=20240)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"WORK = {np.dtype(oracle.WORK).name}, eps = {np.finfo(oracle.WORK).eps:.3g}")
    print(f"mpmath dps = {ref.mp.dps}, seed = {args.seed}, random cases/loss = {args.cases}")
    print(f"{'loss':16} {'worst ULP (none)':>17} {'worst ULP (mean/sum)':>21} {'values':>8}")
    for loss in ref.LOSSES:
        t0 = time.perf_counter()
        wn, wr, n, _ = measure(loss, args.cases, rng)
        dt = time.perf_counter() - t0
        print(f"{loss:16} {wn:17.4f} {wr:21.4f} {n:8d}   ({dt:.1f} s)")


if __name__ == "__main__":
    main()
