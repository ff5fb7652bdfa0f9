"""Torch targets with planted bugs, for the suite-power tests (tests/test_suite_power.py).

Each class subclasses ``suites.targets.TorchTarget`` and overrides ``call``, the one place
the suite invokes the loss, so the planted bug travels the suite's own road (oracle,
acceptance rules, known-discrepancy registry) exactly like a real torch regression would.
Every bug is differentiable-through: the suite takes gradients with ``torch.autograd.grad``
on whatever ``call`` returns.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from suites.case import LossCase
from suites.targets import TorchTarget

RELATIVE_ERROR = 1e-3


class RelativeErrorFloat32(TorchTarget):
    """Plants a 1e-3 relative error on the first element of the output, in float32 only.

    The output (unreduced or reduced) is multiplied elementwise by a constant that is
    ``1 + 1e-3`` at flat index 0 and 1 elsewhere. Other dtypes get torch's true result, so
    the same target must pass there: a float64 search through it must find no failure.
    """

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.dtype != "float32" or out.numel() == 0:
            return out
        factor = torch.ones(out.numel(), dtype=out.dtype, device=out.device)
        factor[0] = 1.0 + RELATIVE_ERROR
        return out * factor.reshape(out.shape)


class WrongMeanDenominator(TorchTarget):
    """Plants a wrong denominator for reduction='mean': sum / (N + 1) instead of sum / N.

    N is the number of elements of the unreduced loss (input and target broadcast). The
    result is torch's mean times N / (N + 1); 'none' and 'sum' are left alone. (N - 1 would
    divide by zero for one element, so N + 1 is the plant.)
    """

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.reduction != "mean":
            return out
        n = math.prod(torch.broadcast_shapes(tensors["input"].shape, tensors["target"].shape))
        return out * (n / (n + 1))


class _DropsOption(TorchTarget):
    """Calls the loss without the option ``dropped``, so torch's default applies instead."""

    dropped: str = ""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        options = {k: v for k, v in case.options.items() if k != self.dropped}
        return super().call(dataclasses.replace(case, options=options), tensors)


class IgnoresBeta(_DropsOption):
    """Plants ``beta`` ignored: SmoothL1Loss is computed with beta=1 whatever beta is."""

    dropped = "beta"


class IgnoresDelta(_DropsOption):
    """Plants ``delta`` ignored: HuberLoss is computed with delta=1 whatever delta is."""

    dropped = "delta"


class _FlipFirstGradient(torch.autograd.Function):
    """Identity forward; backward flips the sign of the gradient's first element (flat)."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        if grad.numel() == 0:
            return grad
        sign = torch.ones(grad.numel(), dtype=grad.dtype, device=grad.device)
        sign[0] = -1.0
        return grad * sign.reshape(grad.shape)


class GradientWhere(torch.autograd.Function):
    """Identity forward; backward replaces the gradient where ``mask`` is set: negated
    (``how="flip"``, a wrong subgradient at ties) or NaN (``how="nan"``)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(mask)
        ctx.how = how
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (mask,) = ctx.saved_tensors
        other = -grad if ctx.how == "flip" else torch.full_like(grad, math.nan)
        return torch.where(mask, other, grad), None, None


class FlipsFirstInputGradient(TorchTarget):
    """Plants a wrong gradient sign: input.grad[0] (flat index) comes back negated.

    The forward value is torch's own; only the backward through ``input`` is wrong, via an
    identity ``torch.autograd.Function`` placed in front of the loss.
    """

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        planted = dict(tensors)
        if planted["input"].requires_grad:
            planted["input"] = _FlipFirstGradient.apply(planted["input"])
        return super().call(case, planted)


class IgnoresWeight(TorchTarget):
    """Plants ``weight`` ignored: the functional ``weight=`` tensor is silently dropped."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        return super().call(case, {k: v for k, v in tensors.items() if k != "weight"})
