"""Torch targets with planted bugs for the triplet losses (TripletMarginLoss,
TripletMarginWithDistanceLoss), for tests/test_suite_power_triplet.py.

Like tests/planted.py, each class overrides ``TorchTarget.call``, the one place the suite
invokes the loss, so a planted bug travels the suite's own road. The reimplementations
below use torch's own pieces (F.pairwise_distance, the named distances) and differ from
torch's loss only in the planted detail.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from suites.case import LossCase
from suites.specs._distances import TORCH_DISTANCES
from suites.targets import TorchTarget
from tests.planted import _DropsOption

LOW_PRECISION_RELATIVE_ERROR = 5e-2


class IgnoresSwap(_DropsOption):
    """Plants ``swap`` ignored: the loss is always computed without the distance swap."""

    dropped = "swap"


class IgnoresP(_DropsOption):
    """Plants ``p`` ignored: TripletMarginLoss always computed with p = 2."""

    dropped = "p"


class IgnoresEps(_DropsOption):
    """Plants ``eps`` ignored: TripletMarginLoss always computed with eps = 1e-6."""

    dropped = "eps"


def _rows(tensors: dict[str, torch.Tensor]) -> int:
    a = tensors["anchor"]
    return 1 if a.dim() == 1 else a.shape[0]


class WrongMeanDenominator(TorchTarget):
    """Plants reduction='mean' as sum / (N + 1) instead of sum / N."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.reduction != "mean":
            return out
        n = _rows(tensors)
        return out * (n / (n + 1))


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _distance(case: LossCase):
    opts = case.effective_options()
    if case.spec.loss == "TripletMarginLoss":
        p, eps = opts.get("p", 2), opts.get("eps", 1e-6)
        return lambda x, y: F.pairwise_distance(x, y, p, eps)
    name = opts.get("distance_function")
    return TORCH_DISTANCES[name or "pairwise"]


class NegatedAtTheTie(TorchTarget):
    """Plants the hinge's subgradient at z = 0 as -1 (torch.where(z > 0, z, -z) on the tie,
    0 below it): outside the subdifferential [0, 1], so neither the oracle's documented 0
    nor torch's other one-sided slope 1 (registered). The value is unchanged everywhere."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        opts = case.effective_options()
        d = _distance(case)
        a, p, n = tensors["anchor"], tensors["positive"], tensors["negative"]
        d_ap, d_neg = d(a, p), d(a, n)
        if opts.get("swap", False):
            d_neg = torch.min(d_neg, d(p, n))
        z = opts.get("margin", 1.0) + d_ap - d_neg
        hinge = torch.where(z > 0, z, torch.where(z == 0, -z, torch.zeros_like(z)))
        return _reduce(hinge, case.reduction)


class SwapReadsNegativeFirst(TorchTarget):
    """Plants swap's distance as d(negative, positive) instead of d(positive, negative):
    visible with an asymmetric distance."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        opts = case.effective_options()
        if not opts.get("swap", False):
            return super().call(case, tensors)
        d = _distance(case)
        a, p, n = tensors["anchor"], tensors["positive"], tensors["negative"]
        d_neg = torch.min(d(a, n), d(n, p))
        z = opts.get("margin", 1.0) + d(a, p) - d_neg
        return _reduce(torch.clamp_min(z, 0), case.reduction)


class BFloat16OnlyError(TorchTarget):
    """Plants a 5e-2 relative error on the first output element, in bfloat16 only."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.dtype != "bfloat16" or out.numel() == 0:
            return out
        factor = torch.ones(out.numel(), dtype=out.dtype, device=out.device)
        factor[0] = 1.0 + LOW_PRECISION_RELATIVE_ERROR
        return out * factor.reshape(out.shape)
