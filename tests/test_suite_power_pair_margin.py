"""Suite power for MarginRankingLoss and CosineEmbeddingLoss: planted bugs must be caught.

The plants (tests/planted_pair_margin.py) travel suites.road.Road; the searches and
assertions are tests/test_suite_power.py's. Controls: real torch raises no alarm on the
same searches, and the float16-only plant is silent in float64.
"""

from __future__ import annotations

import pytest

from suites.targets import TorchTarget
from tests import planted_pair_margin as plant
from tests.test_suite_power import (
    DEVICE,
    assert_caught,
    assert_clean,
    forward,
    gradients,
    road_for,
)

LOSSES = ("MarginRankingLoss", "CosineEmbeddingLoss")
REDUCTIONS = ("none", "mean", "sum")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_ignored_margin_caught(loss: str, reduction: str) -> None:
    road = road_for(loss, "float32", "functional", reduction, plant.IgnoresMargin(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("api", ("module", "functional"))
@pytest.mark.parametrize("loss", LOSSES)
def test_wrong_mean_denominator_caught(loss: str, api: str) -> None:
    road = road_for(loss, "float32", api, "mean", plant.WrongMeanDenominator(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_flipped_gradient_caught(loss: str, reduction: str) -> None:
    road = road_for(loss, "float32", "module", reduction, plant.FlipsFirstInput2Gradient(DEVICE))
    assert_caught(road, gradients, "4", "grad[input2]")


@pytest.mark.parametrize("loss", LOSSES)
def test_float16_only_error_caught(loss: str) -> None:
    road = road_for(loss, "float16", "functional", "none", plant.HalfOnlyError(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("loss", LOSSES)
def test_float16_plant_is_silent_in_float64(loss: str) -> None:
    assert_clean(road_for(loss, "float64", "functional", "none", plant.HalfOnlyError(DEVICE)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_unplanted_torch_is_clean(loss: str, reduction: str) -> None:
    assert_clean(road_for(loss, "float32", "functional", reduction, TorchTarget(DEVICE)))
    assert_clean(road_for(loss, "float32", "module", reduction, TorchTarget(DEVICE)), gradients)


@pytest.mark.parametrize("dtype", ("float64", "bfloat16"))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_wrong_subgradient_at_the_tie_caught(reduction: str, dtype: str) -> None:
    """input1's gradient sign-flipped at exact ties: rule 4 breaks for grad[input1] in the
    tie regime, and the registry's tie entry does not excuse it (real torch there takes the
    other one-sided derivative, which the entry does excuse)."""
    road = road_for(
        "MarginRankingLoss", dtype, "functional", reduction, plant.TieSubgradientFlipped(DEVICE)
    )
    assert_caught(
        road, gradients, "4", "grad[input1]", real_known=("hinge-tie-takes-the-active-slope",)
    )
