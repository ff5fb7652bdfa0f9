"""Oracle for ``torch.nn.functional.soft_margin_loss`` (placeholder, being written).

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

__all__ = ["soft_margin_loss", "soft_margin_loss_gradients"]


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    raise NotImplementedError("soft_margin_loss: oracle not written yet")


def soft_margin_loss_gradients(
    input, target, size_average=None, reduce=None, reduction="mean", grad_output=None
):
    raise NotImplementedError("soft_margin_loss: oracle gradients not written yet")
