"""Drawing and measuring class-scored inputs: logits ``(C,)``, ``(N, C)`` or
``(N, C, d1, ..., dk)``, class-index targets with ignored entries, class-probability
targets, per-class weights; and the facts about them the specs of NLL, cross entropy and
linear cross entropy share (features, the weighted-mean denominator, cancellation scales).

The class dimension is axis 1 of a batched input and axis 0 of an unbatched one.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from hypothesis import strategies as st

from suites.dtypes import info, overflow_threshold, to_dtype
from suites.strategies import arrays

DEFAULT_IGNORE = -100
IGNORE_VALUES = (-100, -1, 0, 1, 2, 255)
SMOOTHING = (0.0, 0.05, 0.5, 1.0)
EXTREME = 1e4


def bulk_sizes(dtype: str) -> tuple[int, ...]:
    """How many targets a bulk case has. 4097 in every dtype: more targets than float16
    (2048) or bfloat16 (256) counts exactly, over several chunks of torch's cascade sum.
    70000, past float16's largest finite value (65504), only in float16, where that size is
    the point (a total weight held in float16 overflows: a registered bug); elsewhere it
    would only repeat the 4097 case 17 times longer (the costliest cases of the suite)."""
    return (4097, 70000) if dtype == "float16" else (4097,)


def ignore_index_values(dtype: str) -> st.SearchStrategy[int]:
    """The default, a negative one, classes inside [0, C) and one past any C drawn."""
    return st.sampled_from(IGNORE_VALUES)


def smoothing_values(dtype: str) -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from(SMOOTHING), st.floats(0.0, 1.0))


@st.composite
def class_layout(draw: st.DrawFn) -> tuple[tuple[int, ...], int]:
    """(input shape, C): unbatched (C,), (N, C) or (N, C, d1..dk) for k <= 3; N may be 0."""
    c = draw(st.integers(1, 6))
    kind = draw(st.sampled_from(("unbatched", "batched", "batched", "kdim")))
    if kind == "unbatched":
        return (c,), c
    n = draw(st.integers(0, 4))
    if kind == "batched":
        return (n, c), c
    k = draw(st.integers(1, 3))
    return (n, c, *draw(st.lists(st.integers(1, 3), min_size=k, max_size=k))), c


def class_axis(shape: tuple[int, ...]) -> int:
    return 0 if len(shape) == 1 else 1


def target_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The class-index target's shape: the input's without the class dimension."""
    return () if len(shape) == 1 else (shape[0], *shape[2:])


@st.composite
def scores(draw: st.DrawFn, dtype: str, shape: tuple[int, ...], regime: str) -> np.ndarray:
    """Logits (or log-probabilities) for a regime: well [-16, 16]; edge (NaN, ±inf,
    subnormals, the largest finite values); extreme (|x| from 1e2 to 1e4, some ±inf)."""
    if regime == "extreme":
        n = math.prod(shape)
        mags = draw(st.lists(st.floats(1e2, EXTREME), min_size=n, max_size=n))
        signs = draw(st.lists(st.sampled_from((1.0, -1.0)), min_size=n, max_size=n))
        x = np.array(mags, dtype=np.float64) * np.array(signs)
        if n and draw(st.integers(0, 5)) == 0:
            x[draw(st.integers(0, n - 1))] = draw(st.sampled_from((np.inf, -np.inf)))
        return to_dtype(x.reshape(shape), dtype)
    return draw(arrays(dtype, shape, "edge" if regime == "edge" else "well"))


@st.composite
def class_targets(
    draw: st.DrawFn, shape: tuple[int, ...], c: int, ignore_index: int | None
) -> np.ndarray:
    """int64 class indices in [0, C); some, none or all set to ``ignore_index``."""
    n = math.prod(shape)
    t = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=np.int64)
    if ignore_index is not None and n:
        how = draw(st.sampled_from(("none", "some", "some", "all")))
        if how == "all":
            t[:] = ignore_index
        elif how == "some":
            mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            t[np.array(mask)] = ignore_index
    return t.reshape(shape)


@st.composite
def class_weights(draw: st.DrawFn, dtype: str, c: int, regime: str) -> np.ndarray:
    """A (C,) weight: usually in [0, 4], sometimes all zero; edge values in the edge regime."""
    how = draw(st.sampled_from(("plain", "plain", "plain", "zeros", "regime")))
    if how == "zeros":
        return to_dtype(np.zeros(c), dtype)
    if how == "regime" and regime == "edge":
        return draw(arrays(dtype, (c,), "edge"))
    return draw(arrays(dtype, (c,), "well", 0.0, 4.0))


@st.composite
def probability_targets(
    draw: st.DrawFn, dtype: str, shape: tuple[int, ...], regime: str
) -> np.ndarray:
    """Class probabilities in [0, 1] of the input's shape: rows normalised along the class
    axis (then rounded to the dtype), arbitrary values in [0, 1], or one-hot rows."""
    how = draw(st.sampled_from(("normalised", "free", "one_hot", "edge")))
    axis = class_axis(shape)
    if how == "edge" and regime == "edge":
        picks = (0.0, 1.0, 0.5, 1e-30, 2.0**-24, 1.0 - 2.0**-11)
        n = math.prod(shape)
        vals = draw(st.lists(st.sampled_from(picks), min_size=n, max_size=n))
        return to_dtype(np.array(vals, dtype=np.float64).reshape(shape), dtype)
    raw = draw(arrays(dtype, shape, "well", 0.0, 1.0)).astype(np.float64)
    if how == "one_hot" and shape[axis]:
        k = draw(st.integers(0, shape[axis] - 1))
        raw = np.zeros(shape)
        index = [slice(None)] * len(shape)
        index[axis] = k
        raw[tuple(index)] = 1.0
    elif how == "normalised":
        with np.errstate(all="ignore"):
            total = raw.sum(axis=axis, keepdims=True)
            raw = np.where(total > 0, raw / np.where(total > 0, total, 1), raw)
    return np.clip(to_dtype(raw, dtype), 0, 1).astype(to_dtype(0.0, dtype).dtype)


# -- facts about a drawn case ----------------------------------------------------------


def effective_ignore(case: Any) -> int | None:
    """The ignore_index the docs apply to class-index targets (None -> -100 for LCE)."""
    if not np.issubdtype(case.inputs["target"].dtype, np.integer):
        return None
    declared = [o.default for o in case.spec.options if o.name == "ignore_index"]
    ii = case.options.get("ignore_index", declared[0] if declared else DEFAULT_IGNORE)
    return DEFAULT_IGNORE if ii is None else int(ii)


def kept(case: Any) -> np.ndarray:
    """Boolean mask of the class-index targets that count (not ignored)."""
    t = case.inputs["target"]
    ii = effective_ignore(case)
    return np.ones(t.shape, dtype=bool) if ii is None else t != ii


def target_weights(case: Any) -> np.ndarray:
    """w_{y_n} for every class-index target (1 without a weight; 0 where ignored)."""
    t = case.inputs["target"]
    keep = kept(case)
    w = case.inputs.get("weight")
    if w is None:
        return keep.astype(np.longdouble)
    if w.size == 0:
        return np.zeros(t.shape, dtype=np.longdouble)
    safe = np.clip(np.where(keep, t, 0), 0, w.size - 1)
    return np.where(keep, w.astype(np.longdouble)[safe], 0)


def class_mean_denominator(case: Any) -> tuple[float, float]:
    """(sum_n w_{y_n} over the kept targets, sum of their magnitudes): the documented
    'mean' denominator of class-index NLL and cross entropy."""
    w = target_weights(case)
    return float(w.sum()), float(np.abs(w).sum())


def logits_of(case: Any) -> np.ndarray:
    """The scores the softmax sees: the input, or for linear cross entropy the exact
    x W^T + b in the (C,) or (N, C, d1..dk) layout."""
    x = case.inputs["input"]
    w = case.inputs.get("linear_weight")
    if w is None:
        return x
    ld = np.longdouble
    k, c, extra = int(w.shape[-1]), int(w.shape[0]), tuple(w.shape[1:-1])
    x2 = x.astype(ld).reshape(-1, k)
    w2 = w.astype(ld).reshape(-1, k)
    b = case.inputs.get("linear_bias")
    with np.errstate(all="ignore"):
        z = x2 @ w2.T + (0 if b is None else b.astype(ld).reshape(-1))
    return z.reshape((c, *extra) if x.ndim == 1 else (x2.shape[0], c, *extra))


def class_features(case: Any) -> set[str]:
    """unbatched, kdim<k>, empty_batch, extreme_logits (a finite |score| >= 1e3),
    inf_logit, logit_overflow (a row's exact max - min, or an exact linear logit, reaches
    the dtype's overflow threshold: the dtype's x - max(x) or x W^T overflows), weighted,
    inf_weight (a ±inf class weight), subnormal_weight, zero_total_weight, class_index_target / probability_target, ignored, all_ignored,
    ignore_index_in_range, ignore_index_negative, label_smoothing, label_smoothing_one,
    over_65504_targets, ignored_nonfinite_row (an ignored target whose scores hold NaN
    or ±inf, or whose linear input row does), zero_denominator (a class-index 'mean'
    over no weight: all ignored or zero weights), smoothing_underflow (eps / C below the
    dtype's normal range), smoothing_sum_overflow (the summed smoothing term overflows the dtype),
    pos_inf_logit (a +inf score), tiny_total_weight (4 / |sum of target weights| overflows
    the dtype: the reciprocal of a 'mean' denominator that a backward may form)."""
    try:
        return _class_features(case)
    except (ValueError, IndexError):  # shapes the docs forbid (an invalid-input case)
        return {"malformed"}


def _class_features(case: Any) -> set[str]:
    out: set[str] = set()
    x = logits_of(case) if "input" in case.inputs else None
    t = case.inputs["target"]
    opts = case.effective_options()
    if x is not None:
        if x.ndim == 1:
            out.add("unbatched")
        elif x.ndim > 2:
            out.add(f"kdim{x.ndim - 2}")
        if x.ndim >= 2 and x.shape[0] == 0:
            out.add("empty_batch")
        with np.errstate(all="ignore"):  # exact linear logits past float64's range: inf
            a = np.abs(x.astype(np.float64))
        if (np.isfinite(a) & (a >= 1e3)).any():
            out.add("extreme_logits")
        if np.isinf(a).any():
            out.add("inf_logit")
        if (x == np.inf).any():
            out.add("pos_inf_logit")
        w = case.inputs.get("weight")
        wmax = 1.0
        if w is not None and w.size:
            fin = np.abs(w.astype(np.float64)[np.isfinite(w)])
            wmax = max(1.0, float(fin.max(initial=0.0)))
        c = x.shape[class_axis(x.shape)] if x.ndim else 1
        out |= _overflow(x, case.dtype, "linear_weight" in case.inputs, c * wmax)
    integer = np.issubdtype(t.dtype, np.integer)
    if "weight" in case.inputs:
        out.add("weighted")
        w64 = np.abs(case.inputs["weight"].astype(np.float64))
        if np.isinf(w64).any():
            out.add("inf_weight")
        if ((w64 > 0) & (w64 < info(case.dtype).tiny)).any():
            out.add("subnormal_weight")
        if integer and t.size and float(np.abs(target_weights(case)).sum()) == 0:
            out.add("zero_total_weight")
    if integer and t.size:
        total = abs(target_weights(case).sum())
        if total != 0 and np.isfinite(total) and 4 / total >= overflow_threshold(case.dtype):
            out.add("tiny_total_weight")  # g / D overflows for a grad_output up to 4
    positions = (
        t.size
        if np.issubdtype(t.dtype, np.integer)
        else (x.size // max(x.shape[class_axis(x.shape)], 1) if x is not None and x.ndim else 1)
    )
    if positions > 65504:
        out.add("over_65504_targets")  # past float16's largest finite value
    if np.issubdtype(t.dtype, np.integer):
        out.add("class_index_target")
        ii = effective_ignore(case)
        keep = kept(case)
        if t.size and (~keep).any():
            out.add("ignored")
            if not keep.any():
                out.add("all_ignored")
            if x is not None and _nonfinite_rows(x)[~keep].any():
                out.add("ignored_nonfinite_row")
            elif "linear_weight" in case.inputs and _nonfinite_samples(case, t.shape)[~keep].any():
                out.add("ignored_nonfinite_row")  # linear_weight's gradient sums 0 * x
        if t.size and ii is not None and abs(target_weights(case).sum()) == 0:
            out.add("zero_denominator")  # every target ignored, or their weights sum to 0
        if ii is not None and x is not None and 0 <= ii < x.shape[class_axis(x.shape)]:
            out.add("ignore_index_in_range")
        if ii is not None and ii < 0 and ii != DEFAULT_IGNORE:
            out.add("ignore_index_negative")
    else:
        out.add("probability_target")
        with np.errstate(invalid="ignore"):
            if ((t < 0) | (t > 1)).any():
                out.add("probability_out_of_range")  # an invalid input (documented [0, 1])
    ls = float(opts.get("label_smoothing", 0.0) or 0.0)
    if ls > 0 and x is not None and _smoothing_sum(case, x) >= overflow_threshold(case.dtype):
        out.add("smoothing_sum_overflow")
    if ls > 0:
        out.add("label_smoothing")
        c = x.shape[class_axis(x.shape)] if x is not None and x.ndim else 1
        if ls / max(c, 1) < info(case.dtype).tiny:
            out.add("smoothing_underflow")  # eps / C is subnormal (or 0) in the dtype
    if ls == 1.0:
        out.add("label_smoothing_one")
    return out


def _overflow(x: np.ndarray, dtype: str, linear: bool, factor: float) -> set[str]:
    """logit_overflow: a row's spread times ``factor`` (C times the largest weight: the
    smoothing term sums C weighted log-probabilities) reaches the overflow threshold."""
    big = overflow_threshold(dtype) / np.longdouble(factor)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        z = x.astype(np.longdouble)
        finite = np.where(np.isfinite(z), z, np.nan)
        axis = class_axis(z.shape)
        if z.size == 0:
            return set()
        spread = np.nanmax(finite, axis=axis) - np.nanmin(finite, axis=axis)
        if (spread >= big).any() or (linear and (np.abs(finite) >= big).any()):
            return {"logit_overflow"}
    return set()


def _nonfinite_rows(x: np.ndarray) -> np.ndarray:
    """Per target position, whether its row of scores holds a NaN or ±inf."""
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(x.astype(np.float64))
    return bad.any(axis=class_axis(x.shape)) if x.ndim else bad


def _smoothing_sum(case: Any, x: np.ndarray) -> np.longdouble:
    """sum over positions and classes of |w_c log p_c|: the smoothing term torch sums (over
    every position, then scales by eps / C) before mixing it with the NLL term."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        z = np.moveaxis(x.astype(np.longdouble), class_axis(x.shape), -1)
        finite = np.where(np.isfinite(z), z, np.nan)
        m = np.nanmax(finite, axis=-1, keepdims=True) if z.size else finite
        logp = finite - m - np.log(np.nansum(np.exp(finite - m), axis=-1, keepdims=True))
        w = case.inputs.get("weight")
        w = np.ones(z.shape[-1], np.longdouble) if w is None else np.abs(w.astype(np.longdouble))
        t = np.nan_to_num(np.abs(w * logp), nan=0.0, posinf=0.0)
        return t.sum()


def _nonfinite_samples(case: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Per target position, whether its sample's input row (linear cross entropy's x_n)
    holds a NaN or ±inf."""
    x = case.inputs["input"].astype(np.float64)
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(x.astype(np.float64)).all(axis=-1)
    if x.ndim == 1:
        return np.broadcast_to(bad, shape)
    return np.broadcast_to(bad.reshape(bad.shape + (1,) * (len(shape) - 1)), shape)
