"""The named distance functions TripletMarginWithDistanceLoss is drawn with.

The case holds a distance as its name (plain data: hypothesis prints it, the registry's
``when`` reads ``distance_function == 'cosine'``). ``torch_options`` turns the name into a
``TorchDistance``, a torch callable whose ``repr`` is the code that rebuilds it
(``TORCH_DISTANCES['cosine']``), so a reproducer that imports ``TORCH_DISTANCES`` (the
spec's ``reproducer_imports``) runs as printed. The oracle receives the name and looks up
its numpy twin in ``oracle._distance.NAMED`` (forward and hand-derived gradients).

- ``None``: the documented default (nn.PairwiseDistance(): p = 2, eps = 1e-6);
- ``'pairwise'``: ``nn.PairwiseDistance()`` passed explicitly (the docs' first example);
- ``'cosine'``: ``1 - F.cosine_similarity(x1, x2, dim=-1)`` (the docs' lambda example,
  over the last dimension so that an unbatched (D) input is one vector);
- ``'one_sided_sq'``: ``sum(clamp_min(x1 - x2, 0)^2)``, asymmetric: d(x, y) != d(y, x),
  so ``swap``'s argument order (d(positive, negative)) is observable;
- ``'count'``: the number of unequal coordinates, an integer count cast to the input's
  dtype: no gradient path at all.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

NAMES = ("pairwise", "cosine", "one_sided_sq", "count")


def _pairwise(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    return torch.nn.PairwiseDistance()(x1, x2)


def _cosine(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    return 1.0 - F.cosine_similarity(x1, x2, dim=-1)


def _one_sided_sq(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    return torch.clamp_min(x1 - x2, 0).pow(2).sum(dim=-1)


def _count(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    return (x1 != x2).sum(dim=-1).to(x1.dtype)


class TorchDistance:
    """A named torch distance; ``repr`` is the expression that rebuilds it."""

    def __init__(self, name: str, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]):
        self.name, self.fn = name, fn

    def __call__(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return self.fn(x1, x2)

    def __repr__(self) -> str:
        return f"TORCH_DISTANCES[{self.name!r}]"


TORCH_DISTANCES: dict[str, TorchDistance] = {
    name: TorchDistance(name, fn)
    for name, fn in (
        ("pairwise", _pairwise),
        ("cosine", _cosine),
        ("one_sided_sq", _one_sided_sq),
        ("count", _count),
    )
}
REPRODUCER_IMPORTS = ("from suites.specs._distances import TORCH_DISTANCES",)


def torch_options(options: dict) -> dict:
    """The case's options with the distance's name replaced by its torch callable."""
    out = dict(options)
    name = out.get("distance_function")
    if isinstance(name, str):
        out["distance_function"] = TORCH_DISTANCES[name]
    return out
