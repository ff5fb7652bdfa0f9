"""CosineEmbeddingLoss's documented special cases, judged by the oracle through suites.road.Road.

- The formula: 1 - cos for y = 1, max(0, cos - margin) for y = -1, on hand-computed pairs
  (parallel: cos 1, antiparallel: -1, orthogonal: 0, (1,1,1,1) against (1,0,0,0): 1/2).
- Ties of the y = -1 hinge (cos == margin exactly): the oracle's subgradient 0; torch takes
  the active slope (registered).
- Zero vectors and D = 0: the documented 0/0 = NaN; torch's undocumented epsilon gives a
  finite value (registered, with evidence).
- Norms from 1e-20 to 1e20 (those the dtype holds): scaling both vectors leaves the cosine
  unchanged; torch's epsilon and its squared-norm product's range limits are registered.
- Margins -1, 0, 0.5, 1; unbatched (D) pairs with a () target; an empty batch; ±inf, NaN.
"""

from __future__ import annotations

import numpy as np
import pytest

from suites.case import explicit_case
from suites.dtypes import info
from suites.road import Road
from suites.selection import for_specs
from suites.special import roads as _roads

cosine = for_specs(lambda spec: spec.loss == "CosineEmbeddingLoss")
REDUCTIONS = ("none", "mean", "sum")
INF, NAN = float("inf"), float("nan")
A = [[1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 0.0, 0.0], [0.5, -1.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]]
A += [[-0.5, -0.5, -0.5, -0.5]]
B = [[1.0, 0.0, 0.0, 0.0], [-2.0, -4.0, 0.0, 0.0], [2.0, 1.0, 0.0, 0.0], [4.0, 0.0, 0.0, 0.0]]
B += [[3.0, 0.0, 0.0, 0.0]]
COS = [0.5, -1.0, 0.0, 1.0, -0.5]


def _check(road: Road, inputs: dict, options: dict, grads: bool = True):
    """Forward and gradients (grad_output ones) of one case; the road's reduction unless
    the options give one (or the legacy arguments)."""
    if not {"reduction", "size_average", "reduce"} & set(options):
        options = {**options, "reduction": road.reduction}
    case = explicit_case(road.spec, road.dtype, road.api, inputs, options)
    road.assert_ok(road.check_forward(case, kind="special"))
    if grads:
        out = road.expected(case)
        road.assert_ok(road.check_gradients(case, np.ones(np.shape(out)), kind="special"))
    return case


EPSILON_ENTRY = "cosine-embedding-undocumented-epsilon"


@cosine
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.25, -1.0])
def test_formula(spec_combo, selection, reduction, margin, recorder, request):
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for y in (1.0, -1.0):
            inputs = {"input1": A, "input2": B, "target": [y] * 5}
            case = _check(road, inputs, {"margin": margin, "reduction": reduction})
            if reduction != "none":
                continue
            c = np.array(COS)
            want = 1 - c if y == 1 else np.maximum(0.0, c - margin)
            got = np.asarray(road.expected(case), dtype=np.float64)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)


@cosine
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5, -0.5, 1.0, -1.0])
def test_ties_take_the_subgradient_zero(
    spec_combo, selection, reduction, margin, recorder, request
):
    """cos == margin exactly (rows of A/B with that cosine): the hinge is inactive, the
    oracle's gradient of that row is 0."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        rows = [i for i, c in enumerate(COS) if c == margin]
        inputs = {"input1": [A[i] for i in rows], "input2": [B[i] for i in rows]}
        inputs["target"] = [-1.0] * len(rows)
        case = _check(road, inputs, {"margin": margin, "reduction": reduction})
        assert "cos_tie" in case.features
        ones = np.ones(np.shape(road.expected(case)))
        g = road.expected_gradients(case, ones)
        assert all(np.all(v == 0) for v in g.values())
        for r in road.check_gradients(case, ones, kind="special"):
            # torch's gradient: the documented 0, the other one-sided derivative
            # (registered), or the slope torch's undocumented epsilon gives an
            # antiparallel pair (cos = -1, where dc/dx is exactly 0); anything else fails
            excused = r.comparison.other_side or r.known == [EPSILON_ENTRY]
            assert r.verdict == "pass" or excused, r.comparison.message


@cosine
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_vectors(spec_combo, selection, reduction, recorder, request):
    """A zero vector (or D = 0): the documented cosine is 0/0 = NaN."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for y in (1.0, -1.0):
            for x1, x2 in (([[0.0, 0.0]], [[1.0, 0.0]]), ([[0.0, 0.0]], [[0.0, 0.0]])):
                inputs = {"input1": x1, "input2": x2, "target": [y]}
                case = _check(road, inputs, {"reduction": reduction})
                assert "zero_vector" in case.features and np.isnan(road.expected(case))
            empty_d = {"input1": np.zeros((2, 0)), "input2": np.zeros((2, 0)), "target": [y, y]}
            _check(road, empty_d, {"reduction": reduction}, grads=False)


@cosine
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_norms_from_1e_minus_20_to_1e20(spec_combo, selection, reduction, recorder, request):
    """Both vectors scaled by 2^j (exact), j from -66 to 66 within the dtype's normal range:
    the documented cosine does not change."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        d = info(road.dtype)
        for j in (-66, -20, 20, 66):
            s = 2.0**j
            if not (d.tiny <= s <= d.max / 4):
                continue
            x1 = (np.array(A[:3]) * s).tolist()
            inputs = {"input1": x1, "input2": B[:3], "target": [1.0, -1.0, 1.0]}
            case = _check(road, inputs, {"reduction": reduction})
            if reduction == "none":
                base = explicit_case(road.spec, road.dtype, road.api, {**inputs, "input1": A[:3]})
                base.options["reduction"] = "none"
                base.reduction = "none"
                np.testing.assert_allclose(
                    np.asarray(road.expected(case), dtype=np.float64),
                    np.asarray(road.expected(base), dtype=np.float64),
                    rtol=1e-15,
                    atol=1e-15,
                )


@cosine
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_empty_and_nonfinite(spec_combo, selection, reduction, recorder, request):
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        case = _check(road, {"input1": A[1], "input2": B[2], "target": -1.0}, {"margin": 0.5})
        assert np.shape(road.expected(case)) == ()
        empty = {"input1": np.zeros((0, 3)), "input2": np.zeros((0, 3)), "target": np.zeros(0)}
        case = _check(road, empty, {"reduction": reduction})
        if reduction == "mean":
            assert np.isnan(road.expected(case))
        for bad in ([INF, 1.0], [NAN, 1.0], [INF, INF]):
            inputs = {"input1": [bad], "input2": [[1.0, 2.0]], "target": [1.0]}
            _check(road, inputs, {"reduction": reduction})


@cosine
@pytest.mark.parametrize("reduction", ["mean"])
@pytest.mark.parametrize("legacy", [(False, None), (None, False), (True, True)])
def test_legacy_reduction_arguments(spec_combo, selection, reduction, legacy, recorder, request):
    size_average, reduce = legacy
    opts = {k: v for k, v in (("size_average", size_average), ("reduce", reduce)) if v is not None}
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        _check(road, {"input1": A, "input2": B, "target": [1.0, -1.0, 1.0, -1.0, 1.0]}, opts)
