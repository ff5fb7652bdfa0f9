"""Gradients of the oracle losses, by the name of the ``torch.nn.functional`` they mirror.

``oracle.gradients.<name>(<same arguments as oracle.<name>>, grad_output=None)`` returns a
dict from argument name (``"input"``, ``"target"``, ``"weight"``) to the gradient of the
loss with respect to that argument, in the argument's original shape. ``grad_output``
defaults to ones of the output's shape. Each is derived by hand in its loss's module.
"""

from __future__ import annotations

from .huber_loss import huber_loss_gradients as huber_loss
from .l1_loss import l1_loss_gradients as l1_loss
from .mse_loss import mse_loss_gradients as mse_loss
from .smooth_l1_loss import smooth_l1_loss_gradients as smooth_l1_loss

__all__ = ["huber_loss", "l1_loss", "mse_loss", "smooth_l1_loss"]
