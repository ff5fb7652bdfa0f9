"""Oracle for ``torch.nn.functional.multilabel_soft_margin_loss`` (placeholder, being written).

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

__all__ = ["multilabel_soft_margin_loss", "multilabel_soft_margin_loss_gradients"]


def multilabel_soft_margin_loss(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    raise NotImplementedError("multilabel_soft_margin_loss: oracle not written yet")


def multilabel_soft_margin_loss_gradients(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", grad_output=None
):
    raise NotImplementedError("multilabel_soft_margin_loss: oracle gradients not written yet")
