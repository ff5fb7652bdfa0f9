"""Suite power: bugs planted in torch must be caught by the suite's own road.

Each planted target (tests/planted.py) is run through ``suites.road.Road`` exactly as the
conformance suites run torch, and a derandomized hypothesis search over ``Road.cases()``
must find a case whose verdict is "fail", under the acceptance rule the bug breaks
(rule 3 for values, rule 4 for gradients), with the suite's own failure message citing it.
Controls show the searches are meaningful: the float32-only plant raises no alarm in
float64, and the real, unplanted torch target gives no "fail" on the same searches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

import oracle
from suites.case import LossCase
from suites.road import Result, Road
from suites.specs import by_name
from suites.strategies import arrays
from suites.targets import TorchTarget
from tests import planted

DEVICE = "cpu"
POINTWISE = ("L1Loss", "MSELoss", "HuberLoss", "SmoothL1Loss")
WEIGHTED = ("L1Loss", "MSELoss", "HuberLoss")
APIS = ("module", "functional")
REDUCTIONS = ("none", "mean", "sum")
# Every search starts from the same derandomized seed (find's seed does not depend on the
# predicate), so a search draws the same cases in the same order whatever the target is,
# until its predicate first holds. A planted search stops at its first failure (usually
# within 35 cases with torch 2.13; one reached 69 in a run under xdist; no shrinking, which
# would only cost time); a control search examines the first CONTROL_EXAMPLES cases, a
# superset of what every planted search examined (assert_caught checks that this stays so).
SEARCH = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.generate,),
)
CONTROL_EXAMPLES = 100
CONTROL = settings(SEARCH, max_examples=CONTROL_EXAMPLES)

Check = Callable[[Road, Any], list[Result]]


def forward(road: Road, drawn: LossCase) -> list[Result]:
    """The forward check of one case (what suites/test_forward.py runs)."""
    return [road.check_forward(drawn)]


def gradients(road: Road, drawn: tuple[LossCase, np.ndarray | None]) -> list[Result]:
    """The gradient checks of one case and its grad_output (suites/test_gradients.py)."""
    case, grad_output = drawn
    return road.check_gradients(case, grad_output)


@st.composite
def with_grad_output(draw: st.DrawFn, road: Road) -> tuple[LossCase, np.ndarray | None]:
    """A case and a well-conditioned grad_output of its output's shape, as the suite draws."""
    case = draw(road.cases())
    value = road.expected(case)
    if isinstance(value, oracle.OracleInputError):
        return case, None
    return case, draw(arrays(road.dtype, np.shape(value), "well", -4.0, 4.0))


@dataclass
class Found:
    """A failing case a search found: what was drawn, its failing result, and how many
    cases the search examined up to and including it."""

    drawn: Any
    result: Result
    examined: int


def search(road: Road, check: Check = forward, config: settings = SEARCH) -> Found | None:
    """The first drawn case whose verdict is "fail"; None when the search finds none."""
    strategy = road.cases() if check is forward else with_grad_output(road)
    examined = 0
    failures: list[Found] = []

    def fails(drawn: Any) -> bool:
        nonlocal examined
        examined += 1
        bad = [r for r in check(road, drawn) if r.verdict == "fail"]
        if bad:
            failures.append(Found(drawn, bad[0], examined))
        return bool(bad)

    try:
        find(strategy, fails, settings=config)
    except NoSuchExample:
        return None
    return failures[-1]


def road_for(loss: str, dtype: str, api: str, reduction: str, target: TorchTarget) -> Road:
    """A Road that records nothing, bound to one combination and a (planted) target."""
    return Road(by_name(loss), dtype, DEVICE, api, reduction, target=target)


def assert_caught_by_value_or_class(road: Road, check: Check, quantity: str) -> None:
    """assert_caught for a plant that may break rule 3 (a wrong value) or rule 2 (a wrong
    class: an option read the wrong way can turn a finite loss infinite or NaN, e.g. log
    targets read as probabilities, or a blank forced to 0 that a target holds)."""
    found = search(road, check)
    assert found is not None, f"not caught: {road.api} {road.reduction}"
    assert found.examined <= CONTROL_EXAMPLES, "the controls no longer cover this search"
    result = found.result
    assert result.comparison.rule in {"2", "3"} and result.quantity == quantity, result
    real = road_for(road.spec.name, road.dtype, road.api, road.reduction, TorchTarget(DEVICE))
    verdicts = [r.verdict for r in check(real, found.drawn)]
    assert verdicts and all(v == "pass" for v in verdicts), (found.drawn, verdicts)


def assert_caught(
    road: Road, check: Check, rule: str, quantity: str, real_known: tuple[str, ...] = ()
) -> None:
    """The search finds a failure of ``quantity`` under ``rule``, the suite's failure
    message cites that rule, and real torch passes the very same case (the plant did it),
    or is excused there only by the registry entries ``real_known`` (a plant at a tie,
    where real torch takes the registered other one-sided derivative)."""
    found = search(road, check)
    assert found is not None, (
        f"planted bug in {type(road.target).__name__} not caught: {road.spec.name} "
        f"{road.api} {road.dtype} reduction={road.reduction}"
    )
    drawn, result = found.drawn, found.result
    assert found.examined <= CONTROL_EXAMPLES, "the controls no longer cover this search"
    # a flipped infinite gradient is a class error (rule 2) rather than a value error (rule
    # 4): both are rules the suite applies to gradients, and both name the quantity
    allowed = {rule, "2"} if rule == "4" else {rule}
    assert result.comparison.rule in allowed, result.comparison.message
    assert result.quantity == quantity, result.comparison.message
    assert result.comparison.message.startswith(quantity)
    with pytest.raises(AssertionError, match=f"rule {result.comparison.rule} broken"):
        road.assert_ok(result)
    real = road_for(road.spec.name, road.dtype, road.api, road.reduction, TorchTarget(DEVICE))
    results = check(real, drawn)
    verdicts = [r.verdict for r in results]
    assert verdicts and all(
        r.verdict == "pass" or (r.verdict == "known" and set(r.known) <= set(real_known))
        for r in results
    ), (drawn, verdicts)


def assert_clean(road: Road, check: Check = forward) -> None:
    """The control search (the first CONTROL_EXAMPLES cases) finds no "fail" verdict."""
    found = search(road, check, CONTROL)
    if found is not None:
        cmp = found.result.comparison
        pytest.fail(f"false alarm on {found.drawn!r}: rule {cmp.rule}: {cmp.message}")


# -- 1. a 1e-3 relative error on one element, float32 only -------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("loss", POINTWISE)
def test_relative_error_caught_in_float32(loss: str, api: str, reduction: str) -> None:
    """1e-3 relative on output[0] (unreduced or reduced) breaks rule 3 in float32."""
    target = planted.RelativeErrorFloat32(DEVICE)
    assert_caught(road_for(loss, "float32", api, reduction, target), forward, "3", "output")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", POINTWISE)
def test_relative_error_plant_is_silent_in_float64(loss: str, reduction: str) -> None:
    """The same float32-only target raises no failure in float64 (no false alarms)."""
    target = planted.RelativeErrorFloat32(DEVICE)
    assert_clean(road_for(loss, "float64", "functional", reduction, target))


# -- 2. a wrong mean denominator ---------------------------------------------------------


@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("loss", POINTWISE)
def test_wrong_mean_denominator_caught(loss: str, api: str, dtype: str) -> None:
    """sum / (N + 1) for reduction='mean' breaks rule 3."""
    target = planted.WrongMeanDenominator(DEVICE)
    assert_caught(road_for(loss, dtype, api, "mean", target), forward, "3", "output")


# -- 3. beta / delta ignored -------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    ("loss", "plant"),
    [("SmoothL1Loss", planted.IgnoresBeta), ("HuberLoss", planted.IgnoresDelta)],
    ids=["SmoothL1Loss-beta", "HuberLoss-delta"],
)
def test_threshold_ignored_caught(
    loss: str, plant: type[TorchTarget], api: str, reduction: str
) -> None:
    """SmoothL1 always with beta=1, Huber always with delta=1: rule 3 breaks."""
    assert_caught(road_for(loss, "float64", api, reduction, plant(DEVICE)), forward, "3", "output")


# -- 4. a wrong gradient sign on one element ---------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("loss", POINTWISE)
def test_flipped_gradient_sign_caught(loss: str, api: str, reduction: str) -> None:
    """input.grad[0] negated (forward untouched) breaks rule 4 for grad[input]."""
    target = planted.FlipsFirstInputGradient(DEVICE)
    road = road_for(loss, "float64", api, reduction, target)
    assert_caught(road, gradients, "4", "grad[input]")


# -- 5. weight ignored -------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ("none", "sum"))
@pytest.mark.parametrize("loss", WEIGHTED)
def test_weight_ignored_caught(loss: str, reduction: str) -> None:
    """functional weight= silently dropped breaks rule 3 (weighted 'mean' of L1/MSE is a
    registered doc discrepancy, so 'none' and 'sum' carry the check)."""
    target = planted.IgnoresWeight(DEVICE)
    assert_caught(
        road_for(loss, "float64", "functional", reduction, target), forward, "3", "output"
    )


# -- control: the real torch target -----------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", POINTWISE)
def test_unplanted_torch_forward_is_clean(loss: str, reduction: str) -> None:
    """Real torch gives no "fail" on the forward searches above (float32, functional)."""
    assert_clean(road_for(loss, "float32", "functional", reduction, TorchTarget(DEVICE)))


@pytest.mark.parametrize("reduction", ("none", "mean"))
@pytest.mark.parametrize("loss", POINTWISE)
def test_unplanted_torch_gradients_are_clean(loss: str, reduction: str) -> None:
    """Real torch gives no "fail" on the gradient searches (float64, functional: weight too)."""
    road = road_for(loss, "float64", "functional", reduction, TorchTarget(DEVICE))
    assert_clean(road, gradients)
