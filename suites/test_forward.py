"""Forward values of every loss against the oracle, for every selected combination."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from suites.road import Road


def test_forward(combo, recorder, request):
    spec, dtype, device, api, reduction = combo
    road = Road(spec, dtype, device, api, reduction, recorder=recorder, test_id=request.node.nodeid)
    road.require_present()

    @given(data=st.data())
    def run(data):
        road.assert_ok(road.check_forward(data.draw(road.cases(), label="case")))

    run()
    road.conclude()
