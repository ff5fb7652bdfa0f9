"""Torch targets with planted bugs for the margin classification losses (MultiMarginLoss,
MultiLabelMarginLoss), for tests/test_suite_power_margin.py.

Like tests/planted.py (whose generic plants, IgnoresWeight and FlipsFirstInputGradient,
serve these losses as they are), each class overrides ``TorchTarget.call``, the one place
the suite invokes the loss, so a planted bug travels the suite's own road.
"""

from __future__ import annotations

import torch

from suites.case import LossCase
from suites.targets import TorchTarget
from tests.planted import _DropsOption

HALF_RELATIVE_ERROR = 5e-2


class IgnoresP(_DropsOption):
    """Plants ``p`` ignored: MultiMarginLoss always computed with p = 1."""

    dropped = "p"


class IgnoresMargin(_DropsOption):
    """Plants ``margin`` ignored: MultiMarginLoss always computed with margin = 1."""

    dropped = "margin"


def _rows(tensors: dict[str, torch.Tensor]) -> int:
    """N, the number of samples (the unreduced loss's elements): 1 for a (C) input."""
    x = tensors["input"]
    return 1 if x.dim() == 1 else x.shape[0]


class WrongMeanDenominator(TorchTarget):
    """Plants reduction='mean' as sum / (N + 1) instead of sum / N (N samples)."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.reduction != "mean":
            return out
        n = _rows(tensors)
        return out * (n / (n + 1))


class MeanOverAllScores(TorchTarget):
    """Plants reduction='mean' as sum / (N C), the mean over every score instead of over
    the N samples (each sample's loss is already divided by C)."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.reduction != "mean":
            return out
        return out / tensors["input"].shape[-1]


class HalfViaFloat32(TorchTarget):
    """Low-precision kernels where torch 2.13's CPU has none: float16 and bfloat16 cases are
    computed in float32 (floating tensors upcast, differentiably) and the result rounded to
    the case's dtype. float32 and float64 run torch as it is. Without a planted error, the
    control: the suite's float16 and bfloat16 budgets must accept such a kernel."""

    relative_error = 0.0
    erroneous = ("float16",)

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        if case.dtype not in ("float16", "bfloat16"):
            return super().call(case, tensors)
        up = {k: (v.float() if v.is_floating_point() else v) for k, v in tensors.items()}
        out = super().call(case, up)
        if self.relative_error and case.dtype in self.erroneous and out.numel():
            factor = torch.ones(out.numel(), dtype=out.dtype, device=out.device)
            factor[0] = 1.0 + self.relative_error
            out = out * factor.reshape(out.shape)
        return out.to(getattr(torch, case.dtype))


class HalfOnlyError(HalfViaFloat32):
    """Plants a 5e-2 relative error on the first output element, in float16 only."""

    relative_error = HALF_RELATIVE_ERROR
