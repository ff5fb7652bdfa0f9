"""Drawing CTC problems: lattice sizes, targets in every documented layout, lengths in every
documented form, and log-probabilities (or scores) at the test dtype.

Regimes:

- ``small``: T <= 8, N in {unbatched, 0, 1..4}, C in [2, 6], target lengths 0..4 (some too
  long for their input: infeasible), input lengths 0..T;
- ``repeats``: targets over one or two classes, so consecutive repeats need a blank between
  them, with the input length at, one below (infeasible) or one above the minimum
  U + (number of adjacent repeats);
- ``zeros``: like ``small``, with some log-probabilities -inf (zero probabilities), some of
  them on every alignment, and some finite but far below the rest (-1e4 and the dtype's
  most negative value: the oracle's log-space path);
- ``long``: T in {64, 256, 1000}, N in {1, 2}, C in [3, 8], target lengths up to 16: the
  error growth with T, recorded per case.

Layouts: batched (T, N, C) or unbatched (T, C); targets padded (N, S) or concatenated 1-d
(unbatched: (1, S) padded or (U,) concatenated), int64 or int32; lengths as Python lists,
tuples, int32 or int64 tensors (both lengths the same kind of container: torch's two
overloads take two sequences or two tensors), unbatched as 0-d or 1-element tensors, or
1-element sequences.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from suites.dtypes import info, to_dtype

REGIMES = ("small", "repeats", "zeros", "long")
BLANK_POSITIONS = ("first", "middle", "last")
LENGTH_KINDS = ("list", "tuple", "int32", "int64")
LONG_T = (64, 256, 1000)


def blank_values(dtype: str) -> st.SearchStrategy[str]:
    """Where the blank sits among the C classes; the drawer turns it into an index."""
    return st.sampled_from(BLANK_POSITIONS)


def zero_infinity_values(dtype: str) -> st.SearchStrategy[bool]:
    return st.booleans()


def blank_index(draw: st.DrawFn, position: Any, C: int) -> int:
    if isinstance(position, int | np.integer):
        return int(position)
    if position == "last" or (position == "middle" and C < 3):
        return C - 1
    if position == "middle":
        return draw(st.integers(1, C - 2))
    return 0


@dataclass
class Sizes:
    T: int
    N: int | None  # None: unbatched
    C: int
    target_lengths: list[int]
    input_lengths: list[int]


def _labels(draw: st.DrawFn, u: int, C: int, blank: int, pool: list[int] | None) -> list[int]:
    choices = pool or [c for c in range(C) if c != blank]
    return [draw(st.sampled_from(choices)) for _ in range(u)]


def min_length(labels: list[int]) -> int:
    """The shortest input that can emit ``labels``: one step per label, plus a blank
    between each pair of equal neighbours."""
    return len(labels) + sum(a == b for a, b in itertools.pairwise(labels))


@st.composite
def problem(draw: st.DrawFn, regime: str, options: dict[str, Any]) -> dict[str, Any]:
    """Sizes, blank and label sequences of one case (options["blank"] made an index)."""
    if regime == "long":
        T = draw(st.sampled_from(LONG_T))
        N: int | None = draw(st.sampled_from((None, 1, 2)))
        C = draw(st.integers(3, 8))
    else:
        T = draw(st.integers(1, 8))
        N = draw(st.sampled_from((None, 0, 1, 2, 3, 4)))
        C = draw(st.integers(2, 6))
    blank = blank_index(draw, options.get("blank", 0), C)
    if "blank" in options:
        options["blank"] = blank
    n = 1 if N is None else N
    pool = None
    if regime == "repeats":
        others = [c for c in range(C) if c != blank]
        pool = others[: draw(st.integers(1, min(2, len(others))))]
    targets, input_lengths = [], []
    for _ in range(n):
        u = draw(st.integers(1, 16)) if regime == "long" else draw(st.integers(0, 4))
        labels = _labels(draw, u, C, blank, pool)
        need = min_length(labels)
        if regime == "repeats":
            length = max(0, min(T, need + draw(st.sampled_from((-1, 0, 1)))))
        elif regime == "long":
            length = T - draw(st.sampled_from((0, 0, 1, T // 3)))
        else:
            length = draw(st.sampled_from((T, T, draw(st.integers(0, T)))))
        targets.append(labels)
        input_lengths.append(length)
    return {
        "T": T,
        "N": N,
        "C": C,
        "blank": blank,
        "targets": targets,
        "input_lengths": input_lengths,
    }


def _lengths(values: list[int], kind: str, batched: bool, zero_d: bool) -> np.ndarray:
    arr = np.array(values, dtype=np.int32 if kind == "int32" else np.int64)
    if not batched and zero_d and kind in ("int32", "int64"):
        arr = arr.reshape(())
    return arr


@st.composite
def layout(draw: st.DrawFn, p: dict[str, Any]) -> dict[str, Any]:
    """The targets and lengths as torch receives them, in a drawn documented form."""
    batched = p["N"] is not None
    rows: list[list[int]] = p["targets"]
    C = p["C"]
    target_dtype = draw(st.sampled_from((np.int64, np.int32)))
    concatenated = draw(st.booleans())
    if concatenated:
        flat = [c for r in rows for c in r]
        targets = np.array(flat, dtype=target_dtype)
    else:
        width = max((len(r) for r in rows), default=0) + draw(st.integers(0, 2))
        pad = np.array(
            [[draw(st.integers(0, C - 1)) for _ in range(width)] for _ in rows], dtype=np.int64
        ).reshape(len(rows), width)
        for i, r in enumerate(rows):
            pad[i, : len(r)] = r
        targets = pad.astype(target_dtype)
    kind = draw(st.sampled_from(LENGTH_KINDS))
    kind_t = kind
    if kind in ("int32", "int64"):
        kind_t = draw(st.sampled_from(("int32", "int64")))  # the two may differ
    zero_d = draw(st.booleans())
    out = {
        "targets": targets,
        "input_lengths": _lengths(p["input_lengths"], kind, batched, zero_d),
        "target_lengths": _lengths([len(r) for r in rows], kind_t, batched, zero_d),
    }
    if kind in ("list", "tuple"):
        out["_sequences"] = {"input_lengths": kind, "target_lengths": kind}
    return out


def neg_inf_mask(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    """Where log-probabilities are -inf: about one in four, never a whole time step (its
    log_softmax would be NaN: no distribution has every probability 0)."""
    n = int(np.prod(shape))
    flags = draw(st.lists(st.sampled_from((False, False, False, True)), min_size=n, max_size=n))
    mask = np.array(flags, dtype=bool).reshape(shape)
    if mask.size:
        keep = draw(st.integers(0, shape[-1] - 1))
        full = mask.all(axis=-1)
        mask[..., keep] &= ~full
    return mask


def scores_to_log_probs(z: np.ndarray) -> np.ndarray:
    """log_softmax over the last axis, in float64 (the drawn log-probabilities are then
    rounded to the test dtype: not exactly normalised there, which the formula does not
    need)."""
    with np.errstate(all="ignore"):
        m = np.max(z, axis=-1, keepdims=True) if z.shape[-1] else 0
        m = np.where(np.isfinite(m), m, 0)
        return z - m - np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


@st.composite
def values(
    draw: st.DrawFn, dtype: str, regime: str, p: dict[str, Any], as_scores: bool
) -> np.ndarray:
    """log_probs (or scores) of shape (T, N, C) / (T, C) at the dtype."""
    T, N, C = p["T"], p["N"], p["C"]
    shape = (T, C) if N is None else (T, N, C)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    spread = draw(st.sampled_from((1.0, 2.0, 4.0)))
    z = rng.standard_normal(shape) * spread
    if regime == "zeros":
        mask = neg_inf_mask(draw, shape)
        z = np.where(mask, -np.inf, z)
    if as_scores:
        out = z
    elif regime != "long" and draw(st.booleans()):  # unnormalised "log-probabilities"
        out = np.minimum(z, 1.0) - 2.0
    else:
        out = scores_to_log_probs(z)
    if regime == "zeros" and draw(st.booleans()) and out.size:
        far = draw(st.sampled_from((-1e4, -float(info(dtype).max))))
        idx = tuple(draw(st.integers(0, s - 1)) for s in out.shape)
        out = out.copy()
        out[idx] = far
    return to_dtype(out, dtype)
