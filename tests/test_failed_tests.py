"""``suites.failed_tests``: a test that fails outside the judged road is still recorded as a
failure, once, with its spec, dtype and device, so the report and the release diff see it."""

from __future__ import annotations

from types import SimpleNamespace

from suites.failed_tests import FailedTests, failure_record

SPECS = ["CTCLoss", "CTCLoss[log_softmax]", "LinearCrossEntropyLoss[class_index]"]
TRACE = """\
    def test_forward(combo, recorder, request):
>       run()
E           ValueError: invalid acc_policy: 'balanced'; expected one of 'auto', 'accurate'
E           Failing test case: run(data=data(...))
"""


def report(nodeid: str, failed: bool = True, when: str = "call") -> SimpleNamespace:
    return SimpleNamespace(nodeid=nodeid, failed=failed, when=when, longreprtext=TRACE)


def test_a_crash_becomes_one_failing_record() -> None:
    node = "suites/test_forward.py::test_forward[LinearCrossEntropyLoss[class_index]-float32-cpu-functional-sum]"
    r = failure_record(node, "call", TRACE, SPECS)
    assert (r["spec"], r["dtype"], r["device"], r["api"]) == (
        "LinearCrossEntropyLoss[class_index]",
        "float32",
        "cpu",
        "functional",
    )
    assert (r["verdict"], r["kind"], r["rule"]) == ("fail", "test", "crash")
    assert "invalid acc_policy: 'balanced'" in r["message"]
    assert r["case_id"] == failure_record(node, "call", "other text", SPECS)["case_id"]


def test_the_longest_spec_name_wins() -> None:
    node = "suites/test_gradients.py::test_gradients[CTCLoss[log_softmax]-float64-cpu-module-mean]"
    assert failure_record(node, "call", TRACE, SPECS)["spec"] == "CTCLoss[log_softmax]"
    plain = "suites/test_golden.py::test_golden"
    r = failure_record(plain, "setup", TRACE, SPECS)
    assert (r["spec"], r["dtype"], r["quantity"]) == ("?", "?", "test (setup)")


def test_only_failed_tests_without_a_failing_case_record() -> None:
    f = FailedTests()
    a = "suites/test_forward.py::test_forward[CTCLoss-float64-cpu-module-sum]"
    b = "suites/test_forward.py::test_forward[CTCLoss-float32-cpu-module-sum]"
    f.add(report(a))
    f.add(report(a, when="teardown"))  # one record per test
    f.add(report(b))
    f.add(report("suites/test_forward.py::x[CTCLoss-float16-cpu-module-sum]", failed=False))
    recs = f.records({b}, SPECS)  # b already left a failing case record
    assert [r["test"] for r in recs] == [a]
    assert recs[0]["quantity"] == "test (call)"
