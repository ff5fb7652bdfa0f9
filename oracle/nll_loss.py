"""Oracle for ``torch.nn.functional.nll_loss`` (placeholder, being written).

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

__all__ = ["nll_loss", "nll_loss_gradients"]


def nll_loss(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
):
    raise NotImplementedError("nll_loss: oracle not written yet")


def nll_loss_gradients(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    grad_output=None,
):
    raise NotImplementedError("nll_loss: oracle gradients not written yet")
