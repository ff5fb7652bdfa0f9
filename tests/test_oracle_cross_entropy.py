"""``oracle.cross_entropy`` and its gradients against a plain 50-digit mpmath reference.

Budget: the oracle rounded to float64 is within 2 float64 ULPs of mpmath; NaN and ±inf
match by class. Derived allowances, each only where its cancellation can occur:

* signed weights: a sum of terms of both signs loses ``2**-58 * sum |terms|`` at most in
  the oracle's long-double arithmetic (64-bit significand, a few dozen terms), and the
  'mean' divisor ``sum_n w_{y_n}`` loses ``2**-58 * sum |w_{y_n}|`` relative to itself;
* the input gradient with smoothing or probability targets,
  ``p_j sum_{c != j} a_c - a_j (1 - p_j)``, is a genuine difference of two terms (it is 0 at
  the optimum ``p = a / sum a``): ``2**-56`` times the two terms' magnitude (each is formed
  from ``C <= 4`` products and exponentials, a few long-double roundings each).

Without smoothing, with class indices and non-negative weights nothing cancels and the bare
2-ULP budget applies.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oracle
from oracle import _classification
from oracle._common import OracleInputError
from tests import mp_classification as mpc
from tests import mp_reference as ref

SETTINGS = settings(
    derandomize=True,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FD_SETTINGS = settings(SETTINGS, max_examples=50)
SUM_ERR = ref.mpf(2) ** -58
GRAD_ERR = ref.mpf(2) ** -56
REDUCTIONS = ("none", "mean", "sum")
INF, NAN = math.inf, math.nan

#: Edge logits per dtype: zeros, the smallest subnormals, 1e4, the largest finite, ±inf, NaN.
EDGE_LOGITS = {
    np.float64: [0.0, -0.0, 5e-324, -5e-324, 1e-300, 1e4, -1e4, 1e300, -1e300, INF, -INF, NAN],
    np.float32: [0.0, 1e-45, -1e-45, 1e4, -1e4, 3.4e38, -3.4e38, INF, -INF, NAN],
    np.float16: [0.0, 6e-8, -6e-8, 1e4, -1e4, 65504.0, -65504.0, INF, -INF, NAN],
}
WIDTH = {np.float64: 64, np.float32: 32, np.float16: 16}


# ---------------------------------------------------------------------------------------
# Drawing cases


@st.composite
def input_shapes(draw, max_classes: int = 4) -> tuple[int, ...]:
    """(C,), (N, C) or (N, C, d_1, ..., d_k) for k <= 3, N from 0, at most ~24 rows."""
    c = draw(st.integers(1, max_classes))
    k = draw(st.sampled_from([-1, 0, 0, 1, 2, 3]))
    if k < 0:
        return (c,)
    n = draw(st.integers(0, 3))
    dims = tuple(draw(st.integers(1, 2)) for _ in range(k))
    return (n, c, *dims)


def batch_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return () if len(shape) == 1 else (shape[0], *shape[2:])


@st.composite
def logits(draw, dtype, shape, edge: bool) -> np.ndarray:
    well = st.floats(-30.0, 30.0, width=WIDTH[dtype])
    elems = st.one_of(well, st.sampled_from(EDGE_LOGITS[dtype])) if edge else well
    values = [draw(elems) for _ in range(math.prod(shape))]
    return np.array(values, dtype=dtype).reshape(shape)


@st.composite
def options(draw, shape, dtype, *, probabilities: bool, signed: bool = True) -> dict:
    c = shape[0] if len(shape) == 1 else shape[1]
    opts: dict = {}
    red = draw(st.sampled_from(REDUCTIONS))
    legacy = draw(st.sampled_from([(None, None)] * 6 + list(ref.LEGACY)))
    opts["reduction"] = red
    if legacy != (None, None):
        opts["size_average"], opts["reduce"] = legacy
    kind = draw(st.sampled_from(["none", "positive", "positive", "signed" if signed else "none"]))
    if kind != "none":
        lo = -3.0 if kind == "signed" else 0.0
        opts["weight"] = np.array(
            [draw(st.floats(lo, 3.0, width=WIDTH[dtype])) for _ in range(c)], dtype=dtype
        )
    eps = draw(st.sampled_from([None, 0.0, 0.1, 0.5, 1.0, "any"]))
    if eps == "any":
        eps = draw(st.floats(0.0, 1.0))
    if eps is not None:
        opts["label_smoothing"] = eps
    if not probabilities:
        ii = draw(st.sampled_from([None, -100, -1, -7, "class"]))
        if ii == "class":
            ii = draw(st.integers(0, c - 1))
        if ii is not None:
            opts["ignore_index"] = ii
    return opts


@st.composite
def targets(draw, shape, dtype, probabilities: bool, ignore_index: int) -> np.ndarray:
    if probabilities:
        elems = st.one_of(st.floats(0.0, 1.0, width=WIDTH[dtype]), st.sampled_from([0.0, 1.0]))
        values = [draw(elems) for _ in range(math.prod(shape))]
        return np.array(values, dtype=dtype).reshape(shape)
    c = shape[0] if len(shape) == 1 else shape[1]
    bs = batch_shape(shape)
    cls = st.one_of(st.integers(0, c - 1), st.just(ignore_index))
    return np.array([draw(cls) for _ in range(math.prod(bs))], dtype=np.int64).reshape(bs)


@st.composite
def cases(
    draw,
    *,
    edge: bool,
    dtypes=(np.float64, np.float64, np.float32, np.float16),
    probabilities: bool | None = None,
):
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(input_shapes())
    if probabilities is None:
        probabilities = draw(st.booleans())
    x = draw(logits(dtype, shape, edge))
    opts = draw(options(shape, dtype, probabilities=probabilities))
    t = draw(targets(shape, dtype, probabilities, opts.get("ignore_index", -100)))
    return x, t, opts


def effective(opts: dict) -> dict:
    """The reference's keyword arguments: legacy flags resolved, defaults filled in."""
    red = ref.effective_reduction(
        opts.get("reduction", "mean"), opts.get("size_average"), opts.get("reduce")
    )
    return {
        "weight": opts.get("weight"),
        "ignore_index": opts.get("ignore_index", -100),
        "reduction": red,
        "label_smoothing": opts.get("label_smoothing", 0.0),
    }


# ---------------------------------------------------------------------------------------
# Comparing


def assert_close(got, res: mpc.Result, *, allowance, what: str) -> None:
    """Every element within 2 ULPs of the reference, plus ``allowance * magnitude``."""
    got = np.asarray(got)
    if isinstance(res.value, np.ndarray):
        assert got.shape == res.value.shape, (what, got.shape, res.value.shape)
        pairs = [(got[i], res.value[i], res.magnitude[i]) for i in np.ndindex(got.shape)]
    else:
        assert got.shape == (), (what, got.shape)
        pairs = [(got, res.value, res.magnitude)]
    for g, want, mag in pairs:
        floor = allowance * mag if allowance and mpmath.isfinite(mag) else 0
        ref.assert_ulps(g, want, ulps=2, floor=floor, what=what)


def check_forward(x, t, opts) -> None:
    got = oracle.cross_entropy(x, t, **opts)
    assert got.dtype == oracle.WORK
    eff = effective(opts)
    res = mpc.cross_entropy(x, t, **eff)
    w = eff["weight"]
    signed = w is not None and bool(np.any(np.asarray(w) < 0))
    assert_close(got, res, allowance=SUM_ERR if signed else 0, what=f"cross_entropy {opts}")


# ---------------------------------------------------------------------------------------
# Forward against mpmath


@SETTINGS
@given(case=cases(edge=False))
def test_random_well_conditioned_cases(case):
    check_forward(*case)


@SETTINGS
@given(case=cases(edge=True))
def test_random_edge_logits(case):
    """0, ±subnormal, ±1e4, the dtype's largest finite, ±inf and NaN mixed with plain ones."""
    check_forward(*case)


EDGE_ROWS = [
    [0.0, 0.0, 0.0],
    [1e4, -1e4, 0.0],
    [1e300, -1e300, 0.0],
    [1e300, 1e300 * (1 + 2**-52), -1e300],
    [5e-324, -5e-324, 0.0],
    [40.0, -40.0, 0.0],
    [800.0, 0.0, -800.0],
    [INF, 0.0, 1.0],
    [INF, INF, 0.0],
    [INF, -INF, 0.0],
    [-INF, 0.0, 1.0],
    [-INF, -INF, 2.0],
    [-INF, -INF, -INF],
    [NAN, 0.0, 1.0],
    [1.7976931348623157e308, -1.7976931348623157e308, 0.0],
]


@pytest.mark.parametrize("eps", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_edge_rows_every_target_class(eps, reduction):
    """Each edge row with each class as the target, smoothing off, partial and full."""
    x = np.repeat(np.array(EDGE_ROWS), 3, axis=0)
    t = np.tile(np.arange(3, dtype=np.int64), len(EDGE_ROWS))
    for w in (None, np.array([0.5, 1.0, 2.0]), np.array([0.0, 1.0, 1.0])):
        check_forward(x, t, {"reduction": reduction, "label_smoothing": eps, "weight": w})


@pytest.mark.parametrize("eps", [0.0, 0.3, 1.0])
def test_edge_rows_probability_targets(eps):
    x = np.array(EDGE_ROWS)
    for y in ([0.0, 1.0, 0.0], [0.25, 0.25, 0.5], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]):
        t = np.tile(np.array(y), (len(EDGE_ROWS), 1))
        for red in REDUCTIONS:
            check_forward(x, t, {"reduction": red, "label_smoothing": eps})


def test_ieee_reading_of_infinite_logits():
    """The documented formula under IEEE arithmetic (written out, see the oracle's docs)."""
    x = np.array([[INF, 0.0, 1.0], [INF, 0.0, 1.0], [-INF, 0.0, 1.0], [-INF, -INF, -INF]])
    t = np.array([0, 1, 0, 2])
    got = oracle.cross_entropy(x, t, reduction="none")
    # exp(inf)/inf = NaN; exp(0)/inf = 0 -> -log 0 = inf; exp(-inf) = 0 -> inf; 0/0 = NaN
    np.testing.assert_array_equal(got, [NAN, INF, INF, NAN])
    smoothed = oracle.cross_entropy(x, t, reduction="none", label_smoothing=1.0)
    np.testing.assert_array_equal(smoothed, [NAN, NAN, INF, NAN])


def test_dominant_logit_keeps_relative_accuracy():
    """-log p_k = log1p(sum_{i != k} p_i / p_k) for a dominant class: tiny but exact."""
    x = np.array([[40.0, -40.0], [800.0, 0.0], [1e4, -1e4]])
    t = np.array([0, 0, 1])
    res = mpc.cross_entropy(x, t, reduction="none")
    assert_close(oracle.cross_entropy(x, t, reduction="none"), res, allowance=0, what="dom")
    assert float(res.value[0]) == pytest.approx(math.exp(-80), rel=1e-15, abs=0)
    grads = oracle.gradients.cross_entropy(x, t, reduction="none", grad_output=np.ones(3))
    assert float(grads["input"][0, 0]) == pytest.approx(-math.exp(-80), rel=1e-15, abs=0)
    # the gradient at the dominant class, 1 - p_k and sum_{c != k} a_c summed directly
    check_gradients(x, t, {"reduction": "none"}, np.ones(3), prec=3000)
    check_gradients(x, t, {"reduction": "sum", "label_smoothing": 1e-20}, np.array(1.0), 3000)
    p = np.array([[1.0, 1e-30], [1.0, 1e-300], [1e-30, 1.0]])
    w = np.array([1.0, 2.0])
    check_gradients(x, p, {"reduction": "none", "weight": w}, np.ones(3), prec=3000)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_inputs_of_every_float_width_upcast_exactly(dtype):
    x = np.array([[0.1, -2.5, 3.0], [65504.0, 6e-8, -1e-3]], dtype=dtype)
    t = np.array([2, 0])
    p = np.array([[0.1, 0.2, 0.7], [1.0, 0.0, 0.0]], dtype=dtype)
    for red in REDUCTIONS:
        check_forward(x, t, {"reduction": red})
        check_forward(x, p, {"reduction": red, "label_smoothing": 0.2})


# ---------------------------------------------------------------------------------------
# Shapes, ignore_index and the 'mean' denominators


@pytest.mark.parametrize(
    "shape", [(3,), (0, 3), (2, 3), (2, 3, 2), (2, 3, 1, 2), (1, 3, 2, 1, 2), (0, 3, 2, 2)]
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_every_layout(shape, reduction):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape) * 3
    bs = batch_shape(shape)
    t = rng.integers(0, 3, size=bs).astype(np.int64)
    p = rng.random(shape)
    w = np.array([0.5, 2.0, 1.25])
    for opts in ({}, {"weight": w}, {"weight": w, "label_smoothing": 0.4}):
        check_forward(x, t, {"reduction": reduction, **opts})
        check_forward(x, p, {"reduction": reduction, **opts})
    got = oracle.cross_entropy(x, t, reduction=reduction)
    assert got.shape == (bs if reduction == "none" else ())


def test_mean_denominators_as_documented():
    """Class indices: sum of w_{y_n} over kept targets; probabilities: N d_1 ... d_K."""
    x = np.zeros((2, 2, 3))  # uniform: -log p = log 2 for every class
    t = np.array([[0, 1, -100], [1, 1, 0]])
    w = np.array([1.0, 3.0])
    log2 = math.log(2)
    s = oracle.cross_entropy(x, t, weight=w, reduction="sum")
    m = oracle.cross_entropy(x, t, weight=w, reduction="mean")
    assert float(s) == pytest.approx(log2 * (1 + 3 + 3 + 3 + 1))
    assert float(m) == pytest.approx(float(s) / (1 + 3 + 3 + 3 + 1))
    # smoothing keeps that denominator: each kept l_n = log 2 * (w_0 + w_1) / 2
    ms = oracle.cross_entropy(x, t, weight=w, reduction="mean", label_smoothing=1.0)
    assert float(ms) == pytest.approx(5 * log2 * 2 / 11)
    p = np.full((2, 2, 3), 0.5)
    mp_ = oracle.cross_entropy(x, p, weight=w, reduction="mean")
    assert float(mp_) == pytest.approx(6 * log2 * 0.5 * 4 / 6)  # divided by N d_1 = 6
    unbatched = oracle.cross_entropy(np.zeros(2), np.array([0.5, 0.5]), weight=w)
    assert float(unbatched) == pytest.approx(log2 * 2)  # N = 1


@pytest.mark.parametrize("ignore_index", [-100, -1, 0, 2, 7])
def test_ignored_targets_contribute_nothing(ignore_index):
    x = np.array([[1.0, 2.0, 3.0], [NAN, INF, 0.0], [0.5, -1.0, 2.0]])
    last = 0 if ignore_index == 2 else 2
    t = np.array([1, ignore_index, last])
    w = np.array([2.0, 0.5, 1.5])
    for eps in (0.0, 0.25):
        kw = {"weight": w, "ignore_index": ignore_index, "label_smoothing": eps}
        none = oracle.cross_entropy(x, t, reduction="none", **kw)
        assert none[1] == 0 and np.all(np.isfinite(none))
        kept = oracle.cross_entropy(x[[0, 2]], t[[0, 2]], reduction="none", **kw)
        np.testing.assert_array_equal(none[[0, 2]], kept)
        mean = oracle.cross_entropy(x, t, reduction="mean", **kw)
        assert float(mean) == pytest.approx(float(np.sum(kept)) / (w[1] + w[last]), rel=1e-15)
        g = oracle.gradients.cross_entropy(x, t, reduction="mean", **kw)["input"]
        np.testing.assert_array_equal(g[1], [0.0, 0.0, 0.0])
        assert np.all(np.isfinite(g))


def test_every_target_ignored_and_empty_batches():
    x = np.ones((3, 4))
    t = np.full(3, -100)
    assert np.isnan(oracle.cross_entropy(x, t))
    assert oracle.cross_entropy(x, t, reduction="sum") == 0
    np.testing.assert_array_equal(oracle.cross_entropy(x, t, reduction="none"), np.zeros(3))
    np.testing.assert_array_equal(oracle.gradients.cross_entropy(x, t)["input"], 0 * x)
    assert np.isnan(oracle.cross_entropy(np.ones(4), np.array(-100)))
    assert np.isnan(oracle.cross_entropy(x, t, label_smoothing=0.5))
    for tgt in (np.zeros(0, dtype=np.int64), np.zeros((0, 4))):
        assert np.isnan(oracle.cross_entropy(np.zeros((0, 4)), tgt))
        assert oracle.cross_entropy(np.zeros((0, 4)), tgt, reduction="sum") == 0
        assert oracle.cross_entropy(np.zeros((0, 4)), tgt, reduction="none").shape == (0,)
        g = oracle.gradients.cross_entropy(np.zeros((0, 4)), tgt)
        assert g["input"].shape == (0, 4)
    # zero total weight: 0/0; weights cancelling to 0 with a non-zero numerator: ±inf
    w = np.array([0.0, 0.0, 1.0, 1.0])
    assert np.isnan(oracle.cross_entropy(x, np.array([0, 1, 0]), weight=w))
    w2 = np.array([1.0, -1.0, 1.0, 1.0])
    x2 = np.array([[0.0, 0.0, 0.0, 0.0], [5.0, 0.0, 0.0, 0.0]])
    # numerator log 4 - (5 + log(e^5 + 3)) < 0 over 1 + (-1) = +0
    assert oracle.cross_entropy(x2, np.array([0, 1]), weight=w2) == -INF


# ---------------------------------------------------------------------------------------
# Invariants


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Log-softmax over the class axis in WORK, through the oracle's row view."""
    rows = _classification.rows_of(x)
    return rows.to_input_layout(_classification.log_softmax(rows.x))


@SETTINGS
@given(case=cases(edge=True, probabilities=False))
def test_cross_entropy_is_nll_of_log_softmax(case):
    """Documented: "equivalent to applying LogSoftmax on an input, followed by NLLLoss"."""
    x, t, opts = case
    opts.pop("label_smoothing", None)
    ce = oracle.cross_entropy(x, t, **opts)
    nll = oracle.nll_loss(log_softmax(x), t, **opts)
    np.testing.assert_array_equal(ce, nll)
    gce = oracle.gradients.cross_entropy(x, t, **opts)["input"]
    gnll = oracle.gradients.nll_loss(log_softmax(x), t, **opts)["input"]
    # chain rule through log-softmax: dL/dx_j = g_j - p_j sum_c g_c (per row)
    rows = _classification.rows_of(x)
    g_rows = _classification.rows_of(gnll).x
    p = np.exp(_classification.log_softmax(rows.x))
    with np.errstate(all="ignore"):
        chained = g_rows - p * np.sum(g_rows, axis=1, keepdims=True)
        # the chain's own subtraction cancels at a dominant class: bound it by its terms
        scale = np.abs(g_rows) + p * np.abs(np.sum(g_rows, axis=1, keepdims=True))
    chained, scale = rows.to_input_layout(chained), rows.to_input_layout(scale)
    finite = np.isfinite(chained) & np.isfinite(gce)
    diff = np.abs(gce[finite] - chained[finite])
    assert np.all(diff <= 2.0**-60 * scale[finite] + 2.0**-1074), (gce, chained)


@SETTINGS
@given(case=cases(edge=False, dtypes=(np.float64,), probabilities=False))
def test_one_hot_probabilities_equal_class_indices(case):
    """Without weight; with weight 'none' and 'sum' too (their 'mean' divisors differ)."""
    x, t, opts = case
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    t = np.where(t == opts.pop("ignore_index", -100), 0, t)
    onehot = np.moveaxis(np.eye(c)[t], -1, 0 if x.ndim == 1 else 1)
    red = effective(opts)["reduction"]
    if "weight" in opts and red == "mean":
        opts.pop("weight")
    a = np.asarray(oracle.cross_entropy(x, t, **opts), dtype=np.float64)
    b = np.asarray(oracle.cross_entropy(x, onehot, **opts), dtype=np.float64)
    np.testing.assert_allclose(a, b, rtol=2e-16, atol=1e-300)
    ga = oracle.gradients.cross_entropy(x, t, **opts)["input"]
    gb = oracle.gradients.cross_entropy(x, onehot, **opts)["input"]
    np.testing.assert_allclose(
        np.asarray(ga, np.float64), np.asarray(gb, np.float64), rtol=1e-15, atol=1e-300
    )


@SETTINGS
@given(case=cases(edge=True))
def test_reductions_and_zero_smoothing(case):
    """eps = 0 is no smoothing; 'sum' is the sum of 'none'; 'mean' is 'sum' over its divisor."""
    x, t, opts = case
    opts = {k: v for k, v in opts.items() if k not in ("size_average", "reduce")}
    eps = opts.pop("label_smoothing", 0.0)
    if eps == 0:
        for zero in (0, 0.0, -0.0):
            np.testing.assert_array_equal(
                oracle.cross_entropy(x, t, **opts, label_smoothing=zero),
                oracle.cross_entropy(x, t, **opts),
            )
    opts["label_smoothing"] = eps
    opts.pop("reduction")
    none = oracle.cross_entropy(x, t, reduction="none", **opts)
    total = oracle.cross_entropy(x, t, reduction="sum", **opts)
    np.testing.assert_array_equal(total, np.sum(none, dtype=oracle.WORK))
    mean = oracle.cross_entropy(x, t, reduction="mean", **opts)
    if t.dtype.kind == "f":
        den = oracle.WORK(max(none.size, 0))
    else:
        w = opts.get("weight")
        w = np.ones(x.shape[0] if x.ndim == 1 else x.shape[1]) if w is None else w
        kept = t != opts.get("ignore_index", -100)
        den = np.sum(np.where(kept, np.asarray(w, oracle.WORK)[np.where(kept, t, 0)], 0))
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(mean, total / oracle.WORK(den))


# ---------------------------------------------------------------------------------------
# Gradients against finite differences


def check_gradients(x, t, opts, g, prec: int = 400) -> None:
    """Oracle gradients vs central differences taken at ``prec`` bits (raise it when a tiny
    gradient sits beside a loss of a much larger magnitude)."""
    eff = effective(opts)
    got = oracle.gradients.cross_entropy(x, t, grad_output=g, **opts)
    prob = t.dtype.kind == "f"
    w = eff["weight"]
    names = ["input"] + (["target"] + (["weight"] if w is not None else []) if prob else [])
    assert sorted(got) == sorted(names)
    args = {"input": ref.to_mp_array(x)}
    if prob:
        args["target"] = ref.to_mp_array(t)
    if w is not None:
        args["weight"] = ref.to_mp_array(w)
    g_mp = ref.to_mp_array(g)
    eps = ref.to_mpf(eff["label_smoothing"])
    kw = {
        "probabilities": prob,
        "ignore_index": eff["ignore_index"],
        "reduction": eff["reduction"],
        "label_smoothing": eps,
    }

    def scalar(a):
        res = mpc.cross_entropy_mp(
            a["input"], a["target"] if prob else t, weight=a.get("weight"), **kw
        )
        if eff["reduction"] == "none":
            return mpmath.fsum(np.asarray(g_mp * res.value, dtype=object).ravel().tolist())
        return g_mp[()] * res.value

    if not mpmath.isfinite(scalar(args)):
        return  # e.g. every target ignored: 'mean' is 0/0 (its zero gradient is tested apart)
    fd = ref.central_differences(scalar, args, names, prec=prec)
    cancel = prob or eps > 0
    mag = mpc.cross_entropy_gradient_magnitude(
        args["input"], args["target"] if prob else t, weight=args.get("weight"),
        grad_output=g_mp, **kw,
    )  # fmt: skip
    for idx in np.ndindex(x.shape):
        floor = GRAD_ERR * mag[idx] if cancel else 0
        ref.assert_ulps(got["input"][idx], fd["input"][idx], floor=floor, what=f"input {opts}")
    if prob:
        for idx in np.ndindex(t.shape):
            ref.assert_ulps(got["target"][idx], fd["target"][idx], what=f"target {opts}")
    if prob and w is not None:
        wmag = weight_gradient_magnitude(args["input"], args["target"], eps, eff, g_mp)
        for c in range(len(w)):
            floor = SUM_ERR * wmag[c]
            ref.assert_ulps(got["weight"][c], fd["weight"][c], floor=floor, what="weight")


def weight_gradient_magnitude(xm, ym, eps, eff, g_mp) -> list:
    """``sum_n |r_n y'_{n,c} log p_{n,c}|``: the terms of dL/dw_c."""
    c = xm.shape[0] if xm.ndim == 1 else xm.shape[1]
    rows = list(mpc.positions(xm))
    out = [ref.mpf(0)] * c
    for idx, row in rows:
        if eff["reduction"] == "none":
            r = g_mp[idx]
        else:
            r = g_mp[()] / (len(rows) if eff["reduction"] == "mean" else 1)
        lp = mpc.log_softmax(row)
        for k in range(c):
            y = ym[(k,) if xm.ndim == 1 else (idx[0], k, *idx[1:])]
            out[k] += abs(r * ((1 - eps) * y + eps / c) * lp[k])
    return out


#: grad_output values: none so small that the finite differences would lose it beside the
#: other elements' contributions (a tiny seed's rounding is a matter for the suites)
seeds = st.floats(-4.0, 4.0).map(lambda v: v if abs(v) >= 1e-3 else 0.0)


@st.composite
def gradient_cases(draw):
    shape = draw(input_shapes(max_classes=3).filter(lambda s: math.prod(s) <= 12))
    scale = draw(st.sampled_from([1e-3, 1.0, 1.0, 10.0]))
    x = draw(logits(np.float64, shape, edge=False)) * scale
    probabilities = draw(st.booleans())
    opts = draw(options(shape, np.float64, probabilities=probabilities, signed=False))
    t = draw(targets(shape, np.float64, probabilities, opts.get("ignore_index", -100)))
    red = effective(opts)["reduction"]
    out = batch_shape(shape) if red == "none" else ()
    g = np.array([draw(seeds) for _ in range(math.prod(out))]).reshape(out)
    # tiny weights and probabilities (dL/dw_c ~ y_c) would also be lost in the differences
    if "weight" in opts:
        opts["weight"] = np.where(np.abs(opts["weight"]) < 1e-3, 0.0, opts["weight"])
    if probabilities:
        t = np.where(t < 1e-3, 0.0, t)
    # and so would a smoothing share eps / C far below the other terms (the forward tests
    # cover tiny label_smoothing values against mpmath directly)
    if 0 < opts.get("label_smoothing", 0.0) < 1e-3:
        opts["label_smoothing"] = 0.0
    return x, t, opts, g


@FD_SETTINGS
@given(case=gradient_cases())
def test_gradients_match_finite_differences(case):
    check_gradients(*case)


@pytest.mark.parametrize("eps", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradients_fixed_cases(eps, reduction):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 2)) * 4
    t = np.array([[0, 2], [-100, 1]])
    p = rng.dirichlet(np.ones(3), size=(2, 2)).transpose(0, 2, 1).copy()
    w = np.array([0.5, 2.0, 1.0])
    g = rng.standard_normal((2, 2) if reduction == "none" else ())
    signed = np.array([-0.5, 2.0, -1.0])
    for opts in ({}, {"weight": w}, {"weight": signed}):
        if reduction == "mean" and opts.get("weight") is signed:
            continue  # a cancelling divisor: covered by the forward tests' allowance
        check_gradients(x, t, {"reduction": reduction, "label_smoothing": eps, **opts}, g)
        check_gradients(x, p, {"reduction": reduction, "label_smoothing": eps, **opts}, g)


def test_gradients_at_infinite_logits():
    x = np.array([[-INF, 0.0, 1.0], [INF, 0.0, 1.0], [NAN, 0.0, 0.0], [-INF, -INF, -INF]])
    t = np.array([1, 1, 0, 0])
    g = oracle.gradients.cross_entropy(x, t, reduction="sum")["input"]
    e = math.exp(1)
    np.testing.assert_allclose(
        np.asarray(g[0], np.float64), [0.0, 1 / (1 + e) - 1, e / (1 + e)], rtol=1e-15
    )
    assert np.all(np.isnan(g[1:]))
    ignored = oracle.gradients.cross_entropy(x, np.array([1, -100, -100, -100]))["input"]
    np.testing.assert_array_equal(ignored[1:], np.zeros((3, 3)))


def test_gradient_keys_follow_what_torch_differentiates():
    x, w = np.zeros((2, 3)), np.ones(3)
    assert set(oracle.gradients.cross_entropy(x, np.array([0, 1]), weight=w)) == {"input"}
    p = np.full((2, 3), 1 / 3)
    assert set(oracle.gradients.cross_entropy(x, p)) == {"input", "target"}
    assert set(oracle.gradients.cross_entropy(x, p, weight=w)) == {"input", "target", "weight"}


def test_grad_output_defaults_to_ones():
    x = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]])
    t = np.array([2, 0])
    for red, g in (("none", np.ones(2)), ("mean", np.array(1.0)), ("sum", np.array(1.0))):
        a = oracle.gradients.cross_entropy(x, t, reduction=red, label_smoothing=0.1)
        b = oracle.gradients.cross_entropy(x, t, reduction=red, label_smoothing=0.1, grad_output=g)
        np.testing.assert_array_equal(a["input"], b["input"])


# ---------------------------------------------------------------------------------------
# Input errors


def raises(argument: str, fn, *args, **kwargs) -> OracleInputError:
    with pytest.raises(OracleInputError) as info:
        fn(*args, **kwargs)
    assert info.value.argument == argument, str(info.value)
    return info.value


X = np.zeros((2, 3))
T = np.array([0, 2])
P = np.full((2, 3), 1 / 3)


@pytest.mark.parametrize("fn", [oracle.cross_entropy, oracle.gradients.cross_entropy])
def test_input_errors(fn):
    raises("input", fn, np.array(1.0), np.array(0))  # 0-d: no class dimension
    raises("input", fn, np.array([True, False]), np.array(0))
    for bad in ([0, 3], [-1, 0], [0, -101], [5, 0]):
        raises("target", fn, X, np.array(bad))  # outside [0, C), not ignore_index
    raises("target", fn, X, np.array([-2, 0]), ignore_index=-1)
    raises("target", fn, X, np.array([-100, 0]), ignore_index=1)
    raises("target", fn, X, np.array([0.0, 2.0]))  # float class indices
    raises("target", fn, X, np.array([0, 2], dtype=np.int32))  # not long
    raises("target", fn, X, np.array([0, 2], dtype=np.uint8))
    raises("target", fn, X, np.array([True, False]))
    raises("target", fn, X, np.ones((2, 3), dtype=np.int64))  # integer probabilities
    raises("target", fn, X, np.array([0, 1, 2]))  # batch mismatch
    raises("target", fn, np.zeros((2, 3, 4)), np.zeros((2, 5), dtype=np.int64))
    raises("target", fn, np.zeros(3), np.array([0]))  # unbatched takes a 0-d target
    raises("target", fn, X, np.full((2, 4), 0.25))  # probabilities of the wrong shape
    for bad in (-0.1, 1.5, NAN, INF):
        raises("target", fn, X, np.array([[0.5, 0.5, 0.0], [0.2, bad, 0.3]]))
    for w in (np.ones(4), np.ones((1, 3)), np.array(1.0), np.ones(2), np.array([True] * 3)):
        raises("weight", fn, X, T, weight=w)
        raises("weight", fn, X, P, weight=w)
    for eps in (-0.1, 1.0000001, NAN, INF, -INF, "0.1", None, True):
        raises("label_smoothing", fn, X, T, label_smoothing=eps)
        raises("label_smoothing", fn, X, P, label_smoothing=eps)
    for red in ("avg", "MEAN", None, 1):
        raises("reduction", fn, X, T, reduction=red)
    raises("size_average", fn, X, T, size_average="yes")
    raises("reduce", fn, X, T, reduce=1.0)
    for ii in (1.5, "x", None, True):
        raises("ignore_index", fn, X, T, ignore_index=ii)
    for ii in (-1, 0, 2, 7):  # "only applicable when the target contains class indices"
        raises("ignore_index", fn, X, P, ignore_index=ii)


def test_error_names_the_offending_element():
    err = raises("target", oracle.cross_entropy, np.zeros((2, 3, 2)), np.array([[0, 1], [2, 3]]))
    assert err.rule == "target[(1, 1)] = 3 is outside [0, C=3) and is not ignore_index=-100"
    err = raises("target", oracle.cross_entropy, X, np.array([[0.5, 0.5, 0.0], [0, 2.0, 0]]))
    assert err.rule == "target[(1, 1)] = 2.0 is not a class probability in [0, 1]"


def test_grad_output_must_have_the_output_shape():
    f = oracle.gradients.cross_entropy
    for red, g in (("none", np.ones(3)), ("none", np.ones(())), ("mean", np.ones(2))):
        raises("grad_output", f, X, T, reduction=red, grad_output=g)
