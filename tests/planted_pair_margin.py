"""Torch targets with planted bugs for MarginRankingLoss and CosineEmbeddingLoss, for
tests/test_suite_power_pair_margin.py. Like tests/planted.py, each overrides
``TorchTarget.call``, the one place the suite invokes the loss."""

from __future__ import annotations

import math

import torch

from suites.case import LossCase
from suites.targets import TorchTarget
from tests.planted import GradientWhere, _DropsOption

HALF_RELATIVE_ERROR = 5e-2


class IgnoresMargin(_DropsOption):
    """Plants ``margin`` ignored: the loss always computed with torch's default, 0."""

    dropped = "margin"


class WrongMeanDenominator(TorchTarget):
    """Plants reduction='mean' as sum / (N + 1) (N unreduced terms: the target's size)."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.reduction != "mean":
            return out
        n = math.prod(tensors["target"].shape)
        return out * (n / (n + 1))


class _FlipFirst(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        if grad.numel() == 0:
            return grad
        sign = torch.ones(grad.numel(), dtype=grad.dtype, device=grad.device)
        sign[0] = -1.0
        return grad * sign.reshape(grad.shape)


class FlipsFirstInput2Gradient(TorchTarget):
    """Plants a wrong gradient sign: input2.grad[0] (flat) comes back negated."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        planted = dict(tensors)
        if planted["input2"].requires_grad:
            planted["input2"] = _FlipFirst.apply(planted["input2"])
        return super().call(case, planted)


class HalfOnlyError(TorchTarget):
    """Plants a 5e-2 relative error on the first output element, in float16 only."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.dtype != "float16" or out.numel() == 0:
            return out
        factor = torch.ones(out.numel(), dtype=out.dtype, device=out.device)
        factor[0] = 1.0 + HALF_RELATIVE_ERROR
        return out * factor.reshape(out.shape)


class TieSubgradientFlipped(TorchTarget):
    """Plants a wrong subgradient at MarginRankingLoss's kink: where the hinge argument
    -y (x1 - x2) + margin is exactly 0 in the dtype, input1's gradient has its sign flipped
    (+y instead of torch's -y): neither the documented 0 nor the other one-sided
    derivative (-y, registered), so the suite must fail it."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        x1, x2, y = tensors["input1"], tensors["input2"], tensors["target"]
        if x1.requires_grad and x1.shape == x2.shape == y.shape:
            margin = float(case.effective_options().get("margin", 0.0))
            m = torch.tensor(margin, dtype=torch.float64).to(x1.dtype)
            with torch.no_grad():
                mask = (-y * (x1 - x2) + m) == 0
            tensors = dict(tensors, input1=GradientWhere.apply(x1, mask, "flip"))
        return super().call(case, tensors)
