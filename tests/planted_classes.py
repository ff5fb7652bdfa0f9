"""Planted bugs for the class-scored losses (NLL, cross entropy, linear cross entropy), for
tests/test_suite_power_classes.py. Each overrides ``TorchTarget.call``, the one place the
suite invokes torch, so the bug travels the suite's own road (see tests/planted.py)."""

from __future__ import annotations

from dataclasses import replace

import torch

from suites.case import LossCase
from suites.targets import TorchTarget
from tests.planted import _DropsOption


class IgnoresIgnoreIndex(_DropsOption):
    """``ignore_index`` dropped: torch's default (-100) applies whatever was asked."""

    dropped = "ignore_index"


class IgnoresLabelSmoothing(_DropsOption):
    """``label_smoothing`` dropped: no smoothing whatever was asked."""

    dropped = "label_smoothing"


class MeanOverAllTargets(TorchTarget):
    """A wrong 'mean' denominator: the weighted sum divided by one more than the number of
    targets (sum / (M + 1)) instead of by the documented sum of the kept targets' weights.

    Implemented as torch's 'sum' over M + 1, so the plant is wrong even where the weights
    happen to sum to M (all ones, nothing ignored)."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        if case.reduction != "mean":
            return super().call(case, tensors)
        options = {k: v for k, v in case.options.items() if k not in ("size_average", "reduce")}
        options["reduction"] = "sum"
        total = super().call(replace(case, options=options), tensors)
        t = tensors["target"]
        m = (
            t.numel()
            if not t.is_floating_point()
            else t.numel() // max(t.shape[0 if t.dim() == 1 else 1], 1)
        )
        return total / (m + 1)


class RelativeErrorFloat16(TorchTarget):
    """A 5e-2 relative error on the first element of the output, in float16 only (a
    float16-only kernel bug): about 50 float16 ulps, past any budget and bound of a
    well-conditioned case."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.dtype != "float16" or out.numel() == 0:
            return out
        factor = torch.ones(out.numel(), dtype=out.dtype, device=out.device)
        factor[0] = 1.05
        return out * factor.reshape(out.shape)
