"""The budgets file: every budget carries its derivation, and every spec has one."""

from __future__ import annotations

import pytest

from suites.dtypes import DTYPE_NAMES
from suites.specs import ALL_SPECS
from suites.tolerances import budget_for, load_budgets, parse_budgets

ONE = """
[[budget]]
losses = ["*"]
quantity = "output"
dtypes = ["*"]
devices = ["*"]
ulp = 1.0
terms_u = 1.0
sum_steps = 8
floor_subnormals = 1
derivation = "one rounding"
"""


def test_shipped_budgets_all_have_derivations():
    for b in load_budgets():
        assert len(b.derivation) > 40, f"budget for {b.losses} lacks a real derivation"


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("quantity", ["output", "gradient"])
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_every_spec_has_a_budget(spec, quantity, dtype):
    assert budget_for(spec.name, quantity, dtype, "cpu").ulp > 0
    assert budget_for(spec.name, quantity, dtype, "cuda:0").ulp > 0


def test_a_budget_without_derivation_is_refused():
    with pytest.raises(ValueError, match="derivation"):
        parse_budgets(ONE.replace('derivation = "one rounding"', 'derivation = " "'))
    with pytest.raises(ValueError, match="derivation"):
        parse_budgets(ONE.replace('derivation = "one rounding"\n', ""))


def test_unknown_fields_and_quantities_are_refused():
    with pytest.raises(ValueError, match="unknown"):
        parse_budgets(ONE + "rtol = 1e-3\n")
    with pytest.raises(ValueError, match="quantity"):
        parse_budgets(ONE.replace('"output"', '"loss"'))


def test_the_last_matching_budget_wins():
    text = ONE + ONE.replace('losses = ["*"]', 'losses = ["MSELoss"]').replace(
        "ulp = 1.0", "ulp = 4.0"
    )
    budgets = parse_budgets(text)
    assert [b.ulp for b in budgets if b.matches("MSELoss", "output", "float32", "cpu")] == [
        1.0,
        4.0,
    ]
    assert [b.ulp for b in budgets if b.matches("L1Loss", "output", "float32", "cpu")] == [1.0]
