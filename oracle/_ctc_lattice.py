"""The CTC alignment lattice: forward (alpha) and backward (beta) recursions, vectorised over
the batch and the extended label positions, looping only over time.

Graves et al. (2006), the paper torch's documentation cites. The extended label sequence of a
target ``l`` of length U is ``l' = (blank, l_1, blank, l_2, ..., l_U, blank)``, of length
L = 2U + 1. With ``y_t(s) = exp(log_probs[t, l'_s])``::

    alpha_0(0) = y_0(0),  alpha_0(1) = y_0(1),  alpha_0(s) = 0 for s > 1
    alpha_t(s) = y_t(s) * (alpha_{t-1}(s) + alpha_{t-1}(s-1) + [skip(s)] alpha_{t-1}(s-2))
    skip(s)    = l'_s is a label and l'_s != l'_{s-2}   (a blank between repeated labels)
    p(l | x)   = alpha_{T'-1}(L-1) + alpha_{T'-1}(L-2)      (T' = the input length)

The backward variable here excludes the emission at t (Graves's beta_t(s) / y_t(s))::

    b_{T'-1}(s) = 1 for s in {L-1, L-2}, else 0
    b_t(s)      = sum over s' in {s, s+1, s+2 if skip(s+2)} of y_{t+1}(s') b_{t+1}(s')

so that ``alpha_t(s) b_t(s)`` is the total probability of the alignments that are in state
``s`` at time ``t``, and the occupation ``gamma_t(s) = alpha_t(s) b_t(s) / p(l | x)`` needs no
division by ``y_t(s)`` (an exact 0 where ``log_probs`` is -inf, never 0/0).

Two exact-to-rounding evaluations:

- ``scaled``: the recursion in linear space in ``WORK`` (64-bit significand) on
  ``y = exp(log_probs)``, each alpha/beta row rescaled by an exact power of two after every
  step (the exponents summed as integers). Every quantity is a product or a sum of positive
  numbers: a relative error of at most 4 u_WORK per step, no cancellation. It is exact only
  while nothing leaves the normal range, which ``_scaled`` checks (its docstring); a sample
  that could is redone by
- ``logspace``: the same recursion on logarithms with ``logaddexp``, slower but free of
  underflow, and the IEEE reading of NaN and +inf log-probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import WORK

__all__ = ["Lattice", "LatticeResult", "solve"]

LN2 = np.log(WORK(2))
ONE = WORK(1)
SAFE = np.ldexp(ONE, -8000)  # a nonzero alpha or b below this: the scaled path yields
Y_MIN = np.ldexp(ONE, -400)  # a y outside [Y_MIN, Y_MAX]: the scaled path yields
Y_MAX = np.ldexp(ONE, 64)
RESCALE_EVERY = 4
CHECK_EVERY = 16


@dataclass
class Lattice:
    """One batch's lattice: ``x`` (T, N, C) log-probabilities and the extended labels."""

    x: np.ndarray  # (T, N, C) WORK
    labels: np.ndarray  # (N, Lmax) int: the class of each extended position (blank padding)
    L: np.ndarray  # (N,) int: 2 U_n + 1
    skip: np.ndarray  # (N, Lmax) bool
    lengths: np.ndarray  # (N,) int: the input lengths T'_n

    @classmethod
    def build(
        cls, log_probs: np.ndarray, targets: list[np.ndarray], lengths: np.ndarray, blank: int
    ) -> Lattice:
        N = log_probs.shape[1]
        umax = max((len(t) for t in targets), default=0)
        lmax = 2 * umax + 1
        labels = np.full((N, lmax), blank, dtype=np.int64)
        for n, tgt in enumerate(targets):
            labels[n, 1 : 2 * len(tgt) : 2] = tgt
        L = np.array([2 * len(t) + 1 for t in targets], dtype=np.int64)
        skip = np.zeros((N, lmax), dtype=bool)
        if lmax > 2:
            skip[:, 2:] = (labels[:, 2:] != blank) & (labels[:, 2:] != labels[:, :-2])
        skip &= np.arange(lmax)[None, :] < L[:, None]
        return cls(log_probs, labels, L, skip, np.asarray(lengths, dtype=np.int64))

    @property
    def valid(self) -> np.ndarray:
        """(N, Lmax) bool: the extended positions sample n has (s < L_n)."""
        return np.arange(self.labels.shape[1])[None, :] < self.L[:, None]

    @property
    def steps(self) -> np.ndarray:
        """(T, N) bool: the time steps sample n reads (t < T'_n)."""
        return np.arange(self.x.shape[0])[:, None] < self.lengths[None, :]

    def gather(self, v: np.ndarray, fill: np.ndarray) -> np.ndarray:
        """(T, N, Lmax): ``v[t, n, l'_{n,s}]``, ``fill`` at s >= L_n."""
        T = v.shape[0]
        idx = np.broadcast_to(self.labels[None], (T, *self.labels.shape))
        return np.where(self.valid[None], np.take_along_axis(v, idx, axis=2), fill)

    def subset(self, keep: np.ndarray) -> Lattice:
        return Lattice(
            self.x[:, keep], self.labels[keep], self.L[keep], self.skip[keep], self.lengths[keep]
        )

    def final_states(self) -> np.ndarray:
        """(N, Lmax) bool: the states a complete alignment ends in (L-1 and L-2)."""
        s = np.arange(self.labels.shape[1])[None, :]
        return (s == self.L[:, None] - 1) | (s == self.L[:, None] - 2)


@dataclass
class LatticeResult:
    log_p: np.ndarray  # (N,) WORK: log p(l | x)
    gamma: np.ndarray | None  # (T, N, Lmax) WORK: occupations (0 for t >= T'_n), or None


def solve(lat: Lattice, occupations: bool) -> LatticeResult:
    """log p(l|x) per sample and, with ``occupations``, gamma_t(s): scaled where exact, else
    in log space (module docstring)."""
    x = lat.x
    T, N, C = x.shape
    used = np.zeros((N, C), dtype=bool)
    used[np.arange(N)[:, None], lat.labels] = True
    with np.errstate(all="ignore"):
        e = np.exp(x)
        out_of_range = (np.isnan(x) | (x == np.inf)) | (
            np.isfinite(x) & ((e < Y_MIN) | (e > Y_MAX))
        )
    read = used[None] & lat.steps[:, :, None]
    risky = np.any(out_of_range & read, axis=(0, 2))
    log_p = np.empty(N, dtype=WORK)
    gamma = None
    ok = ~risky
    if ok.all():  # the common case: no copies of the (T, N, Lmax) arrays
        with np.errstate(all="ignore"):
            probs = np.where(x == -np.inf, 0, e).astype(WORK)
        log_p, gamma, fine = _scaled(lat, probs, occupations)
        risky = ~fine
    elif ok.any():
        if occupations:
            gamma = np.zeros((T, N, lat.labels.shape[1]), dtype=WORK)
        with np.errstate(all="ignore"):
            probs = np.where(np.isfinite(x[:, ok]), e[:, ok], 0).astype(WORK)
        lp, gm, fine = _scaled(lat.subset(ok), probs, occupations)
        idx = np.flatnonzero(ok)
        log_p[idx] = lp
        if gamma is not None:
            gamma[:, idx] = gm
        risky[idx[~fine]] = True
    if occupations and gamma is None:
        gamma = np.zeros((T, N, lat.labels.shape[1]), dtype=WORK)
    if risky.any():
        lp, gm = _logspace(lat.subset(risky), occupations)
        log_p[risky] = lp
        if gamma is not None:
            gamma[:, risky] = gm
    return LatticeResult(log_p, gamma)


def _frexp_scale(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the exact power of two 2^-e bringing its max into [0.5, 1), and e."""
    _, e = np.frexp(rows.max(axis=1))
    return np.ldexp(ONE, -e), e.astype(np.int64)


def _too_small(rows: np.ndarray, read: np.ndarray) -> np.ndarray:
    """(N,) bool: a row read by its sample holds a nonzero value below SAFE."""
    return np.any((rows > 0) & (rows < SAFE), axis=1) & read


def _scaled(
    lat: Lattice, probs: np.ndarray, occupations: bool
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The recursions in scaled linear space on ``probs = exp(x)`` (0 where x = -inf).
    Returns log p, gamma and, per sample, whether every value stayed in the exact range
    (else the caller redoes it in log space).

    Exactness: every y read is in [2^-400, 2^64] (``solve`` sends other samples to log
    space). A row is rescaled every RESCALE_EVERY = 4 steps, so between rescalings its
    values grow by at most (3 * 2^64)^4 < 2^264 (no overflow) and each step multiplies a
    value by a y (at least 2^-400) and, at a rescaling, by at least 2^-66 per step since the
    last: CHECK_EVERY = 16 steps shrink a value by at most 2^-7456. A value found at or above
    SAFE = 2^-8000 at a check stays above 2^-15456, inside the normal range (2^-16382),
    until the next check; a value found below SAFE sends the sample to log space."""
    T, N, _ = probs.shape
    lmax = lat.labels.shape[1]
    # a zero column for the padding positions s >= L_n, so one gather gives y
    padded = np.concatenate([probs, np.zeros((T, N, 1), dtype=WORK)], axis=2)
    labels = np.where(lat.valid, lat.labels, probs.shape[2])
    cols = (np.arange(N)[:, None], labels)
    skipf = lat.skip[:, 2:].astype(WORK)
    lengths = lat.lengths
    # alpha_t, each row scaled by 2^-ea[t]: every step kept for the occupations, else only
    # the current one (a forward pass needs O(N Lmax) memory beyond log_probs)
    A = np.empty((T if occupations else 2, N, lmax), dtype=WORK)
    ea = np.zeros((T, N), dtype=np.int64)
    a_fin = np.zeros((N, lmax), dtype=WORK)
    a_fin[:, 0] = 1
    ends = {}
    for n, length in enumerate(lengths.tolist()):
        if length > 0:
            ends.setdefault(length - 1, []).append(n)
    a = np.zeros((N, lmax), dtype=WORK)
    a[:, 0] = 1  # the empty prefix: one (virtual) blank state of probability 1
    run = np.zeros(N, dtype=np.int64)
    small = np.zeros(N, dtype=bool)
    with np.errstate(all="ignore"):
        for t in range(T):
            new = A[t] if occupations else A[t % 2]  # never the buffer ``a`` lives in
            np.copyto(new, a)
            new[:, 1:] += a[:, :-1]
            new[:, 2:] += a[:, :-2] * skipf
            new *= padded[t][cols]
            if t % RESCALE_EVERY == 0:
                scale, e = _frexp_scale(new)
                new *= scale[:, None]
                run = run + e
            ea[t] = run
            a = new
            if t in ends:
                a_fin[ends[t]] = new[ends[t]]
            if t % CHECK_EVERY == CHECK_EVERY - 1 or t == T - 1:
                small |= _too_small(new, t < lengths)
        rows = np.arange(N)
        last = np.maximum(lengths - 1, 0)
        e_fin = np.where(lengths > 0, ea[last, rows], 0)
        final = lat.final_states()
        p_hat = np.sum(np.where(final, a_fin, 0), axis=1, dtype=WORK)
        log_p = np.log(p_hat) + e_fin.astype(WORK) * LN2
        if not occupations:
            return log_p, None, ~small
        terminal = final.astype(WORK)
        b = terminal.copy()
        run = np.zeros(N, dtype=np.int64)
        feasible = p_hat > 0
        for t in range(T - 1, -1, -1):
            # gamma_t = alpha_t b_t / p, the scales restored exactly
            read = (t < lengths) & feasible
            factor = np.where(read, np.ldexp(ONE, ea[t] + run - e_fin) / p_hat, 0)
            A[t] *= b
            A[t] *= factor[:, None]
            if t % CHECK_EVERY == 0:
                small |= _too_small(b, t < lengths)
            if t == 0:
                break
            w = padded[t][cols] * b
            new = w.copy()
            new[:, :-1] += w[:, 1:]
            new[:, :-2] += w[:, 2:] * skipf
            if t % RESCALE_EVERY == 0:
                scale, e = _frexp_scale(new)
                new *= scale[:, None]
                run = run + e
            at_end = t >= lengths  # b_{t-1} is still the terminal row for these samples
            if at_end.any():
                new[at_end] = terminal[at_end]
                run[at_end] = 0
            b = new
    return log_p, A, ~small


def _logspace(lat: Lattice, occupations: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The same recursions on logarithms (logaddexp): no underflow, IEEE NaN and inf."""
    T, N, lmax = lat.x.shape[0], lat.x.shape[1], lat.labels.shape[1]
    ninf = WORK(-np.inf)
    G = lat.gather(lat.x, ninf).astype(WORK)
    lengths = lat.lengths
    skip = lat.skip

    def advance(a: np.ndarray) -> np.ndarray:
        out = a.copy()
        out[:, 1:] = np.logaddexp(out[:, 1:], a[:, :-1])
        out[:, 2:] = np.logaddexp(out[:, 2:], np.where(skip[:, 2:], a[:, :-2], ninf))
        return out

    def retreat(w: np.ndarray) -> np.ndarray:
        out = w.copy()
        out[:, :-1] = np.logaddexp(out[:, :-1], w[:, 1:])
        out[:, :-2] = np.logaddexp(out[:, :-2], np.where(skip[:, 2:], w[:, 2:], ninf))
        return out

    with np.errstate(all="ignore"):
        alpha = np.full((N, lmax), ninf, dtype=WORK)
        alpha[:, 0] = 0
        alphas = np.empty((T, N, lmax), dtype=WORK)
        for t in range(T):
            new = advance(alpha)
            # a state no alignment reaches stays -inf whatever its entry (-inf + NaN is NaN)
            new = np.where(new == ninf, ninf, new + G[t])
            alpha = np.where((t < lengths)[:, None], new, alpha)
            alphas[t] = alpha
        final = lat.final_states()
        log_p = np.logaddexp.reduce(np.where(final, alpha, ninf), axis=1).astype(WORK)
        if not occupations:
            return log_p, None
        gamma = np.zeros((T, N, lmax), dtype=WORK)
        terminal = np.where(final, WORK(0), ninf)
        beta = terminal.copy()
        for t in range(T - 1, -1, -1):
            dead = (alphas[t] == ninf) | (beta == ninf)  # no alignment passes here: 0
            g = np.where(dead, 0, np.exp(alphas[t] + beta - log_p[:, None]))
            gamma[t] = np.where((t < lengths)[:, None], g, 0)
            if t == 0:
                break
            new = retreat(np.where(beta == ninf, ninf, G[t] + beta))
            beta = np.where((t >= lengths)[:, None], terminal, new)
    return log_p, gamma
