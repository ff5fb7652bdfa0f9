"""An independent, deliberately plain mpmath reference for the pointwise regression losses.

It never calls the oracle. Every value is converted exactly to an ``mpf`` and the documented
formulas (torch 2.13) are evaluated element by element at 50 significant digits; sums use
``mpmath.fsum`` (no intermediate rounding). Also: the comparison of an oracle result with a
reference value in float64 ULPs, and central finite differences for gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np

DPS = 50
mp = mpmath.mp
mp.dps = DPS
mpf = mpmath.mpf

LOSSES = ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss")

#: The documented legacy table, written out: (size_average, reduce) -> reduction.
#: ``None`` means "not overridden: use ``reduction``".
LEGACY: dict[tuple[bool | None, bool | None], str | None] = {
    (None, None): None,
    (None, True): "mean",
    (None, False): "none",
    (True, None): "mean",
    (True, True): "mean",
    (True, False): "none",
    (False, None): "sum",
    (False, True): "sum",
    (False, False): "none",
}


def to_mpf(v: Any) -> Any:
    """Exact conversion of a real numpy/Python scalar (any float width, long double too)."""
    v = np.asarray(v)[()]
    if isinstance(v, np.integer | int):
        return mpf(int(v))
    f = np.longdouble(v)
    if np.isnan(f):
        return mpmath.nan
    if np.isinf(f):
        return mpmath.inf if f > 0 else -mpmath.inf
    if f == 0:
        return mpf(0)
    m, e = np.frexp(f)
    # m has at most 64 significant bits: m * 2**64 is an integer, exactly.
    return mpmath.ldexp(mpf(int(np.ldexp(m, 64))), int(e) - 64)


def to_mp_array(a: Any) -> np.ndarray:
    """A numpy object array of exact ``mpf`` values with ``a``'s shape."""
    arr = np.asarray(a)
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(arr.shape):
        out[idx] = to_mpf(arr[idx])
    return out


def _abs(v: Any) -> Any:
    return mpmath.nan if mpmath.isnan(v) else abs(v)


def elementwise(loss: str, d: Any, *, delta: Any = None, beta: Any = None) -> Any:
    """The documented unreduced loss of one element, given ``d = x - y`` as an mpf."""
    half = mpf("0.5")
    a = _abs(d)
    if loss == "l1_loss":
        return a
    if loss == "mse_loss":
        return d * d
    if loss == "huber_loss":
        if a < delta:
            return half * d * d
        return delta * (a - half * delta)
    if loss == "smooth_l1_loss":
        if a < beta:
            return half * d * d / beta
        return a - half * beta
    raise ValueError(loss)


def effective_reduction(
    reduction: str, size_average: bool | None = None, reduce: bool | None = None
) -> str:
    legacy = LEGACY[(size_average, reduce)]
    return reduction if legacy is None else legacy


def reference_mp(
    loss: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    reduction: str = "mean",
    weight: np.ndarray | None = None,
    delta: Any = 1.0,
    beta: Any = 1.0,
) -> Any:
    """Loss on object arrays of mpf; an object array for 'none', else one mpf."""
    xb, yb = np.broadcast_arrays(x, y)
    out = np.empty(xb.shape, dtype=object)
    wb = None if weight is None else np.broadcast_to(weight, xb.shape)
    for idx in np.ndindex(xb.shape):
        v = elementwise(loss, xb[idx] - yb[idx], delta=delta, beta=beta)
        if wb is not None:
            v = wb[idx] * v
        out[idx] = v
    if reduction == "none":
        return out
    total = mpmath.fsum(out.ravel().tolist())
    if reduction == "sum":
        return total
    if out.size == 0:
        return mpmath.nan  # documented as the sum divided by N = 0: 0/0
    return total / out.size


def reference(
    loss: str,
    input: Any,
    target: Any,
    *,
    reduction: str = "mean",
    size_average: bool | None = None,
    reduce: bool | None = None,
    weight: Any = None,
    delta: float = 1.0,
    beta: float = 1.0,
) -> Any:
    """Reference value of ``loss`` for numpy inputs (converted exactly)."""
    w = None if weight is None else to_mp_array(weight)
    return reference_mp(
        loss,
        to_mp_array(input),
        to_mp_array(target),
        reduction=effective_reduction(reduction, size_average, reduce),
        weight=w,
        delta=to_mpf(delta),
        beta=to_mpf(beta),
    )


# ---------------------------------------------------------------------------------------
# Comparison in float64 ULPs

TWO_1024 = mpmath.ldexp(mpf(1), 1024)


def ulp64(v: Any) -> Any:
    """The float64 ULP at the (finite) real ``v``: spacing of the binade, 2**-1074 at least."""
    if v == 0:
        return mpmath.ldexp(mpf(1), -1074)
    _, e = mpmath.frexp(v)  # v = m 2**e, 0.5 <= |m| < 1, so 2**(e-1) <= |v| < 2**e
    return mpmath.ldexp(mpf(1), max(min(int(e), 1024) - 53, -1074))


def ulp_error(got: Any, want: Any) -> float:
    """Distance in float64 ULPs of ``got`` (oracle value, rounded to float64) to ``want``.

    Returns 0 when both are the same special class, ``inf`` when the classes differ. A value
    that rounds to ±inf in float64 is placed at ±2**1024 (the next "binade"), so an oracle
    that overflows right at the boundary counts as about one ULP; ``want`` beyond 2**1024
    requires the oracle to overflow too.
    """
    g = float(np.float64(np.asarray(got)[()]))
    if mpmath.isnan(want) or math.isnan(g):
        return 0.0 if (mpmath.isnan(want) and math.isnan(g)) else math.inf
    if mpmath.isinf(want):
        return 0.0 if (math.isinf(g) and (g > 0) == (want > 0)) else math.inf
    if abs(want) >= TWO_1024:
        return 0.0 if (math.isinf(g) and (g > 0) == (want > 0)) else math.inf
    gm = mpf(math.copysign(1.0, g)) * TWO_1024 if math.isinf(g) else mpf(g)
    return float(min(abs(gm - want) / ulp64(want), mpf(1e300)))


def max_ulp_error(got: Any, want: Any) -> float:
    """Worst :func:`ulp_error` over an array (or a scalar)."""
    got_a = np.asarray(got)
    if isinstance(want, np.ndarray):
        assert got_a.shape == want.shape, (got_a.shape, want.shape)
        errs = [ulp_error(got_a[i], want[i]) for i in np.ndindex(want.shape)]
        return max(errs, default=0.0)
    assert got_a.shape == (), got_a.shape
    return ulp_error(got_a, want)


def assert_ulps(got: Any, want: Any, ulps: float = 2.0, floor: Any = 0, what: str = "") -> None:
    """Assert ``got`` is within ``ulps`` float64 ULPs (plus an absolute ``floor``) of ``want``."""
    got_a = np.asarray(got)
    if isinstance(want, np.ndarray):
        assert got_a.shape == want.shape, f"{what}: shape {got_a.shape} != {want.shape}"
        items = [(i, got_a[i], want[i]) for i in np.ndindex(want.shape)]
    else:
        assert got_a.shape == (), f"{what}: expected a 0-d result, got shape {got_a.shape}"
        items = [((), got_a, want)]
    for idx, g, w in items:
        err = ulp_error(g, w)
        if err <= ulps:
            continue
        if (
            floor
            and math.isfinite(err)
            and abs(mpf(float(np.float64(g))) - w) <= ulps * ulp64(w) + floor
        ):
            continue
        raise AssertionError(
            f"{what}[{idx}]: oracle {float(np.float64(g))!r} vs mpmath "
            f"{mpmath.nstr(w, 25)}: {err} ULPs (budget {ulps}, floor {floor})"
        )


# ---------------------------------------------------------------------------------------
# Finite differences


REL_STEP = mpf("1e-30")


def central_differences(
    f: Callable[[dict[str, np.ndarray]], Any],
    args: dict[str, np.ndarray],
    names: Sequence[str],
    skip: dict[str, np.ndarray] | None = None,
    scales: dict[str, float] | None = None,
    rel_step: Any = REL_STEP,
    prec: int = 6000,
) -> dict[str, np.ndarray]:
    """Central differences of the scalar ``f(args)`` for each element of ``args[name]``.

    ``args`` maps names to object arrays of mpf. Elements flagged in ``skip[name]`` get
    ``None``. The step is ``rel_step * max(|v|, scales[name])``. The losses are piecewise polynomials of degree <= 2, so away from the pieces'
    boundaries a central difference is exact up to rounding. The differences are taken at
    ``prec`` bits (default 6000, more than the whole float64 exponent range squared), so a
    perturbation of a small element is not lost in a sum dominated by a huge one.
    """
    out: dict[str, np.ndarray] = {}
    with mpmath.workprec(prec):
        for name in names:
            out[name] = _differences(f, args, name, skip, scales, rel_step)
    return out


def _differences(
    f: Callable[[dict[str, np.ndarray]], Any],
    args: dict[str, np.ndarray],
    name: str,
    skip: dict[str, np.ndarray] | None,
    scales: dict[str, float] | None,
    rel_step: Any,
) -> np.ndarray:
    base = args[name]
    grad = np.empty(base.shape, dtype=object)
    for idx in np.ndindex(base.shape):
        if skip is not None and name in skip and skip[name][idx]:
            grad[idx] = None
            continue
        v = base[idx]
        scale = mpf(1) if scales is None else to_mpf(scales[name])
        h = rel_step * max(scale, abs(v))
        plus, minus = base.copy(), base.copy()
        plus[idx], minus[idx] = v + h, v - h
        fp = f({**args, name: plus})
        fm = f({**args, name: minus})
        grad[idx] = (fp - fm) / (2 * h)
    return grad


# ---------------------------------------------------------------------------------------
# Options per loss (which keyword arguments each functional takes)

HAS_LEGACY = {"l1_loss": True, "mse_loss": True, "huber_loss": False, "smooth_l1_loss": True}
HAS_WEIGHT = {"l1_loss": True, "mse_loss": True, "huber_loss": True, "smooth_l1_loss": False}


def call_kwargs(
    loss: str,
    *,
    reduction: str = "mean",
    size_average: bool | None = None,
    reduce: bool | None = None,
    weight: Any = None,
    delta: float = 1.0,
    beta: float = 1.0,
) -> dict[str, Any]:
    """Keyword arguments for the functional ``loss`` (only those it takes)."""
    kw: dict[str, Any] = {"reduction": reduction}
    if HAS_LEGACY[loss]:
        kw.update(size_average=size_average, reduce=reduce)
    if HAS_WEIGHT[loss] and weight is not None:
        kw["weight"] = weight
    if loss == "huber_loss":
        kw["delta"] = delta
    if loss == "smooth_l1_loss":
        kw["beta"] = beta
    return kw


def abs_terms_bound(
    loss: str,
    input: Any,
    target: Any,
    *,
    reduction: str,
    weight: Any,
    delta: float = 1.0,
    beta: float = 1.0,
) -> Any:
    """``sum |w_n l_n|`` (divided by N for 'mean'), to bound cancellation in a signed sum."""
    w = None if weight is None else np.abs(np.asarray(weight))
    ref = reference(
        loss,
        input,
        target,
        reduction="sum" if reduction != "none" else "none",
        weight=w,
        delta=delta,
        beta=beta,
    )
    if reduction == "mean":
        n = np.broadcast_shapes(np.shape(input), np.shape(target))
        size = math.prod(n)
        return ref / size if size else mpf(0)
    return ref


# float64 edge values shared by the mpmath tests and tools/measure_oracle_ulp.py
EDGE = [
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    1e-300,
    0.5,
    1.0,
    -1.0,
    1.5,
    2.0,
    3.0,
    1e300,
    -1e300,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    math.inf,
    -math.inf,
    math.nan,
]
