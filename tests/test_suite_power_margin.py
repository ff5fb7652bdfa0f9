"""Suite power for the margin classification losses: planted bugs must be caught.

The planted targets (tests/planted_margin.py, and tests/planted.py's generic ones) run
through ``suites.road.Road`` as the conformance suites run torch; the searches and
assertions are tests/test_suite_power.py's (a derandomized search over ``Road.cases()``
must find a "fail" under the rule the bug breaks, and real torch must pass that case).
Controls: the same searches on real torch find nothing, the float16-only plant is silent
in float64, and an honest float16 kernel (float32 arithmetic rounded to float16: torch
2.13's CPU has no float16 kernel for these losses) passes the float16 budgets.
"""

from __future__ import annotations

import pytest

from suites.targets import TorchTarget
from tests import planted, planted_margin
from tests.test_suite_power import (
    CONTROL_EXAMPLES,
    DEVICE,
    assert_caught,
    assert_clean,
    forward,
    gradients,
    road_for,
    search,
)

LOSSES = ("MultiMarginLoss", "MultiLabelMarginLoss")
APIS = ("module", "functional")
REDUCTIONS = ("none", "mean", "sum")


# -- options and weight ignored (MultiMarginLoss) ----------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    "plant",
    [planted.IgnoresWeight, planted_margin.IgnoresP, planted_margin.IgnoresMargin],
    ids=["weight", "p", "margin"],
)
def test_ignored_argument_caught(plant, api: str, reduction: str) -> None:
    """weight dropped, p always 1, margin always 1: rule 3 breaks."""
    road = road_for("MultiMarginLoss", "float64", api, reduction, plant(DEVICE))
    assert_caught(road, forward, "3", "output")


# -- the mean's denominator ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(
    "plant",
    [planted_margin.WrongMeanDenominator, planted_margin.MeanOverAllScores],
    ids=["N+1", "N*C"],
)
def test_wrong_mean_denominator_caught(plant, loss: str, api: str, dtype: str) -> None:
    """sum / (N + 1) or sum / (N C) for reduction='mean': rule 3 breaks."""
    assert_caught(road_for(loss, dtype, api, "mean", plant(DEVICE)), forward, "3", "output")


# -- a wrong gradient on one element --------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("loss", LOSSES)
def test_flipped_gradient_caught(loss: str, api: str, reduction: str) -> None:
    """input.grad[0] negated (forward untouched): rule 4 breaks for grad[input]."""
    road = road_for(loss, "float64", api, reduction, planted.FlipsFirstInputGradient(DEVICE))
    assert_caught(road, gradients, "4", "grad[input]")


# -- an error only in float16 ---------------------------------------------------------------


def _half_road(loss: str, api: str, reduction: str, target: TorchTarget, dtype="float16"):
    return road_for(loss, dtype, api, reduction, target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("loss", LOSSES)
def test_float16_only_error_caught(loss: str, api: str, reduction: str) -> None:
    """5e-2 relative on output[0] in float16 breaks rule 3; the honest float16 kernel
    passes the very same case (torch 2.13 has no CPU float16 kernel to compare with)."""
    road = _half_road(loss, api, reduction, planted_margin.HalfOnlyError(DEVICE))
    found = search(road, forward)
    assert found is not None, f"float16-only error not caught: {loss} {api} {reduction}"
    assert found.examined <= CONTROL_EXAMPLES
    result = found.result
    assert result.comparison.rule == "3" and result.quantity == "output", result.comparison
    with pytest.raises(AssertionError, match="rule 3 broken"):
        road.assert_ok(result)
    honest = _half_road(loss, api, reduction, planted_margin.HalfViaFloat32(DEVICE))
    assert [r.verdict for r in forward(honest, found.drawn)] == ["pass"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_float16_plant_is_silent_in_float64(loss: str, reduction: str) -> None:
    target = planted_margin.HalfOnlyError(DEVICE)
    assert_clean(road_for(loss, "float64", "functional", reduction, target))


@pytest.mark.parametrize("check", [forward, gradients], ids=["forward", "gradients"])
@pytest.mark.parametrize("dtype", ("float16", "bfloat16"))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_honest_low_precision_kernel_is_clean(loss: str, reduction: str, dtype: str, check):
    """float32 arithmetic rounded to float16 / bfloat16 raises no alarm under their budgets
    (the float16 plant's error is not applied to bfloat16)."""
    target = planted_margin.HalfOnlyError(DEVICE) if dtype == "bfloat16" else None
    target = target or planted_margin.HalfViaFloat32(DEVICE)
    assert_clean(_half_road(loss, "functional", reduction, target, dtype), check)


# -- controls: real torch --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_unplanted_torch_forward_is_clean(loss: str, reduction: str, dtype: str) -> None:
    assert_clean(road_for(loss, dtype, "functional", reduction, TorchTarget(DEVICE)))


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_unplanted_torch_gradients_are_clean(loss: str, reduction: str, dtype: str) -> None:
    road = road_for(loss, dtype, "module", reduction, TorchTarget(DEVICE))
    assert_clean(road, gradients)
