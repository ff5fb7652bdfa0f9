"""Oracle for ``torch.nn.functional.binary_cross_entropy`` (placeholder, being written).

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

__all__ = ["binary_cross_entropy", "binary_cross_entropy_gradients"]


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    raise NotImplementedError("binary_cross_entropy: oracle not written yet")


def binary_cross_entropy_gradients(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", grad_output=None
):
    raise NotImplementedError("binary_cross_entropy: oracle gradients not written yet")
