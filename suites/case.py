"""LossCase: one drawn case, the unit that travels the road of design.md.

A case holds the inputs as numpy arrays at the test dtype, the options passed explicitly
(anything absent takes torch's default), the effective reduction and its features: the
facts about the inputs that the registry and the report key on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from suites.dtypes import info
from suites.specs import LossSpec
from suites.strategies import draw_option_values

LEGACY_ARGS = ("size_average", "reduce")


@dataclass
class LossCase:
    spec: LossSpec
    dtype: str
    api: str
    regime: str
    inputs: dict[str, np.ndarray]
    options: dict[str, Any]
    reduction: str
    sources: dict[str, str] = field(default_factory=dict)  # name -> expression rebuilding it
    # integer inputs torch receives as Python sequences, not tensors: name -> "list" or
    # "tuple" (CTC's lengths: "Tuple or tensor of size (N)")
    sequences: dict[str, str] = field(default_factory=dict)
    derived: set[str] = field(default_factory=set)  # features the road adds (see road.py)

    def __repr__(self) -> str:
        arrays = ", ".join(
            f"{k}{list(v.shape)}" + (f" as {self.sequences[k]}" if k in self.sequences else "")
            for k, v in self.inputs.items()
        )
        return (
            f"LossCase({self.spec.name}, {self.dtype}, {self.api}, regime={self.regime}, "
            f"options={self.options}, {arrays})"
        )

    def _repr_pretty_(self, printer, cycle) -> None:  # hypothesis prints cases with this
        printer.text(repr(self))

    @property
    def positional(self) -> list[np.ndarray]:
        return [self.inputs[a.name] for a in self.spec.args if a.positional]

    @property
    def keyword_tensors(self) -> dict[str, np.ndarray]:
        return {
            a.name: self.inputs[a.name]
            for a in self.spec.args
            if not a.positional and a.name in self.inputs
        }

    @property
    def shapes(self) -> dict[str, list[int]]:
        return {k: list(v.shape) for k, v in self.inputs.items()}

    def effective_options(self) -> dict[str, Any]:
        """Every option's value as torch sees it (defaults filled in)."""
        out = {o.name: o.default for o in self.spec.options}
        out.update({k: v for k, v in self.options.items() if k not in LEGACY_ARGS})
        out["reduction"] = self.reduction
        return out

    @property
    def features(self) -> set[str]:
        """Generic and loss-specific facts (computed once per inputs, options, reduction
        and api: a copy with other options recomputes them) and the road's derived ones."""
        key = (id(self.inputs), id(self.options), self.reduction, self.api, self.dtype)
        cached = self.__dict__.get("_feature_cache")
        if cached is None or cached[0] != key:
            cached = (key, frozenset(generic_features(self) | self.spec.features(self)))
            self.__dict__["_feature_cache"] = cached
        return set(cached[1]) | self.derived


def generic_features(case: LossCase) -> set[str]:
    """Facts about the floating inputs that hold for any loss."""
    d = info(case.dtype)
    out: set[str] = set()
    floats = [v for v in case.inputs.values() if np.issubdtype(v.dtype, np.floating)]
    for v in floats:
        a = v.astype(np.float64)
        if a.size == 0:
            out.add("empty")
            continue
        if np.isnan(a).any():
            out.add("nan")
        if np.isinf(a).any():
            out.add("inf")
        mag = np.abs(a[np.isfinite(a)])
        if ((mag > 0) & (mag < d.tiny)).any():
            out.add("subnormal")
        if (mag == d.max).any():
            out.add("max_finite")
        if ((a == 0) & np.signbit(a)).any():
            out.add("negative_zero")
        if a.ndim == 0:
            out.add("zero_dim")
    shapes = {tuple(x.shape) for x in case.positional}
    if len(shapes) > 1 and case.spec.broadcasts:
        out.add("broadcast")
    if case.regime == "bulk":
        out.add("bulk")
    return out


def available_args(spec: LossSpec, api: str, present: set[str]) -> list[str]:
    """Optional tensor args that exist on this api and in this torch."""
    return [
        a.name for a in spec.args if a.optional and api in a.apis and a.present_in(api, present)
    ]


@st.composite
def loss_cases(
    draw: st.DrawFn,
    spec: LossSpec,
    dtype: str,
    api: str,
    reduction: str,
    present: frozenset[str],
) -> LossCase:
    """A case of ``spec`` whose options and optional tensors exist in this torch (``present``)."""
    regime = draw(st.sampled_from(spec.regimes))
    strategies = {
        o.name: o.values(dtype) for o in spec.options if api in o.apis and o.name in present
    }
    defaults = {o.name: o.default for o in spec.options}
    options = draw_option_values(draw, strategies, defaults)
    include = frozenset(n for n in available_args(spec, api, set(present)) if draw(st.booleans()))
    inputs = spec.draw_inputs(draw, dtype, regime, options, include)
    sources = inputs.pop("_sources", {}) if isinstance(inputs.get("_sources"), dict) else {}
    sequences = inputs.pop("_sequences", {}) if isinstance(inputs.get("_sequences"), dict) else {}
    if reduction != "mean" or draw(st.booleans()):
        options["reduction"] = reduction
    return LossCase(spec, dtype, api, regime, inputs, options, reduction, sources, sequences)


def explicit_case(
    spec: LossSpec,
    dtype: str,
    api: str,
    inputs: dict[str, Any],
    options: dict[str, Any] | None = None,
    regime: str = "special",
    sequences: dict[str, str] | None = None,
) -> LossCase:
    """A hand-written case (special cases, invalid inputs): values rounded onto the dtype."""
    from suites.dtypes import to_dtype

    arrays = {}
    for k, v in inputs.items():
        a = np.asarray(v)
        arrays[k] = a if not np.issubdtype(a.dtype, np.floating) else to_dtype(a, dtype)
    options = dict(options or {})
    reduction = options.get("reduction", "mean")
    if "size_average" in options or "reduce" in options:
        sa, rd = options.get("size_average"), options.get("reduce")
        sa = True if sa is None else sa
        rd = True if rd is None else rd
        reduction = "none" if not rd else ("mean" if sa else "sum")
    return LossCase(
        spec, dtype, api, regime, arrays, options, reduction, sequences=dict(sequences or {})
    )
