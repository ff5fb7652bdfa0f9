"""The record's ``case_id``: a digest of exactly what was drawn, which a release diff uses to
find the same case in two runs. Equal inputs give equal ids; any change of an input bit, an
option, the api, the dtype or the upstream gradient gives another id."""

from __future__ import annotations

import numpy as np
import pytest

from suites.case import explicit_case
from suites.record import case_digest, outcome_class
from suites.specs import ALL_SPECS

HUBER = next(s for s in ALL_SPECS if s.name == "HuberLoss")


def huber(x: list[float], **options: object):
    inputs = {"input": np.array(x), "target": np.zeros(len(x))}
    return explicit_case(HUBER, "float64", "functional", inputs, {"reduction": "sum", **options})


def test_equal_cases_have_equal_ids() -> None:
    assert case_digest(huber([1.0, 2.0])) == case_digest(huber([1.0, 2.0]))
    assert len(case_digest(huber([1.0]))) == 16


@pytest.mark.parametrize(
    "other",
    [
        lambda: huber([1.0, np.nextafter(2.0, 3.0)]),  # one bit of one input
        lambda: huber([1.0, 2.0], delta=0.5),  # an option
        lambda: huber([2.0, 1.0]),  # the order
        lambda: huber([1.0, 2.0, 0.0]),  # the shape
        lambda: explicit_case(
            HUBER,
            "float64",
            "module",
            {"input": np.array([1.0, 2.0]), "target": np.zeros(2)},
            {"reduction": "sum"},
        ),
        lambda: explicit_case(
            HUBER,
            "float32",
            "functional",
            {"input": np.array([1.0, 2.0]), "target": np.zeros(2)},
            {"reduction": "sum"},
        ),
    ],
)
def test_any_change_changes_the_id(other) -> None:
    assert case_digest(other()) != case_digest(huber([1.0, 2.0]))


def test_a_0_dim_input_differs_from_its_one_element_twin() -> None:
    # the same bytes in shape () and (1,): MarginRankingLoss's target of shape () and of
    # shape (1,) are two invalid inputs, which once shared one id
    def case(target: np.ndarray):
        inputs = {"input": np.array([1.0, 2.0, 3.0]), "target": target}
        return explicit_case(HUBER, "float64", "functional", inputs, {"reduction": "sum"})

    assert case_digest(case(np.array(1.0))) != case_digest(case(np.array([1.0])))


def test_the_upstream_gradient_is_part_of_the_id() -> None:
    case = huber([1.0, 2.0])
    plain = case_digest(case)
    assert case_digest(case, np.array(1.0)) != plain
    assert case_digest(case, np.array(1.0)) != case_digest(case, np.array(2.0))


class _Cmp:
    other_side = False
    alternative = ""


def test_outcome_classes() -> None:
    assert outcome_class(np.array([1.0, 2.0])) == "finite"
    assert outcome_class(np.array([1.0, np.inf])) == "inf"
    assert outcome_class(np.array([np.nan, np.inf])) == "nan"
    assert outcome_class(None) == "none"
    assert outcome_class(None, ValueError("x")) == "raises ValueError"
    tie = _Cmp()
    tie.other_side = True
    assert outcome_class(np.array(1.0), None, tie) == "finite (other side at tie)"
    alt = _Cmp()
    alt.alternative = "log_softmax-input"
    assert outcome_class(np.array(1.0), None, alt) == "finite (log_softmax-input)"

    class IsolatedError(Exception):
        type_name = "IndexError"

    assert outcome_class(None, IsolatedError("boom")) == "raises IndexError"
