"""Rounding-error scales of log-softmax losses (rule 3's ``term_scale`` and rule 4's
``gradient_scale`` for NLL-of-log-softmax: cross entropy and linear cross entropy).

Derivation (u the dtype's unit roundoff). torch computes log p_c = (x_c - m) - log s with
m = max_j x_j and s = sum_j exp(x_j - m) in [1, C]. Each x_c - m rounds, an absolute error
u |x_c - m|; exp of a value off by that is off relatively by u |x_j - m|, so s is off
relatively by u (max_j |x_j - m| + C) (C for its own sum), and log s absolutely by as
much. With one more rounding of the result, |error of log p_c| <= u E_c where

    E_c = |x_c - m| + max_j |x_j - m| + C + 3.

A loss term l = -sum_c w_c q_c log p_c (q the target distribution, smoothing applied) is
then off by at most u sum_c |w_c q_c| E_c = u M: a bound independent of how small l is
(l cancels to ~0 when p_y ~ 1, which an ULP budget of l alone cannot absorb).

Gradients: dl/dx_c = W p_c - w_c q_c with W = sum_j w_j q_j and p_c = exp(log p_c), whose
relative error is u (E_c + 1); so |error| <= u |r| (W' p_c (E_c + 2)) with W' = sum|w q|
and r the reduction's seed. The target's gradient -r w_c (1 - eps) log p_c carries the
error of log p_c: u |r w_c| (1 - eps) (E_c + |log p_c|). A weight's gradient (probability
targets) sums -r q_c log p_c over all positions: u sum |r q_c| (E_c + |log p_c| (log2 N +
64)), the second part for the sum (u >= u_acc).

For linear cross entropy the logits z = x W^T + b are themselves rounded: |error of z_c| <=
u (K + 2) Z_c with Z_c = sum_i |x_i W_ci| + |b_c| (K = in_features, Higham 3.5), which
enters E_c as (K + 2) (Z_c + max_j Z_j); the gradients of x, W and b are sums over C and
N of A_c = |r| (W' p_c (E_c + 3) + |w_c q_c|) times |W| or |x|, with (C + 2) and
(N + 2) roundings of those sums.

All of it multiplies terms_u of the budget (tolerances.toml) and u. The linear bounds
hold while u E is small; a row with u E >= 1/4 (logits of 1e4 in bfloat16) is saturated:
its probabilities, and so its gradient, are known only to lie in their range.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from suites.dtypes import info
from suites.specs._classes import class_axis, effective_ignore, kept

LD = np.longdouble


def _last(a: np.ndarray, axis: int) -> np.ndarray:
    return np.moveaxis(a, axis, -1)


def _weights(case: Any, c: int) -> np.ndarray:
    w = case.inputs.get("weight")
    return np.ones(c, dtype=LD) if w is None else w.astype(LD)


def target_distribution(case: Any, x_last: np.ndarray) -> np.ndarray:
    """q: the documented target distribution (smoothing applied, ignored rows 0), class
    axis last, in longdouble."""
    c = x_last.shape[-1]
    eps = LD(case.effective_options().get("label_smoothing", 0.0) or 0.0)
    t = case.inputs["target"]
    if np.issubdtype(t.dtype, np.integer):
        keep = kept(case)
        safe = np.clip(np.where(keep, t, 0), 0, max(c - 1, 0))
        onehot = (np.arange(c) == safe[..., None]).astype(LD)
        q = (1 - eps) * onehot + eps / max(c, 1)
        return q * keep[..., None]
    y = _last(t.astype(LD), class_axis(t.shape))
    return (1 - eps) * y + eps / max(c, 1)


def _seed(case: Any, grad_output: Any, shape: tuple[int, ...]) -> np.ndarray:
    """|r|: the reduction's gradient seed per term (g, or g / D for 'mean')."""
    g = LD(1) if grad_output is None else np.abs(np.asarray(grad_output, dtype=LD))
    if case.reduction == "none":
        return np.broadcast_to(g, shape)
    if case.reduction == "sum":
        return np.broadcast_to(g, shape)
    t = case.inputs["target"]
    if np.issubdtype(t.dtype, np.integer):
        from suites.specs._classes import target_weights

        den = abs(target_weights(case).sum())
    else:
        den = LD(math.prod(shape))
    with np.errstate(all="ignore"):
        return np.broadcast_to(g / den if den else LD(0), shape)


class SoftmaxError:
    """The quantities of the derivation above for one case, class axis last."""

    def __init__(self, case: Any, logits: np.ndarray, matmul: np.ndarray | None = None) -> None:
        with np.errstate(all="ignore"):
            axis = class_axis(logits.shape)
            x = _last(logits.astype(LD), axis)
            self.c = x.shape[-1]
            # infinite logits are exact: the magnitudes come from the finite ones only
            finite = np.isfinite(x)
            xf = np.where(finite, x, 0)
            m = np.max(xf, axis=-1, keepdims=True) if self.c else np.zeros((*x.shape[:-1], 1))
            dev = np.where(finite, np.abs(xf - m), 0)
            e = dev + np.max(dev, axis=-1, keepdims=True, initial=0) + self.c + 3
            if matmul is not None:
                z = _last(np.asarray(matmul, dtype=LD), axis)  # the logits' layout
                z = np.where(np.isfinite(z), z, 0)
                e = e + (z + np.max(z, axis=-1, keepdims=True, initial=0))
            self.e = np.nan_to_num(e, nan=0.0, posinf=0.0)
            m = np.max(x, axis=-1, keepdims=True) if self.c else m
            s = np.sum(np.exp(x - m), axis=-1, keepdims=True)
            self.logp = np.nan_to_num(x - m - np.log(s), nan=0.0, neginf=0.0, posinf=0.0)
            self.p = np.exp(self.logp)
            self.w = _weights(case, self.c)
            self.q = target_distribution(case, x)
            self.wq = np.abs(self.w * self.q)
            self.big_w = self.wq.sum(axis=-1, keepdims=True)
            self.axis = axis
            self.positions = x.shape[:-1]

    def term_scale(self) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.sum(self.wq * self.e, axis=-1)

    def seed(self, case: Any, grad_output: Any) -> np.ndarray:
        return _seed(case, grad_output, self.positions)[..., None]

    def saturated(self, case: Any) -> np.ndarray:
        """Rows whose log-probabilities the dtype cannot resolve: u max_c E_c >= 1/4, so
        p = exp(log p) may be off by a factor e^(1/4) or more, past the linear bound; the
        gradient of such a row is only known to lie in its range, r (W' + |w_c q_c|)."""
        u = info(case.dtype).unit_roundoff
        return (u * np.max(self.e, axis=-1, keepdims=True, initial=0)) >= 0.25

    def _range(self, case: Any, r: np.ndarray) -> np.ndarray:
        """The whole range of a saturated row's logit gradient, in units of terms_u * u
        (the budget's terms_u >= 1 then covers it)."""
        u = info(case.dtype).unit_roundoff
        return r * (self.big_w + self.wq) / u

    def logit_scale(self, case: Any, grad_output: Any) -> np.ndarray:
        """G of the gradient with respect to the logits, class axis last."""
        r = self.seed(case, grad_output)
        with np.errstate(all="ignore"):
            linear = r * self.big_w * self.p * (self.e + 2)
            return np.where(self.saturated(case), self._range(case, r), linear)

    def logit_magnitude(self, case: Any, grad_output: Any) -> np.ndarray:
        """A_c of the derivation: the logits' gradient scale plus its own magnitude."""
        r = self.seed(case, grad_output)
        with np.errstate(all="ignore"):
            linear = r * (self.big_w * self.p * (self.e + 3) + self.wq)
            return np.where(self.saturated(case), self._range(case, r), linear)

    def target_scale(self, case: Any, grad_output: Any) -> np.ndarray:
        eps = LD(case.effective_options().get("label_smoothing", 0.0) or 0.0)
        with np.errstate(all="ignore"):
            g = self.seed(case, grad_output) * np.abs(self.w) * (1 - eps)
            return g * (self.e + np.abs(self.logp))

    def weight_scale(self, case: Any, grad_output: Any) -> np.ndarray:
        n = max(math.prod(self.positions), 1)
        steps = math.ceil(math.log2(max(n, 2))) + 64
        with np.errstate(all="ignore"):
            each = self.seed(case, grad_output) * np.abs(self.q)
            each = each * (self.e + np.abs(self.logp) * steps)
            return each.reshape(-1, self.c).sum(axis=0)

    def back(self, a: np.ndarray) -> np.ndarray:
        """A class-last array back to the input's layout."""
        return np.moveaxis(a, -1, self.axis)


def cross_entropy_term_scale(case: Any) -> np.ndarray:
    return SoftmaxError(case, case.inputs["input"]).term_scale()


def cross_entropy_gradient_scale(case: Any, name: str, grad_output: Any) -> np.ndarray | None:
    err = SoftmaxError(case, case.inputs["input"])
    if name == "input":
        return err.back(err.logit_scale(case, grad_output))
    if name == "target":
        return err.back(err.target_scale(case, grad_output))
    if name == "weight":
        return err.weight_scale(case, grad_output)
    return None


__all__ = [
    "SoftmaxError",
    "cross_entropy_gradient_scale",
    "cross_entropy_term_scale",
    "effective_ignore",
]
