"""CTCLoss's documented special cases, judged by the oracle through suites.road.Road.

Both specs run: ``CTCLoss`` (log_probs passed as given) and ``CTCLoss[log_softmax]``
(scores, reaching torch as ``scores.log_softmax(-1)``). Every comparison of torch with the
oracle goes through the road (recorded; registry entries apply); comparisons of torch with
itself (layouts, blank position, entries past the input length) are bit for bit: on one
device the same kernel runs the same arithmetic on the same numbers (measured on torch 2.13
CPU; a difference would be a finding, not noise).

- a. the golden worked example (fixtures/golden/ctc.toml): the oracle and torch against the
  hand-derived values, every reduction, zero_infinity;
- b. zero_infinity: an infeasible sample's loss and gradient zeroed, the feasible sample's
  untouched (bit-equal to a run of it alone);
- c. input_lengths < T: torch's gradient past a sample's input length is exactly 0.0, and
  what lies there changes nothing; an input length of 0 (loss 0 for an empty target, inf
  for a label) reads nothing and gets a zero gradient;
- d. layouts: padded / concatenated targets (int64 / int32), lengths as list / tuple /
  int32 / int64, each sample unbatched: the same values;
- e. the blank at 0, in the middle or last, with the class axis permuted to match: the
  same loss and (permuted) gradient;
- f. torch's log_probs gradient is r (exp(x) - gamma) (Graves's gradient through a
  log_softmax: the oracle's ``ctc_loss_from_scores_gradients``), which differs from the
  documented -r gamma (``ctc_loss_gradients``) by r exp(x);
- g. long sequences, T = 10, 100, 1000: passes, the error recorded per case with T;
- h. which kernel runs, confirmed with torch.profiler: the native ``_ctc_loss`` on CPU;
  on CUDA cuDNN where the documented conditions hold and the native kernel otherwise
  (skipped, with the reason, where the run has no CUDA device).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import oracle
from suites.case import LossCase, explicit_case
from suites.compare import Comparison, compare_values
from suites.dtypes import info, to_dtype
from suites.known import case_namespace, classify
from suites.record import case_record, outcome_class
from suites.road import Result, Road
from suites.selection import for_specs
from suites.special import roads as _roads
from suites.specs import _ctc_errors as ctc_errors
from suites.specs import by_name
from suites.targets import Outcome, TorchTarget
from suites.tolerances import budget_for

ctc = for_specs(lambda spec: spec.loss == "CTCLoss")
ctc_free = for_specs(lambda spec: spec.loss == "CTCLoss" and not spec.variant)
ctc_scores = for_specs(lambda spec: spec.loss == "CTCLoss" and spec.variant == "log_softmax")
REDUCTIONS = ("none", "mean", "sum")
FREE, SCORES = "CTCLoss", "CTCLoss[log_softmax]"
GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "golden" / "ctc.toml"
KNOWN_GRADIENT = "ctc-gradient-assumes-log-softmax-input"
KNOWN_MEAN = "ctc-mean-divides-by-clamped-target-length"
LD = np.longdouble


# -- shared helpers ----------------------------------------------------------------------


def _first(spec: Any) -> str:
    """The floating argument's name: "log_probs" or "scores"."""
    return spec.args[0].name


def _inputs(spec: Any, x: Any, targets: Any, il: Any, tl: Any) -> dict[str, Any]:
    return {
        _first(spec): np.asarray(x, dtype=np.float64),
        "targets": np.asarray(targets, dtype=np.int64)
        if not isinstance(targets, np.ndarray)
        else targets,
        "input_lengths": il if isinstance(il, np.ndarray) else np.asarray(il, dtype=np.int64),
        "target_lengths": tl if isinstance(tl, np.ndarray) else np.asarray(tl, dtype=np.int64),
    }


def _case(road: Road, inputs: dict, options: dict, sequences: dict | None = None) -> LossCase:
    return explicit_case(road.spec, road.dtype, road.api, inputs, options, sequences=sequences)


def _ones(road: Road, case: LossCase) -> np.ndarray:
    return np.ones(np.shape(road.expected(case)))


def _check(road: Road, case: LossCase, grads: bool = True) -> list[Result]:
    """Forward (and gradients with grad_output = 1) through the road; fails on "fail"."""
    results = [road.check_forward(case, kind="special")]
    road.assert_ok(results[0])
    if grads and results[0].verdict != "unsupported":
        more = road.check_gradients(case, _ones(road, case), kind="special")
        road.assert_ok(more)
        results += more
    return results


def _torch(road: Road, case: LossCase, target: TorchTarget | None = None) -> Outcome | None:
    """Torch's value and gradients (grad_output = 1) for comparisons of torch with itself;
    None where torch has no kernel for the dtype (the road recorded it "unsupported")."""
    out = (target or road.target).run(case, road.gradient_args(case), _ones(road, case))
    if out.unsupported:
        return None
    assert out.exception is None, f"torch raised {out.error} on {case!r}"
    return out


def _grad(road: Road, out: Outcome) -> np.ndarray:
    g = out.grads[_first(road.spec)]
    assert g is not None
    return g


def _same_bits(a: np.ndarray, b: np.ndarray, what: str) -> None:
    """Bit-identical floating results (NaN equal to NaN, -0.0 distinct from 0.0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} != {b.shape}"
    assert np.array_equal(a.view(np.uint64), b.view(np.uint64)), f"{what}:\n{a}\n!=\n{b}"


def _log_probs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normalised log-probabilities (float64), rounded to the test dtype by the case."""
    z = rng.standard_normal(shape) * 1.5
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


# -- a. the golden worked example ---------------------------------------------------------


def load_ctc_golden(path: Path = GOLDEN) -> dict[str, Any]:
    """The golden problem, its cases and the single-path entry; every case has a derivation."""
    raw = tomllib.loads(path.read_text())
    for case in raw["ctc_case"]:
        if not str(case.get("derivation", "")).strip():
            raise ValueError(f"{path}: {case['name']} has no derivation")
    return raw


GOLDEN_DATA = load_ctc_golden()


def _golden_inputs(spec: Any, gcase: dict) -> tuple[dict, np.ndarray]:
    problem = GOLDEN_DATA["problem"]
    with np.errstate(divide="ignore"):
        step = np.log(np.asarray(problem["probabilities"], dtype=np.float64))  # (T, C)
    rows = gcase["targets"]
    N = len(rows)
    x = np.repeat(step[:, None, :], N, axis=1)
    tl = gcase.get("target_lengths", [len(r) for r in rows])
    width = max(len(r) for r in rows)
    targets = np.zeros((N, width), dtype=np.int64)
    for n, r in enumerate(rows):
        targets[n, : len(r)] = r
    il = [problem["input_length"]] * N
    return _inputs(spec, x, targets, il, tl), np.asarray(tl, dtype=np.int64)


def _reduce(per_sample: np.ndarray, reduction: str, tl: np.ndarray) -> np.ndarray:
    """A per-sample bound carried through the documented reduction (sum of the parts)."""
    with np.errstate(all="ignore"):
        if reduction == "none":
            return per_sample
        if reduction == "sum":
            return np.sum(per_sample)
        return np.sum(per_sample / tl.astype(LD)) / LD(per_sample.size)


def _input_rounding_bound(case: LossCase, tl: np.ndarray) -> np.ndarray:
    """How far the loss of the stored log-probabilities can be from the golden loss of the
    exact ones. d loss_n / d x[t, c] = -gamma_t(c) with sum_c gamma_t(c) = 1, so
    |delta loss_n| <= sum_{t < T'} max_c |delta x[t, c]| over the finite entries; each
    stored entry is log p rounded twice (numpy's log, within 1 float64 ULP = 2 u64 |x|, then
    to the test dtype, u |x|); the scores variant adds torch's log_softmax of them, within
    the spec's per-step D (suites/specs/_ctc_errors.py) of the exact log-probabilities."""
    x = np.asarray(case.inputs[_first(case.spec)], dtype=np.float64)
    u = LD(info(case.dtype).unit_roundoff)
    u64 = LD(info("float64").unit_roundoff)
    with np.errstate(invalid="ignore"):
        mag = np.where(np.isfinite(x), np.abs(x), 0).astype(LD)
    per = np.sum(mag.max(axis=2), axis=0) * (u + 2 * u64)  # (N,): every step is read (T' = T)
    if _first(case.spec) == "scores":
        T, _, C = x.shape
        per = per + u * T * (3 * mag.max() + 2 * LD(np.log(C)) + 3)
    if case.effective_options().get("zero_infinity"):
        an = ctc_errors.analysis(case)
        per = np.where(np.isinf(an.loss), 0, per)
    return per


def _judge_golden(
    road: Road, case: LossCase, expected: np.ndarray, bound: Any, name: str, recorder, node: str
) -> Result | None:
    """torch against the golden value itself (not the oracle): rules 1-3 with the dtype's
    output budget plus ``bound``; the registry applies (e.g. 'mean' of an empty target)."""
    out = road.target.run(case)
    if out.unsupported:
        return None
    spec = road.spec
    budget = budget_for(spec.name, "output", road.dtype, road.device)
    if out.exception is not None:
        cmp = Comparison("output", False, "2", f"torch raised {out.error}")
    else:
        cmp = compare_values(
            "output", expected, out.value, out.dtype, road.dtype, budget, bound=bound
        )
    ns = case_namespace(case, road.device, road.torch_version)
    ns["quantity"] = "output"
    for key in ("nonfinite_failure", "subnormal_failure", "tie_other_side_failure"):
        ns[key] = False
    ns["alternative_failure"] = ""
    verdict, ids = classify(road.registry, ns, [] if cmp.ok else [("output", cmp.rule)])
    if recorder is not None:
        case.derived.add(name)
        recorder.record(
            case_record(
                node,
                "golden",
                case,
                road.device,
                verdict,
                "output",
                cmp,
                ids,
                outcome=outcome_class(out.value, out.exception),
            )
        )
    result = Result(verdict, "output", cmp, ids)
    assert verdict != "fail", f"{name}: torch against the golden value: {cmp.message}"
    return result


@ctc
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_golden_worked_example(spec_combo, selection, reduction, recorder, request):
    """T = 2, blank 0.6 / a 0.4 / b 0 at each step: "a" -> -log 0.64, "aa" -> inf (0 with
    zero_infinity), "" -> -log 0.36 ('mean' / 0 = inf, torch's clamp registered), and the
    three in one batch. Forward only (log 0 = -inf: torch's gradient there is NaN,
    registered). The oracle must reproduce each value within the input-rounding bound;
    torch within its budget plus that bound plus the spec's error model."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        u = LD(info(road.dtype).unit_roundoff)
        budget = budget_for(road.spec.name, "output", road.dtype, road.device)
        for gcase in GOLDEN_DATA["ctc_case"]:
            inputs, tl = _golden_inputs(road.spec, gcase)
            options = {"reduction": reduction, "zero_infinity": gcase["zero_infinity"]}
            case = _case(road, inputs, options)
            if _check(road, case, grads=False)[0].verdict == "unsupported":
                continue
            golden = np.asarray(gcase[reduction], dtype=LD)
            per = _input_rounding_bound(case, tl)
            in_bound = _reduce(per, reduction, tl)
            got = np.asarray(road.expected(case), dtype=LD)
            assert np.array_equal(np.isinf(got), np.isinf(golden)), (gcase["name"], got)
            fin = np.isfinite(golden)
            half_ulp = np.abs(golden[fin]) * LD(info("float64").unit_roundoff)
            slack = 16 * np.finfo(LD).eps * np.abs(golden[fin])  # the oracle's own rounding
            err = np.abs(got[fin] - golden[fin])
            assert np.all(err <= np.broadcast_to(in_bound, golden.shape)[fin] + half_ulp + slack), (
                gcase["name"],
                reduction,
                got,
                golden,
            )
            scale = ctc_errors.term_scale(case)
            model = _reduce(np.asarray(scale, dtype=LD).reshape(-1), reduction, tl)
            bound = in_bound + LD(budget.terms_u) * u * model
            with np.errstate(invalid="ignore"):
                bound = np.nan_to_num(np.asarray(bound, dtype=LD), nan=0.0, posinf=0.0)
            result = _judge_golden(
                road, case, golden, bound, gcase["name"], recorder, request.node.nodeid
            )
            if result is not None and result.verdict == "known":  # only 'mean' with U_n = 0
                assert result.known == [KNOWN_MEAN] and "mean_empty_target" in case.features
        road.conclude()


@ctc_free
def test_golden_single_path_is_not_a_ctc_loss(spec_combo):
    """0.16 is the probability of the one path (a, a): -log 0.16 is the framewise NLL of the
    labelling (a, a) (nll_loss over the T frames, 'sum'), not the CTC loss of "a" (all three
    alignments, -log 0.64) nor of "aa" (infeasible at T = 2)."""
    dtype = spec_combo[1]
    if dtype not in ("float64", "float32"):
        pytest.skip("a statement about the golden problem, checked in float64 and float32")
    path = GOLDEN_DATA["path"]
    with np.errstate(divide="ignore"):
        lp = np.log(np.asarray(GOLDEN_DATA["problem"]["probabilities"], dtype=np.float64))
    labels = np.asarray(path["frame_labels"], dtype=np.int64)
    want = LD(path["negative_log"])
    got = oracle.nll_loss(lp, labels, reduction="sum")
    assert abs(LD(got) - want) <= 4 * LD(info("float64").unit_roundoff) * want
    x = torch.tensor(to_dtype(lp, dtype), dtype=getattr(torch, dtype))
    t = torch.nn.functional.nll_loss(x, torch.from_numpy(labels), reduction="sum").item()
    assert abs(t - float(want)) <= 4 * info(dtype).unit_roundoff * float(want)
    a = oracle.ctc_loss(lp[:, None, :], [[1]], [2], [1], reduction="sum")
    assert abs(np.exp(-LD(a)) - (LD(path["probability"]) + LD("0.48"))) < 1e-15
    assert np.isinf(oracle.ctc_loss(lp[:, None, :], [[1, 1]], [2], [2], reduction="sum"))


# -- b. zero_infinity ---------------------------------------------------------------------

ZI_T, ZI_C = 5, 4
ZI_TARGETS = [[1, 2, 3], [2, 2, 0]]  # sample 0: 3 labels in 2 steps; sample 1: "2 2"
ZI_IL, ZI_TL = [2, 5], [3, 2]


def _zi_problem(spec: Any, seed: int = 5) -> dict[str, Any]:
    x = _log_probs(np.random.default_rng(seed), (ZI_T, 2, ZI_C))
    return _inputs(spec, x, ZI_TARGETS, ZI_IL, ZI_TL)


def _alone(spec: Any, inputs: dict) -> dict[str, Any]:
    """Sample 1 of the zero_infinity problem as a batch of one."""
    first = _first(spec)
    return _inputs(spec, inputs[first][:, 1:], [ZI_TARGETS[1]], ZI_IL[1:], ZI_TL[1:])


@ctc
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_zero_infinity(spec_combo, selection, reduction, recorder, request):
    """Sample 0 is infeasible (3 labels, input length 2). zero_infinity=False: loss inf, its
    gradient NaN at t < 2 and 0 beyond. zero_infinity=True: its loss and gradient are 0,
    and sample 1's loss and gradient are bit-equal to a run of sample 1 alone ('mean':
    half of it, N = 2: an exact halving). A sample made infeasible by -inf entries (every
    step of its one label is -inf) is zeroed too (forward and gradient: an infinite loss
    reads no -inf entry of a finite loss, so the registered NaN rule does not apply)."""
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        first = _first(road.spec)
        inputs = _zi_problem(road.spec)
        for zi in (False, True):
            case = _case(road, inputs, {"reduction": reduction, "zero_infinity": zi})
            if _check(road, case)[0].verdict == "unsupported":
                break
            assert "infeasible" in case.features
            out = _torch(road, case)
            g = _grad(road, out)
            if not zi:
                assert np.all(np.isnan(g[:2, 0])) and np.all(g[2:, 0] == 0)
                continue
            assert "zero_infinity_applied" in case.features
            _same_bits(g[:, 0], np.zeros_like(g[:, 0]), "the infeasible sample's gradient")
            alone = _case(road, _alone(road.spec, inputs), {"reduction": reduction})
            _check(road, alone)
            ref = _torch(road, alone)
            factor = 0.5 if reduction == "mean" else 1.0
            value = out.value[1:] if reduction == "none" else out.value
            if reduction == "none":
                assert out.value[0] == 0
            _same_bits(value, ref.value * factor, "the feasible sample's loss")
            _same_bits(g[:, 1:], _grad(road, ref) * factor, "the feasible sample's gradient")
        else:
            x = inputs[first].copy()
            x[:, 0, 1] = -np.inf  # label 1 never possible: sample 0 infeasible by -inf
            neg = _inputs(road.spec, x, [[1], [2]], [5, 5], [1, 1])
            case = _case(road, neg, {"reduction": reduction, "zero_infinity": True})
            _check(road, case)
            assert "infeasible" in case.features and "neg_inf_read" not in case.features
            out = _torch(road, case)
            _same_bits(_grad(road, out)[:, 0], np.zeros((ZI_T, ZI_C)), "-inf infeasible grad")
        road.conclude()


# -- c. input_lengths < T -----------------------------------------------------------------


@ctc
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_steps_past_the_input_length(spec_combo, selection, reduction, recorder, request):
    """Sample 1 reads 4 of T = 6 steps: torch's gradient at t >= 4 is exactly +0.0, and
    replacing those entries by other finite values (large, negative, a tiny subnormal-free
    value) changes neither the loss nor any other gradient entry, bit for bit."""
    T, C = 6, 4
    x = _log_probs(np.random.default_rng(11), (T, 2, C))
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        base = _inputs(road.spec, x, [[1, 2, 3], [3, 1, 0]], [6, 4], [3, 2])
        case = _case(road, base, {"reduction": reduction})
        if _check(road, case)[0].verdict == "unsupported":
            road.conclude()
        assert "short_input" in case.features
        ref = _torch(road, case)
        g = _grad(road, ref)
        _same_bits(g[4:, 1], np.zeros((2, C)), "gradient past the input length")
        for fill in (100.0, -1000.0, 0.5, -0.0):
            other = dict(base)
            y = base[_first(road.spec)].copy()
            y[4:, 1, :] = fill
            other[_first(road.spec)] = y
            changed = _case(road, other, {"reduction": reduction})
            _check(road, changed)
            out = _torch(road, changed)
            _same_bits(out.value, ref.value, f"loss with {fill} past the input length")
            _same_bits(_grad(road, out), g, f"gradient with {fill} past the input length")
        road.conclude()


@ctc
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_input_length_zero(spec_combo, selection, reduction, recorder, request):
    """A sample that reads no step: with an empty target its one alignment is the empty
    path, p = 1, loss -log 1 = 0 (torch: -0.0, the same class); with a label it has no
    alignment, loss +inf (0 with zero_infinity). Either way no entry is read: its whole
    gradient is 0 (an infinite loss's NaN applies only at t < input_length = 0). 'mean' of
    the empty target: 0 / 0 = NaN as documented (torch's max(U, 1): registered)."""
    x = _log_probs(np.random.default_rng(13), (4, 2, 3))
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for rows, tl in (([[1, 2], [0, 0]], [2, 0]), ([[1, 2], [1, 0]], [2, 1])):
            for zi in (False, True):
                inputs = _inputs(road.spec, x, rows, [4, 0], tl)
                case = _case(road, inputs, {"reduction": reduction, "zero_infinity": zi})
                if _check(road, case)[0].verdict == "unsupported":
                    road.conclude()
                assert "input_length_zero" in case.features
                g = _grad(road, _torch(road, case))
                assert np.all(g[:, 1] == 0), g[:, 1]
        road.conclude()


# -- d. layouts ---------------------------------------------------------------------------

LAYOUT_T, LAYOUT_C = 5, 4
LAYOUT_ROWS = [[1, 2], [3], [2, 2, 1]]
LAYOUT_IL = [5, 4, 5]


def _layouts(spec: Any, x: np.ndarray) -> dict[str, tuple[dict, dict | None]]:
    """The same problem in every documented form: name -> (inputs, sequences)."""
    tl = [len(r) for r in LAYOUT_ROWS]
    padded = np.array([[1, 2, 0], [3, 0, 0], [2, 2, 1]], dtype=np.int64)
    junk = np.array([[1, 2, 3], [3, 3, 1], [2, 2, 1]], dtype=np.int64)  # padding not read
    flat = np.array([c for r in LAYOUT_ROWS for c in r], dtype=np.int64)
    i64, i32 = np.asarray(LAYOUT_IL, dtype=np.int64), np.asarray(LAYOUT_IL, dtype=np.int32)
    t64, t32 = np.asarray(tl, dtype=np.int64), np.asarray(tl, dtype=np.int32)
    seq = {"input_lengths": "list", "target_lengths": "list"}
    tup = {"input_lengths": "tuple", "target_lengths": "tuple"}
    return {
        "padded-int64": (_inputs(spec, x, padded, i64, t64), None),
        "padded-junk-padding": (_inputs(spec, x, junk, i64, t64), None),
        "padded-int32": (_inputs(spec, x, padded.astype(np.int32), i64, t64), None),
        "concatenated-int64": (_inputs(spec, x, flat, i64, t64), None),
        "concatenated-int32": (_inputs(spec, x, flat.astype(np.int32), i32, t32), None),
        "lengths-list": (_inputs(spec, x, padded, i64, t64), seq),
        "lengths-tuple": (_inputs(spec, x, flat, i64, t64), tup),
        "lengths-int32": (_inputs(spec, x, padded, i32, t32), None),
        "lengths-mixed-int32-int64": (_inputs(spec, x, padded, i32, t64), None),
    }


@ctc
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_layouts_agree(spec_combo, selection, reduction, recorder, request):
    """Padded (N, S) and concatenated targets, int64 and int32, lengths as list, tuple,
    int32 and int64 tensors: bit-identical values and gradients (one kernel, the same
    arithmetic on the same numbers). Each sample alone, unbatched ((T, C), 1-d targets,
    0-d lengths): its loss and gradient are bit-equal to the batched 'none' run's entries
    ('none', 'sum'); its 'mean' is that loss / U, bit-equal too, but its 'mean' gradient
    differs from the batched gradient / U in the last bits for U = 3 (measured: 2.8e-17 in
    float64, 1.5e-8 in float32: the seed 1 / U is formed and applied in another order), so
    that one is held to twice the spec's error model (each run is within it of the exact
    value)."""
    x = _log_probs(np.random.default_rng(21), (LAYOUT_T, 3, LAYOUT_C))
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        ref = None
        for name, (inputs, seq) in _layouts(road.spec, x).items():
            case = _case(road, inputs, {"reduction": reduction}, seq)
            if _check(road, case)[0].verdict == "unsupported":
                break
            out = _torch(road, case)
            if ref is None:
                ref = out
                continue
            _same_bits(out.value, ref.value, f"{name}: loss")
            _same_bits(_grad(road, out), _grad(road, ref), f"{name}: gradient")
        if ref is None:
            road.conclude()
            continue
        per = _case(road, _layouts(road.spec, x)["padded-int64"][0], {"reduction": "none"})
        batched = _torch(road, per)
        for n, row in enumerate(LAYOUT_ROWS):
            first = _first(road.spec)
            one = {
                first: x[:, n, :],
                "targets": np.asarray(row, dtype=np.int64),
                "input_lengths": np.asarray(LAYOUT_IL[n], dtype=np.int64),
                "target_lengths": np.asarray(len(row), dtype=np.int64),
            }
            case = _case(road, one, {"reduction": reduction})
            _check(road, case)
            assert "unbatched" in case.features
            out = _torch(road, case)
            want = batched.value[n]
            if reduction == "mean":
                t = torch.tensor(want, dtype=getattr(torch, road.dtype))
                want = (t / len(row)).double().numpy()
            _same_bits(out.value, want, f"sample {n} unbatched: loss")
            if reduction != "mean":
                _same_bits(_grad(road, out), _grad(road, batched)[:, n], f"sample {n}: grad")
                continue
            want_g = np.asarray(_grad(road, batched)[:, n], dtype=LD) / LD(len(row))
            _agree_within_the_model(
                road, case, None, want_g, out, _grad(road, out), f"sample {n} 'mean' gradient"
            )
        road.conclude()


# -- e. the blank's position --------------------------------------------------------------


@ctc
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("blank", [0, 2, 4])
def test_blank_position(spec_combo, selection, reduction, blank, recorder, request):
    """C = 5: swapping class 0 and class ``blank`` in the class axis of log_probs and in the
    labels, and passing blank=``blank``, is the same problem: the loss is bit-equal to the
    blank = 0 run and the gradient is the same gradient with its class axis swapped (the
    kernel reads the same numbers in the same order)."""
    T, C = 6, 5
    x = _log_probs(np.random.default_rng(31), (T, 2, C))
    rows = np.array([[1, 2, 3], [4, 4, 0]], dtype=np.int64)
    perm = np.arange(C)
    perm[[0, blank]] = perm[[blank, 0]]  # old class c is new class perm[c]
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        base = _case(road, _inputs(road.spec, x, rows, [6, 5], [3, 2]), {"reduction": reduction})
        if _check(road, base)[0].verdict == "unsupported":
            road.conclude()
        ref = _torch(road, base)
        xp = np.empty_like(x)
        xp[..., perm] = x
        moved = _inputs(road.spec, xp, perm[rows], [6, 5], [3, 2])
        case = _case(road, moved, {"reduction": reduction, "blank": blank})
        _check(road, case)
        assert {0: "blank_first", 4: "blank_last"}.get(blank, "blank_middle") in case.features
        out = _torch(road, case)
        if road.spec.name == FREE:
            _same_bits(out.value, ref.value, f"blank={blank}: loss")
            _same_bits(_grad(road, out)[..., perm], _grad(road, ref), f"blank={blank}: grad")
        else:
            g = _grad(road, out)[..., perm]
            _agree_within_the_model(road, base, ref.value, _grad(road, ref), out, g, "blank")
        road.conclude()


def _agree_within_the_model(
    road: Road,
    case: LossCase,
    want_value: np.ndarray | None,
    want_grad: np.ndarray,
    out: Outcome,
    got_grad: np.ndarray,
    what: str,
) -> None:
    """Two torch runs of the same exact quantity that round differently (a permuted class
    axis changes the order of log_softmax's sum; an unbatched 'mean' scales the seed in
    another order). The road holds each within its budget's ULPs plus terms_u * u * M
    (loss) or terms_u * u * G (gradient, per element) of the exact value, M and G the spec's
    error model for ``case`` (suites/specs/_ctc_errors.py): so they agree within twice
    that."""
    u = LD(info(road.dtype).unit_roundoff)
    if want_value is not None:
        out_b = budget_for(road.spec.name, "output", road.dtype, road.device)
        tl = np.asarray(case.inputs["target_lengths"]).reshape(-1)
        m = np.asarray(ctc_errors.term_scale(case), dtype=LD)
        scale = _reduce(m.reshape(-1), road.reduction, tl).reshape(np.shape(want_value))
        cmp = compare_values(
            "output",
            np.asarray(want_value, dtype=LD),
            out.value,
            out.dtype,
            road.dtype,
            dataclasses.replace(out_b, ulp=2 * out_b.ulp),
            bound=2 * LD(out_b.terms_u) * u * scale,
        )
        assert cmp.ok, f"{what}: {cmp.message}"
    grad_b = budget_for(road.spec.name, "gradient", road.dtype, road.device)
    name = _first(road.spec)
    bound = 2 * road.cancellation_bound(case, name, _ones(road, case), grad_b)
    cmp = compare_values(
        f"grad[{name}]",
        np.asarray(want_grad, dtype=LD),
        got_grad,
        out.grad_dtypes[name],
        road.dtype,
        dataclasses.replace(grad_b, ulp=2 * grad_b.ulp),
        bound=bound,
        rule_values="4",
    )
    assert cmp.ok, f"{what}: {cmp.message}"


# -- f. the two facts of the gradient -----------------------------------------------------


class LeafLogProbs(TorchTarget):
    """Runs a ``CTCLoss[log_softmax]`` case with its scores passed to torch AS log_probs,
    without the log_softmax: the gradient torch returns is then its gradient with respect
    to log_probs itself."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        plain = dict(tensors)
        plain["log_probs"] = plain.pop("scores")
        return super().call(dataclasses.replace(case, spec=by_name(FREE)), plain)


def _torch_log_softmax(x: np.ndarray, dtype: str) -> np.ndarray:
    """torch's log_softmax of x at the dtype, as float64 (exact)."""
    t = torch.tensor(to_dtype(x, dtype), dtype=getattr(torch, dtype))
    return t.log_softmax(-1).double().numpy()


@ctc_free
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradient_facts(spec_combo, selection, reduction, recorder, request):
    """On x = log_softmax(z) (torch's, at the dtype):
    1. torch's gradient with respect to x itself equals the oracle's
       ``ctc_loss_from_scores_gradients`` of scores x, r (softmax(x) - gamma): judged on the
       road of the CTCLoss[log_softmax] spec with x fed to torch as log_probs (a pass);
    2. it differs from the documented ``ctc_loss_gradients``, -r gamma, by r exp(x) at
       t < T'_n: the road of the CTCLoss spec flags exactly that (verdict known, registry
       ctc-gradient-assumes-log-softmax-input), and directly: torch - (-r gamma) - r exp(x)
       is within the spec's error bound G while r exp(x) is far outside it."""
    T, N, C = 6, 2, 4
    z = np.random.default_rng(41).standard_normal((T, N, C)) * 2
    rows, il, tl = [[1, 2, 3], [3, 3, 0]], [6, 4], [3, 2]
    scores_spec = by_name(SCORES)
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        probe = _case(road, _inputs(road.spec, z, rows, il, tl), {"reduction": reduction})
        if _check(road, probe, grads=False)[0].verdict == "unsupported":
            road.conclude()
        x = _torch_log_softmax(z, road.dtype)
        options = {"reduction": reduction}
        # fact 1: through the road of the scores spec, torch fed x as log_probs
        leaf = Road(
            scores_spec,
            road.dtype,
            road.device,
            road.api,
            reduction,
            target=LeafLogProbs(road.device),
            recorder=recorder,
            test_id=request.node.nodeid,
        )
        leaf_case = explicit_case(
            scores_spec, road.dtype, road.api, _inputs(scores_spec, x, rows, il, tl), options
        )
        _check(leaf, leaf_case)
        # fact 2: the free spec's road recognises the log_softmax-input gradient
        case = _case(road, _inputs(road.spec, x, rows, il, tl), options)
        road.assert_ok(road.check_forward(case, kind="special"))
        ones = _ones(road, case)
        for r in road.check_gradients(case, ones, kind="special"):
            assert r.verdict == "known" and r.known == [KNOWN_GRADIENT], r.comparison.message
            assert r.comparison.alternative == "log_softmax-input"
        # and directly, with the numbers
        out = _torch(road, case)
        free = np.asarray(road.expected_gradients(case, ones)["log_probs"], dtype=LD)
        seed = ctc_errors.seed(case, ones, N)[None, :, None]
        steps = (np.arange(T)[:, None] < np.asarray(il)[None, :])[:, :, None]
        shift = np.where(steps, seed * np.exp(x.astype(LD)), 0)
        budget = budget_for(road.spec.name, "gradient", road.dtype, road.device)
        bound = road.cancellation_bound(case, "log_probs", ones, budget)
        g = _grad(road, out)
        cmp = compare_values(
            "grad[log_probs]",
            free + shift,
            g,
            out.grad_dtypes["log_probs"],
            road.dtype,
            budget,
            bound=bound,
            rule_values="4",
        )
        assert cmp.ok, cmp.message
        documented = compare_values(
            "grad[log_probs]",
            free,
            g,
            out.grad_dtypes["log_probs"],
            road.dtype,
            budget,
            bound=bound,
            rule_values="4",
        )
        assert not documented.ok, "torch's gradient is the documented -r gamma: registry stale"
        road.conclude()


# -- g. long sequences --------------------------------------------------------------------


@ctc_scores
@pytest.mark.parametrize("T", [10, 100, 1000])
def test_long_sequences(spec_combo, selection, T, recorder, request):
    """N = 2, C = 5, U = 10 (no adjacent repeats: feasible at T = 10), one seeded problem per
    T: forward and gradient pass, with the measured error and T in the records."""
    rng = np.random.default_rng(1000 + T)
    z = rng.standard_normal((T, 2, 5)) * 2
    rows = [[1, 2, 3, 4, 1, 2, 3, 4, 1, 2], [4, 3, 2, 1, 4, 3, 2, 1, 4, 3]]
    for road in _roads(spec_combo, selection, "sum", recorder, request):
        case = _case(
            road,
            _inputs(road.spec, z, rows, [T, T - 1 if T > 10 else T], [10, 10]),
            {"reduction": "sum"},
        )
        results = _check(road, case)
        assert all(r.verdict in ("pass", "unsupported") for r in results), results
        road.conclude()


# -- h. which kernel runs -----------------------------------------------------------------

NATIVE, CUDNN = "_ctc_loss", "_cudnn_ctc_loss"


def ctc_kernels(run: Callable[[], Any]) -> set[str]:
    """The CTC operators torch dispatched while ``run`` ran (torch.profiler's CPU-side op
    events, which also record CUDA ops' launches): a subset of {_ctc_loss,
    _cudnn_ctc_loss}."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    names = {e.name.removeprefix("aten::") for e in prof.events()}
    return names & {NATIVE, CUDNN}


class KernelTarget(TorchTarget):
    """Runs a case on ``device`` with ``keep_on_cpu`` tensors left on the CPU (cuDNN's
    targets) and cuDNN enabled or disabled for the call."""

    def __init__(self, device: str, cudnn: bool = True, keep_on_cpu: tuple[str, ...] = ()):
        super().__init__(device)
        self.cudnn, self.keep_on_cpu = cudnn, keep_on_cpu

    def tensors(self, case: LossCase, grads: tuple[str, ...]) -> dict[str, Any]:
        out = super().tensors(case, grads)
        for name in self.keep_on_cpu:
            if isinstance(out.get(name), torch.Tensor):
                out[name] = out[name].cpu()
        return out

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        before = torch.backends.cudnn.enabled
        torch.backends.cudnn.enabled = self.cudnn
        try:
            return super().call(case, tensors)
        finally:
            torch.backends.cudnn.enabled = before


def _cudnn_problem(spec: Any, lengths: str) -> dict[str, Any]:
    """The docs' cuDNN conditions: concatenated targets, every input length T, blank 0,
    target lengths <= 256, int32 integer arguments (``lengths`` picks int32 or int64 to
    break the last one), float32 log_probs (the case's dtype)."""
    T, N, C = 12, 3, 5
    x = _log_probs(np.random.default_rng(51), (T, N, C))
    rows = [[1, 2, 3], [4, 4, 1, 2], [3]]
    kind = np.int32 if lengths == "int32" else np.int64
    flat = np.array([c for r in rows for c in r], dtype=kind)
    return _inputs(
        spec,
        x,
        flat,
        np.full(N, T, dtype=kind),
        np.array([len(r) for r in rows], dtype=kind),
    )


def _road_with(road: Road, target: TorchTarget, recorder, request) -> Road:
    return Road(
        road.spec,
        road.dtype,
        road.device,
        road.api,
        road.reduction,
        target=target,
        recorder=recorder,
        test_id=request.node.nodeid,
    )


def _run_into(sink: list, target: TorchTarget, case: LossCase, grads: tuple[str, ...]) -> None:
    sink.append(target.run(case, grads))


def _judged(road: Road, case: LossCase) -> tuple[set[str], Outcome | None]:
    """The road's forward and gradient checks under the profiler, and torch's outcome."""
    kernels = ctc_kernels(lambda: _check(road, case))
    return kernels, _torch(road, case)


@ctc
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cpu_runs_the_native_kernel(spec_combo, selection, reduction, recorder, request):
    """On the CPU the native ``_ctc_loss`` runs (no cuDNN), even for a problem meeting every
    cuDNN condition (int32, concatenated, full lengths, blank 0, float32): confirmed with
    torch.profiler, and judged against the oracle."""
    if spec_combo[2].split(":")[0] != "cpu":
        pytest.skip("the CPU kernel test runs on CPU devices")
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        for lengths in ("int32", "int64"):
            case = _case(road, _cudnn_problem(road.spec, lengths), {"reduction": reduction})
            kernels, out = _judged(road, case)
            if out is None:
                break
            assert kernels == {NATIVE}, kernels
        road.conclude()


LISTS = {"input_lengths": "list", "target_lengths": "list"}


def _placements() -> list[tuple[tuple[str, ...], dict[str, str]]]:
    """Where cuDNN's integer arguments may have to live (the docs do not say): (tensors
    kept on the CPU, lengths passed as Python lists or as tensors). The CPU targets first
    (the historical requirement), lengths as tensors and as lists, then all on the device."""
    cpu_all = ("targets", "input_lengths", "target_lengths")
    return [(cpu_all, {}), (("targets",), LISTS), (("targets",), {}), ((), {})]


@ctc
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cuda_cudnn_and_native_kernels(spec_combo, selection, reduction, recorder, request):
    """On CUDA: a problem meeting the documented cuDNN conditions runs ``_cudnn_ctc_loss``
    (float32 only: the condition on log_probs' dtype); with int64 lengths, or with cuDNN
    disabled, the native ``_ctc_loss`` runs. Each confirmed with torch.profiler, judged
    against the oracle on the road, and the two kernels compared with each other: each
    is within the road's bound of the exact value, so they agree within twice the spec's
    error model (rule 3 with 2 * terms_u)."""
    device = spec_combo[2]
    if device.split(":")[0] != "cuda":
        pytest.skip(
            f"needs a CUDA device in the run (this combination is {device}; "
            f"torch.cuda.is_available() = {torch.cuda.is_available()})"
        )
    for road in _roads(spec_combo, selection, reduction, recorder, request):
        options = {"reduction": reduction}
        native_case = _case(road, _cudnn_problem(road.spec, "int64"), options)
        native_road = _road_with(road, KernelTarget(device, cudnn=True), recorder, request)
        kernels, native = _judged(native_road, native_case)
        if native is None:
            road.conclude()
            continue
        assert kernels == {NATIVE}, f"int64 lengths: {kernels}"
        case = _case(road, _cudnn_problem(road.spec, "int32"), options)
        off = _road_with(road, KernelTarget(device, cudnn=False), recorder, request)
        kernels, disabled = _judged(off, case)
        assert kernels == {NATIVE}, f"cuDNN disabled: {kernels}"
        tried: dict[str, str] = {}
        chosen = None
        for keep, sequences in _placements():  # probe where cuDNN takes the integers
            target = KernelTarget(device, True, keep)
            trial = dataclasses.replace(case, sequences=sequences, derived=set())
            probe: list[Outcome] = []
            grads = road.gradient_args(trial)
            kernels = ctc_kernels(partial(_run_into, probe, target, trial, grads))
            where = f"cpu={keep} lists={bool(sequences)}"
            tried[where] = f"{sorted(kernels)} {probe[0].error or ''}".strip()
            if CUDNN in kernels:
                chosen = (target, trial)
                break
        wants_cudnn = road.dtype == "float32" and torch.backends.cudnn.is_available()
        assert (chosen is not None) == wants_cudnn, f"{road.dtype}: kernels by placement {tried}"
        if chosen is not None:
            on = _road_with(road, chosen[0], recorder, request)
            kernels, cudnn_out = _judged(on, chosen[1])
            assert CUDNN in kernels, kernels
            _agree_within_the_model(
                on,
                chosen[1],
                disabled.value,
                _grad(road, disabled),
                cudnn_out,
                _grad(road, cudnn_out),
                "cuDNN against native",
            )
        road.conclude()
