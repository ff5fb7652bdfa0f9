"""An independent, plain mpmath reference for PoissonNLLLoss and GaussianNLLLoss.

It never calls the oracle. Inputs are converted exactly to ``mpf`` (tests/mp_reference.py's
``to_mpf``) and the documented formulas (torch 2.13) are evaluated element by element at 50
significant digits, literally as the docstrings write them; sums use ``mpmath.fsum``.
Gradients come from central differences of these same formulas (``central``), taken at
``FD_DPS`` digits with a relative step of ``FD_STEP``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from tests.mp_reference import DPS, effective_reduction, mpf, to_mp_array, to_mpf

FD_DPS = 120
FD_STEP = mpf("1e-40")


def _reduce(terms: np.ndarray, reduction: str) -> Any:
    if reduction == "none":
        return terms
    total = mpmath.fsum(terms.ravel().tolist())
    if reduction == "sum":
        return total
    if terms.size == 0:
        return mpmath.nan
    return total / terms.size


# -- Poisson ---------------------------------------------------------------------------------


def poisson_term(x: Any, y: Any, log_input: bool, full: bool, eps: Any) -> Any:
    """exp(x) - y x (log_input) or x - y log(x + eps); + y log y - y + 0.5 log(2 pi y) for
    y > 1 with full ("For targets less or equal to 1 zeros are added")."""
    v = mpmath.exp(x) - y * x if log_input else x - y * mpmath.log(x + eps)
    if full and y > 1:
        v += y * mpmath.log(y) - y + mpf("0.5") * mpmath.log(2 * mpmath.pi * y)
    return v


def poisson_terms(x: np.ndarray, y: np.ndarray, log_input: bool, full: bool, eps: Any):
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        out[idx] = poisson_term(x[idx], y[idx], log_input, full, eps)
    return out


def poisson(
    input: Any,
    target: Any,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    with mpmath.workdps(DPS):
        terms = poisson_terms(to_mp_array(input), to_mp_array(target), log_input, full, to_mpf(eps))
        return _reduce(terms, effective_reduction(reduction, size_average, reduce))


# -- Gaussian --------------------------------------------------------------------------------


def gaussian_term(x: Any, y: Any, v: Any, full: bool, eps: Any) -> Any:
    """0.5 (log max(v, eps) + (x - y)^2 / max(v, eps)) (+ 0.5 log(2 pi) with full)."""
    c = max(v, eps)
    out = mpf("0.5") * (mpmath.log(c) + (x - y) ** 2 / c)
    if full:
        out += mpf("0.5") * mpmath.log(2 * mpmath.pi)
    return out


def expand_var(var: Any, shape: tuple[int, ...]) -> np.ndarray:
    """var as an object array of the input's shape: a Python number fills it; a tensor with
    one fewer dimension gets a trailing 1; one with a dimension 1 broadcasts. An object
    array of mpf (already converted, perturbed by ``central``) is taken as it is."""
    if isinstance(var, int | float):
        out = np.empty(shape, dtype=object)
        for idx in np.ndindex(shape):
            out[idx] = to_mpf(var)
        return out
    v = var if np.asarray(var).dtype == object else to_mp_array(var)
    if v.ndim == len(shape) - 1:
        v = v.reshape((*v.shape, 1))
    return np.broadcast_to(v, shape)


def gaussian_terms(x: np.ndarray, y: np.ndarray, v: np.ndarray, full: bool, eps: Any):
    yb = np.broadcast_to(y, x.shape)
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(x.shape):
        out[idx] = gaussian_term(x[idx], yb[idx], v[idx], full, eps)
    return out


def gaussian(
    input: Any,
    target: Any,
    var: Any,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Any:
    with mpmath.workdps(DPS):
        x = to_mp_array(input)
        terms = gaussian_terms(x, to_mp_array(target), expand_var(var, x.shape), full, to_mpf(eps))
        return _reduce(terms, reduction)


# -- central differences -----------------------------------------------------------------------


def central(
    f: Callable[[dict[str, np.ndarray]], Any],
    args: dict[str, np.ndarray],
    name: str,
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """d f / d args[name][i] by a central difference (f returns an mpf scalar): the step is
    FD_STEP * max(|v|, 1), the arithmetic FD_DPS digits, so the truncation error
    (h^2 f''' / 6) and the rounding (10^-FD_DPS / h) are both below 1e-70 of the scale."""
    base = args[name]
    out = np.empty(base.shape, dtype=object)
    with mpmath.workdps(FD_DPS):
        for idx in np.ndindex(base.shape):
            if skip is not None and skip[idx]:
                out[idx] = None
                continue
            v = base[idx]
            h = FD_STEP * max(abs(v), mpf(1))
            plus, minus = base.copy(), base.copy()
            plus[idx], minus[idx] = v + h, v - h
            fp = f({**args, name: plus})
            fm = f({**args, name: minus})
            out[idx] = (fp - fm) / (2 * h)
    return out


def fd_noise(f_magnitude: Any) -> Any:
    """The rounding error of ``central`` for an f whose summed terms have magnitude
    ``f_magnitude``: 10^-(FD_DPS - 2) of it per evaluation, divided by the step (at least
    FD_STEP): a derivative far below |f| / 10^80 is not resolved, and is allowed that."""
    return abs(f_magnitude) * mpf(10) ** -(FD_DPS - 2) / FD_STEP
