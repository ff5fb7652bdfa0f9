"""A release that lacks a loss or an option, or a kernel for a dtype, is recorded, not failed."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suites.road import Road
from suites.specs import Option, by_name
from suites.targets import TorchTarget

FAST = settings(
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


class ListRecorder:
    def __init__(self) -> None:
        self.records: list[dict] = []

    def record(self, rec: dict) -> None:
        self.records.append(rec)


def test_an_absent_loss_is_recorded_and_skipped():
    spec = dataclasses.replace(by_name("L1Loss"), loss="NoSuchLoss", functional="no_such_loss")
    for api in ("module", "functional"):
        rec = ListRecorder()
        road = Road(spec, "float32", "cpu", api, "mean", recorder=rec)
        with pytest.raises(pytest.skip.Exception, match="absent"):
            road.require_present()
        assert [r["verdict"] for r in rec.records] == ["absent"]


def test_an_absent_option_is_recorded_and_never_drawn():
    huber = by_name("HuberLoss")
    extra = Option("option_from_the_future", 1.0, lambda dtype: st.just(2.0))
    spec = dataclasses.replace(huber, options=(*huber.options, extra))
    rec = ListRecorder()
    road = Road(spec, "float32", "cpu", "functional", "sum", recorder=rec)
    road.require_present()  # the loss exists: no skip
    assert [(r["verdict"], r["quantity"]) for r in rec.records] == [
        ("absent", "option_from_the_future")
    ]

    @FAST
    @given(road.cases())
    def never_drawn(case):
        assert "option_from_the_future" not in case.options

    never_drawn()


class NoHalfKernel(TorchTarget):
    def call(self, case, tensors):
        if case.dtype == "float16":
            raise RuntimeError("\"l1_cpu\" not implemented for 'Half'")
        return super().call(case, tensors)


def test_a_missing_dtype_kernel_is_unsupported_not_failed():
    rec = ListRecorder()
    road = Road(
        by_name("L1Loss"),
        "float16",
        "cpu",
        "module",
        "none",
        target=NoHalfKernel("cpu"),
        recorder=rec,
    )

    @FAST
    @given(road.cases())
    def run(case):
        assert road.check_forward(case).verdict == "unsupported"

    run()
    assert {r["verdict"] for r in rec.records} == {"unsupported"}
    with pytest.raises(pytest.skip.Exception, match="unsupported"):
        road.conclude()


def test_any_other_exception_is_a_failure_not_unsupported():
    class Broken(TorchTarget):
        def call(self, case, tensors):
            raise RuntimeError("index out of range")

    road = Road(by_name("L1Loss"), "float32", "cpu", "module", "none", target=Broken("cpu"))

    @FAST
    @given(road.cases())
    def run(case):
        result = road.check_forward(case)
        assert result.verdict == "fail" and result.comparison.rule == "2"

    run()


def test_a_variant_newer_than_this_torch_is_recorded_absent():
    """A variant whose names exist in every release but whose inputs a release before its
    ``since`` rejects (GaussianNLLLoss with a Python-number var, since 2.6) is absent there."""
    from suites.targets import released

    assert released("2.6", "2.6.0") and released("2.6", "2.13.0+cpu")
    assert not released("2.6", "2.5.1") and not released("2.13", "2.4.0")
    spec = dataclasses.replace(by_name("GaussianNLLLoss[scalar_var]"), since="99.0")
    rec = ListRecorder()
    road = Road(spec, "float32", "cpu", "functional", "mean", recorder=rec)
    with pytest.raises(pytest.skip.Exception, match=r"since torch 99\.0"):
        road.require_present()
    assert [r["verdict"] for r in rec.records] == ["absent"]


def test_an_absent_option_value_is_recorded_not_run(monkeypatch):
    """torch 2.14 refuses LinearCrossEntropyOptions(acc_policy='balanced'), which 2.13
    accepts: a case drawing it is recorded ``absent`` (forward and gradient), never run
    and never failed, and the draws stay those of every other release."""
    import numpy as np

    from suites.case import explicit_case
    from suites.specs import linear_cross_entropy as lce

    monkeypatch.setitem(lce._VALUE_PRESENT, ("acc_policy", "balanced"), False)
    spec = by_name("LinearCrossEntropyLoss[class_index]")
    settings_ = {"acc_policy": "balanced", "chunking_method": "auto"}
    inputs = {
        "input": np.ones((2, 3)),
        "linear_weight": np.ones((4, 3)),
        "target": np.array([0, 1]),
    }

    class NeverRun(TorchTarget):
        def run(self, *args, **kwargs):
            raise AssertionError("a case with an absent option value reached torch")

    for api in ("functional", "module"):
        rec = ListRecorder()
        road = Road(spec, "float64", "cpu", api, "sum", recorder=rec, target=NeverRun("cpu"))
        case = explicit_case(
            spec, "float64", api, inputs, {"reduction": "sum", "options": settings_}, "well"
        )
        assert road.check_forward(case).verdict == "absent"
        assert [r.verdict for r in road.check_gradients(case, None)] == ["absent"]
        assert [(r["verdict"], r["outcome"]) for r in rec.records] == [("absent", "absent")] * 2
        assert "acc_policy='balanced'" in rec.records[0]["message"]
    # a value this torch has is run as usual
    monkeypatch.setitem(lce._VALUE_PRESENT, ("acc_policy", "balanced"), True)
    assert lce.absent_option_values(case) == []
