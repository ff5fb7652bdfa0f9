"""Gradients of the oracle losses, by the name of the ``torch.nn.functional`` they mirror.

``oracle.gradients.<name>(<same arguments as oracle.<name>>, grad_output=None)`` returns a
dict from argument name (``"input"``, ``"target"``, ``"weight"``) to the gradient of the
loss with respect to that argument, in the argument's original shape. ``grad_output``
defaults to ones of the output's shape. Each is derived by hand in its loss's module.
"""

from __future__ import annotations

from .binary_cross_entropy import binary_cross_entropy_gradients as binary_cross_entropy
from .binary_cross_entropy_with_logits import (
    binary_cross_entropy_with_logits_gradients as binary_cross_entropy_with_logits,
)
from .cosine_embedding_loss import cosine_embedding_loss_gradients as cosine_embedding_loss
from .cross_entropy import cross_entropy_gradients as cross_entropy
from .ctc_loss import ctc_loss_from_scores_gradients as ctc_loss_from_scores
from .ctc_loss import ctc_loss_gradients as ctc_loss
from .gaussian_nll_loss import gaussian_nll_loss_gradients as gaussian_nll_loss
from .hinge_embedding_loss import hinge_embedding_loss_gradients as hinge_embedding_loss
from .huber_loss import huber_loss_gradients as huber_loss
from .kl_div import kl_div_gradients as kl_div
from .l1_loss import l1_loss_gradients as l1_loss
from .linear_cross_entropy import linear_cross_entropy_gradients as linear_cross_entropy
from .margin_ranking_loss import margin_ranking_loss_gradients as margin_ranking_loss
from .mse_loss import mse_loss_gradients as mse_loss
from .multi_margin_loss import multi_margin_loss_gradients as multi_margin_loss
from .multilabel_margin_loss import multilabel_margin_loss_gradients as multilabel_margin_loss
from .multilabel_soft_margin_loss import (
    multilabel_soft_margin_loss_gradients as multilabel_soft_margin_loss,
)
from .nll_loss import nll_loss_gradients as nll_loss
from .poisson_nll_loss import poisson_nll_loss_gradients as poisson_nll_loss
from .smooth_l1_loss import smooth_l1_loss_gradients as smooth_l1_loss
from .soft_margin_loss import soft_margin_loss_gradients as soft_margin_loss
from .triplet_margin_loss import triplet_margin_loss_gradients as triplet_margin_loss
from .triplet_margin_with_distance_loss import (
    triplet_margin_with_distance_loss_gradients as triplet_margin_with_distance_loss,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "ctc_loss",
    "ctc_loss_from_scores",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "linear_cross_entropy",
    "margin_ranking_loss",
    "mse_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]
