"""The four floating dtypes under test, as numpy sees them.

numpy has no bfloat16, so a bfloat16 value travels as a float32 array whose values are
exactly representable in bfloat16 (``round_to_bfloat16``). torch receives it through
``tensor.to(torch.bfloat16)``, which is then exact, and the oracle upcasts the same bits.

``ulp(x, dtype)`` is the spacing of the dtype's grid at the magnitude of ``x`` (x taken
exactly, in float64 or longdouble): ``2**(floor(log2|x|) - p + 1)`` for normal magnitudes,
the smallest subnormal below the normal range. A result within one ulp of x is one of the
two dtype values that bracket x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DTYPE_NAMES = ("float64", "float32", "float16", "bfloat16")


@dataclass(frozen=True)
class DtypeInfo:
    """Format parameters of a binary floating-point dtype."""

    name: str
    storage: type  # the numpy dtype that carries its values
    precision: int  # p: significand bits, the implicit bit included
    emin: int  # exponent of the smallest normal number
    emax: int  # exponent of the largest finite number

    @property
    def unit_roundoff(self) -> float:
        """u = 2**-p, the largest relative error of one correctly rounded operation."""
        return 2.0**-self.precision

    @property
    def max(self) -> float:
        return float((2.0 - 2.0 ** (1 - self.precision)) * 2.0**self.emax)

    @property
    def tiny(self) -> float:
        """Smallest positive normal number."""
        return float(2.0**self.emin)

    @property
    def smallest_subnormal(self) -> float:
        return float(2.0 ** (self.emin - self.precision + 1))


DTYPES: dict[str, DtypeInfo] = {
    "float64": DtypeInfo("float64", np.float64, 53, -1022, 1023),
    "float32": DtypeInfo("float32", np.float32, 24, -126, 127),
    "float16": DtypeInfo("float16", np.float16, 11, -14, 15),
    "bfloat16": DtypeInfo("bfloat16", np.float32, 8, -126, 127),
}

# What torch accumulates a reduction of each dtype in (at::acc_type on CPU and CUDA).
ACCUMULATION = {
    "float64": "float64",
    "float32": "float32",
    "float16": "float32",
    "bfloat16": "float32",
}


def info(name: str) -> DtypeInfo:
    try:
        return DTYPES[name]
    except KeyError:
        raise ValueError(f"unknown dtype {name!r}; expected one of {DTYPE_NAMES}") from None


def round_to_bfloat16(values: np.ndarray) -> np.ndarray:
    """Round float32 values to the nearest bfloat16 (ties to even), kept as float32.

    NaN stays NaN (quiet); values that round past the bfloat16 range become ±inf.
    """
    shape = np.shape(values)
    a = np.atleast_1d(np.array(values, dtype=np.float32, order="C", copy=True))
    bits = a.view(np.uint32).astype(np.uint64)
    rounding = ((bits >> 16) & 1) + 0x7FFF
    rounded = ((bits + rounding) >> 16 << 16).astype(np.uint32)
    out = rounded.view(np.float32).copy()
    out[np.isnan(a)] = np.float32("nan")
    return out.reshape(shape)


def to_dtype(values: np.ndarray | float, name: str) -> np.ndarray:
    """Round values to the named dtype, returned in its numpy storage type."""
    d = info(name)
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.asarray(values, dtype=np.float64).astype(d.storage)
    if name == "bfloat16":
        exact = np.atleast_1d(np.asarray(values, dtype=np.float64))
        with np.errstate(over="ignore", invalid="ignore"):
            a = round_to_bfloat16(exact.astype(np.float32))
        # float64 -> float32 -> bfloat16 can double-round; pick the nearest neighbour.
        a = _fix_double_rounding(exact, a).reshape(np.shape(values))
    return a


def _fix_double_rounding(exact: np.ndarray, rounded: np.ndarray) -> np.ndarray:
    """Pick, of the bfloat16 neighbours of ``rounded``, the one nearest ``exact``."""
    out = rounded.copy()
    finite = np.isfinite(rounded) & np.isfinite(exact)
    if not finite.any():
        return out
    r = rounded[finite].astype(np.float64)
    e = exact[finite]
    step = ulp(r, "bfloat16")
    candidates = np.stack([r - step, r, r + step])
    best = candidates[np.argmin(np.abs(candidates - e), axis=0), np.arange(r.size)]
    out[finite] = best.astype(np.float32)
    return out


def ulp(x: np.ndarray | float, name: str) -> np.ndarray:
    """Spacing of the dtype's grid at |x| (x exact, any float type); inf/nan give nan."""
    d = info(name)
    a = np.abs(np.asarray(x, dtype=np.longdouble))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        _, exp = np.frexp(np.where(np.isfinite(a) & (a > 0), a, 1.0))
        # frexp: a = m * 2**exp with m in [0.5, 1); so floor(log2 a) = exp - 1.
        e = np.where(a > 0, np.maximum(exp.astype(np.int64) - 1, d.emin), d.emin)
        out = np.ldexp(np.ones_like(a, dtype=np.float64), (e - d.precision + 1).astype(np.int32))
    out = np.where(np.isfinite(a), out, np.nan)
    return out


def is_representable(x: np.ndarray, name: str) -> np.ndarray:
    """True where the float64 value x is exactly a value of the dtype (inf/nan included)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        r = to_dtype(x, name).astype(np.float64)
    return (r == x) | (np.isnan(r) & np.isnan(x))


def overflow_threshold(name: str) -> np.longdouble:
    """Magnitudes at or above this round to ±inf in the dtype, exact in longdouble."""
    d = info(name)
    one = np.longdouble(1)
    return np.ldexp(2 * one - np.ldexp(one, -d.precision), d.emax)
