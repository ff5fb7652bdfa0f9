"""LossSpec entries of the pointwise regression losses: L1, MSE, Huber and SmoothL1.

Each compares ``input`` and ``target`` element by element (they broadcast, with a warning
when their sizes differ); L1, MSE and Huber take a functional ``weight=`` of the input's
shape (torch 2.13). Huber has ``delta`` (positive), SmoothL1 ``beta`` (non-negative; 0 is
L1). The ``tie`` regime puts ``input == target`` and ``|input - target| == delta/beta``
exactly on the dtype's grid, where the subgradient conventions of the oracle apply.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from suites.dtypes import overflow_threshold, to_dtype
from suites.specs._types import InvalidInput, LossSpec, Option, TensorArg
from suites.strategies import BULK_SIZES, arrays, broadcast_partner, bulk_values, shapes

THRESHOLDS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)


def threshold_values(dtype: str) -> st.SearchStrategy[float]:
    """delta / beta: exact dyadic values (ties land on the grid) and arbitrary positive ones."""
    return st.one_of(st.sampled_from(THRESHOLDS), st.floats(1e-3, 1e3))


def beta_values(dtype: str) -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), threshold_values(dtype))


def _threshold(options: dict[str, Any]) -> float | None:
    for name in ("delta", "beta"):
        if name in options:
            return float(options[name])
    return None


@st.composite
def draw_pointwise_inputs(
    draw: st.DrawFn,
    dtype: str,
    regime: str,
    options: dict[str, Any],
    include: frozenset[str],
    threshold_default: float | None = None,
) -> dict[str, np.ndarray]:
    """input, target (and weight when included) for one regime."""
    if regime == "bulk":
        seed = draw(st.integers(0, 2**32 - 1))
        size = draw(st.sampled_from(BULK_SIZES))
        x = bulk_values(seed, size, dtype, scale=4.0)
        y = bulk_values(seed + 1, size, dtype, scale=4.0)
        out: dict[str, Any] = {"input": x, "target": y}
        src = {
            "input": f"bulk_values({seed}, {size}, {dtype!r}, scale=4.0)",
            "target": f"bulk_values({seed + 1}, {size}, {dtype!r}, scale=4.0)",
        }
        if "weight" in include:
            out["weight"] = np.abs(bulk_values(seed + 2, size, dtype))
            src["weight"] = f"abs(bulk_values({seed + 2}, {size}, {dtype!r}))"
        out["_sources"] = src
        return out

    shape = draw(shapes())
    broadcast = regime != "tie" and draw(st.integers(0, 7)) == 0
    target_shape = draw(broadcast_partner(shape)) if broadcast else shape
    if regime == "tie":
        x = _grid(draw, shape, dtype)
        threshold = _threshold(options)
        y = _ties(draw, x, dtype, threshold_default if threshold is None else threshold)
    else:
        x = draw(arrays(dtype, shape, regime))
        y = draw(arrays(dtype, target_shape, regime))
    out = {"input": x, "target": y}
    if "weight" in include:
        out["weight"] = draw(arrays(dtype, shape, regime if regime == "edge" else "well", 0.0, 4.0))
    return out


def _grid(draw: st.DrawFn, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Values k/8 for |k| <= 128: exact in every dtype, so differences of them are too."""
    n = int(np.prod(shape))
    ks = draw(st.lists(st.integers(-128, 128), min_size=n, max_size=n))
    return to_dtype(np.array(ks, dtype=np.float64).reshape(shape) / 8.0, dtype)


def _ties(draw: st.DrawFn, x: np.ndarray, dtype: str, threshold: float | None) -> np.ndarray:
    """A target equal to x, or exactly ±threshold away from it, element by element."""
    picks = draw(st.lists(st.sampled_from((0, 1, -1)), min_size=x.size, max_size=x.size))
    offset = np.array(picks, dtype=np.float64).reshape(x.shape) * (threshold or 0.0)
    xv = x.astype(np.float64)
    y = to_dtype(xv - offset, dtype)
    exact = (xv - y.astype(np.float64)) == offset
    return np.where(exact, y, x)


def pointwise_features(threshold_default: float | None):
    """Features: tie (input == target), kink (|d| == delta/beta), diff_overflow, nan_diff.

    nan_diff: some input - target is NaN (a NaN operand, or inf - inf).
    diff_overflow: some exact |input - target| is at or past the dtype's overflow threshold
    while both operands are finite, so torch's difference, taken in the dtype, is inf.
    """

    def features(case: Any) -> set[str]:
        x = case.inputs["input"].astype(np.longdouble)
        y = case.inputs["target"].astype(np.longdouble)
        out: set[str] = set()
        try:
            with np.errstate(invalid="ignore", over="ignore"):
                d = np.abs(x - y)
        except ValueError:  # shapes that do not broadcast (an invalid-input case)
            return out
        if np.any(d == 0):
            out.add("tie")
        if np.any(np.isnan(d)):
            out.add("nan_diff")
        t = _threshold(case.options)
        t = threshold_default if t is None else t
        if t is not None and np.any(d == t):
            out.add("kink")
        if np.any(np.isfinite(d) & (d >= overflow_threshold(case.dtype))):
            out.add("diff_overflow")
        return out

    return features


def _drawer(threshold_default: float | None):
    def draw_inputs(draw, dtype, regime, options, include):
        return draw(draw_pointwise_inputs(dtype, regime, options, include, threshold_default))

    return draw_inputs


PAIR = {"input": [[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]], "target": [[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]}
COMMON_INVALID = (
    InvalidInput(
        "unknown-reduction",
        "reduction",
        PAIR,
        {"reduction": "avg"},
        rule="reduction is one of 'none', 'mean', 'sum'",
    ),
    InvalidInput(
        "shapes-do-not-broadcast",
        "target",
        {"input": [1.0, 2.0, 3.0], "target": [1.0, 2.0]},
        rule="input and target broadcast",
    ),
)
WEIGHT_INVALID = (
    InvalidInput(
        "weight-does-not-broadcast",
        "weight",
        {**PAIR, "weight": [1.0, 2.0]},
        apis=("functional",),
        rule="weight broadcasts to the loss",
    ),
)


def _threshold_invalid(name: str, rule: str, values: tuple[float, ...]) -> tuple:
    return tuple(InvalidInput(f"{name}={v!r}", name, PAIR, {name: v}, rule=rule) for v in values)


WEIGHT = TensorArg(
    "weight",
    differentiable=True,
    positional=False,
    optional=True,
    apis=("functional",),
    since="2.13",
)
INPUT = TensorArg("input", differentiable=True)
TARGET = TensorArg("target", differentiable=True)
REGIMES = ("well", "edge", "tie", "bulk")

L1 = LossSpec(
    loss="L1Loss",
    functional="l1_loss",
    oracle="l1_loss",
    args=(INPUT, TARGET, WEIGHT),
    options=(),
    draw_inputs=_drawer(None),
    regimes=REGIMES,
    features=pointwise_features(None),
    legacy_reduction_args=True,
    warns_on_broadcast=True,
    doc="l_n = |x_n - y_n|",
    invalid=COMMON_INVALID + WEIGHT_INVALID,
    scale_args=("weight",),
)

MSE = LossSpec(
    loss="MSELoss",
    functional="mse_loss",
    oracle="mse_loss",
    args=(INPUT, TARGET, WEIGHT),
    options=(),
    draw_inputs=_drawer(None),
    regimes=REGIMES,
    features=pointwise_features(None),
    legacy_reduction_args=True,
    warns_on_broadcast=True,
    doc="l_n = (x_n - y_n)^2",
    invalid=COMMON_INVALID + WEIGHT_INVALID,
    scale_args=("weight",),
    floor_amplification=lambda options: 2.0,  # d(d^2)/dd = 2d
)

HUBER = LossSpec(
    loss="HuberLoss",
    functional="huber_loss",
    oracle="huber_loss",
    args=(INPUT, TARGET, WEIGHT),
    options=(Option("delta", 1.0, threshold_values, doc="must be positive"),),
    draw_inputs=_drawer(1.0),
    regimes=REGIMES,
    features=pointwise_features(1.0),
    warns_on_broadcast=True,
    since="1.9",
    doc="l_n = 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta)",
    invalid=COMMON_INVALID
    + WEIGHT_INVALID
    + _threshold_invalid("delta", "delta must be positive", (-1.0, 0.0, float("nan"))),
    scale_args=("weight",),
    floor_amplification=lambda options: max(1.0, float(options.get("delta", 1.0))),
)

SMOOTH_L1 = LossSpec(
    loss="SmoothL1Loss",
    functional="smooth_l1_loss",
    oracle="smooth_l1_loss",
    args=(INPUT, TARGET),
    options=(Option("beta", 1.0, beta_values, doc="must be non-negative; 0 is L1"),),
    draw_inputs=_drawer(1.0),
    regimes=REGIMES,
    features=pointwise_features(1.0),
    legacy_reduction_args=True,
    warns_on_broadcast=True,
    doc="l_n = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta",
    invalid=COMMON_INVALID
    + _threshold_invalid("beta", "beta must be non-negative", (-1.0, float("nan"))),
    floor_amplification=lambda options: max(1.0, 1.0 / float(options.get("beta", 1.0) or 1.0)),
)

SPECS = (L1, MSE, HUBER, SMOOTH_L1)
