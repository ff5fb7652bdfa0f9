"""LossSpec entries of LinearCrossEntropyLoss / linear_cross_entropy (new in torch 2.13), for
class-index and class-probability targets.

Documented as ``cross_entropy(linear(input, linear_weight) + linear_bias, target, ...)``
with ``ignore_index=None`` mapped to -100 for class indices. Inputs (K,) or (N, K);
linear_weight (C, K) or (C, d1, ..., dk, K) (logits (N, C, d1..dk), batched input only);
linear_bias (C,) or (C, d1..dk); weight (C,). ``options`` is drawn as None (the reference
path) or as the settings of a ``LinearCrossEntropyOptions`` (the chunked path: chunking
method, batch chunk size, accumulation policy and dtype), which must not change the
documented value. The module owns its linear layer: ``module_factory`` builds it with the
case's shapes and calls it with the case's linear weight and bias in place of its own
parameters (``torch.func.functional_call``), so gradients reach them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from suites.specs._classes import (
    bulk_sizes,
    class_features,
    class_mean_denominator,
    class_targets,
    class_weights,
    probability_targets,
    smoothing_values,
)
from suites.specs._softmax_error import SoftmaxError
from suites.specs._types import InvalidInput, LossSpec, Option, TensorArg
from suites.strategies import arrays, bulk_classes, bulk_values

# sampled uniformly: the repeats make a bulk case (70000 targets, the costly one) one in
# seven, and leave the small regimes most of the search
REGIMES = ("well", "well", "edge", "edge", "extreme", "extreme", "bulk")
BULK_CHUNK_SCALE = 64  # bulk cases take batch chunks of 64-256 rows
EXTREME = 30.0  # |x|, |W| <= 30 with K <= 4: logits up to 3600, finite in float16
CHUNKING = ("auto", "aspect_ratio", "aspect_ratio:2", None)
POLICIES = ("auto", "accurate", "balanced", "compact")


def ignore_values(dtype: str) -> st.SearchStrategy[int | None]:
    return st.sampled_from((None, -100, -1, 0, 1, 255))


@st.composite
def chunking_settings(draw: st.DrawFn, low_precision: bool) -> dict[str, Any]:
    """Settings of a LinearCrossEntropyOptions: a chunking method or an explicit batch
    chunk size (never both: torch refuses a disagreeing pair), a policy, an acc dtype."""
    out: dict[str, Any] = {"acc_policy": draw(st.sampled_from(POLICIES))}
    if draw(st.booleans()):
        out["chunking_method"] = None
        out["batch_chunk_size"] = draw(st.integers(1, 4))
    else:
        out["chunking_method"] = draw(st.sampled_from(CHUNKING[:3]))
    if low_precision and draw(st.booleans()):
        out["acc_dtype"] = "float32"  # the one acc_dtype torch accepts, for half inputs
    return out


def options_values(dtype: str) -> st.SearchStrategy[dict[str, Any] | None]:
    low = dtype in ("float16", "bfloat16")
    return st.one_of(st.none(), st.just({}), chunking_settings(low))


def to_torch_options(options: dict[str, Any]) -> dict[str, Any]:
    """The case's plain ``options`` settings -> a LinearCrossEntropyOptions instance."""
    settings = options.get("options")
    if settings is None:
        return dict(options)
    import torch

    kw = dict(settings)
    if kw.get("acc_dtype") is not None:
        kw["acc_dtype"] = getattr(torch, kw["acc_dtype"])
    return {**options, "options": torch.nn.LinearCrossEntropyOptions(**kw)}


_VALUE_PRESENT: dict[tuple[str, str], bool] = {}


def _value_present(field: str, value: str) -> bool:
    """Whether this torch's LinearCrossEntropyOptions accepts ``field=value`` (torch 2.14
    refuses acc_policy='balanced', which 2.13 accepts)."""
    key = (field, value)
    if key not in _VALUE_PRESENT:
        import torch

        try:
            torch.nn.LinearCrossEntropyOptions(**{field: value})
            _VALUE_PRESENT[key] = True
        except (TypeError, ValueError):
            _VALUE_PRESENT[key] = False
    return _VALUE_PRESENT[key]


def absent_option_values(case: Any) -> list[str]:
    """The case's option values this torch lacks, e.g.
    ``LinearCrossEntropyOptions(acc_policy='balanced')`` on torch 2.14."""
    settings = case.options.get("options")
    if not settings:
        return []
    return [
        f"LinearCrossEntropyOptions({field}={settings[field]!r})"
        for field in ("acc_policy", "chunking_method")
        if isinstance(settings.get(field), str) and not _value_present(field, settings[field])
    ]


def _options_source(settings: dict[str, Any]) -> str:
    parts = []
    for k, v in settings.items():
        parts.append(f"{k}=torch.{v}" if k == "acc_dtype" and v is not None else f"{k}={v!r}")
    return f"torch.nn.LinearCrossEntropyOptions({', '.join(parts)})"


@st.composite
def draw_inputs(
    draw: st.DrawFn,
    dtype: str,
    regime: str,
    options: dict[str, Any],
    include: frozenset[str],
    probabilities: bool,
) -> dict[str, Any]:
    ii = options.get("ignore_index")
    ii = -100 if ii is None else ii
    out: dict[str, Any] = {}
    if regime == "bulk":
        settings = options.get("options")
        if settings and settings.get("batch_chunk_size"):
            # a bulk batch cut into chunks of 1-4 rows costs torch 4 s a call (70000 Python
            # iterations); 64 times that keeps tens to a thousand chunks, whose partial sums
            # are what the bulk regime is for, at a cost the CI budget carries
            settings["batch_chunk_size"] *= BULK_CHUNK_SCALE
        seed = draw(st.integers(0, 2**32 - 1))
        n, k, c, extra = draw(st.sampled_from(bulk_sizes(dtype))), 2, 3, ()
        out["input"] = bulk_values(seed, n * k, dtype).reshape(n, k)
        sources = {"input": f"bulk_values({seed}, {n * k}, {dtype!r})"}
        if not probabilities:
            out["target"] = bulk_classes(seed + 1, n, c, ii)
            sources["target"] = f"bulk_classes({seed + 1}, {n}, {c}, {ii})"
        else:
            row = draw(probability_targets(dtype, (1, c), "well"))
            out["target"] = row.repeat(n, axis=0)
        out["_sources"] = sources
        batch: tuple[int, ...] = (n,)
        value_regime = "well"
    else:
        k, c = draw(st.integers(1, 4)), draw(st.integers(1, 5))
        unbatched = draw(st.integers(0, 4)) == 0
        extra = () if unbatched else tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
        batch = () if unbatched else (draw(st.integers(0, 4)),)
        lo, hi = (-EXTREME, EXTREME) if regime == "extreme" else (-4.0, 4.0)
        value_regime = "edge" if regime == "edge" else "well"
        out["input"] = draw(arrays(dtype, (*batch, k), value_regime, lo, hi))
        if probabilities:
            out["target"] = draw(probability_targets(dtype, (*batch, c, *extra), regime))
        else:
            out["target"] = draw(class_targets((*batch, *extra), c, ii))
    lo, hi = (-EXTREME, EXTREME) if regime == "extreme" else (-4.0, 4.0)
    out["linear_weight"] = draw(arrays(dtype, (c, *extra, k), value_regime, lo, hi))
    if "linear_bias" in include:
        out["linear_bias"] = draw(arrays(dtype, (c, *extra), value_regime, lo, hi))
    if "weight" in include:
        out["weight"] = draw(class_weights(dtype, c, value_regime))
    return out


def _drawer(probabilities: bool):
    def drawer(draw, dtype, regime, options, include):
        return draw(draw_inputs(dtype, regime, options, include, probabilities))

    return drawer


def chunk_rows(case: Any) -> int:
    """Rows per chunk of the chunked path: the batch chunk size torch resolves for this call
    (``LinearCrossEntropyOptions`` resolves its "auto" sentinels per device and dtype from
    measured tables, so the suite asks it rather than guess), never more than N; N when
    torch cannot say; 0 on the reference path."""
    settings = case.options.get("options")
    if settings is None:
        return 0
    k, c, extra = _shapes(case.inputs)
    n = max(case.inputs["input"].shape[0] if case.inputs["input"].ndim == 2 else 1, 1)
    try:
        import torch

        opts = to_torch_options({"options": settings})["options"]
        dtype = getattr(torch, case.dtype)
        resolved = opts._adjust(n, k, c * math.prod(extra), dtype, torch.device("cpu"))
        size = resolved.batch_chunk_size
        if size is None:
            size = resolved._compute_batch_chunk_size(n, k, c * math.prod(extra))
        size = int(size)
    except Exception:  # a private API that may change: the whole batch bounds it
        size = n
    return max(min(size, n), 1)


def chunk_count(case: Any) -> int:
    """Roundings the chunked path's sum may take beyond a pairwise sum's.

    Measured on torch 2.13 (CPU, float64, all-zero logits, so every term is log 3): the
    reference path's sum is within 5 u of exact for N up to 200000, the chunked path's
    error grows with the rows per chunk (0.6 u at N = 1000, 14 u at 16384, 219 u at 70000
    with 32768-row chunks): it sums a chunk's rows one after another, not pairwise. A
    sequential sum of m terms is off by at most (m - 1) u_acc sum|t| (Higham, Accuracy and
    Stability, 4.2), and the chunks' partial sums add one after another too: the bound
    takes rows-per-chunk + number of chunks steps. 0 on the reference path."""
    rows = chunk_rows(case)
    if rows == 0:
        return 0
    n = max(case.inputs["input"].shape[0] if case.inputs["input"].ndim == 2 else 1, 1)
    return rows + math.ceil(n / rows)


def features(case: Any) -> set[str]:
    """The class features, and ``chunked_partials_in_dtype``: a reduced chunked call over
    more than one chunk in bfloat16, whose chunk partial sums torch adds in bfloat16 even
    with acc_dtype=float32 (registered: linear-cross-entropy-bfloat16-chunk-sums-stagnate;
    float16 accumulates them in float32)."""
    out = class_features(case)
    rows = chunk_rows(case)
    n = case.inputs["input"].shape[0] if case.inputs["input"].ndim == 2 else 1
    if case.dtype == "bfloat16" and rows and n > rows and case.reduction in ("sum", "mean"):
        out.add("chunked_partials_in_dtype")
    return out


# -- the module: its own linear layer, replaced by the case's tensors ----------------------


def _shapes(case_inputs: dict[str, Any]) -> tuple[int, int, tuple[int, ...]]:
    w = case_inputs["linear_weight"]
    return int(w.shape[-1]), int(w.shape[0]), tuple(int(d) for d in w.shape[1:-1])


def module_factory(case: Any, tensors: dict[str, Any], options: dict[str, Any]):
    import torch
    from torch.func import functional_call

    k, c, extra = _shapes(tensors)
    w = tensors["linear_weight"]
    bias = "linear_bias" in tensors
    init = {key: v for key, v in options.items()}
    if "weight" in tensors:
        init["weight"] = tensors["weight"]
    module = torch.nn.LinearCrossEntropyLoss(
        k, c, out_features=extra, bias=bias, dtype=w.dtype, device=w.device, **init
    )
    params = {"linear.weight": w.reshape(c * math.prod(extra), k)}
    if bias:
        params["linear.bias"] = tensors["linear_bias"].reshape(-1)
    if "weight" in tensors and "weight" in dict(module.named_buffers()):
        params["weight"] = tensors["weight"]

    class Bound:
        def __call__(self, input: Any, target: Any) -> Any:
            return functional_call(module, params, (input, target))

    return Bound(), [tensors["input"], tensors["target"]]


def module_reproducer(case: Any) -> list[str]:
    k, c, extra = _shapes(case.inputs)
    opts = dict(case.options)
    settings = opts.pop("options", None)
    kw = [f"{key}={v!r}" for key, v in opts.items()]
    if settings is not None:
        kw.append(f"options={_options_source(settings)}")
    if "weight" in case.inputs:
        kw.append("weight=weight")
    bias = "linear_bias" in case.inputs
    lines = [
        f"m = torch.nn.LinearCrossEntropyLoss({k}, {c}, out_features={extra!r}, bias={bias}, "
        f"dtype=linear_weight.dtype, device=linear_weight.device, {', '.join(kw)})",
        "with torch.no_grad():",
        f"    m.linear.weight.copy_(linear_weight.reshape(-1, {k}))",
    ]
    if bias:
        lines.append("    m.linear.bias.copy_(linear_bias.reshape(-1))")
    lines.append("loss = m(input, target)  # gradients of the linear layer: m.linear.weight.grad")
    return lines


# -- rounding-error scales (derivation: suites/specs/_softmax_error.py) -----------------


def _logits(case: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(logits, (K + 2) * Z, x as (N, K), W as (C*D, K)), in longdouble, logits in the
    (N, C, d1..dk) or (C,) layout."""
    ld = np.longdouble
    k, c, extra = _shapes(case.inputs)
    x = case.inputs["input"].astype(ld)
    unbatched = x.ndim == 1
    x2 = x.reshape(1, k) if unbatched else x
    w2 = case.inputs["linear_weight"].astype(ld).reshape(-1, k)
    b = case.inputs.get("linear_bias")
    b2 = np.zeros(w2.shape[0], dtype=ld) if b is None else b.astype(ld).reshape(-1)
    with np.errstate(all="ignore"):
        z = x2 @ w2.T + b2
        mag = (np.abs(x2) @ np.abs(w2).T + np.abs(b2)) * (k + 2)
    shape = (c, *extra) if unbatched else (x2.shape[0], c, *extra)
    return z.reshape(shape), mag.reshape(shape), x2, w2


def _error(case: Any) -> tuple[SoftmaxError, np.ndarray, np.ndarray]:
    z, mag, x2, w2 = _logits(case)
    return SoftmaxError(case, z, matmul=mag), x2, w2


def term_scale(case: Any) -> np.ndarray:
    return _error(case)[0].term_scale()


def gradient_scale(case: Any, name: str, grad_output: Any) -> np.ndarray | None:
    err, x2, w2 = _error(case)
    if name == "target":
        return err.back(err.target_scale(case, grad_output))
    if name == "weight":
        return err.weight_scale(case, grad_output)
    a = err.back(err.logit_magnitude(case, grad_output))
    a2 = a.reshape(1, -1) if a.ndim == 1 else a.reshape(a.shape[0], w2.shape[0])
    with np.errstate(all="ignore"):
        if name == "input":
            g = (w2.shape[0] + 2) * (a2 @ np.abs(w2))
            return g.reshape(case.inputs["input"].shape)
        n = a2.shape[0]
        if name == "linear_weight":
            g = (n + 2) * (a2.T @ np.abs(x2))
            return g.reshape(case.inputs["linear_weight"].shape)
        if name == "linear_bias":
            return ((n + 2) * a2.sum(axis=0)).reshape(case.inputs["linear_bias"].shape)
    return None


INPUT = TensorArg("input", differentiable=True)
LINEAR_WEIGHT = TensorArg("linear_weight", differentiable=True)
LINEAR_BIAS = TensorArg(
    "linear_bias", differentiable=True, positional=False, optional=True, module_alias="bias"
)
OPTIONS = (
    Option("ignore_index", None, ignore_values, doc="None maps to -100 for class indices"),
    Option("label_smoothing", 0.0, smoothing_values, doc="in [0, 1]"),
    Option("options", None, options_values, doc="LinearCrossEntropyOptions settings or None"),
)

X = [[0.5, -1.0], [1.5, 0.25]]
W = [[1.0, 0.5], [-0.5, 2.0], [0.25, -1.0]]
P = [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]
PROBABILITY_INVALID = (
    InvalidInput(
        "probability-above-one",
        "target",
        {"input": X, "linear_weight": W, "target": [[1.5, 0.0, 0.0], [0.2, 0.3, 0.5]]},
        rule="class probabilities lie in [0, 1]",
    ),
    InvalidInput(
        "probability-target-of-wrong-shape",
        "target",
        {"input": X, "linear_weight": W, "target": [[0.5, 0.5], [0.2, 0.8]]},
        rule="a probability target has the logits' shape (N, C)",
    ),
    InvalidInput(
        "label_smoothing=1.5",
        "label_smoothing",
        {"input": X, "linear_weight": W, "target": P},
        {"label_smoothing": 1.5},
        rule="label_smoothing lies in [0, 1]",
    ),
)
INVALID = (
    InvalidInput(
        "unknown-reduction",
        "reduction",
        {"input": X, "linear_weight": W, "target": [0, 2]},
        {"reduction": "avg"},
        rule="reduction is one of 'none', 'mean', 'sum'",
    ),
    InvalidInput(
        "class-index-past-C",
        "target",
        {"input": X, "linear_weight": W, "target": [0, 3]},
        rule="class indices lie in [0, C)",
        out_of_bounds=True,
    ),
    InvalidInput(
        "linear-weight-of-wrong-width",
        "linear_weight",
        {"input": X, "linear_weight": [[1.0, 0.5, 0.0]], "target": [0, 0]},
        apis=("functional",),
        rule="linear_weight's last dimension is in_features",
    ),
    InvalidInput(
        "weight-of-wrong-size",
        "weight",
        {"input": X, "linear_weight": W, "target": [0, 2], "weight": [1.0, 2.0]},
        rule="weight has one element per class (C)",
    ),
    InvalidInput(
        "label_smoothing=1.5",
        "label_smoothing",
        {"input": X, "linear_weight": W, "target": [0, 2]},
        {"label_smoothing": 1.5},
        rule="label_smoothing lies in [0, 1]",
    ),
)


def _spec(variant: str, probabilities: bool) -> LossSpec:
    target = TensorArg("target", differentiable=probabilities)
    weight = TensorArg("weight", differentiable=probabilities, positional=False, optional=True)
    return LossSpec(
        loss="LinearCrossEntropyLoss",
        functional="linear_cross_entropy",
        oracle="linear_cross_entropy",
        variant=variant,
        args=(INPUT, LINEAR_WEIGHT, target, LINEAR_BIAS, weight),
        # ignore_index applies to class indices only; torch raises for any explicit one
        # with probabilities, so it is not drawn for them
        options=OPTIONS[1:] if probabilities else OPTIONS,
        draw_inputs=_drawer(probabilities),
        regimes=REGIMES,
        features=features,
        broadcasts=False,
        mean_denominator=None if probabilities else class_mean_denominator,
        term_scale=term_scale,
        gradient_scale=gradient_scale,
        accumulation_steps=chunk_count,
        module_factory=module_factory,
        module_reproducer=module_reproducer,
        torch_options=to_torch_options,
        absent_values=absent_option_values,
        scale_args=("weight",),
        since="2.13",
        doc="cross_entropy(input @ linear_weight^T + linear_bias, target)",
        coverage=("unbatched", "kdim1", "kdim2", "empty_batch", "weighted", "label_smoothing")
        + ("over_65504_targets", "extreme_logits")
        + (() if probabilities else ("ignored", "all_ignored", "ignore_index_negative")),
        invalid=PROBABILITY_INVALID if probabilities else INVALID,
    )


LINEAR_CROSS_ENTROPY_CLASS = _spec("class_index", probabilities=False)
LINEAR_CROSS_ENTROPY_PROBABILITIES = _spec("prob_target", probabilities=True)

SPECS = (LINEAR_CROSS_ENTROPY_CLASS, LINEAR_CROSS_ENTROPY_PROBABILITIES)
