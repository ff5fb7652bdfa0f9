"""The signatures of torch's loss modules and functionals, as a run records them.

A release diff (``python -m reports diff``) compares these between two runs: a parameter
added, removed, renamed, or given a new default is an API change a user must hear about.
Every loss module under test, every other ``torch.nn`` class whose name ends in ``Loss``,
and the functional of each, are read with :func:`inspect.signature`; a name this torch
lacks is recorded as ``None`` (absent), one whose signature cannot be read as the reason.
"""

from __future__ import annotations

import inspect
from typing import Any


def _parameters(obj: Any, drop_self: bool) -> list[dict[str, str]] | str:
    """``[{"name", "kind", "default"}, ...]`` of a callable, or why it cannot be read."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError) as exc:
        return f"no signature: {type(exc).__name__}: {exc}"
    out = []
    for i, p in enumerate(sig.parameters.values()):
        if drop_self and i == 0 and p.name == "self":
            continue
        out.append(
            {
                "name": p.name,
                "kind": p.kind.name,
                "default": "<required>"
                if p.default is inspect.Parameter.empty
                else repr(p.default),
            }
        )
    return out


def loss_signatures(specs: Any = ()) -> dict[str, list[dict[str, str]] | str | None]:
    """``{"torch.nn.HuberLoss": [...], "torch.nn.functional.huber_loss": [...], ...}``.

    ``specs`` adds the module and functional names of the loss specs under test (so a loss
    a release lacks is recorded as absent, ``None``)."""
    import torch

    modules = {s.loss for s in specs}
    functionals = {s.functional for s in specs}
    for name in dir(torch.nn):
        obj = getattr(torch.nn, name, None)
        if name.endswith("Loss") and isinstance(obj, type) and issubclass(obj, torch.nn.Module):
            modules.add(name)
    out: dict[str, list[dict[str, str]] | str | None] = {}
    for name in sorted(modules):
        cls = getattr(torch.nn, name, None)
        out[f"torch.nn.{name}"] = None if cls is None else _parameters(cls.__init__, True)
    for name in sorted(functionals):
        fn = getattr(torch.nn.functional, name, None)
        out[f"torch.nn.functional.{name}"] = None if fn is None else _parameters(fn, False)
    return out
