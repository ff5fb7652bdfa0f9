"""Suite power for PoissonNLLLoss and GaussianNLLLoss: planted bugs must be caught.

The planted targets (tests/planted_probabilistic.py, and tests/planted.py's generic ones)
run through ``suites.road.Road`` as the conformance suites run torch; the searches and
assertions are tests/test_suite_power.py's (a derandomized search over ``Road.cases()`` must
find a "fail" under the rule the bug breaks, and real torch must pass that case). Plants:
``full``, ``eps`` and ``log_input`` ignored, the mean divided by N + 1, a flipped input
gradient, the wrong one-sided derivative at the Stirling switch (target == 1), the clamp
blocking d/dvar at and below eps, and an error only in bfloat16. Controls: the same
searches on real torch find nothing, and the bfloat16 plant is silent in float64.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from suites.road import Road
from suites.specs import by_name
from suites.targets import TorchTarget
from tests import planted
from tests import planted_probabilistic as pp
from tests.test_suite_power import (
    DEVICE,
    assert_caught,
    assert_clean,
    forward,
    gradients,
    road_for,
)

LOSSES = ("PoissonNLLLoss", "GaussianNLLLoss")
APIS = ("module", "functional")
REDUCTIONS = ("none", "mean", "sum")


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    ("loss", "plant"),
    [
        ("PoissonNLLLoss", pp.IgnoresFull),
        ("PoissonNLLLoss", pp.IgnoresEps),
        ("PoissonNLLLoss", pp.IgnoresLogInput),
        ("GaussianNLLLoss", pp.IgnoresFull),
        ("GaussianNLLLoss", pp.IgnoresEps),
        ("GaussianNLLLoss[scalar_var]", pp.IgnoresEps),
    ],
    ids=[
        "poisson-full",
        "poisson-eps",
        "poisson-log_input",
        "gaussian-full",
        "gaussian-eps",
        "scalar-var-eps",
    ],
)
def test_ignored_option_caught(loss: str, plant, api: str) -> None:
    """An option dropped (torch's default used instead): rule 3 breaks."""
    assert_caught(road_for(loss, "float64", api, "sum", plant(DEVICE)), forward, "3", "output")


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("loss", LOSSES)
def test_wrong_mean_denominator_caught(loss: str, api: str) -> None:
    road = road_for(loss, "float64", api, "mean", planted.WrongMeanDenominator(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_flipped_gradient_caught(loss: str, reduction: str) -> None:
    road = road_for(loss, "float64", "module", reduction, planted.FlipsFirstInputGradient(DEVICE))
    assert_caught(road, gradients, "4", "grad[input]")


class FullRoad(Road):
    """The suite's road with full=True in every drawn case: the Stirling switch at a target
    of 1 only exists with full, which the suite draws in a quarter of the cases."""

    def cases(self):
        return super().cases().map(lambda c: replace(c, options={**c.options, "full": True}))


def _full_road(reduction: str, target: TorchTarget) -> FullRoad:
    spec = by_name("PoissonNLLLoss")
    return FullRoad(spec, "float32", DEVICE, "functional", reduction, target=target)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_wrong_derivative_at_the_stirling_switch_caught(reduction: str) -> None:
    """d/dy at y == 1 taken from the Stirling side; real torch passes the same search."""
    assert_caught(
        _full_road(reduction, pp.StirlingSlopeAtOne(DEVICE)), gradients, "4", "grad[target]"
    )
    assert_clean(_full_road(reduction, TorchTarget(DEVICE)), gradients)


@pytest.mark.parametrize("dtype", ("float64", "float32"))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_clamp_blocking_the_var_gradient_caught(reduction: str, dtype: str) -> None:
    road = road_for(
        "GaussianNLLLoss", dtype, "functional", reduction, pp.ClampBlocksVarGradient(DEVICE)
    )
    assert_caught(road, gradients, "4", "grad[var]")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_bfloat16_only_error_caught(loss: str, reduction: str) -> None:
    road = road_for(loss, "bfloat16", "functional", reduction, pp.BFloat16OnlyError(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_bfloat16_plant_is_silent_in_float64(loss: str, reduction: str) -> None:
    assert_clean(road_for(loss, "float64", "functional", reduction, pp.BFloat16OnlyError(DEVICE)))


# -- controls: real torch ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ("float32", "bfloat16"))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", (*LOSSES, "GaussianNLLLoss[scalar_var]"))
def test_unplanted_torch_forward_is_clean(loss: str, reduction: str, dtype: str) -> None:
    assert_clean(road_for(loss, dtype, "functional", reduction, TorchTarget(DEVICE)))


@pytest.mark.parametrize("dtype", ("float64", "float32"))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_unplanted_torch_gradients_are_clean(loss: str, reduction: str, dtype: str) -> None:
    assert_clean(road_for(loss, dtype, "module", reduction, TorchTarget(DEVICE)), gradients)
