"""Torch targets with planted bugs for KLDivLoss and HingeEmbeddingLoss, for
tests/test_suite_power_kl_hinge.py.

Like tests/planted.py, each class overrides ``TorchTarget.call``, the one place the suite
invokes the loss, so a planted bug travels the suite's own road (oracle, rules, registry).
tests/planted.py's generic plants (FlipsFirstInputGradient) and tests/planted_margin.py's
IgnoresMargin serve these losses as they are.
"""

from __future__ import annotations

import torch

from suites.case import LossCase
from suites.targets import TorchTarget
from tests.planted import GradientWhere, _DropsOption

BFLOAT16_RELATIVE_ERROR = 5e-2


class IgnoresLogTarget(_DropsOption):
    """Plants ``log_target`` ignored: KLDivLoss always reads the target as probabilities."""

    dropped = "log_target"


class BatchmeanOverLastDim(TorchTarget):
    """Plants 'batchmean' dividing by the wrong size: sum / input.size(-1) (the support's
    size) instead of sum / input.size(0) (the batch's). Inputs whose two sizes agree (1-d,
    square) are unaffected, so the search has to find another shape."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        x = tensors["input"]
        if case.reduction != "batchmean" or x.dim() == 0 or x.shape[-1] == 0 or x.shape[0] == 0:
            return out
        return out * (x.shape[0] / x.shape[-1])


class TieSubgradientFlipped(TorchTarget):
    """Plants a wrong subgradient at HingeEmbeddingLoss's kink: +1 instead of torch's -1
    where y = -1 and x equals the margin (rounded to the dtype, as torch compares): outside
    the subdifferential [-1, 0], so neither the documented subgradient (0) nor the other
    one-sided derivative (-1, registered). The value is torch's; only those gradient
    elements change."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        x, y = tensors["input"], tensors["target"]
        if x.requires_grad and x.shape == y.shape:
            margin = float(case.effective_options().get("margin", 1.0))
            at = torch.tensor(margin, dtype=torch.float64).to(x.dtype)
            mask = (x.detach() == at) & (y == -1)
            tensors = dict(tensors, input=GradientWhere.apply(x, mask, "flip"))
        return super().call(case, tensors)


class BFloat16OnlyError(TorchTarget):
    """Plants a 5e-2 relative error on the first output element, in bfloat16 only."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.dtype != "bfloat16" or out.numel() == 0:
            return out
        factor = torch.ones(out.numel(), dtype=out.dtype, device=out.device)
        factor[0] = 1.0 + BFLOAT16_RELATIVE_ERROR
        return out * factor.reshape(out.shape)


class _FlipFirst(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        if grad.numel() == 0:
            return grad
        sign = torch.ones(grad.numel(), dtype=grad.dtype, device=grad.device)
        sign[0] = -1.0
        return grad * sign.reshape(grad.shape)


class FlipsFirstTargetGradient(TorchTarget):
    """Plants a wrong sign on target.grad[0] (flat index): KLDivLoss's target gradient."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        if tensors["target"].requires_grad:
            tensors = dict(tensors, target=_FlipFirst.apply(tensors["target"]))
        return super().call(case, tensors)
