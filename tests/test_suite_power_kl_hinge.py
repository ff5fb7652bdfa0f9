"""Suite power for KLDivLoss and HingeEmbeddingLoss: planted bugs must be caught.

The planted targets (tests/planted_kl_hinge.py, and the generic ones of tests/planted.py
and tests/planted_margin.py) run through ``suites.road.Road`` as the conformance suites run
torch; the searches and assertions are tests/test_suite_power.py's (a derandomized search
over ``Road.cases()`` must find a "fail" under the rule the bug breaks, and real torch must
pass that case). The plants: ``log_target`` ignored, 'batchmean' dividing by the support's
size, ``margin`` ignored, the subgradient 0 instead of -1 at the hinge's kink, an error
only in bfloat16, and flipped input and target gradients. Controls: the same searches on
real torch find nothing, and the bfloat16 plant is silent in float64.
"""

from __future__ import annotations

import pytest

from suites.targets import TorchTarget
from tests import planted, planted_kl_hinge, planted_margin
from tests.test_suite_power import (
    DEVICE,
    assert_caught,
    assert_caught_by_value_or_class,
    assert_clean,
    forward,
    gradients,
    road_for,
)

KL = "KLDivLoss"
HINGE = "HingeEmbeddingLoss"
APIS = ("module", "functional")
KL_REDUCTIONS = ("none", "mean", "sum", "batchmean")
HINGE_REDUCTIONS = ("none", "mean", "sum")


@pytest.mark.parametrize("reduction", KL_REDUCTIONS)
@pytest.mark.parametrize("api", APIS)
def test_ignored_log_target_caught(api: str, reduction: str) -> None:
    road = road_for(KL, "float64", api, reduction, planted_kl_hinge.IgnoresLogTarget(DEVICE))
    assert_caught_by_value_or_class(road, forward, "output")


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("api", APIS)
def test_batchmean_over_the_wrong_size_caught(api: str, dtype: str) -> None:
    target = planted_kl_hinge.BatchmeanOverLastDim(DEVICE)
    assert_caught(road_for(KL, dtype, api, "batchmean", target), forward, "3", "output")


@pytest.mark.parametrize("reduction", HINGE_REDUCTIONS)
@pytest.mark.parametrize("api", APIS)
def test_ignored_margin_caught(api: str, reduction: str) -> None:
    road = road_for(HINGE, "float64", api, reduction, planted_margin.IgnoresMargin(DEVICE))
    assert_caught(road, forward, "3", "output")


TIE_ENTRY = "hinge-tie-takes-the-active-slope"  # real torch: the other one-sided slope


@pytest.mark.parametrize("dtype", ("float64", "float16", "bfloat16"))
@pytest.mark.parametrize("reduction", HINGE_REDUCTIONS)
def test_wrong_subgradient_at_the_tie_caught(reduction: str, dtype: str) -> None:
    """+1 instead of -1 at x = margin (y = -1): rule 4 breaks for grad[input], in the tie
    regime, where the subgradient is judged bit for bit (float16 and bfloat16 too: the
    near-tie allowance does not cover an exact tie), and the registry's tie entry does not
    excuse it (it is neither the documented 0 nor the other one-sided derivative, -1)."""
    target = planted_kl_hinge.TieSubgradientFlipped(DEVICE)
    road = road_for(HINGE, dtype, "functional", reduction, target)
    assert_caught(road, gradients, "4", "grad[input]", real_known=(TIE_ENTRY,))


@pytest.mark.parametrize("loss", (KL, HINGE))
@pytest.mark.parametrize("api", APIS)
def test_bfloat16_only_error_caught(loss: str, api: str) -> None:
    road = road_for(loss, "bfloat16", api, "sum", planted_kl_hinge.BFloat16OnlyError(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("loss", (KL, HINGE))
def test_bfloat16_plant_is_silent_in_float64(loss: str) -> None:
    target = planted_kl_hinge.BFloat16OnlyError(DEVICE)
    assert_clean(road_for(loss, "float64", "functional", "sum", target))


@pytest.mark.parametrize(("loss", "reduction"), [(KL, "none"), (HINGE, "sum"), (HINGE, "mean")])
def test_flipped_input_gradient_caught(loss: str, reduction: str) -> None:
    """(KLDivLoss's reduced searches first meet an edge case whose real target gradient is
    a registered NaN, so its search runs unreduced.)"""
    road = road_for(loss, "float64", "module", reduction, planted.FlipsFirstInputGradient(DEVICE))
    assert_caught(road, gradients, "4", "grad[input]")


def test_flipped_target_gradient_caught() -> None:
    road = road_for(
        KL, "float64", "functional", "mean", planted_kl_hinge.FlipsFirstTargetGradient(DEVICE)
    )
    assert_caught(road, gradients, "4", "grad[target]")


# -- controls: real torch --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ("float32", "float64", "bfloat16"))
@pytest.mark.parametrize(
    ("loss", "reduction"),
    [(KL, r) for r in KL_REDUCTIONS] + [(HINGE, r) for r in HINGE_REDUCTIONS],
)
def test_unplanted_torch_forward_is_clean(loss: str, reduction: str, dtype: str) -> None:
    assert_clean(road_for(loss, dtype, "functional", reduction, TorchTarget(DEVICE)))


@pytest.mark.parametrize("dtype", ("float32", "float64", "float16"))
@pytest.mark.parametrize(
    ("loss", "reduction"),
    [(KL, r) for r in KL_REDUCTIONS] + [(HINGE, r) for r in HINGE_REDUCTIONS],
)
def test_unplanted_torch_gradients_are_clean(loss: str, reduction: str, dtype: str) -> None:
    assert_clean(road_for(loss, dtype, "module", reduction, TorchTarget(DEVICE)), gradients)
