"""``oracle.linear_cross_entropy`` and its gradients against a plain 50-digit mpmath reference.

The reference forms the logits ``sum_i x_i W_{c,d,i} + b_{c,d}`` exactly in mpmath and then
evaluates the documented cross entropy (``tests/mp_classification.py``).

Budget: 2 float64 ULPs, NaN and ±inf by class, plus derived allowances:

* inputs on a dyadic grid (``k/16`` times a power of 2) make every logit exact in float64,
  so the forward has the cross entropy's budget only (``2**-58 * sum |terms|`` with signed
  weights, see ``test_oracle_cross_entropy``);
* arbitrary inputs: the oracle's long-double logits carry ``(in + 1) 2**-64 Z_c`` with
  ``Z_c = sum_i |x_i W_{c,i}| + |b_c|``; since ``sum_j |dl_n/dz_j| <= 2 sum_c |a_c|
  <= 2 sum_c |w_c|`` the loss moves by at most ``2**-58 sum_c |w_c| max_c Z_c`` (in <= 6);
* gradients are sums over classes or over the batch of ``G = dL/dz`` times an input: each
  element gets ``2**-55 sum |T W|`` (resp. ``T x``, ``T``) where ``T >= |G|`` is the
  magnitude of the two terms of ``G`` (the cross entropy's gradient allowance plus the
  summation error of those products in long double).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oracle
from tests import mp_classification as mpc
from tests import mp_reference as ref
from tests.test_oracle_cross_entropy import (
    WIDTH,
    assert_close,
    raises,
    seeds,
    weight_gradient_magnitude,
)

SETTINGS = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FD_SETTINGS = settings(SETTINGS, max_examples=50)
SUM_ERR = ref.mpf(2) ** -58
PRODUCT_ERR = ref.mpf(2) ** -55
REDUCTIONS = ("none", "mean", "sum")
INF, NAN = math.inf, math.nan


# ---------------------------------------------------------------------------------------
# Drawing cases


@st.composite
def grid(draw, dtype, shape, scale: float = 1.0) -> np.ndarray:
    """Values k/16 * scale, |k| <= 64: products and short sums of them are exact."""
    ks = [draw(st.integers(-64, 64)) for _ in range(math.prod(shape))]
    return (np.array(ks, dtype=np.float64).reshape(shape) / 16 * scale).astype(dtype)


@st.composite
def cases(draw, *, dtypes=(np.float64, np.float64, np.float32, np.float16), small=False):
    dtype = draw(st.sampled_from(dtypes))
    n_in = draw(st.integers(1, 2 if small else 4))
    c = draw(st.integers(1, 3 if small else 4))
    batched = draw(st.integers(0, 3)) > 0
    k = draw(st.integers(0, 1 if small else 3)) if batched else 0
    out = tuple(draw(st.integers(1, 2)) for _ in range(k))
    n = draw(st.integers(0, 2 if small else 3))
    scale = 1.0 if dtype is not np.float64 else draw(st.sampled_from([2.0**-30, 1.0, 2.0**8]))
    x = draw(grid(dtype, (n, n_in) if batched else (n_in,), scale))
    w = draw(grid(dtype, (c, *out, n_in)))
    b = draw(grid(dtype, (c, *out))) if draw(st.booleans()) else None
    logits_shape = (n, c, *out) if batched else (c,)
    probabilities = draw(st.booleans())
    opts: dict = {"reduction": draw(st.sampled_from(REDUCTIONS))}
    if b is not None:
        opts["linear_bias"] = b
    wkind = draw(st.sampled_from(["none", "positive", "signed"]))
    if wkind != "none":
        lo = -2.0 if wkind == "signed" else 0.0
        opts["weight"] = np.array(
            [draw(st.floats(lo, 2.0, width=WIDTH[dtype])) for _ in range(c)], dtype=dtype
        )
    eps = draw(st.sampled_from([None, 0.0, 0.2, 1.0]))
    if eps is not None:
        opts["label_smoothing"] = eps
    if draw(st.booleans()):
        opts["options"] = draw(st.sampled_from([None, object(), SimpleNamespace(acc="compact")]))
    batch = () if not batched else (n, *out)
    if probabilities:
        if draw(st.booleans()):
            opts["ignore_index"] = draw(st.sampled_from([None, -100]))
        vals = [
            draw(st.floats(0.0, 1.0, width=WIDTH[dtype])) for _ in range(math.prod(logits_shape))
        ]
        t = np.array(vals, dtype=dtype).reshape(logits_shape)
    else:
        ii = draw(st.sampled_from([None, None, -100, -1, 0]))
        if ii is not None or draw(st.booleans()):
            opts["ignore_index"] = ii
        ignored = -100 if ii is None else ii
        cls = st.one_of(st.integers(0, c - 1), st.just(ignored))
        t = np.array([draw(cls) for _ in range(math.prod(batch))], dtype=np.int64).reshape(batch)
    return x, w, t, opts


def reference(x, w, t, opts) -> mpc.Result:
    b = opts.get("linear_bias")
    z, _ = mpc.linear_logits(
        ref.to_mp_array(x), ref.to_mp_array(w), None if b is None else ref.to_mp_array(b)
    )
    prob = t.dtype.kind == "f"
    ii = opts.get("ignore_index")
    return mpc.cross_entropy_mp(
        z,
        ref.to_mp_array(t) if prob else t,
        probabilities=prob,
        weight=None if opts.get("weight") is None else ref.to_mp_array(opts["weight"]),
        ignore_index=-100 if ii is None else ii,
        reduction=opts.get("reduction", "mean"),
        label_smoothing=ref.to_mpf(opts.get("label_smoothing", 0.0)),
    )


def check_forward(x, w, t, opts) -> None:
    got = oracle.linear_cross_entropy(x, w, t, **opts)
    assert got.dtype == oracle.WORK
    weight = opts.get("weight")
    signed = weight is not None and bool(np.any(np.asarray(weight) < 0))
    res = reference(x, w, t, opts)
    assert_close(got, res, allowance=SUM_ERR if signed else 0, what=f"lce {opts}")


# ---------------------------------------------------------------------------------------
# Forward


@SETTINGS
@given(case=cases())
def test_random_cases_match_mpmath(case):
    check_forward(*case)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_arbitrary_values_within_the_logit_rounding_allowance(reduction):
    rng = np.random.default_rng(17)
    for n_in, c, out in ((6, 4, ()), (3, 3, (2,)), (5, 2, (2, 1, 2))):
        x = rng.standard_normal((3, n_in)) * 3
        w = rng.standard_normal((c, *out, n_in))
        b = rng.standard_normal((c, *out))
        wc = rng.random(c) * 2
        t = rng.integers(0, c, size=(3, *out))
        p = rng.random((3, c, *out))
        for tgt in (t, p):
            opts = {"linear_bias": b, "weight": wc, "reduction": reduction}
            got = oracle.linear_cross_entropy(x, w, tgt, **opts)
            res = reference(x, w, tgt, opts)
            _, zmag = mpc.linear_logits(ref.to_mp_array(x), ref.to_mp_array(w), ref.to_mp_array(b))
            zmax = [max(zmag[i].ravel().tolist()) for i in range(3)]
            per_row = np.array(
                [[SUM_ERR * mpmath.fsum(abs(v) for v in wc) * zmax[i]] for i in range(3)]
            )
            if reduction == "none":
                allow = np.broadcast_to(per_row.reshape((3,) + (1,) * len(out)), (3, *out))
                res = mpc.Result(res.value, allow)
            else:
                total = mpmath.fsum(per_row.ravel().tolist()) * math.prod(out)
                if reduction == "mean" and tgt is t:
                    total /= mpmath.fsum(ref.to_mpf(wc[v]) for v in t.ravel())
                elif reduction == "mean":
                    total /= t.size
                res = mpc.Result(res.value, total)
            assert_close(got, res, allowance=1, what=f"lce arbitrary {reduction}")


def test_edge_values_through_the_linear_map():
    """inf * 0 = NaN, inf + finite = inf, 1e4-sized logits: IEEE through the formula."""
    x = np.array([[INF, 0.0], [1e4, -1e4], [NAN, 1.0], [1e300, 1.0]])
    w = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    for t in (np.array([0, 1, 2, 1]), np.full((4, 3), 1 / 3)):
        for red in REDUCTIONS:
            check_forward(x, w, t, {"reduction": red})
            check_forward(x, w, t, {"reduction": red, "label_smoothing": 0.5})


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_inputs_of_every_float_width(dtype):
    x = np.array([[0.1, -2.5], [65504.0, 6e-8]], dtype=dtype)
    w = np.array([[0.3, 1.0], [-1.0, 2e-3], [0.0, 1.0]], dtype=dtype)
    b = np.array([1.0, -0.5, 0.25], dtype=dtype)
    for red in REDUCTIONS:
        check_forward(x, w * 1e-4, np.array([2, 0]), {"reduction": red, "linear_bias": b})


# ---------------------------------------------------------------------------------------
# Invariants


@SETTINGS
@given(case=cases())
def test_is_cross_entropy_of_the_logits(case):
    """Documented: ``cross_entropy(linear(input, linear_weight) [+ bias], target, **kwargs)``."""
    x, w, t, opts = case
    b = opts.pop("linear_bias", None)
    opts.pop("options", None)
    z = np.tensordot(x.astype(oracle.WORK), w.astype(oracle.WORK), axes=([-1], [-1]))
    if b is not None:
        z = z + b
    kw = dict(opts)
    if kw.get("ignore_index", 0) is None:
        kw["ignore_index"] = -100
    want = oracle.cross_entropy(z, t, **kw)
    with np.errstate(all="ignore"):
        got = oracle.linear_cross_entropy(x, w, t, linear_bias=b, **opts)
    np.testing.assert_array_equal(got, want)
    grads = oracle.gradients.linear_cross_entropy(x, w, t, linear_bias=b, **opts)
    gce = oracle.gradients.cross_entropy(z, t, **kw)
    dz = gce["input"]
    outer = list(range(1, dz.ndim)) if x.ndim == 2 else list(range(dz.ndim))
    gx = np.tensordot(dz, w.astype(oracle.WORK), axes=(outer, list(range(len(outer)))))
    np.testing.assert_array_equal(grads["input"], gx)
    if b is not None:
        gb = np.sum(dz, axis=0) if x.ndim == 2 else dz
        np.testing.assert_allclose(
            np.asarray(grads["linear_bias"], np.float64), np.asarray(gb, np.float64), rtol=1e-15
        )
    for key in ("target", "weight"):
        assert (key in grads) == (key in gce)
        if key in gce:
            np.testing.assert_array_equal(grads[key], gce[key])


def test_options_and_ignore_index_default():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    t = np.array([0, -100, 4, 2])
    base = oracle.linear_cross_entropy(x, w, t)
    for options in (object(), SimpleNamespace(batch_chunk_size=1), "anything", 3):
        np.testing.assert_array_equal(oracle.linear_cross_entropy(x, w, t, options=options), base)
    np.testing.assert_array_equal(oracle.linear_cross_entropy(x, w, t, ignore_index=-100), base)
    with_ii = oracle.linear_cross_entropy(x, w, np.array([0, 1, 4, 2]), ignore_index=1)
    np.testing.assert_array_equal(with_ii, base)
    p = rng.random((4, 5))
    np.testing.assert_array_equal(
        oracle.linear_cross_entropy(x, w, p),
        oracle.linear_cross_entropy(x, w, p, ignore_index=-100),
    )


def test_shapes():
    rng = np.random.default_rng(4)
    for xs, ws, ts, out in (
        ((3,), (4, 3), (), ()),
        ((2, 3), (4, 3), (2,), (2,)),
        ((2, 3), (4, 5, 3), (2, 5), (2, 5)),
        ((2, 3), (4, 1, 2, 2, 3), (2, 1, 2, 2), (2, 1, 2, 2)),
        ((0, 3), (4, 2, 3), (0, 2), (0, 2)),
    ):
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        t = rng.integers(0, 4, size=ts)
        b = rng.standard_normal(ws[:-1])
        assert oracle.linear_cross_entropy(x, w, t, reduction="none").shape == out
        g = oracle.gradients.linear_cross_entropy(x, w, t, linear_bias=b)
        assert g["input"].shape == xs and g["linear_weight"].shape == ws
        assert g["linear_bias"].shape == ws[:-1]
        logits = (ws[0],) if len(xs) == 1 else (xs[0], ws[0], *ws[1:-1])
        p = rng.random(logits)
        assert set(oracle.gradients.linear_cross_entropy(x, w, p, weight=np.ones(4))) == {
            "input",
            "linear_weight",
            "target",
            "weight",
        }
    empty = np.zeros(0, dtype=np.int64)
    assert np.isnan(oracle.linear_cross_entropy(np.zeros((0, 3)), np.ones((2, 3)), empty))


# ---------------------------------------------------------------------------------------
# Gradients against finite differences


def check_gradients(x, w, t, opts, g) -> None:
    got = oracle.gradients.linear_cross_entropy(x, w, t, grad_output=g, **opts)
    prob = t.dtype.kind == "f"
    b = opts.get("linear_bias")
    weight = opts.get("weight")
    names = ["input", "linear_weight"] + (["linear_bias"] if b is not None else [])
    if prob:
        names += ["target"] + (["weight"] if weight is not None else [])
    assert sorted(got) == sorted(names)
    args = {"input": ref.to_mp_array(x), "linear_weight": ref.to_mp_array(w)}
    if b is not None:
        args["linear_bias"] = ref.to_mp_array(b)
    if prob:
        args["target"] = ref.to_mp_array(t)
    if weight is not None:
        args["weight"] = ref.to_mp_array(weight)
    g_mp = ref.to_mp_array(g)
    ii = opts.get("ignore_index")
    kw = {
        "probabilities": prob,
        "ignore_index": -100 if ii is None else ii,
        "reduction": opts.get("reduction", "mean"),
        "label_smoothing": ref.to_mpf(opts.get("label_smoothing", 0.0)),
    }

    def logits(a):
        return mpc.linear_logits(a["input"], a["linear_weight"], a.get("linear_bias"))[0]

    def scalar(a):
        target = a["target"] if prob else t
        res = mpc.cross_entropy_mp(logits(a), target, weight=a.get("weight"), **kw)
        if kw["reduction"] == "none":
            return mpmath.fsum(np.asarray(g_mp * res.value, dtype=object).ravel().tolist())
        return g_mp[()] * res.value

    if not mpmath.isfinite(scalar(args)):
        return  # every target ignored: 0/0
    fd = ref.central_differences(scalar, args, names, prec=400)
    mag = mpc.cross_entropy_gradient_magnitude(
        logits(args), args["target"] if prob else t, weight=args.get("weight"),
        grad_output=g_mp, **kw,
    )  # fmt: skip
    allow = magnitudes(args, mag, x.ndim == 2)
    if "weight" in names:
        z = logits(args)
        eff = {"reduction": kw["reduction"]}
        wmag = weight_gradient_magnitude(z, args["target"], kw["label_smoothing"], eff, g_mp)
        allow["weight"] = np.array([SUM_ERR * v for v in wmag], dtype=object)
    for name in names:
        for idx in np.ndindex(np.shape(got[name])):
            floor = allow[name][idx] if name in allow else 0
            ref.assert_ulps(got[name][idx], fd[name][idx], floor=floor, what=f"{name} {opts}")


def magnitudes(args, mag, batched: bool) -> dict:
    """``2**-55`` times ``sum |T W|``, ``sum_n |T x|`` and ``sum_n T`` per gradient element."""
    xm, wm = args["input"], args["linear_weight"]
    absw = np.vectorize(abs, otypes=[object])(wm)
    absx = np.vectorize(abs, otypes=[object])(xm)
    out = {}
    if batched:
        axes = list(range(1, mag.ndim))
        out["input"] = np.tensordot(mag, absw, axes=(axes, list(range(len(axes)))))
        out["linear_weight"] = np.tensordot(mag, absx, axes=([0], [0]))
        out["linear_bias"] = np.sum(mag, axis=0)
    else:
        out["input"] = np.tensordot(mag, absw, axes=([0], [0]))
        out["linear_weight"] = np.multiply.outer(mag, absx)
        out["linear_bias"] = mag
    return {k: np.asarray(v, dtype=object) * PRODUCT_ERR for k, v in out.items()}


@st.composite
def gradient_cases(draw):
    x, w, t, opts = draw(cases(dtypes=(np.float64,), small=True))
    red = opts["reduction"]
    out = np.shape(oracle.linear_cross_entropy(x, w, t, **{**opts, "reduction": "none"}))
    out = out if red == "none" else ()
    g = np.array([draw(seeds) for _ in range(math.prod(out))]).reshape(out)
    if t.dtype.kind == "f":  # dL/dw_c ~ y_c: keep it resolvable by the differences
        t = np.where(t < 1e-3, 0.0, t)
    if "weight" in opts:
        opts["weight"] = np.where(np.abs(opts["weight"]) < 1e-3, 0.0, opts["weight"])
    return x, w, t, opts, g


@FD_SETTINGS
@given(case=gradient_cases())
def test_gradients_match_finite_differences(case):
    x, w, t, opts, g = case
    check_gradients(x, w, t, opts, g)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradients_fixed_cases(reduction):
    rng = np.random.default_rng(23)
    x = rng.standard_normal((2, 3))
    w = rng.standard_normal((3, 2, 3))
    b = rng.standard_normal((3, 2))
    t = np.array([[0, 2], [-100, 1]])
    p = rng.dirichlet(np.ones(3), size=(2, 2)).transpose(0, 2, 1).copy()
    g = rng.standard_normal((2, 2) if reduction == "none" else ())
    wc = np.array([0.5, 2.0, 1.0])
    for eps in (0.0, 0.3):
        opts = {"reduction": reduction, "linear_bias": b, "label_smoothing": eps}
        check_gradients(x, w, t, opts, g)
        check_gradients(x, w, p, {**opts, "weight": wc}, g)
        unbatched = {**opts, "linear_bias": b[:, 0]}
        check_gradients(x[0], w[:, 0], t[0, 0], unbatched, np.array(g.ravel()[0]))
        check_gradients(x[0], w[:, 0], p[0, :, 0], unbatched, np.array(g.ravel()[0]))


# ---------------------------------------------------------------------------------------
# Input errors

X = np.zeros((2, 3))
W = np.zeros((4, 3))
T = np.array([0, 3])


@pytest.mark.parametrize("fn", [oracle.linear_cross_entropy, oracle.gradients.linear_cross_entropy])
def test_input_errors(fn):
    raises("input", fn, np.array(1.0), W, np.array(0))  # 0-d
    raises("input", fn, np.zeros((2, 2, 3)), W, np.zeros((2, 2), dtype=np.int64))
    raises("input", fn, np.zeros(3), np.zeros((4, 2, 3)), np.zeros(2, dtype=np.int64))
    raises("linear_weight", fn, X, np.zeros(3), T)  # 1-d
    raises("linear_weight", fn, X, np.zeros((4, 2)), T)  # last dim is not in_features
    raises("linear_weight", fn, X, np.zeros((4, 2, 5)), np.zeros((2, 2), dtype=np.int64))
    raises("linear_bias", fn, X, W, T, linear_bias=np.zeros(5))
    raises(
        "linear_bias",
        fn,
        X,
        np.zeros((4, 2, 3)),
        np.zeros((2, 2), np.int64),
        linear_bias=np.zeros(4),
    )
    raises("linear_bias", fn, X, W, T, linear_bias=np.zeros((4, 1)))
    raises("target", fn, X, W, np.array([0, 4]))  # outside [0, C)
    raises("target", fn, X, W, np.array([0.0, 3.0]))  # float class indices
    raises("target", fn, X, W, np.array([0, 3], dtype=np.int32))
    raises("target", fn, X, W, np.array([0, 1, 2]))
    raises("target", fn, X, W, np.full((2, 4), 1.5))  # probabilities outside [0, 1]
    raises("target", fn, X, W, np.full((2, 3), 0.5))  # probabilities of the wrong shape
    raises("target", fn, X, W, np.ones((2, 4), dtype=np.int64))  # integer probabilities
    raises("weight", fn, X, W, T, weight=np.ones(3))
    raises("weight", fn, X, W, T, weight=np.ones((1, 4)))
    for eps in (-0.5, 2.0, NAN):
        raises("label_smoothing", fn, X, W, T, label_smoothing=eps)
    raises("reduction", fn, X, W, T, reduction="batchmean")
    raises("ignore_index", fn, X, W, T, ignore_index=2.0)
    raises("ignore_index", fn, X, W, np.full((2, 4), 0.25), ignore_index=0)
    raises("input", fn, np.array(["a", "b", "c"]), W, T)
    raises("linear_weight", fn, X, np.full((4, 3), True), T)
