"""HuberLoss's documented relations, checked on torch.

"In general, this loss differs from SmoothL1Loss by a factor of delta (AKA beta in Smooth
L1)": huber(x, y, delta) = delta * smooth_l1(x, y, beta=delta). "When delta is set to 1,
this loss is equivalent to SmoothL1Loss." Both sides are torch; each is within its budget of
the exact value, so they may differ by the sum of the two budgets plus one rounding of the
product: that is the tolerance, derived, not chosen.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from suites.case import explicit_case
from suites.dtypes import ulp
from suites.record import case_record
from suites.selection import for_specs
from suites.specs import by_name
from suites.specs.pointwise import threshold_values
from suites.strategies import arrays, shapes
from suites.targets import TorchTarget
from suites.tolerances import budget_for


@for_specs(lambda spec: spec.loss == "HuberLoss")
def test_huber_is_delta_times_smooth_l1(spec_combo, recorder, request):
    spec, dtype, device = spec_combo
    smooth = by_name("SmoothL1Loss")
    target = TorchTarget(device)
    b_h = budget_for(spec.name, "output", dtype, device).ulp
    b_s = budget_for(smooth.name, "output", dtype, device).ulp

    @given(data=st.data())
    def run(data):
        shape = data.draw(shapes(min_dims=1, max_dims=2), label="shape")
        x = data.draw(arrays(dtype, shape, "well"), label="input")
        y = data.draw(arrays(dtype, shape, "well"), label="target")
        delta = data.draw(threshold_values(dtype), label="delta")
        h = explicit_case(
            spec,
            dtype,
            "functional",
            {"input": x, "target": y},
            {"delta": delta, "reduction": "none"},
        )
        s = explicit_case(
            smooth,
            dtype,
            "functional",
            {"input": x, "target": y},
            {"beta": delta, "reduction": "none"},
        )
        out_h, out_s = target.run(h), target.run(s)
        if out_h.unsupported or out_s.unsupported:
            return
        lhs = out_h.value.astype(np.longdouble)
        rhs = np.longdouble(delta) * out_s.value.astype(np.longdouble)
        tol = (b_h + (b_s + 1) * delta) * ulp(np.maximum(np.abs(lhs), np.abs(rhs)), dtype)
        bad = np.abs(lhs - rhs) > tol
        if recorder is not None:
            h.derived.add("huber=delta*smooth_l1")
            recorder.record(
                case_record(
                    request.node.nodeid,
                    "special",
                    h,
                    device,
                    "fail" if bad.any() else "pass",
                    "relation",
                    message="huber(delta) vs delta * smooth_l1(beta=delta)",
                )
            )
        assert not bad.any(), (
            f"huber(delta={delta}) != delta * smooth_l1(beta={delta}) at {np.argwhere(bad)[:3]}: "
            f"{lhs[bad][:3]} vs {rhs[bad][:3]}"
        )

    run()
