"""Identities the documentation states or implies, checked on the oracle itself.

- HuberLoss(delta=d) == d * SmoothL1Loss(beta=d) ("differs ... by a factor of delta");
- SmoothL1Loss(beta=0) == L1Loss ("When beta is 0, Smooth L1 loss is equivalent to L1");
- 'sum' is the sum of 'none', 'mean' is that sum divided by the number of elements;
- weights multiply the unreduced loss; 'mean' divides by N, not by sum(w);
- the legacy size_average/reduce table, all 9 combinations;
- the shared helpers (weighted_mean, unbroadcast, reduction_grad).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import oracle
from oracle import _common
from tests import mp_reference as ref

LOSSES = ref.LOSSES
SETTINGS = settings(derandomize=True, max_examples=80, deadline=None)
vectors = hnp.arrays(
    np.float64,
    st.integers(0, 12),
    elements=st.floats(min_value=-1e100, max_value=1e100, allow_subnormal=True),
)
thresholds = st.one_of(
    st.sampled_from([1e-300, 0.5, 1.0, 2.0, 1e100]),
    st.floats(min_value=1e-200, max_value=1e200),
)


def ulps_apart(a, b) -> float:
    a, b = np.float64(a), np.float64(b)
    if np.isnan(a) or np.isnan(b):
        return 0.0 if (np.isnan(a) and np.isnan(b)) else np.inf
    if a == b:
        return 0.0
    return float(abs(a - b) / np.spacing(max(abs(a), abs(b))))


@SETTINGS
@given(x=vectors, data=st.data(), d=thresholds)
def test_huber_is_delta_times_smooth_l1(x, data, d):
    y = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(-1e100, 1e100)))
    for red in ("none", "sum", "mean"):
        h = oracle.huber_loss(x, y, reduction=red, delta=d)
        s = oracle.smooth_l1_loss(x, y, reduction=red, beta=d)
        prod = np.asarray(s * oracle.WORK(d))
        for a, b in zip(np.ravel(h), np.ravel(prod), strict=True):
            assert ulps_apart(a, b) <= 2, (red, d, a, b)


@SETTINGS
@given(x=vectors, data=st.data())
def test_smooth_l1_with_beta_zero_is_l1(x, data):
    y = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(allow_nan=True)))
    for red in ("none", "sum", "mean"):
        np.testing.assert_array_equal(
            oracle.smooth_l1_loss(x, y, reduction=red, beta=0.0),
            oracle.l1_loss(x, y, reduction=red),
        )
    gs = oracle.gradients.smooth_l1_loss(x, y, reduction="sum", beta=0.0)
    gl = oracle.gradients.l1_loss(x, y, reduction="sum")
    for k in ("input", "target"):
        np.testing.assert_array_equal(gs[k], gl[k])


def test_huber_with_delta_one_is_smooth_l1():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(50) * 3, rng.standard_normal(50)
    np.testing.assert_array_equal(
        oracle.huber_loss(x, y, reduction="none"), oracle.smooth_l1_loss(x, y, reduction="none")
    )


@pytest.mark.parametrize("loss", LOSSES)
@SETTINGS
@given(x=vectors, data=st.data())
def test_sum_and_mean_are_reductions_of_none(loss, x, data):
    y = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(-1e100, 1e100)))
    f = getattr(oracle, loss)
    none = f(x, y, reduction="none")
    total = f(x, y, reduction="sum")
    mean = f(x, y, reduction="mean")
    assert total == np.sum(none, dtype=oracle.WORK)
    if x.size:
        assert mean == total / oracle.WORK(x.size)
    else:
        assert np.isnan(mean) and total == 0


@pytest.mark.parametrize("loss", ("l1_loss", "mse_loss", "huber_loss"))
def test_weight_multiplies_each_element_and_mean_divides_by_n(loss):
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    f = getattr(oracle, loss)
    for w in (rng.random((4, 3)), rng.random(3), np.array(2.0), rng.random((1, 3)) - 0.5):
        none = f(x, y, reduction="none")
        wnone = f(x, y, reduction="none", weight=w)
        np.testing.assert_array_equal(wnone, np.broadcast_to(w, (4, 3)) * none)
        wsum = f(x, y, reduction="sum", weight=w)
        assert wsum == np.sum(wnone, dtype=oracle.WORK)
        assert f(x, y, reduction="mean", weight=w) == wsum / oracle.WORK(12)
    ones = f(x, y, weight=np.ones(3))
    assert ones == f(x, y)


@pytest.mark.parametrize("loss", ("l1_loss", "mse_loss", "smooth_l1_loss"))
@pytest.mark.parametrize(
    ("size_average", "reduce"), list(itertools.product([None, True, False], repeat=2))
)
def test_legacy_table(loss, size_average, reduce):
    """None/None keeps `reduction`; otherwise reduce=False -> none, else size_average."""
    expected = {
        (None, None): None,
        (None, True): "mean",
        (True, None): "mean",
        (True, True): "mean",
        (False, None): "sum",
        (False, True): "sum",
        (None, False): "none",
        (True, False): "none",
        (False, False): "none",
    }[(size_average, reduce)]
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal(6), rng.standard_normal(6)
    f = getattr(oracle, loss)
    for reduction in ("none", "mean", "sum"):
        got = f(x, y, size_average=size_average, reduce=reduce, reduction=reduction)
        want = f(x, y, reduction=expected or reduction)
        np.testing.assert_array_equal(got, want)
        assert _common.resolve_reduction(size_average, reduce, reduction) == (expected or reduction)


def test_legacy_arguments_override_even_an_invalid_reduction():
    """The docs: specifying either legacy arg "will override reduction"."""
    assert _common.resolve_reduction(None, False, "avg") == "none"
    assert _common.resolve_reduction(False, None, "avg") == "sum"


def test_outputs_are_work_dtype_and_shaped():
    x, y = np.ones((2, 3), dtype=np.float32), np.zeros(3, dtype=np.float16)
    for loss in LOSSES:
        f = getattr(oracle, loss)
        assert f(x, y, reduction="none").shape == (2, 3)
        for red in ("mean", "sum"):
            out = f(x, y, reduction=red)
            assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == oracle.WORK


# ---------------------------------------------------------------------------------------
# Shared helpers


def test_weighted_mean():
    loss = np.array([1.0, 2.0, 4.0])
    w = np.array([1.0, 0.0, 3.0])
    assert _common.weighted_mean(loss, w) == oracle.WORK(13) / oracle.WORK(4)
    assert _common.weighted_mean(loss, np.array(2.0)) == oracle.WORK(7) / oracle.WORK(3)
    assert np.isnan(_common.weighted_mean(loss, np.zeros(3)))
    assert np.isnan(_common.weighted_mean(np.zeros(0), np.zeros(0)))
    w3 = np.array([0.1, 0.2, 0.7])
    want = ref.mpmath.fsum(ref.to_mpf(a) * ref.to_mpf(b) for a, b in zip(loss, w3, strict=True))
    want /= ref.mpmath.fsum(ref.to_mpf(b) for b in w3)
    ref.assert_ulps(_common.weighted_mean(loss, w3), want, ulps=1)
    with pytest.raises(oracle.OracleInputError) as e:
        _common.weighted_mean(loss, np.ones(2))
    assert e.value.argument == "weight"


def test_unbroadcast_is_the_adjoint_of_broadcast_to():
    rng = np.random.default_rng(2)
    for shape, big in [((3,), (2, 3)), ((1, 3), (4, 3)), ((2, 1), (5, 2, 4)), ((), (2, 2))]:
        a = rng.standard_normal(shape)
        g = rng.standard_normal(big)
        lhs = np.sum(np.broadcast_to(a, big) * g)
        rhs = np.sum(a * _common.unbroadcast(g, shape).astype(np.float64))
        assert abs(lhs - rhs) <= 1e-12 * (1 + abs(lhs))
        assert _common.unbroadcast(g, shape).shape == shape


def test_reduction_grad():
    g = _common.reduction_grad(None, (2, 2), "mean")
    np.testing.assert_array_equal(g, np.full((2, 2), 0.25))
    np.testing.assert_array_equal(_common.reduction_grad(3.0, (3,), "sum"), [3, 3, 3])
    gn = np.arange(3.0)
    np.testing.assert_array_equal(_common.reduction_grad(gn, (3,), "none"), gn)
    assert _common.reduction_grad(None, (0,), "mean").shape == (0,)
    assert _common.reduce_loss(np.zeros(0), "sum").shape == ()


def test_as_work_is_exact():
    for dtype in (np.float16, np.float32, np.float64, np.int64, np.uint64, np.int8):
        info = np.finfo(dtype) if np.issubdtype(dtype, np.floating) else np.iinfo(dtype)
        a = np.array([info.max, info.min], dtype=dtype)
        w = _common.as_work(a, "input")
        assert w.dtype == oracle.WORK
        assert [int(v) if dtype in (np.int64, np.uint64) else v for v in w.tolist()] == [
            int(v) if dtype in (np.int64, np.uint64) else v for v in a.tolist()
        ]
    assert _common.as_work(np.float64(2) ** -1074, "x") == np.longdouble(2) ** -1074
