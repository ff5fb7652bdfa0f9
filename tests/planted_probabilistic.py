"""Torch targets with planted bugs for PoissonNLLLoss and GaussianNLLLoss, for
tests/test_suite_power_probabilistic.py.

Like tests/planted.py (whose WrongMeanDenominator and FlipsFirstInputGradient serve these
losses as they are), each class overrides ``TorchTarget.call``, the one place the suite
invokes the loss, so a planted bug travels the suite's own road.
"""

from __future__ import annotations

import torch

from suites.case import LossCase
from suites.targets import TorchTarget
from tests.planted import _DropsOption

BFLOAT16_RELATIVE_ERROR = 0.25


class IgnoresFull(_DropsOption):
    """Plants ``full`` ignored: no Stirling term (Poisson), no 0.5 log(2 pi) (Gaussian)."""

    dropped = "full"


class IgnoresEps(_DropsOption):
    """Plants ``eps`` ignored: log(x + 1e-8) (Poisson), var clamped at 1e-6 (Gaussian)."""

    dropped = "eps"


class IgnoresLogInput(_DropsOption):
    """Plants ``log_input`` ignored: PoissonNLLLoss always takes input as the log mean."""

    dropped = "log_input"


class StirlingSlopeAtOne(TorchTarget):
    """Plants the wrong one-sided derivative at the Stirling switch: with full=True, a
    target exactly 1 gets d/dy of the Stirling term (log 1 + 1/2 = 0.5) although the
    documented term there is the zero branch. The forward value is untouched: the plant
    adds 0.5 (y - y.detach()) where y == 1, which is 0 with slope 0.5."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        y = tensors["target"]
        if not case.effective_options().get("full", False) or not y.requires_grad:
            return out
        extra = 0.5 * (y - y.detach()) * (y.detach() == 1)
        if case.reduction == "none":
            return out + extra.to(out.dtype)
        scale = 1.0 / max(y.numel(), 1) if case.reduction == "mean" else 1.0
        return out + extra.sum().to(out.dtype) * scale


class ClampBlocksVarGradient(TorchTarget):
    """Plants the clamp differentiated as a max: d/dvar is 0 where var <= eps (at the clamp
    point too), where the documented Note makes the clamp transparent to autograd. The
    forward value is torch's own (var is replaced by max(var, eps) with that gradient)."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        if "var" not in tensors or not tensors["var"].requires_grad:
            return super().call(case, tensors)
        eps = float(case.effective_options().get("eps", 1e-6))
        v = tensors["var"]
        floor = v.detach().clamp(min=eps)
        return super().call(case, {**tensors, "var": torch.where(v > eps, v, floor)})


class BFloat16OnlyError(TorchTarget):
    """Plants a 25% relative error on output[0] (flat), in bfloat16 only."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.dtype != "bfloat16" or out.numel() == 0:
            return out
        factor = torch.ones(out.numel(), dtype=out.dtype, device=out.device)
        factor[0] = 1.0 + BFLOAT16_RELATIVE_ERROR
        return out * factor.reshape(out.shape)
