"""SmoothL1Loss's documented special case: "When beta is 0, Smooth L1 loss is equivalent
to L1 loss", for the value and the gradients (including the subgradient 0 at a tie)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from suites.road import Road
from suites.selection import for_specs
from suites.specs import by_name
from suites.targets import TorchTarget


@for_specs(lambda spec: spec.loss == "SmoothL1Loss")
def test_beta_zero_is_l1(spec_combo, selection, recorder, request):
    spec, dtype, device = spec_combo
    l1 = by_name("L1Loss")
    target = TorchTarget(device)

    @given(data=st.data())
    def run(data):
        api = data.draw(st.sampled_from(selection.apis), label="api")
        reduction = data.draw(st.sampled_from(spec.reductions), label="reduction")
        road = Road(
            spec, dtype, device, api, reduction, recorder=recorder, test_id=request.node.nodeid
        )
        road.require_present()
        case = data.draw(road.cases(), label="case")
        case = replace(case, options={**case.options, "beta": 0.0})
        as_l1 = replace(
            case, spec=l1, options={k: v for k, v in case.options.items() if k != "beta"}
        )
        grads = ("input", "target")
        a, b = target.run(case, grads=grads), target.run(as_l1, grads=grads)
        if a.unsupported:
            return
        assert (a.exception is None) == (b.exception is None)
        if a.exception is None:
            assert np.array_equal(a.value, b.value, equal_nan=True), (a.value, b.value)
            for g in grads:
                assert np.array_equal(a.grads[g], b.grads[g], equal_nan=True), g
        road.assert_ok(road.check_forward(case, kind="special"))
        road.assert_ok(road.check_gradients(case, None, kind="special"))

    run()
