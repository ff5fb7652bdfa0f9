"""Independent numpy reference ("oracle") for the torch.nn losses.

Written from torch's documentation, never from its code, and never imports torch.
``oracle.<name>(...)`` has the signature of ``torch.nn.functional.<name>`` and returns a
``WORK``-precision numpy array; ``oracle.gradients.<name>(..., grad_output=None)`` returns
the gradients by argument name. Invalid inputs raise :class:`OracleInputError`.
"""

from __future__ import annotations

from . import gradients
from ._common import WORK, OracleInputError
from .binary_cross_entropy import binary_cross_entropy
from .binary_cross_entropy_with_logits import binary_cross_entropy_with_logits
from .cosine_embedding_loss import cosine_embedding_loss
from .cross_entropy import cross_entropy
from .ctc_loss import ctc_loss, ctc_loss_from_scores
from .gaussian_nll_loss import gaussian_nll_loss
from .hinge_embedding_loss import hinge_embedding_loss
from .huber_loss import huber_loss
from .kl_div import kl_div
from .l1_loss import l1_loss
from .linear_cross_entropy import linear_cross_entropy
from .margin_ranking_loss import margin_ranking_loss
from .mse_loss import mse_loss
from .multi_margin_loss import multi_margin_loss
from .multilabel_margin_loss import multilabel_margin_loss
from .multilabel_soft_margin_loss import multilabel_soft_margin_loss
from .nll_loss import nll_loss
from .poisson_nll_loss import poisson_nll_loss
from .smooth_l1_loss import smooth_l1_loss
from .soft_margin_loss import soft_margin_loss
from .triplet_margin_loss import triplet_margin_loss
from .triplet_margin_with_distance_loss import triplet_margin_with_distance_loss

__all__ = [
    "WORK",
    "OracleInputError",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "ctc_loss",
    "ctc_loss_from_scores",
    "gaussian_nll_loss",
    "gradients",
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
