"""LossSpec entries of the likelihood losses: PoissonNLLLoss and GaussianNLLLoss.

PoissonNLLLoss: ``exp(x) - y x`` (``log_input``) or ``x - y log(x + eps)``, plus the
Stirling term for targets above 1 (``full``); input and target of one shape; legacy
``size_average``/``reduce``. GaussianNLLLoss: ``0.5 (log v + (x - y)^2 / v)`` with
``v = max(var, eps)`` (+ ``0.5 log(2 pi)`` with ``full``); var of the input's shape, with
one dimension 1, with one fewer dimension, or (variant ``scalar_var``) a Python number.

Regimes: ``well`` (moderate values, integer and non-integer counts), ``edge`` (zeros,
subnormals, the largest values, ±inf, NaN), ``tie`` (the switch points on a dyadic grid:
Poisson targets exactly 0, 1 and 2, a mean of exactly 0, ``input + eps == 0``; Gaussian var
exactly at eps, or at the dtype's rounding of eps, or its neighbours), ``clamp`` (Gaussian
var spread around eps) and ``bulk`` (a seeded vector of a few hundred elements).

Both losses are computed by torch in the test dtype, one rounded operation at a time. The
bounds below (``term_scale``, ``gradient_scale``; budgets in fixtures/tolerances.toml with
terms_u = 1) carry, element by element, the rounding of each intermediate relative to its
own magnitude (the terms cancel: ``exp(x) - y x`` near its minimum, ``log v + d^2 / v``,
``1/v - d^2/v^2``), and the rounding torch does of what the docs state exactly: ``x + eps``
(and eps itself) in the dtype for Poisson, eps (the clamp value) and a Python-number var in
the dtype for Gaussian. Those are the interval bounds of ``_Poisson`` / ``_Gaussian``.

The clamp of Gaussian's var has no subgradient choice (oracle/gaussian_nll_loss.py: the
documented Note makes the clamp transparent to autograd, so d/dvar is continuous at
``var == eps``); the switch of Poisson's Stirling term at ``y == 1`` compares a dtype value
with 1, exact in every dtype, so no rounding can decide its side. The ties are therefore
judged by the budgets alone (no tie allowance), and the near ties of the Gaussian clamp
(var between eps and its rounding in the dtype) only by the interval bound of eps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from oracle._common import OracleInputError, reduction_grad
from oracle.gaussian_nll_loss import var_layout
from oracle.poisson_nll_loss import PI
from suites.dtypes import info, overflow_threshold, to_dtype, ulp
from suites.specs._types import InvalidInput, LossSpec, Option, TensorArg
from suites.strategies import arrays, bulk_values, shapes

LD = np.longdouble
BULK_SIZE = 256
# the per-operation error factor of each intermediate (see _Poisson / _Gaussian): a value
# computed from exact operands by at most K roundings, each relative to its own magnitude
K = 4


def _bool(dtype: str) -> st.SearchStrategy[bool]:
    return st.booleans()


def poisson_eps_values(dtype: str) -> st.SearchStrategy[float]:
    """The default 1e-8, 0 (log(0) at a zero mean), dyadic values and arbitrary ones."""
    return st.one_of(st.sampled_from((1e-8, 0.0, 0.25, 1.0, 2.0**-10)), st.floats(0.0, 1.0))


def gaussian_eps_values(dtype: str) -> st.SearchStrategy[float]:
    """The default 1e-6 (not a value of any dtype but float64), 0, dyadic values (var can
    equal them exactly) and arbitrary ones."""
    return st.one_of(st.sampled_from((1e-6, 0.0, 0.25, 1.0, 2.0**-10)), st.floats(0.0, 2.0))


def scalar_var_values(dtype: str) -> st.SearchStrategy[Any]:
    """Python floats: below, at and above the default eps, moderate, inf and NaN; and one
    time in sixteen a Python int (the numeric tower makes an int a valid ``float``
    argument; torch raises on it, registered, so it is kept rare)."""
    floats = st.one_of(
        st.sampled_from((1.0, 0.5, 2.0, 1e-6, 1e-7, 3e-6, 0.3, math.inf, math.nan)),
        st.floats(1e-3, 1e3),
    )
    return st.integers(0, 15).flatmap(lambda k: st.sampled_from((1, 2)) if k == 15 else floats)


def _opt(options: dict[str, Any], name: str, default: Any) -> Any:
    return options.get(name, default)


# -- drawing: Poisson ---------------------------------------------------------------------


def _grid(draw: st.DrawFn, shape: tuple[int, ...], dtype: str, lo: int, hi: int) -> np.ndarray:
    n = math.prod(shape)
    ks = draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))
    return to_dtype(np.array(ks, dtype=np.float64).reshape(shape) / 8.0, dtype)


def _counts(draw: st.DrawFn, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    n = math.prod(shape)
    ks = draw(st.lists(st.integers(1, 24), min_size=n, max_size=n))
    return to_dtype(np.array(ks, dtype=np.float64).reshape(shape), dtype)


TIE_TARGETS = (0.0, 1.0, 2.0, 0.5, 1.5, 3.0, -1.0, -0.0)
POSITIVE_TIE_TARGETS = (1.0, 1.0, 2.0, 0.5, 1.5, 3.0)


@st.composite
def draw_poisson_inputs(
    draw: st.DrawFn, dtype: str, regime: str, options: dict[str, Any], include: frozenset[str]
) -> dict[str, Any]:
    log_input = bool(_opt(options, "log_input", True))
    if regime == "bulk":
        seed = draw(st.integers(0, 2**32 - 1))
        x = bulk_values(seed, BULK_SIZE, dtype, scale=2.0)
        src_x = f"bulk_values({seed}, {BULK_SIZE}, {dtype!r}, scale=2.0)"
        if not log_input:
            x, src_x = np.abs(x), f"abs({src_x})"
        t = np.abs(np.round(4 * bulk_values(seed + 1, BULK_SIZE, dtype)))
        src_t = f"np.abs(np.round(4 * bulk_values({seed + 1}, {BULK_SIZE}, {dtype!r})))"
        return {"input": x, "target": t, "_sources": {"input": src_x, "target": src_t}}
    shape = draw(shapes(max_dims=3, max_side=4))
    if regime == "tie":
        x = _grid(draw, shape, dtype, -16, 16) if log_input else _grid(draw, shape, dtype, 0, 8)
        n = math.prod(shape)
        # half the cases without targets <= 0, whose target gradient torch makes NaN with
        # full=True (registered): that entry would otherwise cover the switch at 1 as well
        pool = TIE_TARGETS if draw(st.booleans()) else POSITIVE_TIE_TARGETS
        picks = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
        if picks:
            picks[0] = 1.0  # the switch point of the Stirling term in every tie case
        t = to_dtype(np.array(picks, dtype=np.float64).reshape(shape), dtype)
        return {"input": x, "target": t}
    if regime == "edge":
        x = draw(arrays(dtype, shape, "edge"))
        if not log_input:
            x = np.abs(x)
        t = draw(arrays(dtype, shape, "edge"))
        if draw(st.booleans()):
            t = np.abs(t)
        return {"input": x, "target": t}
    x = draw(
        arrays(dtype, shape, "well", -6.0, 6.0)
        if log_input
        else arrays(dtype, shape, "well", 0.0, 24.0)
    )
    t = (
        _counts(draw, shape, dtype)
        if draw(st.booleans())
        else draw(arrays(dtype, shape, "well", 1 / 16, 24.0))
    )
    # positive targets: zero and negative ones come from the tie and edge regimes (with
    # full=True torch's target gradient is NaN there, registered; the entry covers the
    # whole gradient, so a well-conditioned case keeps clear of it)
    return {"input": x, "target": t}


def _poisson_drawer(draw, dtype, regime, options, include):
    return draw(draw_poisson_inputs(dtype, regime, options, include))


# -- drawing: Gaussian --------------------------------------------------------------------


def _one_dim_one(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    dims = [i for i, n in enumerate(shape) if n != 1]
    if not dims:
        return None
    i = draw(st.sampled_from(dims))
    return tuple(1 if j == i else n for j, n in enumerate(shape))


def _var_shape(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    how = draw(st.sampled_from(("same", "same", "one_dim_one", "fewer_dims")))
    if how == "one_dim_one":
        out = _one_dim_one(draw, shape)
        if out is not None:
            return out
    if how == "fewer_dims" and len(shape) >= 1:
        return shape[:-1]
    return shape


def _target_shape(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    if draw(st.integers(0, 4)) == 0:
        out = _one_dim_one(draw, shape)
        if out is not None:
            return out
    return shape


def _eps_neighbours(eps: float, dtype: str) -> list[float]:
    """The rounding of eps to the dtype (eps itself where it is a value of the dtype) and
    the dtype's values just below and above it: the var values where the clamp switches."""
    e = float(to_dtype(np.array(eps), dtype))
    if not e > 0:
        return []
    below = e - float(ulp(np.nextafter(np.float64(e), 0.0), dtype))
    above = e + float(ulp(e, dtype))
    return [v for v in (below, e, above) if v > 0]


@st.composite
def draw_gaussian_inputs(
    draw: st.DrawFn,
    dtype: str,
    regime: str,
    options: dict[str, Any],
    include: frozenset[str],
    scalar_var: bool = False,
) -> dict[str, Any]:
    eps = float(_opt(options, "eps", 1e-6))
    if scalar_var and "var" not in options:
        # the forward needs it and it has no default, so it is not an Option (which the
        # harness sometimes omits): drawn here, into the case's options, always passed
        options["var"] = draw(scalar_var_values(dtype))
    if regime == "bulk":
        seed = draw(st.integers(0, 2**32 - 1))
        out: dict[str, Any] = {
            "input": bulk_values(seed, BULK_SIZE, dtype, scale=2.0),
            "target": bulk_values(seed + 1, BULK_SIZE, dtype, scale=2.0),
        }
        src = {
            "input": f"bulk_values({seed}, {BULK_SIZE}, {dtype!r}, scale=2.0)",
            "target": f"bulk_values({seed + 1}, {BULK_SIZE}, {dtype!r}, scale=2.0)",
        }
        if not scalar_var:
            out["var"] = np.abs(bulk_values(seed + 2, BULK_SIZE, dtype))
            src["var"] = f"abs(bulk_values({seed + 2}, {BULK_SIZE}, {dtype!r}))"
        out["_sources"] = src
        return out
    shape = draw(shapes(max_dims=3, max_side=4))
    tshape = _target_shape(draw, shape)
    vshape = _var_shape(draw, shape)
    if regime == "tie":
        x = _grid(draw, shape, dtype, -16, 16)
        y = _grid(draw, tshape, dtype, -16, 16)
        pool = sorted(set(_eps_neighbours(eps, dtype)) | {0.25, 0.5, 1.0, 2.0})
        n = math.prod(vshape)
        v = np.array(draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n)))
        out = {"input": x, "target": y, "var": to_dtype(v.reshape(vshape), dtype)}
    elif regime == "clamp":
        scale = max(eps, 1e-6)
        n = math.prod(vshape)
        powers = draw(st.lists(st.floats(-4.0, 4.0), min_size=n, max_size=n))
        v = to_dtype(scale * np.exp2(np.array(powers, dtype=np.float64)).reshape(vshape), dtype)
        v = np.where(v > 0, v, to_dtype(np.array(scale), dtype))
        root = math.sqrt(scale)  # (x - y)^2 / var stays below 64: no overflow in float16
        x = to_dtype(draw(arrays("float64", shape, "well", -2.0, 2.0)) * root, dtype)
        y = to_dtype(draw(arrays("float64", tshape, "well", -2.0, 2.0)) * root, dtype)
        out = {"input": x, "target": y, "var": v.astype(x.dtype)}
    elif regime == "edge":
        x = draw(arrays(dtype, shape, "edge"))
        y = draw(arrays(dtype, tshape, "edge"))
        v = np.abs(draw(arrays(dtype, vshape, "edge")))
        v = np.where(v == 0, to_dtype(np.array(info(dtype).tiny), dtype), v).astype(x.dtype)
        out = {"input": x, "target": y, "var": v}
    else:
        x = draw(arrays(dtype, shape, "well", -8.0, 8.0))
        y = draw(arrays(dtype, tshape, "well", -8.0, 8.0))
        out = {"input": x, "target": y, "var": draw(arrays(dtype, vshape, "well", 1 / 16, 16.0))}
    if scalar_var:
        out.pop("var")
    return out


def _gaussian_drawer(draw, dtype, regime, options, include):
    return draw(draw_gaussian_inputs(dtype, regime, options, include))


def _gaussian_scalar_drawer(draw, dtype, regime, options, include):
    return draw(draw_gaussian_inputs(dtype, regime, options, include, scalar_var=True))


# -- what rounding in the dtype can do: Poisson ---------------------------------------------


def _key(case: Any) -> tuple:
    arrays_ = tuple(
        (name, a.dtype.str, a.shape, a.tobytes())
        for name, a in sorted(case.inputs.items())
        for a in [np.asarray(a)]
    )
    options = tuple(sorted((k, repr(v)) for k, v in case.effective_options().items()))
    return (case.spec.name, case.dtype, case.api, case.reduction, arrays_, options)


_MEMO: dict[tuple, Any] = {}
_MEMO_KEPT = 32


def _memo(case: Any, build: Any) -> Any:
    key = _key(case)
    if key not in _MEMO:
        try:
            value = build(case)
        except (OracleInputError, ValueError, TypeError, IndexError):
            value = None  # an invalid input: nothing to bound
        if len(_MEMO) >= _MEMO_KEPT:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = value
    return _MEMO[key]


def _dtype_round(v: Any, dtype: str) -> np.ndarray:
    with np.errstate(all="ignore"):
        return to_dtype(np.asarray(v, dtype=np.float64), dtype).astype(LD)


def _finite0(a: Any) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.nan_to_num(np.abs(np.asarray(a, dtype=LD)), nan=0.0, posinf=np.inf)


class _Poisson:
    """Per element of a Poisson case, bounds on torch's error in the dtype (absolute).

    u the dtype's unit roundoff, s its smallest subnormal, a = x + eps (exact). torch
    forms fl(x + eps) with eps itself possibly rounded to the dtype: fl(a) lies in
    [a_lo, a_hi], a_lo = (x + eps (1 - u) - s/2)(1 - u) - s/2, a_hi likewise upwards (each
    of the two roundings relative u, or half a subnormal spacing). Then
    E_log = max |log(a') - log(a)| and E_inv = max |1/a' - 1/a| over a' in {a_lo, a_hi}
    (log and 1/a are monotone): infinite where a_lo <= 0 (x + eps may round to 0, where
    torch takes log(0); registered). Every other intermediate (exp(x), y x, y log a,
    y log y, log(2 pi y), exp(x) - y, y / a, log y + 1/(2y)) is computed from exact or
    already-bounded operands by at most K = 4 roundings relative to its own magnitude, so:

        loss:   K u (exp(x) + |y x|)                     (log_input)
                K u (|x| + |y log a|) + |y| E_log        (not log_input)
                + K u (|y log y| + |y| + |0.5 log(2 pi y)| + 1)   (full, y > 1)
        d/dx:   K u r (exp(x) + |y|)  |  K u r (1 + |y| / a) + r |y| E_inv
        d/dy:   K u r |x|  |  K u r |log a| + r E_log
                + K u r (|log y| + 2 + 0.5 / |y|)       (full, y > 1)

    with r = |the reduction's seed| (g, or g/N for 'mean'); plus, for d/dx, 2 s (1 + |y|)
    (+ 2 s / a without log_input): a product of the seed that falls in the subnormal range
    is exact only to s/2, and the factors applied after it (y, 1/a) amplify that. The
    elementwise values are summed over the terms they cancel in, so a loss near 0
    (exp(x) ~ y x) is judged by the magnitude it was computed from, not by its own.

    An intermediate whose own operands are finite but which reaches the dtype's overflow
    threshold sets ``overflow`` (feature intermediate_overflow; registered for nonfinite
    failures only).
    """

    def __init__(self, case: Any) -> None:
        opts = case.effective_options()
        self.log_input = bool(opts.get("log_input", True))
        self.full = bool(opts.get("full", False))
        eps = LD(float(opts.get("eps", 1e-8)))
        d = info(case.dtype)
        u, s = LD(d.unit_roundoff), LD(d.smallest_subnormal)
        self.u, self.s = u, s
        x = np.asarray(case.inputs["input"]).astype(LD)
        t = np.asarray(case.inputs["target"]).astype(LD)
        if x.shape != t.shape:
            raise ValueError("shapes differ: an invalid input")
        self.x, self.t = x, t
        big = overflow_threshold(case.dtype)
        with np.errstate(all="ignore"):
            stir = self.full & (t > 1)
            ylogy = np.where(stir, np.abs(t * np.log(t)), 0)
            stir_mag = np.where(
                stir, ylogy + np.abs(t) + np.abs(LD(0.5) * np.log(2 * PI * t)) + 1, 0
            )
            stir_slope = np.where(stir, np.abs(np.log(t)) + 2 + LD(0.5) / np.abs(t), 0)
            if self.log_input:
                ex = np.exp(x)
                self.loss_err = K * u * (ex + np.abs(t * x))
                self.gx_unit = K * u * (ex + np.abs(t))
                self.gt_unit = K * u * np.abs(x)
                self.gx_sub = 2 * s * (1 + np.abs(t))
                inter = [np.where(np.isfinite(x), ex, 0), np.abs(t * x)]
                self.a = None
            else:
                a = x + eps
                self.a = a
                e_lo = eps * (1 - u) - s / 2
                e_hi = eps * (1 + u) + s / 2
                a_lo = (x + e_lo) * (1 - u) - s / 2
                a_hi = (x + e_hi) * (1 + u) + s / 2
                la = np.log(a)
                e_log = np.maximum(
                    np.where(a_lo > 0, np.abs(np.log(a_lo) - la), np.inf), np.abs(np.log(a_hi) - la)
                )
                e_inv = np.maximum(
                    np.where(a_lo > 0, np.abs(1 / a_lo - 1 / a), np.inf), np.abs(1 / a_hi - 1 / a)
                )
                self.loss_err = K * u * (np.abs(x) + np.abs(t * la)) + np.abs(t) * e_log
                self.gx_unit = K * u * (1 + np.abs(t) / a) + np.abs(t) * e_inv
                self.gt_unit = K * u * np.abs(la) + e_log
                self.gx_sub = 2 * s * (1 + np.abs(t) + 1 / a)
                inter = [np.abs(t * la), np.abs(t / a), np.abs(la)]
                rounded = _dtype_round(a, case.dtype)
                self.eps_lost = bool(np.any((a > 0) & (rounded == 0)))
                self.log_zero = bool(np.any(a == 0))
            self.loss_err = self.loss_err + K * u * stir_mag
            self.gt_unit = self.gt_unit + K * u * stir_slope
            finite = np.isfinite(x) & np.isfinite(t)
            one_operand = [np.where(np.isfinite(t), ylogy, 0)]
            if self.log_input:  # exp(x) needs only x finite
                one_operand.append(np.where(np.isfinite(x), np.exp(x), 0))
            inter = [np.where(finite, v, 0) for v in inter[1 if self.log_input else 0 :]]
            inter += one_operand
            self.overflow = bool(any(np.any(np.abs(v) >= big) for v in inter))

    def term_scale(self, terms: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return _finite0(self.loss_err) / self.u + _finite0(terms)

    def gradient_scale(self, name: str, r: np.ndarray) -> np.ndarray:
        unit = self.gx_unit if name == "input" else self.gt_unit
        sub = self.gx_sub if name == "input" else 2 * self.s
        with np.errstate(all="ignore"):
            return (np.abs(r) * _finite0(unit) + _finite0(sub)) / self.u


def _poisson(case: Any) -> _Poisson | None:
    return _memo(case, _Poisson)


def _oracle_terms(case: Any) -> np.ndarray:
    import oracle

    opts = {k: v for k, v in case.options.items() if k not in ("size_average", "reduce")}
    opts["reduction"] = "none"
    pos = [case.inputs[a.name] for a in case.spec.args if a.positional and a.name in case.inputs]
    with np.errstate(all="ignore"):
        return np.asarray(getattr(oracle, case.spec.oracle)(*pos, **opts), dtype=LD)


def poisson_term_scale(case: Any) -> np.ndarray | None:
    table = _poisson(case)
    if table is None:
        return None
    return table.term_scale(_oracle_terms(case))


def poisson_gradient_scale(case: Any, name: str, grad_output: Any) -> np.ndarray | None:
    table = _poisson(case)
    if table is None:
        return None
    r = reduction_grad(grad_output, table.x.shape, case.reduction)
    return table.gradient_scale(name, r)


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def poisson_features(case: Any) -> set[str]:
    """target_one (a target exactly 1, where the Stirling term switches, with full),
    target_zero, target_negative, stirling (full and a target above 1), integer_target,
    noninteger_target, mean_zero (log_input=False and an input of exactly 0: log(eps)),
    log_zero (input + eps == 0 exactly: log(0)), eps_lost (input + eps > 0 rounds to 0 in
    the dtype), full_target_nonpositive (full and a target <= 0, where torch's target
    gradient is NaN: registered), intermediate_overflow (an intermediate of finite operands
    reaches the dtype's overflow threshold), negative_mean (an invalid input with
    log_input=False), target_broadcasts (an invalid target of another shape that
    broadcasts with the input), full_target_inf (full and a target +inf: torch's target
    gradient is NaN, registered), integer_dtype_target (an int64 target tensor)."""
    out: set[str] = set()
    x = np.asarray(case.inputs.get("input"))
    t = np.asarray(case.inputs.get("target"))
    opts = case.effective_options()
    log_input, full = bool(opts.get("log_input", True)), bool(opts.get("full", False))
    if x.shape != t.shape and _broadcasts(x.shape, t.shape):
        out.add("target_broadcasts")
    with np.errstate(all="ignore"):
        if not log_input and np.any(x < 0):
            out.add("negative_mean")
        tf = t.astype(np.float64)
        if full and np.any(tf == 1):
            out.add("target_one")
        if np.any(tf == 0):
            out.add("target_zero")
        if np.any(tf < 0):
            out.add("target_negative")
        if full and np.any(tf > 1):
            out.add("stirling")
        if full and np.any(tf <= 0):
            out.add("full_target_nonpositive")
        fin = tf[np.isfinite(tf)]
        if fin.size and np.any(fin == np.round(fin)):
            out.add("integer_target")
        if fin.size and np.any(fin != np.round(fin)):
            out.add("noninteger_target")
        if not log_input and np.any(x == 0):
            out.add("mean_zero")
        if full and np.any(tf == np.inf):
            out.add("full_target_inf")
    if t.dtype.kind in "iu":
        out.add("integer_dtype_target")
    table = _poisson(case)
    if table is not None:
        if table.overflow:
            out.add("intermediate_overflow")
        if not table.log_input and table.log_zero:
            out.add("log_zero")
        if not table.log_input and table.eps_lost:
            out.add("eps_lost")
    return out


# -- what rounding in the dtype can do: Gaussian ------------------------------------------


def _sum_to(a: np.ndarray, shape: tuple[int, ...], full: tuple[int, ...]) -> np.ndarray:
    """Sum an input-shaped array back to a broadcast argument's shape; also returns the
    number of terms each element gathers."""
    layout = var_layout(shape, full) if shape != full else "same"
    if layout == "fewer_dims":
        return a.sum(axis=-1).reshape(shape)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and full[i] != 1)
    if axes:
        a = a.sum(axis=axes, keepdims=True)
    return a.reshape(shape)


class _Gaussian:
    """Per element of a Gaussian case, bounds on torch's error in the dtype (absolute).

    d = x - y and v = max(var, eps), exact. torch forms fl(x - y) (u |d|), d^2 (3u), the
    quotient (4u), log v (u |log v| + the rounding of v itself), their sum, the half and
    the constant: K u (|log v| + d^2 / v + 1) with K = 4 bounds the loss's rounding. On
    top, torch clamps with eps in the dtype and takes a Python-number var in the dtype:
    with v' = max(fl(var), fl(eps)) (and the mixed pairs), the loss, d/dx and d/dvar differ
    by |f(v') - f(v)| at most, added as computed. A d^2 that falls in the subnormal range is
    exact only to s/2, and is divided by v: s / v more (s the smallest subnormal); 1/v^2 and
    d^2/v^2 of d/dvar likewise s / v^2. Gradients, with r = |the reduction's seed|:

        d/dx, d/dy:  K u r |d| / v + r |d| |1/v' - 1/v| + r s / v
        d/dvar:      K u r (1/v + d^2/v^2) / 2 + r |g(v') - g(v)| + r s / v^2

    plus 2 s (|d| + 1) for d/dx and 2 s (1 + |d| + d^2/v) for d/dvar: a product of the
    seed with 1/v that falls in the subnormal range (v huge) is exact only to s/2 and is then
    multiplied by 2d or d^2/v. A broadcast target or var sums its contributions: the sum of their bounds plus
    (k + 2) u times the sum of their magnitudes for the k - 1 additions (a naive sum).
    """

    def __init__(self, case: Any) -> None:
        opts = case.effective_options()
        self.full = bool(opts.get("full", False))
        eps = LD(float(opts.get("eps", 1e-6)))
        dt = info(case.dtype)
        u, s = LD(dt.unit_roundoff), LD(dt.smallest_subnormal)
        self.u, self.s = u, s
        x = np.asarray(case.inputs["input"]).astype(LD)
        self.shape = tuple(x.shape)
        y_raw = np.asarray(case.inputs["target"]).astype(LD)
        self.target_shape = tuple(y_raw.shape)
        y = np.broadcast_to(y_raw, self.shape)
        scalar = "var" not in case.inputs
        if scalar:
            var = opts["var"]
            if isinstance(var, bool) or not isinstance(var, int | float):
                raise ValueError("not a number")
            v_raw = np.full(self.shape, LD(var))
            v_fl = np.full(self.shape, _dtype_round(float(var), case.dtype))
            self.var_shape: tuple[int, ...] = ()
            self.layout = "scalar"
        else:
            vr = np.asarray(case.inputs["var"]).astype(LD)
            self.var_shape = tuple(vr.shape)
            layout = var_layout(self.var_shape, self.shape)
            if layout is None:
                raise ValueError("not a documented var shape")
            self.layout = layout
            if layout == "fewer_dims":
                vr = vr.reshape((*self.var_shape, 1))
            v_raw = np.broadcast_to(vr, self.shape)
            v_fl = v_raw
        self.v_raw = v_raw
        eps_fl = _dtype_round(float(eps), case.dtype)
        self.eps, self.eps_fl = eps, eps_fl
        big = overflow_threshold(case.dtype)
        with np.errstate(all="ignore"):
            d = x - y
            v = np.maximum(v_raw, eps)
            alts = [np.maximum(v_raw, eps_fl), np.maximum(v_fl, eps), np.maximum(v_fl, eps_fl)]
            d2 = d * d

            def loss(vv: np.ndarray) -> np.ndarray:
                return LD(0.5) * (np.log(vv) + d2 / vv)

            def gv(vv: np.ndarray) -> np.ndarray:
                return LD(0.5) * (1 / vv - d2 / (vv * vv))

            def dev(f: Any) -> np.ndarray:
                base = f(v)
                out = np.zeros(self.shape, dtype=LD)
                for alt in alts:
                    diff = np.abs(f(alt) - base)
                    out = np.maximum(out, np.where(alt == v, 0, diff))
                return out

            ad = np.abs(d)
            self.loss_err = K * u * (np.abs(np.log(v)) + d2 / v + 1) + dev(loss) + s / v
            self.gx_unit = K * u * ad / v + dev(lambda vv: ad / vv) + s / v
            self.gv_unit = K * u * LD(0.5) * (1 / v + d2 / (v * v)) + dev(gv) + s / (v * v)
            self.gx_sub = 2 * s * (ad + 1)
            self.gv_sub = 2 * s * (1 + ad + d2 / v)
            self.gx_mag = ad / v
            self.gv_mag = np.abs(gv(v))
            finite = np.isfinite(x) & np.isfinite(y)
            inter = [ad, d2, d2 / v, 1 / v, d2 / (v * v), v * v]
            self.overflow = bool(any(np.any(finite & (vv >= big)) for vv in inter))
            self.below = bool(np.any(v_raw < eps))
            self.at = bool(np.any(v_raw == eps))
            lo, hi = min(eps, eps_fl), max(eps, eps_fl)
            self.near = bool(eps != eps_fl and np.any((v_raw >= lo) & (v_raw <= hi)))
            self.just_above = bool(np.any((v_raw > hi) & (v_raw <= hi * (1 + 4 * u))))
            # the clamp value or a Python-number var that torch rounds to the dtype by more
            # than u (a subnormal there: 1e-6 in float16 becomes 1.0133e-6)
            self.subnormal_clamp = bool(
                any(np.any(np.abs(alt - v) > u * np.abs(v)) for alt in alts)
            )

    def term_scale(self, terms: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return _finite0(self.loss_err) / self.u + _finite0(terms)

    def gradient_scale(self, name: str, r: np.ndarray) -> np.ndarray | None:
        with np.errstate(all="ignore"):
            r = np.abs(np.broadcast_to(np.asarray(r, dtype=LD), self.shape))
            if name in ("input", "target"):
                err = r * _finite0(self.gx_unit) + _finite0(self.gx_sub)
                mag = r * _finite0(self.gx_mag)
                shape = self.shape if name == "input" else self.target_shape
            elif name == "var" and self.layout != "scalar":
                err = r * _finite0(self.gv_unit) + _finite0(self.gv_sub)
                mag = r * _finite0(self.gv_mag)
                shape = self.var_shape
            else:
                return None
            if shape == self.shape:
                return err / self.u
            k = LD(max(1, math.prod(self.shape) // max(1, math.prod(shape))))
            summed = _sum_to(err, shape, self.shape) + (k + 2) * self.u * _sum_to(
                mag, shape, self.shape
            )
            return summed / self.u


def _gaussian(case: Any) -> _Gaussian | None:
    return _memo(case, _Gaussian)


def gaussian_term_scale(case: Any) -> np.ndarray | None:
    table = _gaussian(case)
    if table is None:
        return None
    return table.term_scale(_oracle_terms(case))


def gaussian_gradient_scale(case: Any, name: str, grad_output: Any) -> np.ndarray | None:
    table = _gaussian(case)
    if table is None:
        return None
    r = reduction_grad(grad_output, table.shape, case.reduction)
    return table.gradient_scale(name, r)


def gaussian_features(case: Any) -> set[str]:
    """var_same, var_one_dim_one, var_fewer_dims, scalar_var (the layout of var);
    target_one_dim_one; unbatched (an input of at most one dimension); var_below_eps,
    var_at_eps (var exactly eps: the clamp point), var_near_eps (var between eps and its
    rounding in the dtype: the near tie), var_just_above_eps; intermediate_overflow (an
    intermediate of finite operands reaches the overflow threshold); subnormal_clamp (torch
    rounds the clamp value eps, or a Python-number var, to the dtype by more than u: a
    subnormal there, 1e-6 becomes 1.0133e-6 in float16); int_var (a Python int var: torch
    raises, registered); and for invalid inputs var_zero, var_negative,
    var_bad_shape, target_bad_shape, target_broadcasts (a bad target shape that still
    broadcasts with the input)."""
    out: set[str] = set()
    x = np.asarray(case.inputs.get("input"))
    y = np.asarray(case.inputs.get("target"))
    if x.ndim <= 1:
        out.add("unbatched")
    if y.shape != x.shape:
        differ = (
            [i for i, (a, b) in enumerate(zip(y.shape, x.shape, strict=True)) if a != b]
            if y.ndim == x.ndim
            else []
        )
        if len(differ) == 1 and y.shape[differ[0]] == 1:
            out.add("target_one_dim_one")
        else:
            out.add("target_bad_shape")
            if _broadcasts(x.shape, y.shape):
                out.add("target_broadcasts")
    if "var" in case.inputs:
        v = np.asarray(case.inputs["var"])
        layout = var_layout(tuple(v.shape), tuple(x.shape))
        out.add(f"var_{layout}" if layout else "var_bad_shape")
        with np.errstate(invalid="ignore"):
            if np.any(v == 0):
                out.add("var_zero")
            if np.any(v < 0):
                out.add("var_negative")
    else:
        out.add("scalar_var")
        var = case.effective_options().get("var")
        if isinstance(var, int) and not isinstance(var, bool):
            out.add("int_var")
        if isinstance(var, int | float) and var == 0:
            out.add("var_zero")
        if isinstance(var, int | float) and var < 0:
            out.add("var_negative")
    table = _gaussian(case)
    if table is not None:
        for flag, name in (
            (table.below, "var_below_eps"),
            (table.at, "var_at_eps"),
            (table.near, "var_near_eps"),
            (table.just_above, "var_just_above_eps"),
            (table.overflow, "intermediate_overflow"),
            (table.subnormal_clamp, "subnormal_clamp"),
        ):
            if flag:
                out.add(name)
    return out


# -- module construction for a Python-number var ----------------------------------------


def scalar_var_module(case: Any, tensors: dict[str, Any], options: dict[str, Any]):
    import torch

    init = {k: v for k, v in options.items() if k != "var"}
    module = torch.nn.GaussianNLLLoss(**init)
    return module, [tensors["input"], tensors["target"], options["var"]]


def scalar_var_reproducer(case: Any) -> list[str]:
    init = ", ".join(f"{k}={v!r}" for k, v in case.options.items() if k != "var")
    return [f"loss = torch.nn.GaussianNLLLoss({init})(input, target, {case.options['var']!r})"]


# -- invalid inputs -------------------------------------------------------------------------

PAIR = {"input": [[1.0, 0.5], [2.0, 0.25]], "target": [[1.0, 0.0], [3.0, 2.0]]}
POISSON_INVALID = (
    InvalidInput(
        "unknown-reduction", "reduction", PAIR, {"reduction": "avg"}, rule="reduction is one of"
    ),
    InvalidInput(
        "target-broadcasts",
        "target",
        {"input": [[1.0, 2.0]], "target": [[1.0], [2.0]]},
        rule="target: same shape as the input",
    ),
    InvalidInput(
        "shapes-do-not-broadcast",
        "target",
        {"input": [1.0, 2.0, 3.0], "target": [1.0, 2.0]},
        rule="target: same shape as the input",
    ),
    InvalidInput(
        "negative-mean",
        "input",
        {"input": [-0.5, 1.0], "target": [1.0, 2.0]},
        {"log_input": False},
        rule="with log_input=False input is a Poisson mean, never negative",
    ),
    InvalidInput(
        "negative-mean-above-minus-eps",
        "input",
        {"input": [-(2.0**-12), 1.0], "target": [1.0, 2.0]},
        {"log_input": False, "eps": 1e-3},
        rule="with log_input=False input is a Poisson mean, never negative",
    ),
)

GPAIR = {"input": [[1.0, 0.5], [2.0, 0.25]], "target": [[1.0, 0.0], [3.0, 2.0]]}
GAUSSIAN_SHARED_INVALID = (
    InvalidInput(
        "unknown-reduction",
        "reduction",
        {**GPAIR, "var": [[1.0, 1.0], [1.0, 1.0]]},
        {"reduction": "avg"},
        rule="reduction is one of",
    ),
    InvalidInput(
        "target-fewer-dims",
        "target",
        {"input": GPAIR["input"], "target": [1.0, 2.0], "var": [[1.0, 1.0], [1.0, 1.0]]},
        rule="target: the input's shape, or with one dimension equal to 1",
    ),
    InvalidInput(
        "target-larger-than-input",
        "target",
        {"input": [[1.0, 2.0]], "target": [[1.0, 2.0], [0.0, 0.0]], "var": [[1.0, 1.0]]},
        rule="target: the input's shape, or with one dimension equal to 1",
    ),
    InvalidInput(
        "target-does-not-broadcast",
        "target",
        {"input": GPAIR["input"], "target": [1.0, 2.0, 3.0], "var": [[1.0, 1.0], [1.0, 1.0]]},
        rule="target: the input's shape, or with one dimension equal to 1",
    ),
)
GAUSSIAN_INVALID = (
    *GAUSSIAN_SHARED_INVALID,
    InvalidInput(
        "var-negative", "var", {**GPAIR, "var": [[1.0, -1.0], [1.0, 1.0]]}, rule="var positive"
    ),
    InvalidInput(
        "var-zero", "var", {**GPAIR, "var": [[1.0, 0.0], [1.0, 1.0]]}, rule="var positive"
    ),
    InvalidInput(
        "var-negative-zero", "var", {**GPAIR, "var": [[1.0, -0.0], [1.0, 1.0]]}, rule="var positive"
    ),
    InvalidInput(
        "var-two-dims-one",
        "var",
        {
            "input": [[[1.0, 2.0], [3.0, 4.0]]] * 2,
            "target": [[[0.0, 0.0], [0.0, 0.0]]] * 2,
            "var": [[[1.0, 2.0]]],
        },
        rule="var: same shape, one dimension 1, or one fewer dimension",
    ),
    InvalidInput(
        "var-wrong-size",
        "var",
        {**GPAIR, "var": [1.0, 2.0, 3.0]},
        rule="var: same shape, one dimension 1, or one fewer dimension",
    ),
    InvalidInput(
        "var-zero-dim-tensor",
        "var",
        {**GPAIR, "var": 1.0},
        rule="var: a 0-d tensor is a Tensor, which must meet the shape rules",
    ),
)
SCALAR_INVALID = (
    *tuple(
        InvalidInput(
            b.name,
            b.argument,
            {k: v for k, v in b.inputs.items() if k != "var"},
            {**b.options, "var": 1.0},
            rule=b.rule,
        )
        for b in GAUSSIAN_SHARED_INVALID
    ),
    InvalidInput("var-negative", "var", GPAIR, {"var": -1.0}, rule="var positive"),
    InvalidInput("var-zero", "var", GPAIR, {"var": 0.0}, rule="var positive"),
)

# -- the specs ------------------------------------------------------------------------------

POISSON = LossSpec(
    loss="PoissonNLLLoss",
    functional="poisson_nll_loss",
    oracle="poisson_nll_loss",
    args=(TensorArg("input", differentiable=True), TensorArg("target", differentiable=True)),
    options=(
        Option("log_input", True, _bool, doc="exp(x) - y x, or x - y log(x + eps)"),
        Option("full", False, _bool, doc="adds the Stirling term for targets above 1"),
        Option("eps", 1e-8, poisson_eps_values, doc="log(x + eps) when log_input=False"),
    ),
    draw_inputs=_poisson_drawer,
    regimes=("well", "edge", "tie", "bulk"),
    features=poisson_features,
    legacy_reduction_args=True,
    doc="l = exp(x) - y x | x - y log(x + eps), + y log y - y + 0.5 log(2 pi y) for y > 1",
    invalid=POISSON_INVALID,
    term_scale=poisson_term_scale,
    gradient_scale=poisson_gradient_scale,
    coverage=(
        "target_one",
        "target_zero",
        "target_negative",
        "stirling",
        "integer_target",
        "noninteger_target",
        "mean_zero",
        "log_zero",
        "empty",
        "zero_dim",
    ),
    reproducer_imports=("import numpy as np",),
)

_GAUSSIAN_OPTIONS = (
    Option("full", False, _bool, doc="adds 0.5 log(2 pi)"),
    Option("eps", 1e-6, gaussian_eps_values, doc="var is clamped to at least eps"),
)
_GAUSSIAN_COVERAGE = (
    "var_below_eps",
    "var_at_eps",
    "var_near_eps",
    "target_one_dim_one",
    "unbatched",
    "empty",
)

GAUSSIAN = LossSpec(
    loss="GaussianNLLLoss",
    functional="gaussian_nll_loss",
    oracle="gaussian_nll_loss",
    args=(
        TensorArg("input", differentiable=True),
        TensorArg("target", differentiable=True),
        TensorArg("var", differentiable=True),
    ),
    options=_GAUSSIAN_OPTIONS,
    draw_inputs=_gaussian_drawer,
    regimes=("well", "edge", "tie", "clamp", "bulk"),
    features=gaussian_features,
    since="1.8",
    doc="l = 0.5 (log max(var, eps) + (x - y)^2 / max(var, eps)) (+ 0.5 log(2 pi))",
    invalid=GAUSSIAN_INVALID,
    term_scale=gaussian_term_scale,
    gradient_scale=gaussian_gradient_scale,
    coverage=(
        *_GAUSSIAN_COVERAGE,
        "var_same",
        "var_one_dim_one",
        "var_fewer_dims",
        "var_just_above_eps",
    ),
)

GAUSSIAN_SCALAR_VAR = LossSpec(
    loss="GaussianNLLLoss",
    functional="gaussian_nll_loss",
    oracle="gaussian_nll_loss",
    args=(TensorArg("input", differentiable=True), TensorArg("target", differentiable=True)),
    options=_GAUSSIAN_OPTIONS,
    draw_inputs=_gaussian_scalar_drawer,
    regimes=("well", "edge", "tie", "bulk"),
    features=gaussian_features,
    variant="scalar_var",
    # a Python-number var: pytorch/pytorch#138931 (Nov 2024) typed var as Tensor | float;
    # earlier releases reject a float (#149131). Presence detection cannot see this (the
    # parameter ``var`` exists in every release): only 2.13 was run here, so "2.6" is the
    # first release after that change, unverified.
    since="2.6",
    doc="gaussian_nll_loss(input, target, var: float)",
    invalid=SCALAR_INVALID,
    term_scale=gaussian_term_scale,
    gradient_scale=gaussian_gradient_scale,
    module_factory=scalar_var_module,
    module_reproducer=scalar_var_reproducer,
    coverage=("var_below_eps", "var_at_eps", "target_one_dim_one", "unbatched", "empty"),
)

SPECS: tuple[LossSpec, ...] = (POISSON, GAUSSIAN, GAUSSIAN_SCALAR_VAR)
