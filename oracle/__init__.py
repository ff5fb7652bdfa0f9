"""Independent numpy reference ("oracle") for the torch.nn losses.

Written from torch's documentation, never from its code, and never imports torch.
``oracle.<name>(...)`` has the signature of ``torch.nn.functional.<name>`` and returns a
``WORK``-precision numpy array; ``oracle.gradients.<name>(..., grad_output=None)`` returns
the gradients by argument name. Invalid inputs raise :class:`OracleInputError`.
"""

from __future__ import annotations

from . import gradients
from ._common import WORK, OracleInputError
from .huber_loss import huber_loss
from .l1_loss import l1_loss
from .mse_loss import mse_loss
from .smooth_l1_loss import smooth_l1_loss

__all__ = [
    "WORK",
    "OracleInputError",
    "gradients",
    "huber_loss",
    "l1_loss",
    "mse_loss",
    "smooth_l1_loss",
]
