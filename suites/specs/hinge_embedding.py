"""LossSpec of HingeEmbeddingLoss (``hinge_embedding_loss``).

l_n = x_n for y_n = 1 and max(0, margin - x_n) for y_n = -1; input and target of one shape,
any number of dimensions (0-d included); any real margin (0 and negative included: the docs
restrict none); reductions 'none', 'mean', 'sum'. Only the input is differentiable.

Regimes: ``well`` (x in [-4, 4], around the dyadic margins), ``edge`` (NaN, ±inf, ±0,
subnormals, the largest values), ``tie`` and ``bulk`` (256 seeded elements).

Ties, by rule (issue 4): the ``tie`` regime draws x = k/8 and puts some x_n with y_n = -1
exactly at the margin rounded to the dtype. With a margin that is a value of the dtype
(the dyadic ones) z = margin - x is exactly 0 there and torch forms it exactly (the
difference of two values of the dtype is 0 only when they are equal): the oracle's
documented subgradient, 0, is checked bit for bit, with no allowance (feature
``hinge_tie``); torch's -1 there is the other one-sided derivative, which the road
recognises through ``tie_gradients`` (registered: hinge-tie-takes-the-active-slope). With a margin the dtype cannot hold (an arbitrary float in float16,
bfloat16 or float32), torch rounds it to the dtype first, so z is tiny and rounding decides
the hinge's side (``hinge_near_tie``: 0 < |z| <= delta, delta = |margin - fl(margin)|,
the rounding error of the margin, computed exactly): only those elements get an allowance,
the jump |r| between the two one-sided slopes (``gradient_scale``), and delta on the value
(``term_scale``). See fixtures/tolerances.toml for the budgets (terms_u = 1).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from oracle._common import reduction_grad
from suites.dtypes import info, to_dtype
from suites.specs._ties import active_at_tie
from suites.specs._types import InvalidInput, LossSpec, Option, TensorArg
from suites.strategies import arrays, bulk_values, shapes

LD = np.longdouble
MARGINS = (1.0, 0.0, 0.5, 2.0, 0.25, -0.5, -1.0)
BULK_SIZE = 256


def margin_values(dtype: str) -> st.SearchStrategy[float]:
    """Dyadic margins (exact ties), 0 and negative ones, and arbitrary reals (near ties)."""
    return st.one_of(st.sampled_from(MARGINS), st.floats(-4.0, 4.0))


def _labels(draw: st.DrawFn, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    n = math.prod(shape)
    signs = draw(st.lists(st.sampled_from((1.0, -1.0)), min_size=n, max_size=n))
    return to_dtype(np.array(signs, dtype=np.float64).reshape(shape), dtype)


def _margin(options: dict[str, Any]) -> float:
    return float(options.get("margin", 1.0))


def draw_hinge_inputs(draw: st.DrawFn, dtype: str, regime: str, options: dict, include) -> dict:
    if regime == "bulk":
        seed = draw(st.integers(0, 2**32 - 1))
        x = bulk_values(seed, BULK_SIZE, dtype, scale=2.0)
        y = np.where(bulk_values(seed + 1, BULK_SIZE, "float64") >= 0, 1.0, -1.0)
        return {"input": x, "target": to_dtype(y, dtype)}
    shape = draw(shapes())
    y = _labels(draw, shape, dtype)
    if regime == "tie":
        n = math.prod(shape)
        ks = draw(st.lists(st.integers(-32, 32), min_size=n, max_size=n))
        x = to_dtype(np.array(ks, dtype=np.float64).reshape(shape) / 8.0, dtype)
        at = to_dtype(np.array(_margin(options)), dtype)
        picks = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
        x = np.where(picks.reshape(shape) & (y == -1), at, x).astype(x.dtype)
        return {"input": x, "target": y}
    lo_hi = (-4.0, 4.0) if regime == "well" else (None, None)
    return {"input": draw(arrays(dtype, shape, regime, *lo_hi)), "target": y}


def _drawer(draw, dtype, regime, options, include):
    return draw_hinge_inputs(draw, dtype, regime, options, include)


# -- the hinge of a case and what rounding in the dtype does to it -------------------------


class Hinges:
    """The hinge arguments z = margin - x of a case (accurate, longdouble) and:

    - ``delta``: |margin - fl(margin)|, the rounding of the margin to the dtype (exact;
      0 where the margin is a value of the dtype): torch's fl(margin) - x has the sign of
      z except where |z| <= delta;
    - ``neg``: y = -1 (the elements with a hinge);
    - ``counted``: a hinge torch may find active, z > -delta;
    - ``near``: a hinge whose side rounding decides, 0 < |z| <= delta.
    """

    def __init__(self, case: Any) -> None:
        x = np.asarray(case.inputs["input"]).astype(LD)
        y = np.asarray(case.inputs["target"]).astype(LD)
        if x.shape != y.shape:
            raise ValueError("shapes differ")
        m = _margin(case.effective_options())
        d = info(case.dtype)
        self.u, self.sub = LD(d.unit_roundoff), LD(d.smallest_subnormal)
        with np.errstate(all="ignore"):
            fm = LD(float(to_dtype(np.array(m), case.dtype)))
            self.delta = abs(LD(m) - fm) if np.isfinite(m) and np.isfinite(fm) else LD(0)
            self.x, self.y = x, y
            self.z = LD(m) - x
            self.neg = y == -1
            finite = np.isfinite(self.z)
            self.counted = self.neg & (self.z > -self.delta)
            self.near = self.neg & finite & (self.z != 0) & (np.abs(self.z) <= self.delta)

    def forward_error(self) -> np.ndarray:
        """Per term, torch's error: delta + u (|z| + delta) + one subnormal spacing for a
        counted hinge (fl(margin) - x rounded), 0 elsewhere (x itself, or a clamped 0)."""
        with np.errstate(all="ignore"):
            e = self.delta + self.u * (np.abs(self.z) + self.delta) + self.sub
            return np.where(self.counted & np.isfinite(self.z), e, LD(0))


_CACHE: dict[tuple, Hinges | None] = {}
_KEPT = 32


def _hinges(case: Any) -> Hinges | None:
    """The case's Hinges (None for an invalid input), memoised: features and both bounds
    ask for it."""
    arrays_key = tuple(
        (k, a.dtype.str, a.shape, a.tobytes())
        for k, v in sorted(case.inputs.items())
        for a in [np.asarray(v)]
    )
    key = (case.dtype, arrays_key, repr(case.effective_options().get("margin", 1.0)))
    if key not in _CACHE:
        try:
            h: Hinges | None = Hinges(case)
        except (ValueError, TypeError):
            h = None
        if len(_CACHE) >= _KEPT:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = h
    return _CACHE[key]


def term_scale(case: Any) -> np.ndarray | None:
    """M_n = |l_n| + e_n / u with e_n of Hinges.forward_error (terms_u = 1)."""
    h = _hinges(case)
    if h is None:
        return None
    with np.errstate(all="ignore"):
        loss = np.where(h.neg, np.maximum(h.z, 0), h.x)
        t = np.nan_to_num(np.abs(loss), nan=0.0, posinf=0.0)
        return t + h.forward_error() / h.u


def gradient_scale(case: Any, name: str, grad_output: Any) -> np.ndarray | None:
    """G = |r_n| / u + 2 |r_n| at near ties (the jump between the slopes -r and 0, where
    torch's slope is the seed r = g / N rounded in the dtype, 2u at most), 0 elsewhere."""
    h = _hinges(case)
    if h is None or name != "input":
        return None
    r = np.abs(reduction_grad(grad_output, h.x.shape, case.reduction)).astype(LD)
    return np.where(h.near, r / h.u + 2 * r, LD(0))


def features(case: Any) -> set[str]:
    """hinge_tie: some y = -1 has x exactly at the margin (z = 0); hinge_near_tie: some z is
    within the margin's rounding of 0 (see Hinges); nan_hinge: some y = -1 has z NaN (a NaN
    input, or margin and x both infinite); active_hinge / idle_hinge: some z > 0 / z < 0;
    zero_margin, negative_margin; target_not_label, target_broadcasts (invalid inputs)."""
    out: set[str] = set()
    m = _margin(case.effective_options())
    if m == 0:
        out.add("zero_margin")
    elif m < 0:
        out.add("negative_margin")
    x, y = case.inputs.get("input"), case.inputs.get("target")
    if x is not None and y is not None:
        ya = np.asarray(y).astype(np.float64)
        if not np.all((ya == 1) | (ya == -1)):
            out.add("target_not_label")
        if np.shape(x) != np.shape(y):
            try:
                np.broadcast_shapes(np.shape(x), np.shape(y))
                out.add("target_broadcasts")
            except ValueError:
                pass
    h = _hinges(case)
    if h is None:
        return out
    with np.errstate(invalid="ignore"):
        if np.any(h.neg & (h.z == 0)):
            out.add("hinge_tie")
        if np.any(h.near):
            out.add("hinge_near_tie")
        if np.any(h.neg & np.isnan(h.z)):
            out.add("nan_hinge")
        if np.any(h.neg & (h.z > 0)):
            out.add("active_hinge")
        if np.any(h.neg & (h.z < 0)):
            out.add("idle_hinge")
    return out


# -- invalid inputs -------------------------------------------------------------------------

X = [[0.5, -1.0, 2.0], [1.5, 0.0, 0.25]]
Y = [[1.0, -1.0, -1.0], [-1.0, 1.0, -1.0]]
RULE_LABELS = "the labels tensor y contains 1 or -1"
RULE_SHAPE = "Target: (*), same shape as the input"


def _label_invalid(label: str, value: float) -> InvalidInput:
    bad = np.array(Y, dtype=np.float64)
    bad.flat[0] = value
    return InvalidInput(f"target-{label}", "target", {"input": X, "target": bad}, rule=RULE_LABELS)


HINGE_INVALID = (
    InvalidInput(
        "unknown-reduction",
        "reduction",
        {"input": X, "target": Y},
        {"reduction": "avg"},
        rule="reduction is one of 'none', 'mean', 'sum'",
    ),
    _label_invalid("zero", 0.0),
    _label_invalid("two", 2.0),
    _label_invalid("half", 0.5),
    _label_invalid("nan", float("nan")),
    InvalidInput(
        "zero-one-labels",
        "target",
        {"input": X, "target": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]},
        rule=RULE_LABELS,
    ),
    InvalidInput(
        "target-of-the-last-dimension-only",
        "target",
        {"input": X, "target": [1.0, -1.0, -1.0]},
        rule=RULE_SHAPE,
    ),
    InvalidInput(
        "target-with-a-batch-the-input-lacks",
        "target",
        {"input": [0.5, -1.0, 2.0], "target": Y},
        rule=RULE_SHAPE,
    ),
    InvalidInput(
        "shapes-do-not-broadcast",
        "target",
        {"input": X, "target": [1.0, -1.0]},
        rule=RULE_SHAPE,
    ),
)

HINGE_EMBEDDING = LossSpec(
    tie_gradients=active_at_tie,
    loss="HingeEmbeddingLoss",
    functional="hinge_embedding_loss",
    oracle="hinge_embedding_loss",
    args=(TensorArg("input", differentiable=True), TensorArg("target", differentiable=False)),
    options=(Option("margin", 1.0, margin_values, doc="any real: 0 and negative included"),),
    draw_inputs=_drawer,
    regimes=("well", "edge", "tie", "bulk"),
    features=features,
    legacy_reduction_args=True,
    doc="l_n = x_n (y_n = 1), max(0, margin - x_n) (y_n = -1)",
    invalid=HINGE_INVALID,
    term_scale=term_scale,
    gradient_scale=gradient_scale,
    coverage=(
        "hinge_tie",
        "hinge_near_tie",
        "active_hinge",
        "idle_hinge",
        "nan_hinge",
        "zero_margin",
        "negative_margin",
        "zero_dim",
        "empty",
        "inf",
        "subnormal",
        "bulk",
    ),
)

SPECS = (HINGE_EMBEDDING,)
