"""Oracle for ``torch.nn.functional.linear_cross_entropy`` (placeholder, being written).

Documentation: torch 2.13. Written from the documentation, not from torch's code.
"""

from __future__ import annotations

__all__ = ["linear_cross_entropy", "linear_cross_entropy_gradients"]


def linear_cross_entropy(
    input,
    linear_weight,
    target,
    *,
    linear_bias=None,
    weight=None,
    reduction="mean",
    ignore_index=None,
    label_smoothing=0.0,
    options=None,
):
    raise NotImplementedError("linear_cross_entropy: oracle not written yet")


def linear_cross_entropy_gradients(
    input,
    linear_weight,
    target,
    *,
    linear_bias=None,
    weight=None,
    reduction="mean",
    ignore_index=None,
    label_smoothing=0.0,
    options=None,
    grad_output=None,
):
    raise NotImplementedError("linear_cross_entropy: oracle gradients not written yet")
