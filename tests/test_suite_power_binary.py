"""Suite power for the binary losses: planted bugs must be caught by the suite's own road.

The searches, acceptance checks and controls are those of tests/test_suite_power.py
(``assert_caught``: a derandomized search over ``Road.cases()`` finds a "fail" verdict of
the expected quantity under the expected rule, within the first CONTROL_EXAMPLES cases, and
real torch passes that very case; ``assert_clean``: the first CONTROL_EXAMPLES cases of a
search raise no "fail"). Plants (tests/planted_binary.py and tests/planted.py): an ignored
``weight``, an ignored ``pos_weight``, a wrong 'mean' denominator, BCE's log clamp at -50
instead of -100, a flipped gradient element, an error in float16 only. Controls: the real
torch target on every combination a plant is searched on gives no false alarm, and the
float16-only plant none in float32.
"""

from __future__ import annotations

import pytest

from suites.targets import TorchTarget
from tests import planted, planted_binary
from tests.test_suite_power import DEVICE, assert_caught, assert_clean, forward, gradients, road_for

BCE, LOGITS, SOFT, MULTI = (
    "BCELoss",
    "BCEWithLogitsLoss",
    "SoftMarginLoss",
    "MultiLabelSoftMarginLoss",
)
ALL = (BCE, LOGITS, SOFT, MULTI)
WEIGHTED = (BCE, LOGITS, MULTI)
APIS = ("module", "functional")
REDUCTIONS = ("none", "mean", "sum")

# (loss, dtype, api, reduction) of every forward search below, and of every gradient search
WEIGHT_SEARCHES = [
    (loss, "float64", api, r) for loss in WEIGHTED for api in APIS for r in ("none", "mean")
]
POS_WEIGHT_SEARCHES = [(LOGITS, "float64", api, r) for api in APIS for r in REDUCTIONS]
MEAN_SEARCHES = [(loss, dt, "functional", "mean") for loss in ALL for dt in ("float32", "float64")]
CLAMP_SEARCHES = [(BCE, "float64", api, r) for api in APIS for r in REDUCTIONS]
FLOAT16_SEARCHES = [(loss, "float16", api, "none") for loss in ALL for api in APIS]
FORWARD_CONTROLS = sorted(
    set(WEIGHT_SEARCHES + POS_WEIGHT_SEARCHES + MEAN_SEARCHES + CLAMP_SEARCHES + FLOAT16_SEARCHES)
)
GRADIENT_SEARCHES = [(loss, "float64", "functional", r) for loss in ALL for r in REDUCTIONS]


def _id(search: tuple[str, ...]) -> str:
    return "-".join(search)


@pytest.mark.parametrize("search", WEIGHT_SEARCHES, ids=_id)
def test_ignored_weight_caught(search):
    """weight silently dropped (functional keyword or module constructor): rule 3."""
    road = road_for(*search, planted.IgnoresWeight(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("search", POS_WEIGHT_SEARCHES, ids=_id)
def test_ignored_pos_weight_caught(search):
    """BCEWithLogitsLoss computed without its pos_weight: rule 3."""
    road = road_for(*search, planted_binary.IgnoresPosWeight(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("search", MEAN_SEARCHES, ids=_id)
def test_wrong_mean_denominator_caught(search):
    """'mean' as sum / (N + 1): rule 3 (MultiLabelSoftMargin's mean runs over its N rows,
    the plant's N over every element: a wrong denominator either way)."""
    road = road_for(*search, planted.WrongMeanDenominator(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("search", CLAMP_SEARCHES, ids=_id)
def test_bce_clamp_at_minus_50_caught(search):
    """BCE's own formula with the logs clamped at -50: rule 3 where x < exp(-50) or x = 1."""
    road = road_for(*search, planted_binary.ClampsLogsAtMinus50(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("search", GRADIENT_SEARCHES, ids=_id)
def test_flipped_gradient_element_caught(search):
    """input.grad[0] negated, the forward untouched: rule 4 for grad[input]."""
    road = road_for(*search, planted.FlipsFirstInputGradient(DEVICE))
    assert_caught(road, gradients, "4", "grad[input]")


@pytest.mark.parametrize("search", FLOAT16_SEARCHES, ids=_id)
def test_float16_only_error_caught(search):
    """A 2**-4 relative error on output[0] in float16 only: rule 3."""
    road = road_for(*search, planted_binary.RelativeErrorFloat16(DEVICE))
    assert_caught(road, forward, "3", "output")


@pytest.mark.parametrize("loss", ALL)
def test_float16_plant_is_silent_in_float32(loss):
    road = road_for(
        loss, "float32", "functional", "none", planted_binary.RelativeErrorFloat16(DEVICE)
    )
    assert_clean(road)


@pytest.mark.parametrize("search", FORWARD_CONTROLS, ids=_id)
def test_unplanted_torch_forward_is_clean(search):
    """Real torch raises no failure on any forward search above."""
    assert_clean(road_for(*search, TorchTarget(DEVICE)))


@pytest.mark.parametrize("search", GRADIENT_SEARCHES, ids=_id)
def test_unplanted_torch_gradients_are_clean(search):
    """Real torch raises no failure on the gradient searches."""
    assert_clean(road_for(*search, TorchTarget(DEVICE)), gradients)
