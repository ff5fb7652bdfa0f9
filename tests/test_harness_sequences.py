"""The harness pieces CTC added: integer inputs passed as Python sequences
(``LossCase.sequences``), a tensor reaching torch through an expression
(``TensorArg.passed_as``), int32 tensors in reproducers, and the alternative-gradient flag."""

from __future__ import annotations

import numpy as np
import torch

from suites.case import explicit_case
from suites.reproducer import reproducer
from suites.road import Road
from suites.specs import by_name
from suites.targets import TorchTarget

SCORES = [[[0.5, -1.0, 2.0]], [[1.5, 0.25, -0.5]], [[0.0, 1.0, 0.75]]]  # (T=3, N=1, C=3)


def _run(source: str) -> dict:
    scope: dict = {}
    exec(compile(source.replace("print(", "(lambda *a: None)("), "<reproducer>", "exec"), scope)
    return scope


def _case(kind: str, api: str = "functional"):
    spec = by_name("CTCLoss[log_softmax]")
    il = np.array([3], dtype=np.int32 if kind == "int32" else np.int64)
    tl = np.array([2], dtype=np.int32 if kind == "int32" else np.int64)
    sequences = {} if kind == "int32" else {"input_lengths": kind, "target_lengths": kind}
    return explicit_case(
        spec,
        "float64",
        api,
        {"scores": SCORES, "targets": [[1, 2]], "input_lengths": il, "target_lengths": tl},
        {"reduction": "sum"},
        sequences=sequences,
    )


def _expected() -> torch.Tensor:
    x = torch.tensor(SCORES, dtype=torch.float64).log_softmax(-1)
    return torch.nn.functional.ctc_loss(x, torch.tensor([[1, 2]]), [3], [2], reduction="sum")


def test_sequences_reach_torch_and_the_reproducer_as_python_values():
    for kind in ("list", "tuple"):
        for api in ("functional", "module"):
            case = _case(kind, api)
            tensors = TorchTarget("cpu").tensors(case, ())
            assert tensors["input_lengths"] == ([3] if kind == "list" else (3,))
            src = reproducer(case, "cpu", None, ("scores",))
            assert ("input_lengths = [3]" if kind == "list" else "input_lengths = (3,)") in src
            assert "scores.log_softmax(-1), targets" in src
            scope = _run(src)
            assert torch.equal(scope["loss"].detach(), _expected())
            assert scope["scores"].grad is not None  # gradients flow to the drawn tensor


def test_int32_tensors_stay_int32():
    case = _case("int32")
    assert TorchTarget("cpu").tensors(case, ())["input_lengths"].dtype == torch.int32
    src = reproducer(case, "cpu")
    assert "dtype=torch.int32" in src
    assert _run(src)["target_lengths"].dtype == torch.int32
    assert torch.equal(_run(src)["loss"], _expected())


def test_alternative_gradient_is_flagged_and_only_it():
    """torch's log_probs gradient on the plain CTC spec is the log_softmax-input quantity:
    the road flags it (and the registry makes it known); the same comparison against a
    deliberately wrong gradient is not flagged."""
    spec = by_name("CTCLoss")
    x = torch.tensor(SCORES, dtype=torch.float64).log_softmax(-1).numpy()
    case = explicit_case(
        spec,
        "float64",
        "functional",
        {"log_probs": x, "targets": [[1, 2]], "input_lengths": [3], "target_lengths": [2]},
        {"reduction": "sum"},
    )
    road = Road(spec, "float64", "cpu", "functional", "sum")
    (result,) = road.check_gradients(case, np.array(1.0))
    assert result.comparison.alternative == "log_softmax-input"
    assert result.verdict == "known"
    assert result.known == ["ctc-gradient-assumes-log-softmax-input"]

    class Doubled(TorchTarget):
        def call(self, case, tensors):
            return 2 * super().call(case, tensors)

    wrong = Road(spec, "float64", "cpu", "functional", "sum", target=Doubled("cpu"))
    (result,) = wrong.check_gradients(case, np.array(1.0))
    assert result.comparison.alternative == ""
    assert result.verdict == "fail"
