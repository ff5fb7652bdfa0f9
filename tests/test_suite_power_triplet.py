"""Suite power for the triplet losses: planted bugs must be caught.

The planted targets (tests/planted_triplet.py) run through ``suites.road.Road`` as the
conformance suites run torch; the searches and assertions are tests/test_suite_power.py's
(a derandomized search over ``Road.cases()`` must find a "fail" under the rule the bug
breaks, and real torch must pass that case). Plants: ``swap``, ``p`` and ``eps`` ignored,
'mean' over N + 1, the hinge's subgradient at z = 0 taken as 0, swap reading d(n, p), and
an error only in bfloat16. Controls: real torch finds nothing on the same searches, and
the bfloat16 plant is silent in float64.
"""

from __future__ import annotations

import pytest

from suites.road import Road
from suites.targets import TorchTarget
from tests import planted_triplet as pt
from tests.test_suite_power import (
    DEVICE,
    assert_caught,
    assert_clean,
    forward,
    gradients,
    road_for,
)

TRIPLET = "TripletMarginLoss"
WITH_DISTANCE = "TripletMarginWithDistanceLoss"
LOSSES = (TRIPLET, WITH_DISTANCE)


class SwapRoad(Road):
    """A Road whose search draws only cases with swap=True (a quarter of the suite's
    cases): the swap plants are judged on the cases where they can act."""

    def cases(self):
        return super().cases().filter(lambda c: c.effective_options().get("swap", False))


def swap_road(loss: str, reduction: str, target: TorchTarget) -> Road:
    base = road_for(loss, "float64", "functional", reduction, target)
    return SwapRoad(base.spec, "float64", DEVICE, "functional", reduction, target=target)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", ("none", "sum"))
def test_ignored_swap_caught(loss: str, reduction: str) -> None:
    assert_caught(swap_road(loss, reduction, pt.IgnoresSwap(DEVICE)), forward, "3", "output")


@pytest.mark.parametrize("plant", [pt.IgnoresP, pt.IgnoresEps], ids=["p", "eps"])
@pytest.mark.parametrize("api", ("module", "functional"))
def test_ignored_norm_option_caught(plant, api: str) -> None:
    road = road_for(TRIPLET, "float64", api, "none", plant(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_wrong_mean_denominator_caught(loss: str, dtype: str) -> None:
    road = road_for(loss, dtype, "functional", "mean", pt.WrongMeanDenominator(DEVICE))
    assert_caught(road, forward, "3", "output")


TIE_ENTRY = "hinge-tie-takes-the-active-slope"  # real torch: the other one-sided slope


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", ("float64", "bfloat16"))
def test_wrong_subgradient_at_the_tie_caught(loss: str, dtype: str) -> None:
    """Slope -1 at z == 0, the value untouched: only the tie regime's exact ties (checked
    bit for bit) can catch it, and the registry's tie entry (torch's slope 1) must not
    excuse it."""
    road = road_for(loss, dtype, "functional", "sum", pt.NegatedAtTheTie(DEVICE))
    found_quantities = ("grad[anchor]", "grad[positive]", "grad[negative]")
    for quantity in found_quantities:
        try:
            assert_caught(road, gradients, "4", quantity, real_known=(TIE_ENTRY,))
            return
        except AssertionError as exc:
            if "not caught" in str(exc):
                raise
            last = exc
    raise last


def test_swap_argument_order_caught() -> None:
    road = swap_road(WITH_DISTANCE, "none", pt.SwapReadsNegativeFirst(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("loss", LOSSES)
def test_bfloat16_only_error_caught(loss: str) -> None:
    road = road_for(loss, "bfloat16", "functional", "none", pt.BFloat16OnlyError(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("loss", LOSSES)
def test_bfloat16_plant_is_silent_in_float64(loss: str) -> None:
    assert_clean(road_for(loss, "float64", "functional", "none", pt.BFloat16OnlyError(DEVICE)))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", ("float32", "bfloat16"))
def test_unplanted_torch_is_clean(loss: str, dtype: str) -> None:
    assert_clean(road_for(loss, dtype, "functional", "sum", TorchTarget(DEVICE)))
    assert_clean(road_for(loss, dtype, "module", "none", TorchTarget(DEVICE)), gradients)
