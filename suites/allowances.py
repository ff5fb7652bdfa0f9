"""What the acceptance rules allow beyond the budgets, derived from the case itself.

Rule 3's ``floor`` and rule 4's ``bound`` depend on the case: a weight or a grad_output
applied after an intermediate underflowed amplifies the underflow (``floor_scale``); a
gradient seed s * g * w that is subnormal carries its rounding into every element built
from it (``scale_underflow_bound``). ``derived_features`` names the cases where an
intermediate can overflow or underflow the dtype, for the registry's precision entries.
Each function documents the derivation it implements.
"""

from __future__ import annotations

import math

import numpy as np

from suites.case import LossCase
from suites.dtypes import ACCUMULATION, info, overflow_threshold


def floor_scale(
    case: LossCase, shape: tuple[int, ...], grad_output: np.ndarray | None, n_terms: int
) -> np.ndarray | np.longdouble:
    """How many subnormal floors an element of the result may be off by (rule 3's floor).

    Each of the ``n_terms`` unreduced terms may underflow by up to the floor, and every
    factor applied after that amplifies it: the spec's constant (MSE's 2, SmoothL1's
    1/beta), its scale tensors (a weight) and grad_output, each counted as max(1, |f|).
    With P their elementwise product over the terms: a result of P's shape takes P; a
    reduced result accumulates the floors of all its terms, sum(P) (= mean(P) * n_terms
    when P is not term-shaped), divided by n_terms for 'mean'; any other shape (a gradient
    summed over broadcast dimensions) takes max(P) times the number of terms summed into
    each of its elements. Computed in longdouble: a
    float64 weight near 1.8e308 times 2 must not make the floor inf (an infinite floor
    would accept any error).
    """
    ld = np.longdouble
    amp = ld(case.spec.floor_amplification(case.effective_options()))
    factors = [case.inputs[n] for n in case.spec.scale_args if n in case.inputs]
    if grad_output is not None:
        factors.append(grad_output)
    with np.errstate(all="ignore"):
        mags = [
            np.maximum(np.abs(np.nan_to_num(f.astype(ld), nan=0.0, posinf=0.0, neginf=0.0)), ld(1))
            for f in factors
        ]
        try:
            product = np.prod(np.broadcast_arrays(ld(1), *mags), axis=0)
        except ValueError:
            product = np.asarray(np.prod([m.max(initial=ld(1)) for m in mags]), dtype=ld)
        if shape == () and case.reduction != "none":
            n = max(n_terms, 1)
            total = product.mean() * n if product.size else ld(n)
            return amp * total * mean_scale(case, n)
        if product.shape == tuple(shape):
            return amp * product
        # a gradient summed over broadcast dimensions: each element gathers the floors of
        # n_terms / size of its terms
        per_element = ld(max(n_terms, 1)) / max(int(np.prod(shape)), 1)
        return amp * max(per_element, ld(1)) * (product.max() if product.size else ld(1))


def derived_features(
    case: LossCase, terms: np.ndarray, grad_output: np.ndarray | None = None
) -> set[str]:
    """Features that need the oracle's unreduced terms or the drawn grad_output.

    sum_overflow: the exact sum of |terms| reaches the overflow threshold of the dtype torch
    accumulates in, so a sum taken in it is inf even where the documented mean is finite.
    sum_overflow_in_dtype: the same against the test dtype itself (a sum held in float16).
    underflow_risk: the square of the smallest nonzero finite magnitude of the case
    underflows the dtype, so a product the loss forms in the dtype can flush to 0 (and an
    infinite factor then turns it into NaN).
    overflow_risk: the product of the largest finite magnitude of each floating tensor of
    the case (grad_output included), times the largest of them once more (a square, as in
    MSE's (x - y)^2), times 4 (a difference doubles, MSE's gradient doubles again), reaches
    the dtype's overflow threshold: some product or difference the loss or its gradient
    forms in the dtype can overflow.
    """
    with np.errstate(all="ignore"):
        return _derived_features(case, terms, grad_output)


def _derived_features(
    case: LossCase, terms: np.ndarray, grad_output: np.ndarray | None
) -> set[str]:
    out: set[str] = set()
    t = np.abs(np.asarray(terms, dtype=np.longdouble))
    t = t[np.isfinite(t)]
    if (
        case.reduction != "none"
        and t.size
        and t.sum() >= overflow_threshold(ACCUMULATION[case.dtype])
    ):
        out.add("sum_overflow")
    if case.reduction != "none" and t.size and t.sum() >= overflow_threshold(case.dtype):
        out.add("sum_overflow_in_dtype")
    tensors = [v for v in case.inputs.values() if np.issubdtype(v.dtype, np.floating)]
    if grad_output is not None:
        tensors.append(grad_output)
    product = np.longdouble(4)
    largest = np.longdouble(1)
    for v in tensors:
        a = np.abs(v.astype(np.longdouble))
        a = a[np.isfinite(a)]
        if a.size:
            product *= max(a.max(), np.longdouble(1))
            largest = max(largest, a.max())
    if product * largest >= overflow_threshold(case.dtype):
        out.add("overflow_risk")
    tiny = [
        np.abs(v[(v != 0) & np.isfinite(v)]).min()
        for v in map(_as_ld, tensors)
        if ((v != 0) & np.isfinite(v)).any()
    ]
    if tiny and min(tiny) ** 2 < info(case.dtype).smallest_subnormal:
        out.add("underflow_risk")
    return out


def _as_ld(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=np.longdouble)


def mean_scale(case: LossCase, n_terms: int) -> np.longdouble:
    """The factor a reduction puts on each term: 1/N for 'mean' over N terms, 1/D for
    'batchmean' with D the documented batch size the spec gives
    (``LossSpec.mean_denominator``, KLDiv), 1 for 'sum' and 'none'."""
    if case.reduction == "batchmean" and case.spec.mean_denominator is not None:
        den = np.longdouble(case.spec.mean_denominator(case)[0])
        if np.isfinite(den) and den != 0:
            return np.longdouble(1) / abs(den)
    if case.reduction in ("mean", "batchmean"):
        return np.longdouble(1) / max(n_terms, 1)
    return np.longdouble(1)


def scale_underflow_bound(
    case: LossCase,
    expected: np.ndarray,
    grad_output: np.ndarray | None,
    n_terms: int,
    scale_args: tuple[str, ...] = (),
) -> np.ndarray | float:
    """Rule 4's allowance for a gradient seed that is subnormal in the dtype.

    A backward forms the seed s * g * w in the dtype: s = 1/N ('mean') or 1, g the
    grad_output, w the scale tensors (a weight), in some order, and may multiply it by an
    input before the loss's derivative is complete. When a partial product
    falls below the smallest normal number it is exact only to half a subnormal spacing, a
    relative error of 0.5 * smallest_subnormal / m (m its magnitude), which the gradient
    built from it inherits: bound = that relative error * |expected|, elementwise where the
    seed has the gradient's shape, from the smallest seed otherwise.
    """
    d = info(case.dtype)
    s = mean_scale(case, n_terms)
    seeds = [np.asarray(s)]
    running = np.asarray(s)
    parts = [case.inputs[n] for n in scale_args if n in case.inputs]
    if grad_output is not None:
        parts.insert(0, grad_output)
    for p in parts:
        try:
            with np.errstate(all="ignore"):
                running = running * np.abs(p.astype(np.longdouble))
        except ValueError:
            break
        seeds.append(running)
    # the kernel may also multiply the seed by an input before anything else (g * x - g * y)
    for a in case.spec.args:
        v = case.inputs.get(a.name)
        if a.positional and v is not None and np.issubdtype(v.dtype, np.floating):
            try:
                with np.errstate(all="ignore"):
                    seeds.append(running * np.abs(v.astype(np.longdouble)))
            except ValueError:
                continue
    e = np.abs(np.asarray(expected, dtype=np.longdouble))
    rel = np.zeros(e.shape, dtype=np.longdouble)
    half = np.longdouble(d.smallest_subnormal) / 2  # 0.5 * 5e-324 is 0 in float64
    for seed in seeds:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where((seed != 0) & (seed < d.tiny) & np.isfinite(seed), half / seed, 0)
        if r.shape != e.shape:
            r = np.asarray(r.max() if r.size else 0)
        rel = np.maximum(rel, r)
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(rel * e)


def broadcast_sum_bound(
    expanded_gradients: dict[str, np.ndarray] | None,
    name: str,
    shape: tuple[int, ...],
    n_terms: int,
    dtype: str,
    terms_u: float,
    sum_steps: float,
) -> np.ndarray | float:
    """Rule 4's bound for the gradient of an argument that was broadcast.

    Its gradient is a sum, over the broadcast dimensions, of the per-element contributions
    (the oracle's gradients with every input expanded to the loss's shape): each carries
    the elementwise error terms_u * u, and summing k = n_terms / size of them in the
    accumulation dtype adds (ceil(log2 k) + sum_steps) * u_acc, all relative to the sum of
    their magnitudes S (Higham 4.2), plus the final rounding u. Cancellation in that sum is
    why a value budget in ULPs of the result cannot serve: S may dwarf the result.
    """
    if expanded_gradients is None or name not in expanded_gradients:
        return 0.0
    g = np.abs(np.asarray(expanded_gradients[name], dtype=np.longdouble))
    if g.shape == tuple(shape):
        return 0.0
    with np.errstate(all="ignore"):
        s = sum_to_shape(np.nan_to_num(g, nan=0.0, posinf=0.0), shape)
    k = max(n_terms, 1) / max(int(np.prod(shape)), 1)
    u = info(dtype).unit_roundoff
    u_acc = info(ACCUMULATION[dtype]).unit_roundoff
    steps = math.ceil(math.log2(max(k, 2))) + sum_steps
    return np.longdouble(terms_u * u + steps * u_acc + u) * s


def sum_to_shape(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``a`` over the dimensions that broadcasting added to ``shape`` or stretched."""
    lead = a.ndim - len(shape)
    out = a.sum(axis=tuple(range(lead))) if lead > 0 else a
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and out.shape[i] != 1)
    return out.sum(axis=axes, keepdims=True) if axes else out
