"""A plain mpmath reference for NLL, cross entropy and linear cross entropy (torch 2.13 docs).

It never calls the oracle. Inputs are converted exactly to ``mpf`` (``tests.mp_reference``)
and the documented formulas are evaluated element by element at 50 digits, literally:
``p_c = exp(x_c) / sum_i exp(x_i)`` (mpmath's exponent range is unbounded, so no
log-sum-exp is needed; ``exp(inf) = inf``, ``inf/inf = NaN``, ``a/inf = 0``, ``log 0 = -inf``
and ``0 * inf = NaN`` are mpmath's own IEEE-like rules), then ``log p``.

Besides the value, each reference returns a *magnitude*: the same formula with every term
replaced by its absolute value. Tests use it to bound the rounding of a sum whose terms
cancel (signed weights, a smoothed gradient near its optimum).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import numpy as np

from tests.mp_reference import mpf, to_mp_array, to_mpf

NAN = mpmath.nan


def divide(a: Any, b: Any) -> Any:
    """IEEE-style ``a / b`` for a non-negative-zero ``b`` (mpmath raises on 0)."""
    if b != 0:
        return a / b
    if mpmath.isnan(a) or a == 0:
        return NAN
    return mpmath.inf if a > 0 else -mpmath.inf


def positions(x: np.ndarray) -> Iterator[tuple[tuple[int, ...], list[Any]]]:
    """``(batch index, the C logits of that element)`` for an input (C,) or (N, C, d...)."""
    if x.ndim == 1:
        yield (), list(x)
        return
    batch = (x.shape[0], *x.shape[2:])
    for idx in np.ndindex(batch):
        row = [x[(idx[0], c, *idx[1:])] for c in range(x.shape[1])]
        yield idx, row


def log_softmax(row: list[Any]) -> list[Any]:
    """``log(exp(x_c) / sum_i exp(x_i))`` for each class, evaluated literally.

    When one class dominates, the ratio is ``1 - delta`` with ``delta ~ exp(-gap)`` (``gap``
    the spread of the finite logits) and its log is ``-delta``: the working precision must
    resolve ``delta`` to 60 bits beyond float64's, so it is raised by ``gap log2(e)`` bits,
    up to the 1066 bits below which ``delta`` is under every float64 ULP of the result.
    """
    return list(_log_softmax(tuple(row), mpmath.mp.prec))


@lru_cache(maxsize=4096)
def _log_softmax(row: tuple[Any, ...], prec: int) -> tuple[Any, ...]:
    finite = [v for v in row if mpmath.isfinite(v)]
    gap = max(finite) - min(finite) if finite else 0
    bits = 60 + 53 + int(min(gap * mpmath.log(mpmath.e, 2), 1066))
    with mpmath.workprec(max(prec, bits)):
        e = [mpmath.exp(v) for v in row]
        total = mpmath.fsum(e)
        out = [mpmath.log(divide(v, total)) for v in e]
    with mpmath.workprec(prec):
        return tuple(+v for v in out)  # unary plus rounds to the caller's precision


@dataclass
class Result:
    """A reference value (mpf, or an object array for 'none') and its magnitude."""

    value: Any
    magnitude: Any


def _reduce(loss: np.ndarray, mags: np.ndarray, reduction: str, den: Any, den_mag: Any) -> Result:
    if reduction == "none":
        return Result(loss, mags)
    total = mpmath.fsum(loss.ravel().tolist())
    mag = mpmath.fsum(mags.ravel().tolist())
    if reduction == "sum":
        return Result(total, mag)
    value = divide(total, den)
    if den == 0 or not mpmath.isfinite(value):
        return Result(value, mpf(0))
    # the divisor's own rounding: relative to sum |w_{y_n}| / |den|
    return Result(value, mag / abs(den) + abs(value) * den_mag / abs(den))


def cross_entropy_mp(
    xm: np.ndarray,
    target: np.ndarray,
    *,
    probabilities: bool,
    weight: np.ndarray | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: Any = 0,
) -> Result:
    """The documented cross entropy on mpf object arrays (``target`` of ints for indices)."""
    c = xm.shape[0] if xm.ndim == 1 else xm.shape[1]
    w = [mpf(1)] * c if weight is None else list(weight)
    eps = label_smoothing
    batch = () if xm.ndim == 1 else (xm.shape[0], *xm.shape[2:])
    loss = np.empty(batch, dtype=object)
    mags = np.empty(batch, dtype=object)
    den, den_mag = mpf(0), mpf(0)
    for idx, row in positions(xm):
        if probabilities:
            at = [(k,) if xm.ndim == 1 else (idx[0], k, *idx[1:]) for k in range(c)]
            a = [w[k] * ((1 - eps) * target[at[k]] + eps / c) for k in range(c)]
            den += 1
            den_mag += 1
        else:
            cls = int(target[idx])
            if cls == ignore_index:
                loss[idx], mags[idx] = mpf(0), mpf(0)
                continue
            den += w[cls]
            den_mag += abs(w[cls])
            if eps == 0:
                lp = log_softmax(row)
                loss[idx] = -w[cls] * lp[cls]
                mags[idx] = abs(loss[idx])
                continue
            q = [eps / c + ((1 - eps) if k == cls else 0) for k in range(c)]
            a = [w[k] * q[k] for k in range(c)]
        lp = log_softmax(row)
        loss[idx] = -mpmath.fsum(a[k] * lp[k] for k in range(c))
        mags[idx] = mpmath.fsum(abs(a[k] * lp[k]) for k in range(c))
    return _reduce(loss, mags, reduction, den, den_mag)


def cross_entropy(
    x: Any,
    target: Any,
    *,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: Any = 0.0,
) -> Result:
    """:func:`cross_entropy_mp` of numpy inputs (a floating target holds probabilities)."""
    t = np.asarray(target)
    probabilities = t.dtype.kind == "f"
    return cross_entropy_mp(
        to_mp_array(x),
        to_mp_array(t) if probabilities else t,
        probabilities=probabilities,
        weight=None if weight is None else to_mp_array(weight),
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=to_mpf(label_smoothing),
    )


def nll_loss_mp(
    xm: np.ndarray,
    target: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Result:
    """The documented ``l_n = -w_{y_n} x_{n,y_n}`` with its weighted mean."""
    c = xm.shape[0] if xm.ndim == 1 else xm.shape[1]
    w = [mpf(1)] * c if weight is None else list(weight)
    batch = () if xm.ndim == 1 else (xm.shape[0], *xm.shape[2:])
    loss = np.empty(batch, dtype=object)
    mags = np.empty(batch, dtype=object)
    den, den_mag = mpf(0), mpf(0)
    for idx, row in positions(xm):
        cls = int(target[idx])
        if cls == ignore_index:
            loss[idx], mags[idx] = mpf(0), mpf(0)
            continue
        loss[idx] = -w[cls] * row[cls]
        mags[idx] = abs(loss[idx])
        den += w[cls]
        den_mag += abs(w[cls])
    return _reduce(loss, mags, reduction, den, den_mag)


def nll_loss(
    x: Any,
    target: Any,
    *,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Result:
    """:func:`nll_loss_mp` of numpy inputs."""
    return nll_loss_mp(
        to_mp_array(x),
        np.asarray(target),
        weight=None if weight is None else to_mp_array(weight),
        ignore_index=ignore_index,
        reduction=reduction,
    )


def linear_logits(
    xm: np.ndarray, wm: np.ndarray, bm: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``z = linear(x, W) + b`` (mpf object arrays) and ``sum_i |x_i W_{c,i}| + |b_c|``.

    Unbatched ``x`` (in,) gives ``z`` of shape ``(C,)``; batched ``(N, in)`` gives
    ``(N, C, d_1, ..., d_K)`` for ``W`` of shape ``(C, d_1, ..., d_K, in)``.
    """
    inner = wm.shape[:-1]
    n_in = wm.shape[-1]
    lead = () if xm.ndim == 1 else (xm.shape[0],)
    z = np.empty(lead + inner, dtype=object)
    mag = np.empty(lead + inner, dtype=object)
    for n in np.ndindex(lead):
        for k in np.ndindex(inner):
            prods = [xm[(*n, i)] * wm[(*k, i)] for i in range(n_in)]
            z[n + k] = mpmath.fsum(prods) + (0 if bm is None else bm[k])
            mag[n + k] = mpmath.fsum(abs(p) for p in prods) + (0 if bm is None else abs(bm[k]))
    return z, mag


def as_float_array(obj: np.ndarray) -> np.ndarray:
    """An object array of mpf as float64 (for building oracle inputs in tests)."""
    return np.vectorize(lambda v: float(v), otypes=[np.float64])(obj)


def cross_entropy_gradient_magnitude(
    xm: np.ndarray,
    target: np.ndarray,
    *,
    probabilities: bool,
    weight: np.ndarray | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: Any,
    grad_output: np.ndarray,
) -> np.ndarray:
    """``|r_n| (p_j sum_{c != j} |a_c| + |a_j| (1 - p_j))`` in the input's shape.

    The two terms of ``dl_n/dx_j = p_j sum_{c != j} a_c - a_j (1 - p_j)``, with ``a`` the
    coefficients of ``-log p`` in ``l_n`` and ``r_n`` the reduction's gradient: the scale
    below which the input gradient is a cancellation of larger terms.
    """
    c = xm.shape[0] if xm.ndim == 1 else xm.shape[1]
    w = [mpf(1)] * c if weight is None else list(weight)
    eps = label_smoothing
    den = mpf(0)
    rows = list(positions(xm))
    coefs = {}
    for idx, _row in rows:
        if probabilities:
            at = [(k,) if xm.ndim == 1 else (idx[0], k, *idx[1:]) for k in range(c)]
            coefs[idx] = [w[k] * ((1 - eps) * target[at[k]] + eps / c) for k in range(c)]
            den += 1
            continue
        cls = int(target[idx])
        if cls == ignore_index:
            continue
        den += w[cls]
        q = [eps / c + ((1 - eps) if k == cls else 0) for k in range(c)]
        coefs[idx] = [w[k] * q[k] for k in range(c)]
    out = np.empty(xm.shape, dtype=object)
    for idx, row in rows:
        a = coefs.get(idx)
        if reduction == "none":
            r = grad_output[idx]
        else:
            r = grad_output[()] if reduction == "sum" else divide(grad_output[()], den)
        p = [mpmath.exp(v) for v in log_softmax(row)]
        for j in range(c):
            at = (j,) if xm.ndim == 1 else (idx[0], j, *idx[1:])
            if a is None:
                out[at] = mpf(0)
                continue
            rest = mpmath.fsum(abs(a[k]) for k in range(c) if k != j)
            out[at] = abs(r) * (p[j] * rest + abs(a[j]) * (1 - p[j]))
    return out
