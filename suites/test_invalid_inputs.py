"""Inputs the documentation forbids: the oracle rejects them naming the argument, and the
suite records what torch does. Silent acceptance is a failure unless it is registered
(kind ``validation``). Forward only: no backward ever runs on a forbidden input."""

from __future__ import annotations

import pytest

from suites.case import explicit_case
from suites.road import Road


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
            case = explicit_case(spec, dtype, api, bad.inputs, bad.options, regime="invalid")
            result = road.check_invalid(case, bad.argument)
            if result.verdict == "fail":
                failures.append(f"[{api}] {bad.name}: {result.comparison.message}")
    assert not failures, "\n".join(failures)
