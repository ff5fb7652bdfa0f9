"""The oracle reproduces every hand-derived golden case (exactly, or within the half ULP
that a golden value rounded to float64 carries, as its entry states)."""

from __future__ import annotations

import numpy as np
import pytest

import oracle
from suites.dtypes import ulp
from suites.golden import load_golden

CASES = load_golden()


def test_there_are_golden_cases_for_every_pointwise_loss():
    assert {c.function for c in CASES} >= {"l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_oracle_matches_golden(case):
    x, y = case.tensors["input"], case.tensors["target"]
    kw = {k: v for k, v in case.tensors.items() if k not in ("input", "target")}
    got = np.asarray(
        getattr(oracle, case.function)(x, y, **kw, **case.options), dtype=np.longdouble
    )
    assert got.shape == case.expected.shape
    err = np.abs(got - case.expected.astype(np.longdouble))
    assert (err <= case.tolerance_ulp * ulp(case.expected, "float64")).all(), (
        f"{case.name}: oracle {got} != golden {case.expected} ({case.derivation})"
    )
