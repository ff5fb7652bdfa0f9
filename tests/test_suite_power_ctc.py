"""Suite power for CTCLoss: planted bugs must be caught.

The planted targets (tests/planted_ctc.py) run through ``suites.road.Road`` as the
conformance suites run torch; the searches and assertions are tests/test_suite_power.py's
(a derandomized search over ``Road.cases()`` must find a "fail" under the rule the bug
breaks, and real torch must pass that very case). The searches use ``CTCLoss[log_softmax]``
(scores through log_softmax): the plain spec's gradient differs from torch's everywhere
(registered), which would leave gradient plants nothing to stand out from.

Plants: zero_infinity zeroing the loss but not the gradient (NaN stays: rule 2), 'mean' not
dividing by the target lengths, the blank ignored (blank=0 always), a 1e-3 relative error
only for concatenated (1-d) targets. Controls: the same searches on real torch find no
"fail", and the concatenated-only plant is silent on a search restricted to padded targets
(the road's case strategy filtered on the targets' rank).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

from suites.case import LossCase
from suites.road import Road
from suites.targets import TorchTarget
from tests import planted_ctc
from tests.test_suite_power import (
    DEVICE,
    assert_caught,
    assert_caught_by_value_or_class,
    assert_clean,
    forward,
    gradients,
    road_for,
)

CTC = "CTCLoss[log_softmax]"
APIS = ("module", "functional")
REDUCTIONS = ("none", "mean", "sum")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_infinity_nan_gradient_caught(reduction: str) -> None:
    """An infeasible sample under zero_infinity=True: its gradient NaN where the docs (and
    torch) give 0: rule 2 (a class error) for grad[scores]."""
    road = road_for(
        CTC, "float64", "functional", reduction, planted_ctc.ZeroInfinityKeepsNaNGradient(DEVICE)
    )
    assert_caught(road, gradients, "4", "grad[scores]")


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("api", APIS)
def test_mean_without_target_lengths_caught(api: str, dtype: str) -> None:
    road = road_for(CTC, dtype, api, "mean", planted_ctc.MeanIgnoresTargetLengths(DEVICE))
    assert_caught_by_value_or_class(road, forward, "output")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("api", APIS)
def test_ignored_blank_caught(api: str, reduction: str) -> None:
    road = road_for(CTC, "float64", api, reduction, planted_ctc.IgnoresBlank(DEVICE))
    assert_caught_by_value_or_class(road, forward, "output")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("api", APIS)
def test_concatenated_targets_error_caught(api: str, reduction: str) -> None:
    road = road_for(CTC, "float64", api, reduction, planted_ctc.ConcatenatedTargetsError(DEVICE))
    assert_caught(road, forward, "3", "output")


class PaddedOnlyRoad(Road):
    """A road whose search draws only padded (N, S) targets."""

    def cases(self) -> st.SearchStrategy[LossCase]:
        return super().cases().filter(lambda c: np.ndim(c.inputs["targets"]) == 2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_concatenated_plant_is_silent_on_padded_targets(reduction: str) -> None:
    road = PaddedOnlyRoad(
        road_for(CTC, "float64", "functional", reduction, TorchTarget(DEVICE)).spec,
        "float64",
        DEVICE,
        "functional",
        reduction,
        target=planted_ctc.ConcatenatedTargetsError(DEVICE),
    )
    assert_clean(road)


# -- controls: real torch --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unplanted_torch_forward_is_clean(reduction: str, dtype: str) -> None:
    assert_clean(road_for(CTC, dtype, "functional", reduction, TorchTarget(DEVICE)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unplanted_torch_gradients_are_clean(reduction: str) -> None:
    road = road_for(CTC, "float64", "functional", reduction, TorchTarget(DEVICE))
    assert_clean(road, gradients)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_wrong_gradient_not_hidden_by_the_log_softmax_entry(reduction: str) -> None:
    """The plain spec: torch's gradient is registered as the log_softmax-input quantity
    (known on every case); a gradient that is neither that nor the documented one (the
    first element negated) must still fail rule 4, while real torch on the same case is
    known under that entry only."""
    road = road_for(
        "CTCLoss",
        "float64",
        "functional",
        reduction,
        planted_ctc.FlipsFirstLogProbsGradient(DEVICE),
    )
    assert_caught(
        road,
        gradients,
        "4",
        "grad[log_probs]",
        real_known=("ctc-gradient-assumes-log-softmax-input",),
    )
