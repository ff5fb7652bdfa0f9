"""The case-derived allowances of rules 3 and 4 (suites/allowances.py), on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from suites.allowances import derived_features, floor_scale, scale_underflow_bound
from suites.case import explicit_case
from suites.specs import by_name


def case(loss, dtype, inputs, **options):
    return explicit_case(by_name(loss), dtype, "functional", inputs, options)


def test_a_sum_accumulates_the_floor_of_every_term():
    c = case(
        "SmoothL1Loss",
        "float16",
        {"input": np.zeros(36), "target": np.zeros(36)},
        reduction="sum",
        beta=0.25,
    )
    assert floor_scale(c, (), None, 36) == pytest.approx(4 * 36)  # 1/beta per term, 36 terms
    m = case(
        "SmoothL1Loss",
        "float16",
        {"input": np.zeros(36), "target": np.zeros(36)},
        reduction="mean",
        beta=0.25,
    )
    assert floor_scale(m, (), None, 36) == pytest.approx(4)


def test_weights_amplify_the_floor_elementwise_and_never_overflow():
    w = np.array([1e308, 0.5, 3.0])
    c = case(
        "MSELoss",
        "float64",
        {"input": np.zeros(3), "target": np.zeros(3), "weight": w},
        reduction="none",
    )
    scale = floor_scale(c, (3,), None, 3)
    assert np.isfinite(scale).all()
    assert [float(v) for v in scale] == pytest.approx([2e308, 2.0, 6.0])


def test_a_subnormal_gradient_seed_allows_its_rounding():
    c = case(
        "MSELoss",
        "float64",
        {"input": np.zeros(()), "target": np.array([13.0]), "weight": np.array(5e-324)},
        reduction="sum",
    )
    bound = scale_underflow_bound(c, np.array(-1.93e-322), np.array(1.5), 1, ("weight",))
    # g * w = 7.4e-324 is exact only to half a subnormal: a third of its value
    assert float(bound) == pytest.approx(0.5 * 5e-324 / (1.5 * 5e-324) * 1.93e-322, rel=1e-3)
    normal = case(
        "MSELoss",
        "float64",
        {"input": np.zeros(()), "target": np.array([13.0]), "weight": np.array(1.0)},
        reduction="sum",
    )
    assert float(scale_underflow_bound(normal, np.array(-39.0), np.array(1.5), 1, ("weight",))) == 0


@pytest.mark.parametrize(
    ("dtype", "x", "feature"),
    [
        ("float64", 1.3407807929942597e154, "overflow_risk"),  # its square overflows
        ("float16", 300.0, "overflow_risk"),
        ("float16", 2.0, None),
        ("float64", 1e-200, "underflow_risk"),
    ],
)
def test_derived_features(dtype, x, feature):
    c = case(
        "MSELoss", dtype, {"input": np.array([x]), "target": np.array([0.0])}, reduction="none"
    )
    got = derived_features(c, np.array([x * x]))
    if feature is None:
        assert not got & {"overflow_risk", "underflow_risk"}
    else:
        assert feature in got


def test_sum_overflow_is_judged_in_the_accumulation_dtype():
    c = case(
        "L1Loss", "float16", {"input": np.full(4, 60000.0), "target": np.zeros(4)}, reduction="mean"
    )
    # the sum 240000 overflows float16 but not float32, which torch accumulates half in
    assert "sum_overflow" not in derived_features(c, np.full(4, 60000.0))
    c64 = case(
        "L1Loss", "float64", {"input": np.full(2, 1.2e308), "target": np.zeros(2)}, reduction="mean"
    )
    assert "sum_overflow" in derived_features(c64, np.full(2, 1.2e308))


def test_batchmean_scales_by_the_spec_denominator_and_mean_by_the_term_count():
    """'batchmean' divides by the documented batch size the spec gives, not by the number
    of terms; 'mean' keeps 1/N and 'sum' 1 (a spec without a denominator falls back to N)."""
    from dataclasses import replace

    from suites.allowances import mean_scale

    spec = replace(
        by_name("MSELoss"),
        reductions=("none", "mean", "sum", "batchmean"),
        mean_denominator=lambda c: (4.0, 0.0),
    )
    inputs = {"input": np.zeros((4, 3)), "target": np.zeros((4, 3))}
    batch = explicit_case(spec, "float32", "functional", inputs, {"reduction": "batchmean"})
    assert mean_scale(batch, 12) == pytest.approx(0.25)
    plain = explicit_case(spec, "float32", "functional", inputs, {"reduction": "mean"})
    assert mean_scale(plain, 12) == pytest.approx(1 / 12)
    total = explicit_case(spec, "float32", "functional", inputs, {"reduction": "sum"})
    assert mean_scale(total, 12) == 1
    bare = replace(batch, spec=by_name("MSELoss"))
    assert mean_scale(bare, 12) == pytest.approx(1 / 12)
