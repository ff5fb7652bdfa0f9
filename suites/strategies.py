"""The vocabulary of inputs, drawn at the test dtype in numpy.

Every array is drawn in the numpy storage type of the test dtype (bfloat16 as float32 values
that bfloat16 represents exactly), so torch and the oracle receive the same bits.

Regimes (design.md): ``well`` draws well-conditioned values; ``edge`` mixes exactly 0 and
±0, subnormals, the largest finite values, ±inf, NaN and magnitudes up to 1e4 or the
dtype's range; ``tie`` is left to the loss (it knows where its kinks are); ``bulk`` draws one
long vector from a seeded generator, for reductions over many elements.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from suites.dtypes import info, round_to_bfloat16, to_dtype

WELL_LIMIT = 16.0
BULK_SIZES = (4097, 65537, 70000)


def float_width(dtype: str) -> int:
    return {"float64": 64, "float32": 32, "float16": 16, "bfloat16": 32}[dtype]


def special_values(dtype: str) -> list[float]:
    """The values every edge regime must be able to produce, all exact in the dtype."""
    d = info(dtype)
    raw = [
        0.0,
        -0.0,
        d.smallest_subnormal,
        -d.smallest_subnormal,
        d.tiny,
        -d.tiny,
        d.max,
        -d.max,
        np.inf,
        -np.inf,
        np.nan,
        1.0,
        -1.0,
        0.5,
        1e4,
        -1e4,
        1e-4,
    ]
    return [float(v) for v in to_dtype(np.array(raw), dtype).astype(np.float64)]


def elements(dtype: str, regime: str, *, lo: float | None = None, hi: float | None = None):
    """Element strategy for one regime, in the storage type's width."""
    w = float_width(dtype)
    if regime == "edge":
        return st.one_of(st.sampled_from(special_values(dtype)), st.floats(width=w))
    lo = -WELL_LIMIT if lo is None else lo
    hi = WELL_LIMIT if hi is None else hi
    return st.floats(lo, hi, width=w, allow_subnormal=False)


def finish(values: np.ndarray, dtype: str) -> np.ndarray:
    """Bring a drawn array onto the dtype's grid (only bfloat16 needs it)."""
    if dtype == "bfloat16":
        return round_to_bfloat16(values)
    return values.astype(info(dtype).storage, copy=False)


@st.composite
def arrays(
    draw: st.DrawFn,
    dtype: str,
    shape: tuple[int, ...],
    regime: str,
    lo: float | None = None,
    hi: float | None = None,
) -> np.ndarray:
    """An array of the given shape whose elements follow the regime."""
    storage = info(dtype).storage
    a = draw(hnp.arrays(storage, shape, elements=elements(dtype, regime, lo=lo, hi=hi)))
    return finish(np.asarray(a), dtype)


def shapes(
    min_dims: int = 0, max_dims: int = 4, max_side: int = 5
) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes with a batch of 0, 1 or N; 0-d (a scalar loss input) included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side)


@st.composite
def broadcast_partner(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape other than ``shape`` that broadcasts with it: leading dims dropped, some set to 1."""
    drop = draw(st.integers(0, len(shape)))
    dims = list(shape[drop:])
    for i in draw(st.lists(st.integers(0, max(len(dims) - 1, 0)), max_size=len(dims))):
        if dims:
            dims[i] = 1
    out = tuple(dims)
    if out == shape:
        out = (1, *shape)  # a leading 1 broadcasts too, and makes the loss larger than input
    return out


def bulk_values(seed: int, size: int, dtype: str, scale: float = 1.0) -> np.ndarray:
    """A long vector of normal values from a seeded generator (reproducible by seed)."""
    rng = np.random.default_rng(seed)
    return finish(to_dtype(rng.standard_normal(size) * scale, dtype), dtype)


def bulk_classes(seed: int, n: int, c: int, ignore_index: int) -> np.ndarray:
    """n seeded class indices in [0, c), one in ten replaced by ``ignore_index``."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, c, size=n).astype(np.int64)
    t[rng.random(n) < 0.1] = ignore_index
    return t


def bulk_scores(seed: int, n: int, c: int, dtype: str) -> np.ndarray:
    return bulk_values(seed, n * c, dtype, scale=4.0).reshape(n, c)


def draw_option_values(
    draw: st.DrawFn, options: dict[str, Any], defaults: dict[str, Any]
) -> dict[str, Any]:
    """Sometimes omit an option, sometimes pass its default explicitly, usually draw it."""
    out: dict[str, Any] = {}
    for name, strategy in options.items():
        how = draw(st.sampled_from(("drawn", "drawn", "omitted", "explicit-default")))
        if how == "drawn":
            out[name] = draw(strategy)
        elif how == "explicit-default":
            out[name] = defaults[name]
    return out
