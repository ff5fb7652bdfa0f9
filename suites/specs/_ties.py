"""The other one-sided derivative at a hinge's exact kink, for ``LossSpec.tie_gradients``.

At an exact tie (a hinge argument exactly 0) the documented ``max(0, z)`` has no
derivative; the oracle documents one subgradient (0: the hinge is inactive at 0) and its
module exposes ``gradients_active_at_tie``, the gradients with the other one-sided
derivative (the active side's slope). The road compares a failed torch gradient with these:
a match is a different convention at the tie (``tie_other_side_failure``, registered where
torch does it), anything else stays a plain failure, so a wrong subgradient is still caught.
"""

from __future__ import annotations

import importlib
from typing import Any

from oracle import OracleInputError


def active_at_tie(case: Any, grad_output: Any) -> dict[str, Any] | None:
    """The oracle module's ``gradients_active_at_tie`` on the case (None if it rejects it)."""
    module = importlib.import_module(f"oracle.{case.spec.oracle}")
    kw = dict(case.keyword_tensors)
    kw.update(case.options)
    try:
        return module.gradients_active_at_tie(*case.positional, **kw, grad_output=grad_output)
    except OracleInputError:
        return None
