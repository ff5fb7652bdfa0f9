"""TripletMarginLoss's documented special cases, judged by the oracle through suites.road.Road.

- The documented formula max(||a - p||_p - ||a - n||_p + margin, 0) on a worked example
  (3-4-5 triangles: every distance exact in every dtype).
- eps: inside the norm, added to every coordinate of the difference (PairwiseDistance's
  ||x - y + eps e||_p): with p = 1 the placement shows in the sign of x - y.
- The hinge tie z = 0 (slope 0: the oracle's reading; torch's 1 is registered) and the p-norm kinks: a zero
  difference with eps = 0 (subgradient 0) and with eps > 0 (eps alone makes the distance),
  equal coordinates with p = 1 (sign(0) = 0): all exact, checked bit for bit.
- swap: the negative distance becomes d(p, n) where it is smaller; at d(a, n) == d(p, n)
  the docs keep d(a, n) and torch splits the gradient (registered).
- p: 1, 2, 1.5, 3 and, in float64, p < 1 and negative p; unbatched (D) input; an empty
  batch (N = 0: 'mean' is NaN); the legacy size_average/reduce; ±inf and NaN.
"""

from __future__ import annotations

import numpy as np
import pytest

from suites.case import explicit_case
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads
from suites.specs._ties import active_at_tie

triplet = for_specs(lambda spec: spec.loss == "TripletMarginLoss")
REDUCTIONS = ("none", "mean", "sum")
INF, NAN = float("inf"), float("nan")


def _check(road: Road, inputs: dict, options: dict, grads: bool = True):
    case = explicit_case(road.spec, road.dtype, road.api, inputs, options)
    road.assert_ok(road.check_forward(case, kind="special"))
    if grads:
        out = road.expected(case)
        road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    return case


def _grads(road: Road, case) -> dict:
    return road.expected_gradients(case, np.ones(np.shape(road.expected(case))))


@triplet
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_documented_formula(spec_combo, selection, reduction, recorder, request):
    """a = (0, 0), p = (3, 4), n = (6, 8), eps = 0: d(a, p) = 5, d(a, n) = 10; margin 6
    gives 1, margin 1 gives 0 (an inactive hinge)."""
    x = {"anchor": [[0.0, 0.0], [0.0, 0.0]], "positive": [[3.0, 4.0]] * 2}
    x["negative"] = [[6.0, 8.0]] * 2
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for margin, want in ((6.0, 1.0), (1.0, 0.0)):
            case = _check(road, x, {"margin": margin, "eps": 0.0, "reduction": reduction})
            got = np.asarray(road.expected(case), dtype=np.float64)
            expect = {"none": [want, want], "sum": 2 * want, "mean": want}[reduction]
            np.testing.assert_array_equal(got, expect)


@triplet
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_eps_is_added_to_the_difference(spec_combo, selection, reduction, recorder, request):
    """p = 1, eps = 0.25: d(0, 1) = |0 - 1 + 0.25| = 0.75 and d(0, -1) = 1.25 (eps
    outside the norm would give 1.25 for both)."""
    x = {"anchor": [[0.0]], "positive": [[1.0]], "negative": [[-1.0]]}
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = _check(road, x, {"p": 1, "eps": 0.25, "reduction": reduction})
        assert float(np.ravel(road.expected(case))[0]) == 0.5


@triplet
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
def test_hinge_tie(spec_combo, selection, reduction, p, recorder, request):
    """z = 2 - 3 + 1 = 0 exactly: the oracle's slope 0 (a hinge is inactive at 0); torch
    takes the other one-sided slope, 1, which the road recognises bit for bit (registered:
    hinge-tie-takes-the-active-slope); any other subgradient fails."""
    x = {"anchor": [[0.0, 0.0]], "positive": [[2.0, 0.0]], "negative": [[3.0, 0.0]]}
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        options = {"p": p, "eps": 0.0, "reduction": reduction}
        case = _check(road, x, options)
        assert "hinge_tie" in case.features
        g = _grads(road, case)
        assert all(np.all(v == 0) for v in g.values())
        other = active_at_tie(case, np.ones(np.shape(road.expected(case))))
        # active: d/dp of |a - p| = +1, d/dn of -|a - n| = -1 (one row: mean divides by 1)
        assert other["positive"][0, 0] == 1 and other["negative"][0, 0] == -1
        assert other["anchor"][0, 0] == 0
        for r in road.check_gradients(case, np.ones(np.shape(road.expected(case)))):
            assert r.verdict == "pass" or r.comparison.other_side, r.comparison.message


@triplet
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2, 1.5, 3])
def test_norm_kinks(spec_combo, selection, reduction, p, recorder, request):
    """a == p with eps = 0: v = 0, the subgradient 0; with the default eps the distance
    is ||eps e||_p and its gradient e / D^(1/p')... finite; p = 1 with one equal coordinate:
    sign(0) = 0 for that coordinate."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        same = {"anchor": [[1.0, 2.0]], "positive": [[1.0, 2.0]], "negative": [[3.0, 2.0]]}
        case = _check(road, same, {"p": p, "eps": 0.0, "margin": 4.0, "reduction": reduction})
        assert "zero_difference" in case.features
        assert np.all(_grads(road, case)["positive"] == 0)
        _check(road, same, {"p": p, "margin": 4.0, "reduction": reduction})
        coord = {"anchor": [[1.0, 2.0]], "positive": [[1.0, 0.0]], "negative": [[3.0, 2.0]]}
        case = _check(road, coord, {"p": p, "eps": 0.0, "margin": 4.0, "reduction": reduction})
        if p == 1:
            assert "coordinate_tie" in case.features
            assert _grads(road, case)["positive"][0, 0] == 0


@triplet
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_swap(spec_combo, selection, reduction, recorder, request):
    """d(p, n) = 1 < d(a, n) = 3: swapped, the loss is 2 - 1 + 1 = 2 (without swap 0);
    d(p, n) == d(a, n): the documented rule keeps d(a, n) (torch splits: registered)."""
    x = {"anchor": [[0.0]], "positive": [[2.0]], "negative": [[3.0]]}
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = _check(road, x, {"swap": True, "eps": 0.0, "reduction": reduction})
        assert "swapped" in case.features
        assert float(np.ravel(road.expected(case))[0]) == 2.0
        case = _check(road, x, {"swap": False, "eps": 0.0, "reduction": reduction})
        assert float(np.ravel(road.expected(case))[0]) == 0.0
        tie = {"anchor": [[0.0]], "positive": [[0.25]], "negative": [[0.125]]}
        case = _check(road, tie, {"swap": True, "eps": 0.0, "p": 1, "reduction": reduction})
        assert "swap_tie" in case.features
        assert _grads(road, case)["anchor"][0, 0] == 0  # sign(-0.25) - sign(-0.125)


@triplet
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_p_below_one_and_negative(spec_combo, selection, reduction, recorder, request):
    """The documented formula for any real p != 0 (PairwiseDistance: "Can be negative"),
    on well-conditioned float64 values (no zero coordinates)."""
    x = {
        "anchor": [[0.5, -1.0, 2.0], [1.0, 1.5, -0.5]],
        "positive": [[1.5, 0.25, 1.0], [0.0, 1.0, 1.0]],
        "negative": [[-1.0, 2.0, 0.5], [3.0, -2.0, 2.5]],
    }
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        if road.dtype != "float64":
            continue
        for p in (0.5, -1.0, 2.5):
            _check(road, x, {"p": p, "margin": 2.0, "reduction": reduction})


@triplet
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_and_empty(spec_combo, selection, reduction, recorder, request):
    """(D) inputs give a () loss; N = 0 gives (0,), 0 or NaN ('mean' = 0/0)."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        x = {"anchor": [0.0, 1.0], "positive": [0.5, 1.0], "negative": [2.0, -1.0]}
        case = _check(road, x, {"reduction": reduction})
        assert np.shape(road.expected(case)) == () and "unbatched" in case.features
        empty = {k: np.zeros((0, 3)) for k in ("anchor", "positive", "negative")}
        case = _check(road, empty, {"reduction": reduction})
        e = road.expected(case)
        assert {"mean": np.isnan(e), "sum": e == 0, "none": np.shape(e) == (0,)}[reduction]


@triplet
def test_legacy_arguments(spec_combo, selection, recorder, request):
    x = {"anchor": [[0.0, 1.0], [1.0, 1.0]], "positive": [[0.5, 1.0], [0.0, 0.0]]}
    x["negative"] = [[2.0, -1.0], [1.0, 1.5]]
    for sa, rd, red in ((False, None, "sum"), (None, False, "none"), (True, True, "mean")):
        for road in _roads(spec_combo, selection, red, recorder, request):
            opts = {k: v for k, v in (("size_average", sa), ("reduce", rd)) if v is not None}
            _check(road, x, opts)


@triplet
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_inf_and_nan(spec_combo, selection, reduction, recorder, request):
    """±inf and NaN coordinates follow the formula under IEEE arithmetic (torch's finite
    slope at a NaN hinge and sign(NaN) = 0 are registered)."""
    rows = (
        ([[INF, 0.0]], [[0.0, 0.0]], [[1.0, 0.0]]),  # d(a, p) = d(a, n) = inf: NaN
        ([[0.0, 0.0]], [[0.0, 0.0]], [[INF, 0.0]]),  # d(a, n) = inf: 0
        ([[0.0, 0.0]], [[INF, 0.0]], [[1.0, 0.0]]),  # d(a, p) = inf: inf
        ([[0.0, 0.0]], [[NAN, 0.0]], [[1.0, 0.0]]),
    )
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for a, p, n in rows:
            for pp in (1, 2):
                x = {"anchor": a, "positive": p, "negative": n}
                _check(road, x, {"p": pp, "reduction": reduction})
