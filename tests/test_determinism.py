"""A derandomized search draws the same cases whatever the process imported before it
(conftest.py turns off Hypothesis's scan of local modules for constants)."""

from __future__ import annotations

import importlib
import sys

from hypothesis import find
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers

from tests.test_suite_power import SEARCH


def _first_draws() -> list:
    seen: list = []

    def record(x) -> bool:
        seen.append(x)
        return len(seen) >= 40

    find(st.tuples(st.floats(), st.integers(), st.text(max_size=3)), record, settings=SEARCH)
    return seen


def test_local_constants_are_not_collected():
    assert len(providers._get_local_constants()) == 0


def test_draws_do_not_depend_on_imported_modules():
    before = _first_draws()
    for name in ("tests.mp_triplet", "tests.mp_kl_hinge", "suites.specs.triplet"):
        if name in sys.modules:  # re-import: a growing sys.modules is what triggered rescans
            del sys.modules[name]
        importlib.import_module(name)
    after = _first_draws()
    assert repr(before) == repr(after)
