"""Oracle for ``torch.nn.functional.cross_entropy`` (placeholder, being written).

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

__all__ = ["cross_entropy", "cross_entropy_gradients"]


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    raise NotImplementedError("cross_entropy: oracle not written yet")


def cross_entropy_gradients(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
    grad_output=None,
):
    raise NotImplementedError("cross_entropy: oracle gradients not written yet")
