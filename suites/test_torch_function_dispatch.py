"""Every functional forwards all of its arguments through ``__torch_function__``.

A tensor subclass that adds nothing (DTensor, FakeTensor and user subclasses all travel
this path) must get the documented result: the same case, with the input wrapped in a plain
``torch.Tensor`` subclass, is judged by the oracle through the usual road. A functional that
drops an argument on this path (a weight, an option) gives a silently different loss.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from suites.road import Road
from suites.targets import SubclassTarget


def test_subclass_input_gets_the_documented_result(spec_combo, recorder, request):
    spec, dtype, device = spec_combo

    @given(data=st.data())
    def run(data):
        reduction = data.draw(st.sampled_from(spec.reductions), label="reduction")
        road = Road(
            spec,
            dtype,
            device,
            "functional",
            reduction,
            target=SubclassTarget(device),
            recorder=recorder,
            test_id=request.node.nodeid,
        )
        road.require_present()
        case = data.draw(road.cases(), label="case")
        case.derived.add("tensor_subclass")
        road.assert_ok(road.check_forward(case, kind="dispatch"))

    run()
