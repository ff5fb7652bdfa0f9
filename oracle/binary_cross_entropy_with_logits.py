"""Oracle for ``torch.nn.functional.binary_cross_entropy_with_logits`` (placeholder, being written).

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

__all__ = ["binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_gradients"]


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    raise NotImplementedError("binary_cross_entropy_with_logits: oracle not written yet")


def binary_cross_entropy_with_logits_gradients(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction="mean",
    pos_weight=None,
    grad_output=None,
):
    raise NotImplementedError("binary_cross_entropy_with_logits: oracle gradients not written yet")
