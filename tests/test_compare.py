"""The acceptance rules of suites/compare.py on hand-made values, at their boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from suites.compare import compare_values, reduction_bound
from suites.dtypes import info, overflow_threshold, ulp
from suites.tolerances import Budget


def budget(ulps: float = 2.0, floor: float = 1.0) -> Budget:
    return Budget(("*",), "output", ("*",), ("*",), ulps, 1.0, 8.0, floor, "test budget")


def cmp(expected, actual, dtype="float32", actual_dtype=None, b=None, bound=0.0):
    return compare_values(
        "output",
        np.asarray(expected, dtype=np.longdouble),
        np.asarray(actual, dtype=np.float64),
        actual_dtype or dtype,
        dtype,
        b or budget(),
        bound,
    )


def test_rule_1_shape_and_dtype():
    assert cmp([1.0, 2.0], [1.0]).rule == "1"
    assert cmp(1.0, [1.0]).rule == "1"
    assert cmp([1.0], [1.0], actual_dtype="float64").rule == "1"


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
def test_rule_3_boundary_is_the_budget(dtype):
    e = np.longdouble(1.5)
    step = ulp(1.5, dtype)
    assert cmp(e, float(e + 2 * step), dtype).ok
    out = cmp(e, float(e + 3 * step), dtype)
    assert not out.ok and out.rule == "3" and out.max_ulp == pytest.approx(3.0)


def test_rule_2_nan_and_infinity_by_class():
    assert cmp(np.nan, np.nan).ok
    assert cmp(np.nan, 1.0).rule == "2"
    assert cmp(1.0, np.nan).rule == "2"
    assert cmp(np.inf, np.inf).ok
    assert cmp(np.inf, -np.inf).rule == "2"
    assert cmp(np.inf, 3.0e38).rule == "2"


def test_a_value_past_the_range_expects_infinity():
    past = overflow_threshold("float16") * np.longdouble(1.0001)
    assert cmp(past, np.inf, "float16").ok
    assert cmp(past, 65504.0, "float16").rule == "2"
    # a finite exact value that torch overflows is measured at the threshold (65520): inf is
    # within budget of 65504 (0.5 ulp away) but far from 30000
    assert cmp(np.longdouble(65504.0), np.inf, "float16").ok
    out = cmp(np.longdouble(30000.0), np.inf, "float16")
    assert not out.ok and out.rule == "3"


def test_floor_near_zero():
    d = info("float32")
    assert cmp(0.0, d.smallest_subnormal, b=budget(floor=1.0)).ok
    assert not cmp(0.0, 4 * d.smallest_subnormal, b=budget(ulps=0.5, floor=1.0)).ok


def test_reduction_bound_scales_with_terms_and_mean():
    terms = np.full(1024, 3.0)
    b = budget()
    s = reduction_bound(terms, "sum", "float32", b)
    m = reduction_bound(terms, "mean", "float32", b)
    assert m == pytest.approx(float(s) / 1024)
    assert np.all(reduction_bound(terms, "none", "float32", b) == 0)
    u, u_acc = info("float32").unit_roundoff, info("float32").unit_roundoff
    assert float(s) == pytest.approx((1 * u + (10 + 8) * u_acc + u) * 3072)


def test_message_names_the_element_and_numbers():
    out = cmp([1.0, 2.0, 3.0], [1.0, 2.5, 3.0])
    assert not out.ok and "output[1]" in out.message and "ulp" in out.message
