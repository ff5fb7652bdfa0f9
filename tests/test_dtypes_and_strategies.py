"""The dtype helpers and the strategies that feed every suite."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from suites.case import loss_cases
from suites.dtypes import info, round_to_bfloat16, to_dtype, ulp
from suites.specs import ALL_SPECS, by_name, select
from suites.strategies import arrays, special_values

FIND = settings(
    max_examples=2000,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def test_ulp_at_known_points():
    assert ulp(1.0, "float32") == 2.0**-23
    assert ulp(1.0, "float16") == 2.0**-10
    assert ulp(1.0, "bfloat16") == 2.0**-7
    assert ulp(0.0, "float16") == 2.0**-24
    assert ulp(65504.0, "float16") == 32.0
    assert ulp(5e-324, "float64") == 5e-324


def test_bfloat16_rounds_to_nearest_even_and_keeps_shape():
    one = np.float32(1.0)
    half_step = np.float32(1.0 + 2.0**-8)  # exactly between 1 and 1 + 2^-7
    assert round_to_bfloat16(np.array([half_step]))[0] == one
    assert round_to_bfloat16(np.array([np.float32(1.0 + 3 * 2.0**-8)]))[0] == np.float32(1 + 2**-6)
    assert round_to_bfloat16(np.float32(1.5)).shape == ()
    assert np.isnan(round_to_bfloat16(np.array([np.nan]))[0])


@given(st.floats(-1e30, 1e30))
@settings(derandomize=True, database=None)
def test_to_dtype_bfloat16_is_the_nearest_grid_point(x):
    r = float(to_dtype(np.array([x]), "bfloat16")[0])
    step = float(ulp(r, "bfloat16"))
    assert abs(r - x) <= step / 2 * (1 + 1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
def test_special_values_are_exact_in_the_dtype(dtype):
    for v in special_values(dtype):
        if not np.isnan(v):
            assert float(to_dtype(np.array([v]), dtype)[0]) == v


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
@pytest.mark.parametrize("target", ["max", "subnormal", "inf", "nan", "negzero"])
def test_the_edge_regime_reaches_every_special_class(dtype, target):
    d = info(dtype)
    tests = {
        "max": lambda a: (np.abs(a) == d.max).any(),
        "subnormal": lambda a: ((np.abs(a) > 0) & (np.abs(a) < d.tiny)).any(),
        "inf": lambda a: np.isinf(a).any(),
        "nan": lambda a: np.isnan(a).any(),
        "negzero": lambda a: ((a == 0) & np.signbit(a)).any(),
    }
    found = find(
        arrays(dtype, (4,), "edge"), lambda a: tests[target](a.astype(np.float64)), settings=FIND
    )
    assert found.shape == (4,)


def test_bfloat16_arrays_are_on_the_grid():
    a = find(arrays("bfloat16", (8,), "well"), lambda a: (a != 0).all(), settings=FIND)
    assert np.array_equal(round_to_bfloat16(a), a)


@pytest.mark.parametrize("feature", ["tie", "kink", "empty", "broadcast", "bulk", "zero_dim"])
def test_pointwise_cases_reach_every_feature(feature):
    spec = by_name("HuberLoss")
    strategy = loss_cases(
        spec, "float32", "functional", "none", frozenset({"delta", "weight", "reduction"})
    )
    case = find(strategy, lambda c: feature in c.features, settings=FIND)
    assert feature in case.features


def test_select_by_any_name():
    assert [s.name for s in select("l1, huber_loss,MSELoss")] == ["L1Loss", "HuberLoss", "MSELoss"]
    assert select(None) == ALL_SPECS
    with pytest.raises(ValueError, match="unknown loss"):
        select("nope")
