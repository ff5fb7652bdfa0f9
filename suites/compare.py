"""The numbered acceptance rules: a torch result against the oracle's exact value.

1. Shape and dtype: the result has the oracle's shape and the dtype torch documents
   (the input's, for every loss here).
2. Special classes: where the exact value is NaN, or is ±inf or rounds past the dtype's
   largest finite value, or where the oracle rejects the input, torch must give the same
   class: any NaN payload, the same signed infinity, an exception of any type.
3. Finite values: |actual - expected| <= ulp * ulp(e) + bound + floor, with the budget
   of fixtures/tolerances.toml for the loss, dtype and device; ``bound`` comes from the
   unreduced terms for reduced results (see the file for its derivation); ``floor`` is a
   few subnormal spacings, times max(1, |w|) for each factor w (a weight, grad_output)
   that multiplies a quantity after it may have underflowed. A finite exact value that
   torch overflows to ±inf is measured as the overflow threshold.
4. Gradients: rules 1 to 3 for each gradient that torch provides, with the gradient budgets;
   ``bound`` is that of the sum a broadcast argument's gradient takes over its
   contributions, or the rounding a subnormal seed (grad_output / N times a weight)
   carries into every element built from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from suites.dtypes import ACCUMULATION, info, overflow_threshold, ulp
from suites.tolerances import Budget

RULES: tuple[tuple[str, str], ...] = (
    ("1", "shape and dtype: the result has the oracle's shape and the input's dtype"),
    (
        "2",
        "special classes: NaN, ±inf (or a value past the dtype's range) and rejected input "
        "must be matched by class (any NaN payload, same signed infinity, any exception)",
    ),
    (
        "3",
        "finite values: |actual - expected| <= ulp_budget * ulp(expected) + bound + floor "
        "(independent error sources add), "
        "bound from the magnitude of the unreduced terms of a reduction",
    ),
    (
        "4",
        "gradients: rules 1-3 for every gradient torch provides, with gradient budgets; "
        "bound from the summed contributions of a broadcast argument and from a subnormal "
        "gradient seed (suites/allowances.py)",
    ),
)


@dataclass
class Comparison:
    quantity: str
    ok: bool
    rule: str | None = None
    message: str = ""
    max_abs: float | None = None
    max_rel: float | None = None
    max_ulp: float | None = None
    # every out-of-tolerance element is ±inf or NaN in torch's result (an overflow, not a
    # wrong finite value): the registry's precision entries match only such failures
    nonfinite: bool = False
    # every out-of-tolerance element's exact value lies below the dtype's normal range (a
    # subnormal result, exact only to a few subnormal spacings after intermediate roundings)
    subnormal: bool = False
    # torch's gradient is the one the oracle gives with the OTHER one-sided derivative at
    # the exact kinks of the case (LossSpec.tie_gradients): a different subgradient
    # convention at a tie, not a wrong value (the registry's tie entries match only these)
    other_side: bool = False
    # the name of another well-defined quantity torch's gradient equals instead of the
    # documented one (LossSpec.alternative_gradients: CTC's gradient assuming log_softmax
    # inputs); the registry's ``alternative_failure`` entries match only these
    alternative: str = ""

    @staticmethod
    def passed(quantity: str) -> Comparison:
        return Comparison(quantity, True)


def _fmt(v: float) -> str:
    return repr(float(v))


def reduction_bound(
    terms: np.ndarray,
    reduction: str,
    dtype: str,
    budget: Budget,
    denominator: tuple[float, float] | None = None,
    expected: np.ndarray | float = 0.0,
    scales: np.ndarray | None = None,
) -> np.ndarray | np.longdouble:
    """Forward error bound of a reduced result over ``terms`` (see tolerances.toml).

    ``denominator`` = (D, S) for a 'mean' the docs define as sum(terms) / D with D itself a
    sum (of class weights) whose terms have magnitudes summing to S: torch accumulates D
    too, with a relative error of at most (ceil(log2 N) + sum_steps) * u_acc * S / |D|, which
    the quotient inherits: bound = (rel * sum|t| + that * |e| * |D|) / |D|.

    ``scales`` (LossSpec.term_scale): per term, the magnitude M_n its elementwise error is
    relative to, when the term is a cancelling difference (cross entropy's lse - x_y): the
    terms' share of the bound is then terms_u * u * M_n instead of terms_u * u * |t_n|,
    elementwise for 'none' (where it is the whole bound) and summed for a reduction.
    """
    n = terms.size
    u = info(dtype).unit_roundoff
    if scales is not None and n:
        with np.errstate(all="ignore"):
            m = np.nan_to_num(np.abs(np.asarray(scales, dtype=np.longdouble)), posinf=0.0)
            extra = budget.terms_u * u * np.maximum(m - np.abs(terms.astype(np.longdouble)), 0)
            extra = np.nan_to_num(extra, nan=0.0, posinf=0.0)
    else:
        extra = np.zeros(np.shape(terms), dtype=np.longdouble)
    if n == 0:
        return np.longdouble(0)
    if reduction == "none":
        return extra
    t = np.abs(terms.astype(np.longdouble))
    t = t[np.isfinite(t)]
    u_acc = info(ACCUMULATION[dtype]).unit_roundoff
    steps = math.ceil(math.log2(max(n, 2))) + budget.sum_steps
    rel = budget.terms_u * u + steps * u_acc + u
    with np.errstate(all="ignore"):
        total_extra = extra.sum() * (1 + steps * u_acc)
        if reduction in ("mean", "batchmean") and denominator is not None:
            den, den_abs = (np.longdouble(v) for v in denominator)
            if not np.isfinite(den) or den == 0:
                return np.longdouble(0)  # a NaN or infinite mean: rule 2 judges it
            e = np.abs(np.longdouble(np.nan_to_num(np.asarray(expected, dtype=np.longdouble))))
            return (np.longdouble(rel) * t.sum() + total_extra + steps * u_acc * den_abs * e) / abs(
                den
            )
        scale = 1.0 / n if reduction == "mean" else 1.0
        return (np.longdouble(rel) * t.sum() + total_extra) * np.longdouble(scale)


def denominator_bound(
    denominator: tuple[float, float] | None,
    n_terms: int,
    dtype: str,
    budget: Budget,
    expected: np.ndarray,
) -> np.ndarray | float:
    """Rule 4's allowance for a gradient divided by a documented 'mean' denominator D (a sum
    of class weights, S the sum of their magnitudes): the rounding torch's sum of D carries,
    (ceil(log2 N) + sum_steps) * u_acc * S / |D|, is a relative error of every element."""
    if denominator is None:
        return 0.0
    den, den_abs = (np.longdouble(v) for v in denominator)
    if not np.isfinite(den) or den == 0:
        return 0.0
    u_acc = info(ACCUMULATION[dtype]).unit_roundoff
    steps = math.ceil(math.log2(max(n_terms, 2))) + budget.sum_steps
    with np.errstate(all="ignore"):
        e = np.abs(np.nan_to_num(np.asarray(expected, dtype=np.longdouble)))
        return steps * u_acc * den_abs / abs(den) * e


def compare_values(
    quantity: str,
    expected: np.ndarray,
    actual: np.ndarray,
    actual_dtype: str | None,
    dtype: str,
    budget: Budget,
    bound: np.ndarray | np.longdouble | float = 0.0,
    rule_values: str = "3",
    floor_scale: np.ndarray | float = 1.0,
) -> Comparison:
    """Apply rules 1-3 to one quantity (rule 4 is rules 1-3 with ``rule_values='4'``)."""
    e = np.asarray(expected, dtype=np.longdouble)
    if tuple(np.shape(actual)) != e.shape:
        return Comparison(
            quantity,
            False,
            "1",
            f"{quantity}: shape {tuple(np.shape(actual))} != expected {e.shape}",
        )
    if actual_dtype != dtype:
        return Comparison(
            quantity, False, "1", f"{quantity}: dtype {actual_dtype} != expected {dtype}"
        )
    a = np.asarray(actual, dtype=np.longdouble)
    if e.size == 0:
        return Comparison.passed(quantity)

    big = overflow_threshold(dtype)
    e_nan, a_nan = np.isnan(e), np.isnan(a)
    with np.errstate(invalid="ignore"):
        e_inf = ~e_nan & (np.abs(e) >= big)
        a_inf = np.isinf(a)
    wrong_class = (e_nan != a_nan) | (e_inf & ~(a_inf & (np.sign(a) == np.sign(e))))
    if wrong_class.any():
        i = tuple(int(j) for j in np.unravel_index(int(np.argmax(wrong_class)), e.shape))
        ev = (
            "nan"
            if e_nan[i]
            else ("inf" if e_inf[i] and e[i] > 0 else "-inf" if e_inf[i] else _fmt(e[i]))
        )
        return Comparison(
            quantity,
            False,
            "2",
            f"{quantity}{list(i) if e.ndim else ''}: expected class {ev} (exact {_fmt(e[i])}), "
            f"torch gave {_fmt(a[i])} ({int(wrong_class.sum())} of {e.size} elements)",
            nonfinite=bool((~np.isfinite(a[wrong_class])).all()),
        )

    finite = ~e_nan & ~e_inf
    if not finite.any():
        return Comparison.passed(quantity)
    ef = e[finite]
    af = np.clip(a[finite], -big, big)  # an overflowed result is measured at the threshold
    err = np.abs(af - ef)
    spacing = ulp(ef, dtype).astype(np.longdouble)
    scale = np.broadcast_to(np.asarray(floor_scale, dtype=np.longdouble), e.shape)[finite]
    floor = budget.floor_subnormals * info(dtype).smallest_subnormal * scale
    bnd = np.broadcast_to(np.asarray(bound, dtype=np.longdouble), e.shape)[finite]
    tol = budget.ulp * spacing + bnd + floor  # independent error sources add
    ulps = err / spacing
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(ef != 0, err / np.abs(ef), np.where(err == 0, 0, np.inf))
    out = Comparison(
        quantity,
        True,
        max_abs=float(err.max()),
        max_rel=float(rel.max()),
        max_ulp=float(ulps.max()),
    )
    bad = err > tol
    if bad.any():
        k = int(np.argmax(np.where(bad, err / tol, -1)))
        idx = [int(j) for j in np.argwhere(finite)[k]] if e.ndim else []
        out.ok = False
        out.rule = rule_values
        out.nonfinite = bool((~np.isfinite(a[finite][bad])).all())
        out.subnormal = bool((np.abs(ef[bad]) < info(dtype).tiny).all())
        out.message = (
            f"{quantity}{idx if idx else ''}: expected {_fmt(ef[k])} (exact), torch gave "
            f"{_fmt(a[finite][k])}; |error| = {float(err[k]):.4g} = {float(ulps[k]):.4g} ulp of "
            f"{dtype} > tolerance {float(tol[k]):.4g} (budget {budget.ulp:g} ulp, bound "
            f"{float(bnd[k]):.4g}, floor {float(floor[k]):.3g}); {int(bad.sum())} of {e.size} "
            "elements out"
        )
    return out
