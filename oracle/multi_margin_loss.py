"""Oracle for ``torch.nn.functional.multi_margin_loss`` (placeholder, being written).

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

__all__ = ["multi_margin_loss", "multi_margin_loss_gradients"]


def multi_margin_loss(
    input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"
):
    raise NotImplementedError("multi_margin_loss: oracle not written yet")


def multi_margin_loss_gradients(
    input,
    target,
    p=1,
    margin=1.0,
    weight=None,
    size_average=None,
    reduce=None,
    reduction="mean",
    grad_output=None,
):
    raise NotImplementedError("multi_margin_loss: oracle gradients not written yet")
