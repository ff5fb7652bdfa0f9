"""Autograd gradients of every differentiable input against the oracle's hand-derived ones.

grad_output is drawn too (well-conditioned values of the output's shape), so the chain rule
through the reduction is exercised, not only the all-ones seed.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import oracle
from suites.reproducer import INLINE_LIMIT
from suites.road import Road
from suites.strategies import arrays, bulk_values


def test_gradients(combo, recorder, request):
    spec, dtype, device, api, reduction = combo
    road = Road(spec, dtype, device, api, reduction, recorder=recorder, test_id=request.node.nodeid)
    road.require_present()

    @given(data=st.data())
    def run(data):
        case = data.draw(road.cases(), label="case")
        value = road.expected(case)
        if isinstance(value, oracle.OracleInputError):
            return  # rejected inputs are test_invalid_inputs' business
        shape = np.shape(value)
        if int(np.prod(shape)) > INLINE_LIMIT:  # a seeded vector: the reproducer rebuilds it
            seed = data.draw(st.integers(0, 2**32 - 1), label="grad_output seed")
            size = int(np.prod(shape))
            grad_output = bulk_values(seed, size, dtype).reshape(shape)
            case.sources["grad_output"] = f"bulk_values({seed}, {size}, {dtype!r})"
        else:
            grad_output = data.draw(arrays(dtype, shape, "well", -4.0, 4.0), label="grad_output")
        road.assert_ok(road.check_gradients(case, grad_output))

    run()
    road.conclude()
