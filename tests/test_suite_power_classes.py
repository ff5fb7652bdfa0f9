"""Suite power for NLL, cross entropy and linear cross entropy: planted bugs (ignored
weight, ignore_index or label_smoothing, a wrong 'mean' denominator, a wrong gradient on
one element, an error only in float16) must be caught by the suite's own road, and real
torch must raise no false alarm on the same searches (tests/test_suite_power.py has the
search machinery and its rationale)."""

from __future__ import annotations

import pytest

from suites.road import Road
from suites.targets import TorchTarget
from tests import planted, planted_classes
from tests.test_suite_power import (
    DEVICE,
    assert_clean,
    forward,
    gradients,
    road_for,
    search,
)

CLASS_INDEX = ("NLLLoss", "CrossEntropyLoss[class_index]", "LinearCrossEntropyLoss[class_index]")
PROBABILITIES = ("CrossEntropyLoss[prob_target]", "LinearCrossEntropyLoss[prob_target]")
ALL = CLASS_INDEX + PROBABILITIES
SMOOTHED = ALL[1:]


def assert_caught(road: Road, check, rules: set[str], quantity: str) -> None:
    """A failure of ``quantity`` under one of ``rules``, cited in the suite's message, and
    real torch passes the very case the plant failed (so the plant, not torch, broke it).
    The searches here may take more cases than the controls' window (these specs draw many
    options, so a plant that needs one of them can take up to 300 cases); the per-case
    check above is what rules out a false alarm, the controls below add a broad one."""
    found = search(road, check)
    assert found is not None, f"{type(road.target).__name__} not caught: {road.spec.name}"
    cmp = found.result.comparison
    assert cmp.rule in rules, cmp.message
    assert found.result.quantity == quantity, cmp.message
    real = road_for(road.spec.name, road.dtype, road.api, road.reduction, TorchTarget(DEVICE))
    verdicts = [r.verdict for r in check(real, found.drawn)]
    assert verdicts and all(v == "pass" for v in verdicts), (found.drawn, verdicts)


@pytest.mark.parametrize("reduction", ("none", "mean", "sum"))
@pytest.mark.parametrize("loss", ALL)
def test_ignored_weight_caught(loss: str, reduction: str) -> None:
    """A dropped weight changes a value (rule 3) or a class: zero weights make the documented
    mean 0/0 and infinite ones an infinite loss (rule 2)."""
    road = road_for(loss, "float64", "module", reduction, planted.IgnoresWeight(DEVICE))
    assert_caught(road, forward, {"2", "3"}, "output")


@pytest.mark.parametrize("api", ("module", "functional"))
@pytest.mark.parametrize("loss", CLASS_INDEX)
def test_ignored_ignore_index_caught(loss: str, api: str) -> None:
    """Without ignore_index, a target equal to it is a class (or out of range: torch
    raises where the documented loss is a number, rule 2)."""
    target = planted_classes.IgnoresIgnoreIndex(DEVICE)
    assert_caught(road_for(loss, "float64", api, "none", target), forward, {"2", "3"}, "output")


@pytest.mark.parametrize("reduction", ("none", "mean"))
@pytest.mark.parametrize("loss", SMOOTHED)
def test_ignored_label_smoothing_caught(loss: str, reduction: str) -> None:
    target = planted_classes.IgnoresLabelSmoothing(DEVICE)
    assert_caught(
        road_for(loss, "float64", "functional", reduction, target), forward, {"3"}, "output"
    )


@pytest.mark.parametrize("api", ("module", "functional"))
@pytest.mark.parametrize("loss", ALL)
def test_wrong_mean_denominator_caught(loss: str, api: str) -> None:
    target = planted_classes.MeanOverAllTargets(DEVICE)
    # where the documented mean is 0/0 (every target ignored) the plant's sum / (M + 1) is
    # a number: rule 2 catches that
    assert_caught(road_for(loss, "float64", api, "mean", target), forward, {"2", "3"}, "output")


@pytest.mark.parametrize("reduction", ("none", "mean", "sum"))
@pytest.mark.parametrize("loss", ALL)
def test_flipped_gradient_caught(loss: str, reduction: str) -> None:
    target = planted.FlipsFirstInputGradient(DEVICE)
    road = road_for(loss, "float64", "functional", reduction, target)
    assert_caught(road, gradients, {"2", "4"}, "grad[input]")


@pytest.mark.parametrize("reduction", ("none", "sum"))
@pytest.mark.parametrize("loss", ALL)
def test_float16_only_error_caught(loss: str, reduction: str) -> None:
    target = planted_classes.RelativeErrorFloat16(DEVICE)
    assert_caught(
        road_for(loss, "float16", "functional", reduction, target), forward, {"3"}, "output"
    )


@pytest.mark.parametrize("loss", ALL)
def test_float16_only_plant_is_silent_in_float32(loss: str) -> None:
    target = planted_classes.RelativeErrorFloat16(DEVICE)
    assert_clean(road_for(loss, "float32", "functional", "none", target))


@pytest.mark.parametrize("dtype", ("float64", "float16"))
@pytest.mark.parametrize("loss", ALL)
def test_unplanted_torch_forward_is_clean(loss: str, dtype: str) -> None:
    for reduction in ("none", "mean"):
        assert_clean(road_for(loss, dtype, "module", reduction, TorchTarget(DEVICE)))


@pytest.mark.parametrize("loss", ALL)
def test_unplanted_torch_gradients_are_clean(loss: str) -> None:
    for reduction in ("none", "mean", "sum"):
        road = road_for(loss, "float64", "functional", reduction, TorchTarget(DEVICE))
        assert_clean(road, gradients)
