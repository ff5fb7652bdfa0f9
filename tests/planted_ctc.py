"""Torch targets with planted CTCLoss bugs, for tests/test_suite_power_ctc.py.

Like tests/planted.py, each class overrides ``TorchTarget.call``, the one place the suite
invokes the loss, so a planted bug travels the suite's own road (oracle, rules, registry).
The plants:

- ``ZeroInfinityKeepsNaNGradient``: zero_infinity zeroes the infinite losses but not their
  gradients (an infeasible sample's gradient stays NaN at t < input_length), through an
  identity autograd Function on the floating input;
- ``MeanIgnoresTargetLengths``: reduction='mean' is sum_n loss_n / N (no division by the
  target lengths);
- ``IgnoresBlank``: torch always called with blank=0, whatever the option;
- ``ConcatenatedTargetsError``: a 1e-3 relative error on the output, only when the targets
  are concatenated (1-d).
"""

from __future__ import annotations

import dataclasses

import torch

from suites.case import LossCase
from suites.targets import TorchTarget
from tests.planted import GradientWhere, _DropsOption, _FlipFirstGradient

RELATIVE_ERROR = 1e-3


def _first(case: LossCase) -> str:
    return case.spec.args[0].name  # "log_probs" or "scores"


def _log_probs(case: LossCase, x: torch.Tensor) -> torch.Tensor:
    """What torch receives as log_probs: the scores variant goes through log_softmax."""
    return x.log_softmax(-1) if _first(case) == "scores" else x


def _lengths(value: object) -> torch.Tensor:
    """Lengths as the user passed them (list, tuple, int, 0-d or 1-d tensor), as 1-d int64."""
    return torch.as_tensor(value).reshape(-1).to("cpu", torch.int64)


class ZeroInfinityKeepsNaNGradient(TorchTarget):
    """Plants zero_infinity that zeroes the loss but not the gradient: where a sample's loss
    is infinite, its gradient entries at t < input_length come back NaN (torch: 0). The
    forward value is torch's own."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        name = _first(case)
        x = tensors[name]
        opts = case.effective_options()
        if not (opts.get("zero_infinity") and x.requires_grad and x.dim() in (2, 3)):
            return super().call(case, tensors)
        with torch.no_grad():
            per = torch.nn.functional.ctc_loss(
                _log_probs(case, x.detach()),
                tensors["targets"],
                tensors["input_lengths"],
                tensors["target_lengths"],
                blank=int(opts.get("blank", 0)),
                reduction="none",
                zero_infinity=False,
            )
        infinite = torch.isinf(per.reshape(-1)).cpu()
        il = _lengths(tensors["input_lengths"])
        T = x.shape[0]
        steps = torch.arange(T)[:, None] < il[None, :]  # (T, N)
        mask = (steps & infinite[None, :])[:, :, None]  # (T, N, 1)
        mask = mask.expand(T, infinite.numel(), x.shape[-1])
        if x.dim() == 2:
            mask = mask[:, 0, :]
        planted = dict(tensors)
        planted[name] = GradientWhere.apply(x, mask.to(x.device), "nan")
        return super().call(case, planted)


class MeanIgnoresTargetLengths(TorchTarget):
    """Plants reduction='mean' as sum_n loss_n / N (documented: mean_n(loss_n / U_n))."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        if case.reduction != "mean":
            return super().call(case, tensors)
        options = dict(case.options, reduction="none")
        per = super().call(dataclasses.replace(case, options=options), tensors)
        return per.sum() / max(per.numel(), 1) if per.dim() else per


class IgnoresBlank(_DropsOption):
    """Plants ``blank`` ignored: torch always runs with blank=0."""

    dropped = "blank"


class ConcatenatedTargetsError(TorchTarget):
    """Plants a 1e-3 relative error on the first output element, only when the targets
    are concatenated (1-d); padded (N, S) targets get torch's true result."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        out = super().call(case, tensors)
        if tensors["targets"].dim() != 1 or out.numel() == 0:
            return out
        factor = torch.ones(out.numel(), dtype=out.dtype, device=out.device)
        factor[0] = 1.0 + RELATIVE_ERROR
        return out * factor.reshape(out.shape)


class FlipsFirstLogProbsGradient(TorchTarget):
    """Plants a wrong gradient on the plain spec: log_probs.grad's first element negated.

    The plain ``CTCLoss`` spec's gradients are all excused by the registry entry
    ``ctc-gradient-assumes-log-softmax-input``, but only where torch's gradient is exactly
    the log_softmax-input quantity: this plant must still fail there."""

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        planted = dict(tensors)
        if "log_probs" in planted and planted["log_probs"].requires_grad:
            planted["log_probs"] = _FlipFirstGradient.apply(planted["log_probs"])
        return super().call(case, planted)
