"""Oracle for ``torch.nn.functional.cross_entropy`` / ``torch.nn.CrossEntropyLoss``.

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._classification import (
    Rows,
    as_target,
    check_ignore_index,
    check_label_smoothing,
    check_weight,
    class_indices,
    log_softmax,
    mean_or_sum,
    rows_of,
    seed,
    softmax_complements,
)
from ._common import WORK, OracleInputError, as_work, resolve_reduction

__all__ = ["DEFAULT_IGNORE_INDEX", "CrossEntropyTerms", "cross_entropy", "cross_entropy_gradients"]

#: The documented default of ``ignore_index`` ("Default: -100").
DEFAULT_IGNORE_INDEX = -100


def _probabilities(target: np.ndarray, rows: Rows) -> np.ndarray:
    """Class probabilities as rows: the input's shape, each value in [0, 1] (NaN is not)."""
    y = rows_of(as_work(target, "target"), "target").x
    bad = ~((y >= 0) & (y <= 1))
    if np.any(bad):
        flat = np.asarray(target).reshape(-1)
        i = int(np.flatnonzero(~((flat >= 0) & (flat <= 1)))[0])
        where = tuple(int(v) for v in np.unravel_index(i, target.shape))
        raise OracleInputError(
            "target",
            f"target[{where}] = {float(flat[i])!r} is not a class probability in [0, 1]",
        )
    return y


class CrossEntropyTerms:
    """The documented cross entropy of every row; shared with ``linear_cross_entropy``.

    ``coef[n, c]`` is the factor of ``-log p_{n,c}`` in ``l_n``: ``w_c q_{n,c}`` for class
    indices (``q`` the smoothed one-hot target; ``w_{y_n}`` at ``y_n`` only, without
    smoothing), ``w_c y'_{n,c}`` for probabilities; 0 on ignored rows. ``kept`` marks the
    rows that are not ignored, ``denominator`` is the documented divisor of 'mean'.
    """

    def __init__(
        self,
        input: Any,
        target: Any,
        weight: Any,
        ignore_index: Any,
        reduction: str,
        label_smoothing: Any,
    ) -> None:
        self.reduction = reduction
        self.rows = rows = rows_of(input)
        b, c = rows.x.shape
        self.w = check_weight(weight, c)
        self.eps = eps = check_label_smoothing(label_smoothing)
        ii = check_ignore_index(ignore_index)
        w = np.ones(c, dtype=WORK) if self.w is None else self.w
        t = as_target(target)
        self.probabilities = t.dtype.kind == "f"
        if self.probabilities and t.shape != rows.input_shape:
            raise OracleInputError(
                "target",
                f"floating target of shape {tuple(t.shape)}: class probabilities must have "
                f"the input's shape {rows.input_shape}, class indices must be int64",
            )
        if self.probabilities and ii != DEFAULT_IGNORE_INDEX:
            raise OracleInputError(
                "ignore_index",
                f"= {ii} is given with class-probability targets: it is only applicable "
                f"when the target contains class indices (default {DEFAULT_IGNORE_INDEX})",
            )
        if t.dtype.kind in "iu" and t.ndim and t.shape == rows.input_shape:
            raise OracleInputError(
                "target",
                f"integer target of the input's shape {rows.input_shape}: class probabilities "
                f"must be floating, class indices have shape {rows.batch_shape}",
            )
        self.logp = log_softmax(rows.x)
        with np.errstate(all="ignore"):
            uniform = eps / WORK(c) if c else WORK(0)
            if self.probabilities:
                self.y = _probabilities(t, rows)
                self.y_smooth = ((1 - eps) * self.y + uniform).astype(WORK)
                self.kept = np.ones(b, dtype=bool)
                self.coef = (w * self.y_smooth).astype(WORK)
                self.denominator = WORK(b)
            else:
                self.index, self.kept = class_indices(t, rows, ii)
                at_y = (np.arange(b), self.index)
                coef = np.zeros((b, c), dtype=WORK)
                w_y = np.zeros(b, dtype=WORK)
                if c:  # with C = 0 every target is ignored (checked above)
                    w_y = w[self.index]
                    coef[at_y] = w_y
                    if eps > 0:  # q_{n,c} = (1 - eps) [c = y_n] + eps / C: every q > 0
                        q = np.full((b, c), uniform, dtype=WORK)
                        q[at_y] += 1 - eps
                        coef = w * q
                self.coef = np.where(self.kept[:, None], coef, 0).astype(WORK)
                self.denominator = np.sum(np.where(self.kept, w_y, 0), dtype=WORK)
            self.loss = self._loss()

    def _loss(self) -> np.ndarray:
        b, c = self.logp.shape
        with np.errstate(all="ignore"):
            if c == 0:
                terms = np.zeros(b, dtype=WORK)
            elif not self.probabilities and self.eps == 0:
                # the documented class-index formula reads log p_{n,y_n} only
                at_y = (np.arange(b), self.index)
                terms = -(self.coef[at_y] * self.logp[at_y])
            else:
                terms = -np.sum(self.coef * self.logp, axis=1, dtype=WORK)
            return np.where(self.kept, terms, 0).astype(WORK)

    def reduce(self) -> np.ndarray:
        if self.reduction == "none":
            return self.rows.to_batch_shape(self.loss)
        return mean_or_sum(self.loss, self.reduction, self.denominator)

    def gradients(self, grad_output: Any) -> dict[str, np.ndarray]:
        """Rows of ``dL/dx`` as ``"logits"`` (B, C), and ``target``/``weight`` if any."""
        r = seed(grad_output, self.rows.batch_shape, self.reduction, self.denominator)
        p, comp, top = softmax_complements(self.logp)
        coef = self.coef
        with np.errstate(all="ignore"):
            total = np.sum(coef, axis=1, dtype=WORK)[:, None]
            top_rest = np.sum(np.where(top, 0, coef), axis=1, dtype=WORK)[:, None]
            s_minus = np.where(top, top_rest, total - coef)
            g = p * s_minus - coef * comp
            undefined = np.isnan(self.logp).any(axis=1)[:, None]
            g = np.where(undefined, np.nan, g)
            out = {"logits": np.where(self.kept[:, None], r[:, None] * g, 0).astype(WORK)}
            if self.probabilities:
                w = np.ones(self.rows.classes, dtype=WORK) if self.w is None else self.w
                rl = -(r[:, None] * self.logp)
                out["target"] = ((1 - self.eps) * (w * rl)).astype(WORK)
                if self.w is not None:
                    out["weight"] = np.sum(rl * self.y_smooth, axis=0, dtype=WORK)
        return out


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> np.ndarray:
    r"""Cross entropy of logits, as documented for ``CrossEntropyLoss`` (torch 2.13).

    Documentation: torch 2.13. Class-index targets::

        l_n = - w_{y_n} \log \frac{\exp(x_{n,y_n})}{\sum_{c=1}^C \exp(x_{n,c})}
              \cdot \mathbb{1}\{y_n \not= \text{ignore\_index}\}
        \ell = \sum_{n=1}^N \frac{1}{\sum_{n=1}^N w_{y_n} \cdot
               \mathbb{1}\{y_n \not= \text{ignore\_index}\}} l_n   (reduction='mean')

    Class-probability targets::

        l_n = - \sum_{c=1}^C w_c \log \frac{\exp(x_{n,c})}{\sum_{i=1}^C \exp(x_{n,i})} y_{n,c}
        \ell = \frac{\sum_{n=1}^N l_n}{N}   (reduction='mean')

    and ``\sum_n l_n`` for 'sum', where "N spans the minibatch dimension as well as
    d_1, ..., d_k". Shapes: input ``(C)``, ``(N, C)`` or ``(N, C, d_1, ..., d_K)``; class
    indices ``()``, ``(N)`` or ``(N, d_1, ..., d_K)``, int64 ("required to be long"), each
    in ``[0, C)`` or ``ignore_index``; probabilities "the same shape input", floating, "each
    value should be between [0, 1]" (NaN is not). ``weight`` "has to be a Tensor of size
    `C`". ``label_smoothing`` is "A float in [0.0, 1.0]"; "The targets become a mixture of
    the original ground truth and a uniform distribution".

    Readings chosen where the docs are silent, each from the documented formula:

    * Label smoothing with class indices: the target becomes
      ``q_{n,c} = (1 - eps) [c = y_n] + eps / C`` and ``l_n = -sum_c w_c q_{n,c} log p_{n,c}``
      (the probability formula applied to ``q``), 0 for an ignored target; 'mean' keeps the
      class-index denominator ``sum_n w_{y_n} 1{y_n != ignore_index}``. With
      probabilities, ``y <- (1 - eps) y + eps / C`` and 'mean' divides by ``N``.
      ``eps = 0`` is exactly the unsmoothed formula (which reads only ``log p_{n,y_n}``).
    * 'mean' with probabilities divides by the number of elements of the unreduced loss
      (``N d_1 ... d_K``; 1 unbatched), whatever the weights.
    * Ignored targets contribute exactly 0 to the numerator and the denominator; their row
      is never read (NaN or inf there has no effect). All targets ignored, or ``N = 0``,
      give 'mean' = 0/0 = NaN.
    * "ignore_index is only applicable when the target contains class indices": with
      probability targets only its default (-100) is accepted, any other value raises.
    * ``log p`` is exact for finite logits (log-sum-exp in ``WORK``); infinite logits follow
      the formula under IEEE arithmetic (see ``_classification.log_softmax``): a +inf logit
      makes ``log p`` NaN at its class and -inf elsewhere, so a class-index loss at another
      class is +inf; a -inf logit has ``log p = -inf``. Products ``0 * -inf`` in the
      probability sum (a zero probability or weight at a class with ``log p = -inf``) are
      NaN, as IEEE says. Weights are data: any real value, 0 and negative included.
    * The deprecated ``size_average``/``reduce`` override ``reduction`` when given.

    Returns a ``WORK`` array of the batch shape for 'none', else a 0-d array.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    return CrossEntropyTerms(input, target, weight, ignore_index, red, label_smoothing).reduce()


def cross_entropy_gradients(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    grad_output: Any = None,
) -> dict[str, np.ndarray]:
    r"""Gradients of :func:`cross_entropy` (Documentation: torch 2.13; derived by hand).

    Write ``l_n = -sum_c a_{n,c} log p_{n,c}`` with ``a = w q`` (class indices, smoothed or
    not: ``a_{n,c} = w_{y_n} [c = y_n]`` without smoothing) or ``a = w y'`` (probabilities,
    ``y' = (1 - eps) y + eps / C``). Since ``d log p_c / dx_j = [c = j] - p_j``::

        dl_n/dx_{n,j} = p_j S_n - a_{n,j},        S_n = sum_c a_{n,c}
                      = p_j S_{n,-j} - a_{n,j} (1 - p_j),   S_{n,-j} = sum_{c != j} a_{n,c}

    The second form is the one evaluated: at the largest ``p_j`` both ``S_{n,-j}`` and
    ``1 - p_j = sum_{i != j} p_i`` are summed directly, so a dominant logit does not cancel
    ``p_j S_n`` against ``a_{n,j}``. With ``r_n`` the gradient of the reduction (``g_n``
    for 'none', ``g`` for 'sum', ``g / denominator`` for 'mean'; no denominator depends on
    ``x``): ``dL/dx_{n,j} = r_n dl_n/dx_{n,j}``, and 0 on ignored elements ("does not
    contribute to the input gradient"). A row whose ``log p`` has a NaN (NaN or +inf logits,
    or all -inf) has NaN gradients.

    Probability targets also give (torch 2.13 differentiates both)::

        dL/dy_{n,c} = -r_n (1 - eps) w_c log p_{n,c},    dL/dw_c = -sum_n r_n y'_{n,c} log p_{n,c}

    Keys: ``"input"``; with probability targets ``"target"`` and, when a weight is given,
    ``"weight"``. With class indices torch 2.13 refuses to differentiate ``weight`` ("The
    function 'nll_loss_forward' is not differentiable with respect to argument 'weight'"),
    so none is returned. ``grad_output`` defaults to ones.
    """
    red = resolve_reduction(size_average, reduce, reduction)
    terms = CrossEntropyTerms(input, target, weight, ignore_index, red, label_smoothing)
    grads = terms.gradients(grad_output)
    out = {"input": terms.rows.to_input_layout(grads.pop("logits"))}
    if "target" in grads:
        out["target"] = terms.rows.to_input_layout(grads["target"])
    if "weight" in grads:
        out["weight"] = grads["weight"]
    return out
