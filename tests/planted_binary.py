"""Torch targets with bugs planted in the binary losses, for tests/test_suite_power_binary.py.

Like tests/planted.py (whose generic plants are reused there: a wrong mean denominator, a
flipped input gradient, a dropped ``weight``), each class overrides ``TorchTarget.call``,
the one place the suite invokes the loss, so the bug travels the suite's own road. Every
plant stays differentiable.
"""

from __future__ import annotations

import torch

from suites.case import LossCase
from suites.targets import TorchTarget

FLOAT16_ERROR = 2.0**-4  # 6.25 %, exact in float16: some 60 float16 ULPs
WRONG_CLAMP = -50.0


class IgnoresPosWeight(TorchTarget):
    """Plants ``pos_weight`` ignored: BCEWithLogitsLoss is computed without it (p = 1)."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        return super().call(case, {k: v for k, v in tensors.items() if k != "pos_weight"})


class ClampsLogsAtMinus50(TorchTarget):
    """Plants BCE's clamp at the wrong value: its own BCE, written with torch ops, clamps
    the logs at -50 instead of the documented -100:
    l = -w [y max(log x, -50) + (1 - y) max(log(1 - x), -50)], then the case's reduction.
    Inputs below exp(-50) (0 included) and exactly 1 expose it."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        x, y = tensors["input"], tensors["target"]
        log_x = torch.clamp(torch.log(x), min=WRONG_CLAMP)
        log_1mx = torch.clamp(torch.log1p(-x), min=WRONG_CLAMP)
        loss = -(y * log_x + (1 - y) * log_1mx)
        if "weight" in tensors:
            loss = loss * tensors["weight"]
        if case.reduction == "sum":
            return loss.sum()
        if case.reduction == "mean":
            return loss.mean()
        return loss


class RelativeErrorFloat16(TorchTarget):
    """Plants a 2**-4 relative error on the first element of the output, in float16 only;
    every other dtype gets torch's own result (so a float32 search must stay silent)."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if case.dtype != "float16" or out.numel() == 0:
            return out
        factor = torch.ones(out.numel(), dtype=out.dtype, device=out.device)
        factor[0] = 1.0 + FLOAT16_ERROR
        return out * factor.reshape(out.shape)
