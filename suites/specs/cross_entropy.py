"""LossSpec entries of NLLLoss and CrossEntropyLoss (class-index and class-probability
targets).

NLL: l_n = -w_{y_n} x_{n, y_n} (ignored targets 0), 'mean' divides by sum_n w_{y_n}.
Cross entropy: NLL of log_softmax(x) with the target distribution smoothed by
``label_smoothing``; class-index targets divide 'mean' by sum_n w_{y_n}, probability
targets by the number of positions N d1 ... dk. Inputs (C,), (N, C) or (N, C, d1..dk), k
up to 3, N may be 0. Regimes: well, edge (NaN, ±inf, subnormals, max finite), extreme
(|logits| from 1e2 to 1e4, some ±inf) and bulk (4097 to 70000 targets of 3 classes: a
low-precision 'mean' over more than 65504 targets).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from suites.specs._classes import (
    DEFAULT_IGNORE,
    bulk_sizes,
    class_features,
    class_layout,
    class_mean_denominator,
    class_targets,
    class_weights,
    ignore_index_values,
    probability_targets,
    scores,
    smoothing_values,
    target_shape,
)
from suites.specs._softmax_error import cross_entropy_gradient_scale, cross_entropy_term_scale
from suites.specs._types import InvalidInput, LossSpec, Option, TensorArg
from suites.strategies import bulk_classes, bulk_scores

# sampled uniformly: the repeats make a bulk case (70000 targets, the costly one) one in
# seven, and leave the small regimes most of the search
SHAPES = ("unbatched", "kdim1", "kdim2", "kdim3", "empty_batch")
INDEX_CASES = (
    "ignored",
    "all_ignored",
    "ignore_index_in_range",
    "ignore_index_negative",
    "weighted",
    "zero_total_weight",
)
VALUES = ("extreme_logits", "inf_logit", "over_65504_targets")
SMOOTHING_CASES = ("label_smoothing", "label_smoothing_one")
REGIMES = ("well", "well", "edge", "edge", "extreme", "extreme", "bulk")
BULK_CLASSES = 3


@st.composite
def draw_class_index_inputs(
    draw: st.DrawFn, dtype: str, regime: str, options: dict[str, Any], include: frozenset[str]
) -> dict[str, Any]:
    """input (scores), int64 target (some, none or all ignored), weight (C,) if included."""
    ii = options.get("ignore_index", DEFAULT_IGNORE)
    ii = DEFAULT_IGNORE if ii is None else ii
    if regime == "bulk":
        seed = draw(st.integers(0, 2**32 - 1))
        n = draw(st.sampled_from(bulk_sizes(dtype)))
        out: dict[str, Any] = {
            "input": bulk_scores(seed, n, BULK_CLASSES, dtype),
            "target": bulk_classes(seed + 1, n, BULK_CLASSES, ii),
            "_sources": {
                "input": f"bulk_scores({seed}, {n}, {BULK_CLASSES}, {dtype!r})",
                "target": f"bulk_classes({seed + 1}, {n}, {BULK_CLASSES}, {ii})",
            },
        }
        if "weight" in include:
            out["weight"] = draw(class_weights(dtype, BULK_CLASSES, "well"))
        return out
    shape, c = draw(class_layout())
    out = {
        "input": draw(scores(dtype, shape, regime)),
        "target": draw(class_targets(target_shape(shape), c, ii)),
    }
    if "weight" in include:
        out["weight"] = draw(class_weights(dtype, c, regime))
    return out


def _class_index_drawer(draw, dtype, regime, options, include):
    return draw(draw_class_index_inputs(dtype, regime, options, include))


@st.composite
def draw_probability_inputs(
    draw: st.DrawFn, dtype: str, regime: str, options: dict[str, Any], include: frozenset[str]
) -> dict[str, Any]:
    """input (scores), a probability target of the input's shape, weight (C,) if included."""
    if regime == "bulk":
        seed = draw(st.integers(0, 2**32 - 1))
        n = draw(st.sampled_from(bulk_sizes(dtype)))
        x = bulk_scores(seed, n, BULK_CLASSES, dtype)
        shape, c = x.shape, BULK_CLASSES
        out: dict[str, Any] = {
            "input": x,
            "_sources": {"input": f"bulk_scores({seed}, {n}, 3, {dtype!r})"},
        }
        out["target"] = draw(probability_targets(dtype, (1, c), "well")).repeat(n, axis=0)
    else:
        shape, c = draw(class_layout())
        out = {
            "input": draw(scores(dtype, shape, regime)),
            "target": draw(probability_targets(dtype, shape, regime)),
        }
    if "weight" in include:
        out["weight"] = draw(class_weights(dtype, c, "well" if regime == "bulk" else regime))
    return out


def _probability_drawer(draw, dtype, regime, options, include):
    return draw(draw_probability_inputs(dtype, regime, options, include))


INPUT = TensorArg("input", differentiable=True)
CLASS_TARGET = TensorArg("target", differentiable=False)
PROBABILITY_TARGET = TensorArg("target", differentiable=True)
CLASS_WEIGHT = TensorArg(
    "weight", differentiable=False, positional=False, optional=True, module_init=True
)
PROBABILITY_WEIGHT = TensorArg(
    "weight", differentiable=True, positional=False, optional=True, module_init=True
)
IGNORE_INDEX = Option(
    "ignore_index", DEFAULT_IGNORE, ignore_index_values, doc="a target value to ignore"
)
LABEL_SMOOTHING = Option("label_smoothing", 0.0, smoothing_values, since="1.10", doc="in [0, 1]")

X23 = [[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]]
COMMON_INVALID = (
    InvalidInput(
        "unknown-reduction",
        "reduction",
        {"input": X23, "target": [0, 2]},
        {"reduction": "avg"},
        rule="reduction is one of 'none', 'mean', 'sum'",
    ),
    InvalidInput(
        "class-index-past-C",
        "target",
        {"input": X23, "target": [0, 3]},
        rule="class indices lie in [0, C)",
        out_of_bounds=True,
    ),
    InvalidInput(
        "negative-class-index",
        "target",
        {"input": X23, "target": [-2, 1]},
        rule="class indices lie in [0, C) (or equal ignore_index)",
        out_of_bounds=True,
    ),
    InvalidInput(
        "target-batch-mismatch",
        "target",
        {"input": X23, "target": [0, 1, 2]},
        rule="the target has the input's shape without the class dimension",
    ),
    InvalidInput(
        "weight-of-wrong-size",
        "weight",
        {"input": X23, "target": [0, 2], "weight": [1.0, 2.0]},
        rule="weight has one element per class (C)",
    ),
    InvalidInput(
        "input-without-class-dimension",
        "input",
        {"input": 1.5, "target": 0},
        rule="the input has a class dimension: (C), (N, C) or (N, C, d1, ...)",
    ),
)
NLL_INVALID = (
    *COMMON_INVALID,
    InvalidInput(
        "floating-class-indices",
        "target",
        {"input": X23, "target": [0.0, 2.0]},
        rule="class-index targets are integers (int64)",
    ),
)
SMOOTHING_INVALID = tuple(
    InvalidInput(
        f"label_smoothing={v!r}",
        "label_smoothing",
        {"input": X23, "target": [0, 2]},
        {"label_smoothing": v},
        rule="label_smoothing lies in [0, 1]",
    )
    for v in (-0.1, 1.5)
)
PROBABILITY_INVALID = (
    InvalidInput(
        "probability-above-one",
        "target",
        {"input": X23, "target": [[1.5, 0.0, 0.0], [0.2, 0.3, 0.5]]},
        rule="class probabilities lie in [0, 1]",
    ),
    InvalidInput(
        "negative-probability",
        "target",
        {"input": X23, "target": [[-0.5, 1.0, 0.5], [0.2, 0.3, 0.5]]},
        rule="class probabilities lie in [0, 1]",
    ),
    InvalidInput(
        "probability-target-shape-mismatch",
        "target",
        {"input": X23, "target": [[0.5, 0.5], [0.2, 0.8]]},
        rule="a probability target has the input's shape",
    ),
)

NLL = LossSpec(
    loss="NLLLoss",
    functional="nll_loss",
    oracle="nll_loss",
    args=(INPUT, CLASS_TARGET, CLASS_WEIGHT),
    options=(IGNORE_INDEX,),
    draw_inputs=_class_index_drawer,
    regimes=REGIMES,
    features=class_features,
    legacy_reduction_args=True,
    broadcasts=False,
    mean_denominator=class_mean_denominator,
    scale_args=("weight",),
    doc="l_n = -w_{y_n} x_{n,y_n}; mean divides by sum_n w_{y_n} (ignored targets excluded)",
    coverage=SHAPES + INDEX_CASES + VALUES,
    invalid=NLL_INVALID,
)

CROSS_ENTROPY_CLASS = replace(
    NLL,
    loss="CrossEntropyLoss",
    functional="cross_entropy",
    oracle="cross_entropy",
    variant="class_index",
    options=(IGNORE_INDEX, LABEL_SMOOTHING),
    term_scale=cross_entropy_term_scale,
    gradient_scale=cross_entropy_gradient_scale,
    doc="l_n = -sum_c w_c q_{n,c} log softmax(x_n)_c, q = (1-eps) onehot(y_n) + eps/C",
    coverage=SHAPES + INDEX_CASES + VALUES + SMOOTHING_CASES,
    invalid=COMMON_INVALID + SMOOTHING_INVALID,
)

CROSS_ENTROPY_PROBABILITIES = replace(
    CROSS_ENTROPY_CLASS,
    variant="prob_target",
    args=(INPUT, PROBABILITY_TARGET, PROBABILITY_WEIGHT),
    # ignore_index "is only applicable when the target contains class indices": torch
    # raises for a non-default one with probabilities, so it is not drawn here
    options=(LABEL_SMOOTHING,),
    draw_inputs=_probability_drawer,
    mean_denominator=None,  # probability targets: 'mean' divides by the positions
    since="1.10",
    doc="l_n = -sum_c w_c y'_{n,c} log softmax(x_n)_c, y' = (1-eps) y + eps/C; mean / N",
    coverage=(*SHAPES, "weighted", *VALUES, *SMOOTHING_CASES),
    invalid=PROBABILITY_INVALID,
)

SPECS = (NLL, CROSS_ENTROPY_CLASS, CROSS_ENTROPY_PROBABILITIES)
