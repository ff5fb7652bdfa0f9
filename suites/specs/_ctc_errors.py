"""What torch's CTC may round, derived per case: rule 3's term_scale, rule 4's
gradient_scale, and the log_softmax-input gradient torch's backward returns.

The model is any implementation that runs the documented recursion on logarithms in the
test dtype (torch's CPU and CUDA kernels do; cuDNN runs its own, judged by the same bound).
Notation, per sample n and step t < T'_n, in units of the dtype's u:

- a_t = max |x[t, c]| over the classes the sample reads (its labels and the blank, finite
  entries); P_t = sum_{tau <= t} a_tau + (t + 1) ln 3 bounds |log alpha_t(s)| (every path's
  log-probability is within +-sum a, and at most 3^(t+1) paths reach a state);
  Q_t = sum_{tau >= t} a_tau + (T' - t) ln 3 bounds the backward variable the same way.
- One step of the log-space recursion, la_t(s) = x_t(s) + m + log sum exp(la_{t-1} - m):
  the differences la - m round (<= 2 P_t u, then exp adds u), the sum of at most three
  terms in [0, 3] adds 2u, its log (in [0, ln 3]) 1.1u, the two additions u |la_t| each:
  local_t = 4 P_t + 6. Log-sum-exp is 1-Lipschitz in the max norm, so errors add:
  E_A(t) = sum_{tau <= t} local_tau, and E_B(t) = sum_{tau >= t} (4 Q_tau + 6).
- The loss -log(exp(la(L-1) - m) + exp(la(L-2) - m)) - m: E_A(T'-1) + 2 P + 4; as a bound
  on |error| of loss_n: M_n = that (term_scale, terms_u = 1).
- With ``log_softmax`` inside the call (the scores variant), torch's log-probabilities are
  themselves rounded: |delta x_t| <= (3 a_t + 2 ln C + 3) u (z - max, the log of the sum,
  the difference), which moves the loss by at most D = sum_t (3 a_t + 2 ln C + 3) u.
- The gradient torch forms: exp(x_c) - exp(lcab_c + nll - x_c) with lcab_c the log-sum of
  la_t(s) + lb_t(s) over the states of class c: the exponent's error is at most
  K = E_A(t) + E_B(t) + M_n + 3 (P_t + Q_t + |nll|) + 2 a_t + 2 Lmax + 5 (+ D/u), a relative
  error of gamma_c; times r (grad_output, / (N U_n) for 'mean': two roundings) and the
  difference: dG_c = |r| (gamma_c K + p_c) + 4 |g_c| with g_c = r (p_c - gamma_c).
- Through log_softmax's backward, dz_c = g_c - p_c sum_c' g_c': the sum's C roundings and
  the errors of every g_c' reach every dz_c through p_c:
  G_c = dG_c + p_c (sum_c' dG_c' + C sum_c' |g_c'| + 2 |sum_c' g_c'|) + |dz_c|.

These are worst-case bounds (errors that all round the same way); torch's measured errors
(recorded per case, with T) are typically a square root of them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from oracle.ctc_loss import CTCAnalysis, ctc_analysis, log_softmax

LD = np.longdouble
LN3 = math.log(3.0)


def _variant_scores(case: Any) -> bool:
    return "scores" in case.inputs


def analysis(case: Any, occupations: bool = False) -> CTCAnalysis | None:
    """The oracle's per-sample losses (and occupations) for torch's log-probabilities,
    memoised on the case; None for inputs the oracle rejects."""
    key = (id(case.inputs), case.effective_options().get("blank", 0))
    cached = case.__dict__.get("_ctc_analysis")
    if cached is not None and cached[0] == key and (cached[2] or not occupations):
        return cached[1]
    first = case.inputs["scores"] if _variant_scores(case) else case.inputs["log_probs"]
    try:
        x = log_softmax(first) if _variant_scores(case) else first
        result = ctc_analysis(
            x,
            case.inputs["targets"],
            case.inputs["input_lengths"],
            case.inputs["target_lengths"],
            key[1],
            occupations,
        )
    except Exception:  # an invalid input: the oracle's rejection is judged elsewhere
        result = None
    case.__dict__["_ctc_analysis"] = (key, result, occupations)
    return result


def _magnitudes(an: CTCAnalysis) -> dict[str, np.ndarray]:
    """a_t, P_t, Q_t, E_A(t), E_B(t) as (T, N) arrays (0 outside t < T'_n)."""
    x = an.x
    T, N, C = x.shape
    used = np.zeros((N, C), dtype=bool)
    used[:, an.blank] = True
    for n, row in enumerate(an.targets):
        used[n, row] = True
    steps = np.arange(T)[:, None] < an.input_lengths[None, :]
    with np.errstate(all="ignore"):
        mag = np.where(used[None] & np.isfinite(x), np.abs(x), 0)
    a = np.where(steps, mag.max(axis=2) if C else 0, 0).astype(LD)
    t1 = np.arange(1, T + 1, dtype=LD)[:, None]
    P = np.where(steps, np.cumsum(a, axis=0) + t1 * LD(LN3), 0)
    rest = np.cumsum(a[::-1], axis=0)[::-1]
    left = np.maximum(an.input_lengths[None, :] - np.arange(T)[:, None], 0).astype(LD)
    Q = np.where(steps, rest + left * LD(LN3), 0)
    EA = np.cumsum(np.where(steps, 4 * P + 6, 0), axis=0)
    EB = np.cumsum(np.where(steps, 4 * Q + 6, 0)[::-1], axis=0)[::-1]
    D = np.sum(np.where(steps, 3 * a + 2 * LD(math.log(max(C, 1))) + 3, 0), axis=0)
    return {"a": a, "P": P, "Q": Q, "EA": EA, "EB": EB, "D": D, "steps": steps}


def loss_scale(case: Any) -> np.ndarray | None:
    """M_n per sample (units of u): the bound on |error| of torch's loss_n."""
    an = analysis(case)
    if an is None:
        return None
    m = _magnitudes(an)
    N = an.x.shape[1]
    last = np.maximum(an.input_lengths - 1, 0)
    rows = np.arange(N)
    has = an.input_lengths > 0
    ea = np.where(has, m["EA"][last, rows], 0) if N else np.zeros(0, dtype=LD)
    p = np.where(has, m["P"][last, rows], 0) if N else np.zeros(0, dtype=LD)
    M = ea + 2 * p + 4
    if _variant_scores(case):
        M = M + m["D"]
    with np.errstate(all="ignore"):
        M = np.where(np.isfinite(an.loss), M + np.abs(an.loss), 0)
    return M.astype(LD)


def term_scale(case: Any) -> np.ndarray | None:
    """M_n in the shape of the unreduced loss (0 where zero_infinity zeroed the loss)."""
    M = loss_scale(case)
    if M is None:
        return None
    if case.effective_options().get("zero_infinity"):
        M = np.where(np.isinf(analysis(case).loss), 0, M)
    return M if _batched(case) else M.reshape(())


def mean_term_factor(case: Any) -> np.ndarray:
    """'mean' divides loss_n by U_n before averaging (inf at U_n = 0, as documented)."""
    tl = np.asarray(case.inputs["target_lengths"], dtype=LD).reshape(-1)
    with np.errstate(divide="ignore"):
        f = 1 / tl
    return f if _batched(case) else f.reshape(())


def seed(case: Any, grad_output: Any, N: int) -> np.ndarray:
    """r_n: d(output)/d(loss_n) times grad_output (the oracle's, documented, reading)."""
    red = case.reduction
    g = np.ones(N, dtype=LD) if grad_output is None else np.asarray(grad_output, dtype=LD)
    g = np.broadcast_to(g.reshape(-1) if red == "none" else g.reshape(()), (N,)).astype(LD)
    if red == "mean":
        tl = np.asarray(case.inputs["target_lengths"], dtype=LD).reshape(-1)
        with np.errstate(all="ignore"):
            g = g / (LD(N) * tl)
    return g


def _torch_terms(case: Any, grad_output: Any) -> dict[str, np.ndarray] | None:
    an = analysis(case, occupations=True)
    if an is None:
        return None
    N = an.x.shape[1]
    r = seed(case, grad_output, N)[None, :, None]
    m = _magnitudes(an)
    steps = m["steps"][:, :, None]
    with np.errstate(all="ignore"):
        p = np.where(steps, np.exp(an.x), 0)
        gamma = an.occupations
        g = np.where(steps, r * (p - gamma), 0)  # torch's log_probs gradient
        nll = np.where(np.isfinite(an.loss), np.abs(an.loss), 0)[None, :]
        K = m["EA"] + m["EB"] + loss_scale(case)[None, :] + 3 * (m["P"] + m["Q"] + nll)
        K = K + 2 * m["a"] + 2 * (2 * max((len(t) for t in an.targets), default=0) + 1) + 5
        if _variant_scores(case):
            K = K + m["D"][None, :]
        dG = np.abs(r) * (gamma * K[:, :, None] + p) + 4 * np.abs(g)
    return {"p": p, "gamma": gamma, "g": g, "dG": dG, "r": r, "steps": steps}


def _batched(case: Any) -> bool:
    first = case.inputs.get("log_probs", case.inputs.get("scores"))
    return np.ndim(first) == 3


def gradient_scale(case: Any, name: str, grad_output: Any) -> np.ndarray | None:
    """G per element (units of u) of torch's gradient (module docstring)."""
    parts = _torch_terms(case, grad_output)
    if parts is None:
        return None
    dG, g, p = parts["dG"], parts["g"], parts["p"]
    with np.errstate(all="ignore"):
        G = _through_log_softmax(dG, g, p) if name == "scores" else dG
        G = np.nan_to_num(G.astype(LD), nan=0.0, posinf=0.0)
    return G if _batched(case) else G[:, 0, :]


def _through_log_softmax(dG: np.ndarray, g: np.ndarray, p: np.ndarray) -> np.ndarray:
    """G_c = dG_c + p_c (sum dG + C sum |g| + 2 |sum g|) + |dz_c| (module docstring)."""
    C = g.shape[2]
    sg = np.sum(g, axis=2, keepdims=True)
    dz = g - p * sg
    spread = np.sum(dG, axis=2, keepdims=True) + C * np.sum(np.abs(g), axis=2, keepdims=True)
    return dG + p * (spread + 2 * np.abs(sg)) + np.abs(dz)


def log_softmax_input_gradients(case: Any, grad_output: Any) -> tuple[str, dict] | None:
    """torch's documented-elsewhere quantity: d loss / d log_probs computed as if log_probs
    were log_softmax outputs, r (exp(x) - gamma) (Graves's eq. 16, the gradient with respect
    to the unnormalised scores): the free-input gradient plus r exp(x) at t < T'_n, with
    the documented NaN / zero_infinity zeros of an infinite loss kept."""
    if _variant_scores(case):
        return None
    parts = _torch_terms(case, grad_output)
    if parts is None:
        return None
    an = analysis(case)
    zero_inf = bool(case.effective_options().get("zero_infinity"))
    infeasible = np.isinf(an.loss)[None, :, None] & parts["steps"]
    fill = 0.0 if zero_inf else np.nan
    g = np.where(infeasible, fill, parts["g"]).astype(LD)
    return "log_softmax-input", {"log_probs": g if _batched(case) else g[:, 0, :]}
