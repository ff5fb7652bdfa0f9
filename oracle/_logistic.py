"""Stable logistic primitives and input checks shared by the binary losses (``WORK``).

``softplus(x) = log(1 + exp(x))`` is computed as ``max(x, 0) + log1p(exp(-|x|))``: the
exponential never overflows, no term cancels (both are >= 0) and ``log1p`` keeps the tiny
tail of ``exp(-|x|)`` that ``log(1 + ...)`` would round away. From it:
``log(sigmoid(x)) = -softplus(-x)`` and ``log(1 - sigmoid(x)) = -softplus(x)``.
``sigmoid(x)`` is evaluated on the side where ``exp`` cannot overflow. NaN propagates and
±inf follows IEEE arithmetic (``softplus(inf) = inf``, ``softplus(-inf) = 0``,
``sigmoid(±inf) = 1, 0``). Callers wrap calls in ``np.errstate(all="ignore")``.
"""

from __future__ import annotations

import numpy as np

from ._common import WORK, OracleInputError, as_work

__all__ = [
    "TINY",
    "floating",
    "in_set",
    "in_unit_interval",
    "log_sigmoid",
    "logit",
    "same_shape",
    "sigmoid",
    "softplus",
    "times_positive",
]


#: The smallest positive WORK value: softplus(x) and sigmoid(x) of a finite x are positive
#: even where they underflow WORK (softplus(-1e300) = exp(-1e300)), and stay so here, so
#: that an infinite factor times them is ±inf (the exact product), never inf * 0 = NaN.
TINY = np.finfo(WORK).smallest_subnormal


def _positive(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``v`` with the underflowed values of finite ``x`` raised to ``TINY``."""
    return np.where((v == 0) & np.isfinite(x), TINY, v)


def times_positive(c: np.ndarray, v: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``c * v`` for ``v`` = softplus or sigmoid of ``x``: the exact product is nonzero when
    ``c`` is (``v`` of a finite ``x`` is positive), so where it underflows WORK it is
    carried as ``sign(c) * TINY``; an infinite weight times it is then ±inf, as exactly."""
    with np.errstate(all="ignore"):
        out = c * v
        lost = (out == 0) & (c != 0) & np.isfinite(c) & np.isfinite(x)
        return np.asarray(np.where(lost, np.sign(c) * TINY, out), dtype=WORK)


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` without overflow or cancellation (NaN stays NaN); positive for
    every finite ``x`` (an underflow gives ``TINY``, not 0)."""
    x = np.asarray(x, dtype=WORK)
    with np.errstate(all="ignore"):
        a = np.abs(x)
        tail = np.log1p(np.exp(-a))  # in [0, log 2]; 0 for |x| = inf
        out = np.maximum(x, WORK(0)) + tail  # np.maximum propagates NaN
    return np.asarray(_positive(out, x), dtype=WORK)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log(sigmoid(x)) = -softplus(-x)``; ``log(1 - sigmoid(x))`` is ``log_sigmoid(-x)``."""
    return -softplus(-np.asarray(x, dtype=WORK))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))``, evaluated as ``exp(x) / (1 + exp(x))`` for ``x < 0``;
    positive for every finite ``x`` (``TINY`` where it underflows)."""
    x = np.asarray(x, dtype=WORK)
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(x))  # in [0, 1]: never overflows
        pos = WORK(1) / (WORK(1) + e)
        out = np.where(x >= 0, pos, e / (WORK(1) + e))
        out = np.where(np.isnan(x), x, out)
    return np.asarray(_positive(out, x), dtype=WORK)


def logit(p: np.ndarray) -> np.ndarray:
    """``log(p) - log(1 - p)`` for ``p`` in ``[0, 1]``, without the cancellation near 1/2.

    For ``p`` in ``[1/4, 3/4]`` it is ``log1p((2p - 1) / (1 - p))``: for a float64 (or
    narrower) ``p`` there, ``2p - 1`` and ``1 - p`` are exact in ``WORK`` (Sterbenz, or at
    most 55 significant bits), so the result carries one division and one ``log1p``
    rounding. Elsewhere ``log(p) - log1p(-p)`` has condition number below 2 (the two logs
    differ by more than a factor 3). ``p = 0`` gives ``-inf``, ``p = 1`` gives ``inf``.
    """
    p = np.asarray(p, dtype=WORK)
    one, two = WORK(1), WORK(2)
    with np.errstate(all="ignore"):
        middle = np.log1p((two * p - one) / (one - p))
        outer = np.log(p) - np.log1p(-p)
        mid = (p >= WORK(0.25)) & (p <= WORK(0.75))
        out = np.where(mid, middle, outer)
    return np.asarray(out, dtype=WORK)


# -- input checks shared by the binary losses ------------------------------------------------


def floating(x: object, name: str) -> np.ndarray:
    """``x`` as a ``WORK`` array; it must hold floating values (a probability, a logit)."""
    kind = np.asarray(x).dtype.kind if not isinstance(x, bool | np.bool_) else "b"
    if kind != "f":
        raise OracleInputError(name, f"must be a floating array, got dtype {np.asarray(x).dtype}")
    return as_work(x, name)


def same_shape(a: np.ndarray, b: np.ndarray, name: str, against: str = "input") -> None:
    """``b`` (named ``name``) must have exactly ``a``'s shape: the documented "same shape"."""
    if a.shape != b.shape:
        raise OracleInputError(
            name, f"shape {tuple(b.shape)} is not the {against} shape {tuple(a.shape)}"
        )


def in_unit_interval(p: np.ndarray, name: str) -> None:
    """Every element of ``p`` lies in ``[0, 1]`` (NaN does not)."""
    with np.errstate(all="ignore"):
        bad = ~((p >= 0) & (p <= 1))
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        raise OracleInputError(name, f"{name}{list(i)} = {float(p[i])!r} is outside [0, 1]")


def in_set(t: np.ndarray, name: str, allowed: tuple[float, ...]) -> None:
    """Every element of ``t`` is one of ``allowed`` (NaN is not)."""
    ok = np.zeros(t.shape, dtype=bool)
    for v in allowed:
        ok |= t == WORK(v)
    if not ok.all():
        i = tuple(int(j) for j in np.argwhere(~ok)[0])
        names = ", ".join(repr(v) for v in allowed)
        raise OracleInputError(name, f"{name}{list(i)} = {float(t[i])!r} is not one of {names}")
