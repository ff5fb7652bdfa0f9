"""Inputs the documentation forbids: the oracle rejects them naming the argument, and the
suite records what torch does. Silent acceptance is a failure unless it is registered
(kind ``validation``). Forward only: no backward ever runs on a forbidden input, and an
input that could make torch read or write out of bounds (``out_of_bounds``) runs in a
separate process (suites/isolated.py), once per loss and device for every dtype and api."""

from __future__ import annotations

from functools import cache

import pytest

from suites.case import LossCase, explicit_case
from suites.isolated import run_isolated
from suites.road import Road
from suites.specs import LossSpec, by_name
from suites.targets import Outcome, present_names


def _case(spec: LossSpec, dtype: str, api: str, bad) -> LossCase:
    return explicit_case(spec, dtype, api, bad.inputs, bad.options, regime="invalid")


@cache
def _isolated(name: str, device: str, dtypes: tuple[str, ...], apis: tuple[str, ...]):
    """Torch's outcome on every out-of-bounds input of the spec ``name``, in one child
    process on the CPU (one per case elsewhere), keyed by (dtype, api, input name)."""
    spec = by_name(name)
    keys, cases = [], []
    for dtype in dtypes:
        for api in apis:
            if present_names(spec, api) is None:
                continue
            for bad in spec.invalid:
                if bad.out_of_bounds and api in bad.apis:
                    keys.append((dtype, api, bad.name))
                    cases.append(_case(spec, dtype, api, bad))
    return dict(zip(keys, run_isolated(cases, device), strict=True))


def test_invalid_inputs(spec_combo, selection, recorder, request):
    spec, dtype, device = spec_combo
    if not spec.invalid:
        pytest.skip(f"{spec.name} declares no invalid inputs")
    failures = []
    for api in selection.apis:
        road = Road(spec, dtype, device, api, recorder=recorder, test_id=request.node.nodeid)
        road.require_present()
        for bad in spec.invalid:
            if api not in bad.apis:
                continue
            case = _case(spec, dtype, api, bad)
            actual: Outcome | None = None
            if bad.out_of_bounds:
                actual = _isolated(spec.name, device, selection.dtypes, selection.apis)[
                    (dtype, api, bad.name)
                ]
            result = road.check_invalid(case, bad.argument, actual)
            if result.verdict == "fail":
                failures.append(f"[{api}] {bad.name}: {result.comparison.message}")
    assert not failures, "\n".join(failures)
