"""LossSpecs of CTCLoss (``ctc_loss``): log_probs as given, and scores through log_softmax.

"CTCLoss sums over the probability of possible alignments of input to target" (oracle:
``oracle/ctc_loss.py``). Two variants, because the docs define the loss on log_probs
("The logarithmized probabilities of the outputs (e.g. obtained with
torch.nn.functional.log_softmax)") and say nothing on what the gradient assumes:

- ``CTCLoss``: log_probs drawn (normalised or not) and passed as they are; its gradient is
  judged against d loss / d log_probs with every entry a free input. Torch's backward
  returns the gradient with respect to the scores before a log_softmax instead (r (exp(x) -
  gamma)); the road recognises that quantity (``alternative_failure ==
  'log_softmax-input'``) and the registry names it.
- ``CTCLoss[log_softmax]``: scores drawn, torch receives ``scores.log_softmax(-1)``, the
  gradient with respect to the scores is the one both agree must be exp(x) - gamma.

Options: ``blank`` (drawn as a position, first / middle / last, made an index once C is
known), ``zero_infinity``; reductions 'none', 'mean' (loss_n / U_n averaged), 'sum'.
Drawing: ``suites/specs/_ctc_draw.py``; error model: ``suites/specs/_ctc_errors.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from suites.specs import _ctc_draw as draw_ctc
from suites.specs import _ctc_errors as errors
from suites.specs._types import InvalidInput, LossSpec, Option, TensorArg


def _drawer(as_scores: bool):
    def draw_inputs(draw: st.DrawFn, dtype: str, regime: str, options: dict, include) -> dict:
        p = draw(draw_ctc.problem(regime, options))
        x = draw(draw_ctc.values(dtype, regime, p, as_scores))
        out = {"scores" if as_scores else "log_probs": x}
        out.update(draw(draw_ctc.layout(p)))
        return out

    return draw_inputs


def _first(case: Any) -> np.ndarray:
    return case.inputs.get("log_probs", case.inputs.get("scores"))


def features(case: Any) -> set[str]:
    """Layout: unbatched, padded_targets, concatenated_targets, targets_int32;
    lengths_list / lengths_tuple / lengths_int32 / lengths_int64 (either length);
    short_input (an input length < T), input_length_zero, empty_target (U_n = 0),
    repeated_labels (equal neighbours in a target), blank_first / blank_middle /
    blank_last, infeasible (the loss is +inf: no alignment has positive probability),
    zero_infinity_applied, mean_empty_target ('mean' with some U_n = 0), neg_inf_log_probs,
    neg_inf_read (a -inf log-probability at t < T'_n of a sample with a finite loss),
    far_log_probs (a finite log-probability below -1000), long (T >= 200), long_1000,
    empty_batch (N = 0), unnormalised (log-probabilities whose exp sums differ from 1)."""
    out: set[str] = set()
    x = _first(case)
    tg = case.inputs.get("targets")
    il, tl = case.inputs.get("input_lengths"), case.inputs.get("target_lengths")
    if x is None or tg is None or il is None or tl is None:
        return out
    batched = np.ndim(x) == 3
    if not batched:
        out.add("unbatched")
    if np.ndim(x) not in (2, 3):
        return out
    T, C = x.shape[0], x.shape[-1]
    N = x.shape[1] if batched else 1
    if N == 0:
        out.add("empty_batch")
    out.add("concatenated_targets" if np.ndim(tg) == 1 else "padded_targets")
    if np.asarray(tg).dtype == np.int32:
        out.add("targets_int32")
    for name, arr in (("input_lengths", il), ("target_lengths", tl)):
        kind = case.sequences.get(name) or str(np.asarray(arr).dtype)
        out.add(f"lengths_{kind}")
    il_a, tl_a = np.asarray(il).reshape(-1), np.asarray(tl).reshape(-1)
    if np.any(il_a < T):
        out.add("short_input")
    if np.any(il_a == 0):
        out.add("input_length_zero")
    if np.any(tl_a == 0):
        out.add("empty_target")
        if case.reduction == "mean":
            out.add("mean_empty_target")
    blank = int(case.effective_options().get("blank", 0))
    if blank == 0:
        out.add("blank_first")
    elif blank == C - 1:
        out.add("blank_last")
    else:
        out.add("blank_middle")
    if T >= 200:
        out.add("long")
    if T >= 1000:
        out.add("long_1000")
    xf = np.asarray(x, dtype=np.float64)
    if np.any(xf == -np.inf):
        out.add("neg_inf_log_probs")
    if np.any(np.isfinite(xf) & (xf < -1000)):
        out.add("far_log_probs")
    if "log_probs" in case.inputs and xf.size:
        with np.errstate(all="ignore"):
            sums = np.exp(xf).sum(axis=-1)
        if np.any(np.abs(sums - 1) > 1e-2):
            out.add("unnormalised")
    out |= _target_validity(np.asarray(tg), tl_a, C, blank)
    an = errors.analysis(case)
    if an is not None:
        if any(np.any(r[1:] == r[:-1]) for r in an.targets if len(r) > 1):
            out.add("repeated_labels")
        finite = np.isfinite(an.loss)
        steps = np.arange(an.x.shape[0])[:, None] < an.input_lengths[None, :]
        if np.any((an.x == -np.inf) & (steps & finite[None, :])[:, :, None]):
            out.add("neg_inf_read")
        if np.any(np.isinf(an.loss)):
            out.add("infeasible")
            if case.effective_options().get("zero_infinity"):
                out.add("zero_infinity_applied")
    return out


def _target_validity(tg: np.ndarray, tl: np.ndarray, C: int, blank: int) -> set[str]:
    """target_class_out_of_range / blank_in_target: a label (within its target length)
    outside [0, C), or equal to the blank (invalid inputs)."""
    rows = []
    if tg.ndim == 2 and tg.shape[0] == tl.size and np.all((tl >= 0) & (tl <= tg.shape[1])):
        rows = [tg[n, : tl[n]] for n in range(tl.size)]
    elif tg.ndim == 1 and np.all(tl >= 0) and int(tl.sum()) == tg.size:
        ends = np.cumsum(tl)
        rows = [tg[e - u : e] for e, u in zip(ends, tl, strict=True)]
    out = set()
    labels = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    if np.any((labels < 0) | (labels >= C)):
        out.add("target_class_out_of_range")
    if np.any(labels == blank):
        out.add("blank_in_target")
    return out


# -- invalid inputs -------------------------------------------------------------------------

LP = np.log(np.full((4, 2, 3), 1 / 3)).tolist()  # T = 4, N = 2, C = 3, blank 0
OK = {
    "log_probs": LP,
    "targets": [[1, 2], [2, 0]],
    "input_lengths": [4, 4],
    "target_lengths": [2, 1],
}


def _bad(name: str, argument: str, rule: str, oob: bool = False, **changes: Any) -> InvalidInput:
    inputs = dict(OK)
    options = changes.pop("options", {})
    inputs.update(changes)
    return InvalidInput(name, argument, inputs, options, rule=rule, out_of_bounds=oob)


CTC_INVALID = (
    _bad(
        "target-class-equal-to-C",
        "targets",
        "each target is a class index in [0, C)",
        oob=True,
        targets=[[1, 3], [2, 0]],
    ),
    _bad(
        "negative-target-class",
        "targets",
        "each target is a class index in [0, C)",
        oob=True,
        targets=[[1, -1], [2, 0]],
    ),
    _bad(
        "blank-inside-a-target",
        "targets",
        "the target index cannot be blank",
        targets=[[1, 0], [2, 0]],
    ),
    _bad(
        "target-length-beyond-the-padded-width",
        "target_lengths",
        "Lengths must each be <= S",
        oob=True,
        target_lengths=[3, 1],
    ),
    _bad(
        "concatenated-lengths-do-not-add-up",
        "target_lengths",
        "the target_lengths must add up to the total length of the tensor",
        oob=True,
        targets=[1, 2, 2],
        target_lengths=[2, 2],
    ),
    _bad(
        "input-length-beyond-T",
        "input_lengths",
        "input lengths must each be <= T",
        oob=True,
        input_lengths=[5, 4],
    ),
    _bad(
        "negative-input-length",
        "input_lengths",
        "a length is not negative",
        oob=True,
        input_lengths=[-1, 4],
    ),
    _bad(
        "negative-target-length",
        "target_lengths",
        "a length is not negative",
        oob=True,
        target_lengths=[-1, 1],
    ),
    _bad(
        "input-lengths-of-another-batch-size",
        "input_lengths",
        "Input_lengths: (N)",
        oob=True,
        input_lengths=[4, 4, 4],
    ),
    _bad(
        "target-lengths-of-another-batch-size",
        "target_lengths",
        "Target_lengths: (N)",
        oob=True,
        target_lengths=[2],
    ),
    _bad(
        "padded-targets-of-another-batch-size",
        "targets",
        "Targets: (N, S)",
        oob=True,
        targets=[[1, 2]],
    ),
    _bad(
        "blank-equal-to-C",
        "blank",
        "blank is a class index",
        oob=True,
        targets=[[1, 2], [2, 1]],
        options={"blank": 3},
    ),
    _bad(
        "log-probs-of-four-dimensions",
        "log_probs",
        "Log_probs: (T, N, C) or (T, C)",
        log_probs=[LP],
    ),
    _bad(
        "unknown-reduction",
        "reduction",
        "reduction is one of 'none', 'mean', 'sum'",
        options={"reduction": "avg"},
    ),
)


def _spec(as_scores: bool) -> LossSpec:
    first = (
        TensorArg("scores", differentiable=True, passed_as="scores.log_softmax(-1)")
        if as_scores
        else TensorArg("log_probs", differentiable=True)
    )
    return LossSpec(
        loss="CTCLoss",
        functional="ctc_loss",
        oracle="ctc_loss_from_scores" if as_scores else "ctc_loss",
        variant="log_softmax" if as_scores else "",
        args=(
            first,
            TensorArg("targets", differentiable=False),
            TensorArg("input_lengths", differentiable=False),
            TensorArg("target_lengths", differentiable=False),
        ),
        options=(
            Option("blank", 0, draw_ctc.blank_values, doc="the blank's class index"),
            Option(
                "zero_infinity",
                False,
                draw_ctc.zero_infinity_values,
                doc="zero infinite losses and their gradients",
            ),
        ),
        draw_inputs=_drawer(as_scores),
        regimes=draw_ctc.REGIMES,
        features=features,
        broadcasts=False,
        doc="-log sum over alignments of prod exp(x[t, pi_t]); mean = mean_n(loss_n / U_n)",
        invalid=() if as_scores else CTC_INVALID,
        term_scale=errors.term_scale,
        gradient_scale=errors.gradient_scale,
        mean_term_factor=errors.mean_term_factor,
        alternative_gradients=None if as_scores else errors.log_softmax_input_gradients,
        coverage=(
            "unbatched",
            "padded_targets",
            "concatenated_targets",
            "targets_int32",
            "lengths_list",
            "lengths_tuple",
            "lengths_int32",
            "lengths_int64",
            "short_input",
            "input_length_zero",
            "empty_target",
            "mean_empty_target",
            "repeated_labels",
            "blank_first",
            "blank_middle",
            "blank_last",
            "infeasible",
            "zero_infinity_applied",
            "neg_inf_log_probs",
            "neg_inf_read",
            "far_log_probs",
            "long",
            "long_1000",
            "empty_batch",
        ),
    )


CTC = _spec(as_scores=False)
CTC_LOG_SOFTMAX = _spec(as_scores=True)
SPECS = (CTC, CTC_LOG_SOFTMAX)
