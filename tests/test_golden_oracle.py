"""The oracle reproduces every hand-derived golden case (exactly, or within the half ULP
that a golden value rounded to float64 carries, as its entry states)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import oracle
from suites.dtypes import ulp
from suites.golden import load_golden

CASES = load_golden()
# the tensors each golden function takes positionally, in order (torch 2.13 signatures)
POSITIONAL = {
    "l1_loss": ("input", "target"),
    "mse_loss": ("input", "target"),
    "huber_loss": ("input", "target"),
    "smooth_l1_loss": ("input", "target"),
    "poisson_nll_loss": ("input", "target"),
    "gaussian_nll_loss": ("input", "target", "var"),
    "kl_div": ("input", "target"),
    "margin_ranking_loss": ("input1", "input2", "target"),
    "hinge_embedding_loss": ("input", "target"),
    "cosine_embedding_loss": ("input1", "input2", "target"),
    "triplet_margin_loss": ("anchor", "positive", "negative"),
    "triplet_margin_with_distance_loss": ("anchor", "positive", "negative"),
}


def test_there_are_golden_cases_for_every_pointwise_probabilistic_and_embedding_loss():
    assert {c.function for c in CASES} >= set(POSITIONAL)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_oracle_matches_golden(case):
    fn = getattr(oracle, case.function)
    names = list(inspect.signature(fn).parameters)
    positional = [n for n in names if n in case.tensors][: len(POSITIONAL[case.function])]
    assert positional == list(POSITIONAL[case.function]), (case.name, positional)
    args = [case.tensors[n] for n in positional]
    kw = {k: v for k, v in case.tensors.items() if k not in positional}
    got = np.asarray(fn(*args, **kw, **case.options), dtype=np.longdouble)
    assert got.shape == case.expected.shape
    err = np.abs(got - case.expected.astype(np.longdouble))
    assert (err <= case.tolerance_ulp * ulp(case.expected, "float64")).all(), (
        f"{case.name}: oracle {got} != golden {case.expected} ({case.derivation})"
    )
