"""Oracle for ``torch.nn.functional.ctc_loss`` / ``torch.nn.CTCLoss``.

Documentation: torch 2.13. Written from the documentation (and the Graves et al. 2006 paper
it cites), not from torch's code.

"CTCLoss sums over the probability of possible alignments of input to target": for sample n
with log-probabilities ``x = log_probs[:, n, :]`` read up to its input length ``T'_n`` and
target ``l = targets_n[:U_n]``::

    loss_n = -log p(l | x) = -log sum over alignments pi with B(pi) = l of
             prod_{t < T'_n} exp(x[t, pi_t])

where ``B`` removes repeated symbols and then blanks. The sum is evaluated by the alpha/beta
recursions of :mod:`oracle._ctc_lattice`. Reductions (documented): ``'none'`` the vector of
``loss_n`` (a 0-d value for unbatched input), ``'sum'`` their sum, ``'mean'`` "the output
losses will be divided by the target lengths and then the mean over the batch is taken":
``mean_n(loss_n / U_n)``. The docs put no guard on ``U_n = 0``: the oracle divides by it
(``+inf`` for a positive loss, NaN for 0/0). ``zero_infinity``: "Whether to zero infinite
losses and the associated gradients": an infinite ``loss_n`` becomes 0, and so do the
gradients of that sample's entries; this happens before the 'mean' division.

Conventions where the docs are silent (each the reading the formula gives):

- an infinite loss (no alignment has positive probability: a target too long for its input,
  or every alignment through a -inf log-probability) has no derivative: its sample's gradient
  entries ``t < T'_n`` are NaN unless ``zero_infinity`` zeroes them;
- entries at ``t >= T'_n`` are never read by the loss: their gradient is exactly 0;
- ``-inf`` log-probabilities (zero probabilities) are ordinary data: alignments through them
  have probability 0 and their gradient entries are exact zeros;
- NaN or +inf log-probabilities follow IEEE arithmetic through the formula;
- a padded target's entries beyond ``target_lengths[n]`` are never read and may hold any
  integer (the docs call them padding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import WORK, OracleInputError, as_work, check_reduction, reduction_grad
from ._ctc_lattice import Lattice, solve

__all__ = [
    "CTCAnalysis",
    "ctc_analysis",
    "ctc_loss",
    "ctc_loss_from_scores",
    "ctc_loss_from_scores_gradients",
    "ctc_loss_gradients",
    "log_softmax",
]


def _integers(value: Any, name: str) -> np.ndarray:
    """A Python int / sequence of ints or an integer array, as int64 (floats are rejected)."""
    if isinstance(value, bool | np.bool_):
        raise OracleInputError(name, "must be integers, got a bool")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise OracleInputError(name, f"cannot be read as integers ({exc})") from None
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise OracleInputError(name, f"must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise OracleInputError(name, f"must be a bool, got {value!r}")
    return bool(value)


@dataclass
class _Problem:
    """The validated arguments: log_probs as (T, N, C) and each sample's label sequence."""

    x: np.ndarray
    targets: list[np.ndarray]
    input_lengths: np.ndarray
    target_lengths: np.ndarray
    blank: int
    reduction: str
    zero_infinity: bool
    batched: bool

    @classmethod
    def parse(
        cls,
        log_probs: Any,
        targets: Any,
        input_lengths: Any,
        target_lengths: Any,
        blank: Any,
        reduction: Any,
        zero_infinity: Any,
    ) -> _Problem:
        x = as_work(log_probs, "log_probs")
        if x.ndim not in (2, 3):
            raise OracleInputError(
                "log_probs", f"must be (T, N, C) or (T, C), got shape {tuple(x.shape)}"
            )
        batched = x.ndim == 3
        if not batched:
            x = x[:, None, :]
        T, N, C = x.shape
        if isinstance(blank, bool | np.bool_) or not isinstance(blank, int | np.integer):
            raise OracleInputError("blank", f"must be an int, got {blank!r}")
        if not 0 <= int(blank) < C:
            raise OracleInputError("blank", f"{blank} is not a class index in [0, {C})")
        reduction = check_reduction(reduction)
        zero_infinity = _flag(zero_infinity, "zero_infinity")
        lengths = {}
        for name, value in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
            arr = _integers(value, name)
            want = ((N,),) if batched else ((), (1,))
            if arr.shape not in want:
                shapes = " or ".join(str(w) for w in want)
                raise OracleInputError(
                    name, f"shape {tuple(arr.shape)} is not {shapes} (N = {N} samples)"
                )
            arr = arr.reshape(N)
            if np.any(arr < 0):
                raise OracleInputError(name, f"must be non-negative, got {arr.tolist()}")
            lengths[name] = arr
        il, tl = lengths["input_lengths"], lengths["target_lengths"]
        if np.any(il > T):
            raise OracleInputError("input_lengths", f"must each be <= T = {T}, got {il.tolist()}")
        rows = cls._rows(_integers(targets, "targets"), tl, N)
        for n, row in enumerate(rows):
            bad = (row < 0) | (row >= C)
            if np.any(bad):
                raise OracleInputError(
                    "targets", f"sample {n} has class {int(row[bad][0])} outside [0, {C})"
                )
            if np.any(row == blank):
                raise OracleInputError(
                    "targets", f"sample {n} contains the blank {blank} ('cannot be blank')"
                )
        return cls(x, rows, il, tl, int(blank), reduction, zero_infinity, batched)

    @staticmethod
    def _rows(tg: np.ndarray, tl: np.ndarray, N: int) -> list[np.ndarray]:
        """Each sample's label sequence: row n's first U_n entries of padded (N, S) targets,
        or consecutive slices of concatenated 1-d targets. Unbatched input is one sample
        (N = 1): its targets are (1, S) padded or (U,) concatenated."""
        if tg.ndim == 2:
            if tg.shape[0] != N:
                raise OracleInputError(
                    "targets", f"padded targets have {tg.shape[0]} rows, log_probs N = {N}"
                )
            if np.any(tl > tg.shape[1]):
                raise OracleInputError(
                    "target_lengths", f"must each be <= S = {tg.shape[1]}, got {tl.tolist()}"
                )
            return [tg[n, : tl[n]] for n in range(N)]
        if tg.ndim == 1:
            if int(tl.sum()) != tg.shape[0]:
                raise OracleInputError(
                    "target_lengths",
                    f"sum {int(tl.sum())} is not the length {tg.shape[0]} of the concatenated "
                    "targets ('must add up to the total length of the tensor')",
                )
            ends = np.cumsum(tl)
            return [tg[e - u : e] for e, u in zip(ends, tl, strict=True)]
        raise OracleInputError("targets", f"must be (N, S) or 1-d, got shape {tuple(tg.shape)}")


@dataclass
class _Solution:
    problem: _Problem
    loss: np.ndarray  # (N,) WORK, after zero_infinity
    infinite: np.ndarray  # (N,) bool: the loss before zero_infinity was infinite
    gamma_by_class: np.ndarray | None  # (T, N, C): sum of occupations of each class

    @classmethod
    def of(cls, problem: _Problem, gradients: bool) -> _Solution:
        log_p, gamma_c = _lattice_solution(problem, gradients)
        with np.errstate(all="ignore"):
            loss = -log_p
        infinite = np.isinf(loss)
        if problem.zero_infinity:
            loss = np.where(infinite, WORK(0), loss)
        return cls(problem, loss.astype(WORK), infinite, gamma_c)

    def reduced(self) -> np.ndarray:
        p = self.problem
        with np.errstate(all="ignore"):
            if p.reduction == "none":
                return self.loss if p.batched else self.loss.reshape(())
            if p.reduction == "sum":
                return np.asarray(np.sum(self.loss, dtype=WORK), dtype=WORK)
            per = self.loss / p.target_lengths.astype(WORK)
            return np.asarray(np.sum(per, dtype=WORK) / WORK(per.size), dtype=WORK)

    def seed(self, grad_output: Any) -> np.ndarray:
        """d(output)/d(loss_n) times grad_output, per sample (N,)."""
        p = self.problem
        shape = (p.x.shape[1],) if p.batched else ()
        base = "sum" if p.reduction == "mean" else p.reduction
        r = reduction_grad(grad_output, shape, base).reshape(-1).astype(WORK)
        if p.reduction == "mean":
            with np.errstate(all="ignore"):
                r = r / (WORK(r.size) * p.target_lengths.astype(WORK))
        return r

    def free_gradient(self, grad_output: Any) -> np.ndarray:
        """d/d log_probs[t, n, c] = -r_n sum_{s: l'_s = c} gamma_t(s) (t < T'_n), else 0."""
        r = self.seed(grad_output)
        with np.errstate(all="ignore"):
            g = -(r[None, :, None] * self.gamma_by_class)
            g = self._mask(g)
        return g.astype(WORK)

    def _mask(self, g: np.ndarray) -> np.ndarray:
        """Zero t >= T'_n; NaN (or 0 with zero_infinity) where the loss was infinite."""
        p = self.problem
        T = g.shape[0]
        steps = (np.arange(T)[:, None] < p.input_lengths[None, :])[:, :, None]
        bad = self.infinite[None, :, None] & steps
        fill = WORK(0) if p.zero_infinity else WORK(np.nan)
        g = np.where(bad, fill, g)
        return np.where(steps, g, WORK(0)) + WORK(0)  # + 0 turns -0 into 0

    def shaped(self, g: np.ndarray) -> np.ndarray:
        return g if self.problem.batched else g[:, 0, :]


# The last few lattice solutions of small problems, by the exact bytes of what they depend
# on: a judge asks for the value, the unreduced terms and the gradients of one problem in
# turn, and the recursions are the cost. A pure function of its key; a hit returns the same
# (read-only) arrays. Large problems (benchmarks) are always solved afresh.
_SOLUTIONS: dict[tuple, tuple[np.ndarray, np.ndarray | None]] = {}
_SOLUTIONS_KEPT = 4
_SOLUTIONS_MAX_SIZE = 100_000  # elements of log_probs


def _lattice_solution(problem: _Problem, gradients: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(log p per sample, the per-class occupations or None), memoised."""
    key = (
        problem.x.shape,
        problem.x.tobytes(),
        tuple(tuple(int(c) for c in row) for row in problem.targets),
        problem.input_lengths.tobytes(),
        problem.blank,
    )
    hit = _SOLUTIONS.get(key)
    if hit is not None and (hit[1] is not None or not gradients):
        return hit
    lat = Lattice.build(problem.x, problem.targets, problem.input_lengths, problem.blank)
    res = solve(lat, gradients)
    gamma_c = None
    if res.gamma is not None:
        gamma_c = _by_class(res.gamma, lat.labels, problem.x.shape[2], problem.blank)
    if problem.x.size > _SOLUTIONS_MAX_SIZE:
        return res.log_p, gamma_c
    for a in (res.log_p, gamma_c):
        if a is not None:
            a.flags.writeable = False
    _SOLUTIONS.pop(key, None)
    _SOLUTIONS[key] = (res.log_p, gamma_c)
    while len(_SOLUTIONS) > _SOLUTIONS_KEPT:
        _SOLUTIONS.pop(next(iter(_SOLUTIONS)))
    return res.log_p, gamma_c


def _by_class(gamma: np.ndarray, labels: np.ndarray, C: int, blank: int) -> np.ndarray:
    """(T, N, C): the occupations of the extended positions summed per class."""
    T, N, _ = gamma.shape
    out = np.zeros((N, C, T), dtype=WORK)  # time last: each update below is contiguous
    out[:, blank, :] = np.sum(gamma[:, :, 0::2], axis=2, dtype=WORK).T
    by_label = np.ascontiguousarray(gamma[:, :, 1::2].transpose(2, 1, 0))  # (U, N, T)
    rows = np.arange(N)
    for u in range(by_label.shape[0]):
        out[rows, labels[:, 2 * u + 1], :] += by_label[u]  # distinct (n, class) pairs per u
    return np.ascontiguousarray(out.transpose(2, 0, 1))


@dataclass
class CTCAnalysis:
    """What a judge of an implementation needs to know about one problem (batched view)."""

    x: np.ndarray  # (T, N, C) log-probabilities, WORK
    targets: list[np.ndarray]  # each sample's label sequence
    input_lengths: np.ndarray  # (N,)
    target_lengths: np.ndarray  # (N,)
    blank: int
    loss: np.ndarray  # (N,) -log p(l|x), before zero_infinity (+inf where infeasible)
    occupations: np.ndarray | None  # (T, N, C) gamma_t(c) (0 for t >= T'_n, infeasible)


def ctc_analysis(
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    occupations: bool = True,
) -> CTCAnalysis:
    """The per-sample losses and (with ``occupations``; else None) the per-class
    occupations gamma_t(c) of a problem."""
    problem = _Problem.parse(
        log_probs, targets, input_lengths, target_lengths, blank, "none", False
    )
    sol = _Solution.of(problem, gradients=occupations)
    return CTCAnalysis(
        problem.x,
        problem.targets,
        problem.input_lengths,
        problem.target_lengths,
        problem.blank,
        sol.loss,
        sol.gamma_by_class,
    )


def ctc_loss(
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> np.ndarray:
    """The documented CTC loss (module docstring), as a ``WORK`` array."""
    problem = _Problem.parse(
        log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity
    )
    return _Solution.of(problem, gradients=False).reduced()


def ctc_loss_gradients(
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    """The gradient of the documented loss with respect to ``log_probs`` as free inputs.

    Each entry is its own variable (nothing ties a time step's entries to a distribution):
    ``loss_n = -log p``, ``dp/dx[t, c] = sum_{s: l'_s = c} alpha_t(s) b_t(s)`` (each
    alignment's probability is a product containing ``exp(x[t, pi_t])`` once), so
    ``d loss_n / d x[t, c] = -gamma_t(c)``, the expected number of times the alignments sit
    in class c at step t. Times ``r_n``: ``grad_output`` (per sample for 'none'), divided by
    ``N U_n`` for 'mean'. Only ``log_probs`` is differentiable (targets and lengths are
    integers).
    """
    problem = _Problem.parse(
        log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity
    )
    sol = _Solution.of(problem, gradients=True)
    return {"log_probs": sol.shaped(sol.free_gradient(grad_output))}


def log_softmax(scores: Any, name: str = "scores") -> np.ndarray:
    """``z - log sum_c exp(z_c)`` over the last axis, in ``WORK`` (max-shifted)."""
    z = as_work(scores, name)
    with np.errstate(all="ignore"):
        m = np.max(z, axis=-1, keepdims=True) if z.shape[-1] else z.sum(-1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        return (z - m - np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))).astype(WORK)


def ctc_loss_from_scores(
    scores: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> np.ndarray:
    """``ctc_loss(log_softmax(scores, -1), ...)``: the documented way to obtain log_probs."""
    return ctc_loss(
        log_softmax(scores), targets, input_lengths, target_lengths, blank, reduction, zero_infinity
    )


def ctc_loss_from_scores_gradients(
    scores: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    """The gradient with respect to unnormalised ``scores`` passed through ``log_softmax``.

    With ``x = log_softmax(z)`` and ``g = d loss / d x`` (:func:`ctc_loss_gradients`), the
    chain rule through ``d x_c / d z_k = [c = k] - softmax(z)_k`` gives
    ``d loss / d z_k = g_k - softmax(z)_k sum_c g_c = r_n (softmax(z)_k sum_c gamma_t(c) -
    gamma_t(k))``, which is ``r_n (softmax(z)_k - gamma_t(k))`` because the occupations of a
    time step sum to 1: the quantity Graves's paper derives (its eq. 16) and torch's backward
    returns as the gradient with respect to ``log_probs`` itself.
    """
    x = log_softmax(scores)
    problem = _Problem.parse(
        x, targets, input_lengths, target_lengths, blank, reduction, zero_infinity
    )
    sol = _Solution.of(problem, gradients=True)
    g = sol.free_gradient(grad_output)
    with np.errstate(all="ignore"):
        xs = problem.x
        dz = g - np.exp(xs) * np.sum(g, axis=2, keepdims=True, dtype=WORK)
    return {"scores": sol.shaped((dz + WORK(0)).astype(WORK))}
