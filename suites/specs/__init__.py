"""The registry of every LossSpec the suite knows, in one tuple.

``select("L1Loss,huber")`` picks specs by name (module, functional or full spec name,
case-insensitive), the way ``--loss`` does.
"""

from __future__ import annotations

from suites.specs._types import APIS, REDUCTIONS, Api, InvalidInput, LossSpec, Option, TensorArg
from suites.specs.binary import SPECS as BINARY
from suites.specs.cross_entropy import SPECS as CROSS_ENTROPY
from suites.specs.ctc import SPECS as CTC
from suites.specs.hinge_embedding import SPECS as HINGE_EMBEDDING
from suites.specs.kl_div import SPECS as KL_DIV
from suites.specs.linear_cross_entropy import SPECS as LINEAR_CROSS_ENTROPY
from suites.specs.margin_classification import SPECS as MARGIN_CLASSIFICATION
from suites.specs.pair_margin import SPECS as PAIR_MARGIN
from suites.specs.pointwise import SPECS as POINTWISE
from suites.specs.probabilistic import SPECS as PROBABILISTIC
from suites.specs.triplet import SPECS as TRIPLET

ALL_SPECS: tuple[LossSpec, ...] = (
    *POINTWISE,
    *CROSS_ENTROPY,
    *LINEAR_CROSS_ENTROPY,
    *BINARY,
    *MARGIN_CLASSIFICATION,
    *PROBABILISTIC,
    *KL_DIV,
    *HINGE_EMBEDDING,
    *PAIR_MARGIN,
    *TRIPLET,
    *CTC,
)

__all__ = [
    "ALL_SPECS",
    "APIS",
    "REDUCTIONS",
    "Api",
    "InvalidInput",
    "LossSpec",
    "Option",
    "TensorArg",
    "by_name",
    "select",
]


def by_name(name: str) -> LossSpec:
    for spec in ALL_SPECS:
        if spec.name == name:
            return spec
    raise KeyError(f"no LossSpec named {name!r}")


def _key(name: str) -> str:
    """Case, underscores and a trailing 'loss' do not matter: l1 = L1Loss = l1_loss."""
    return name.strip().lower().replace("_", "").removesuffix("loss")


def select(names: str | None) -> tuple[LossSpec, ...]:
    """Specs matching a comma-separated list of names; all of them for None or ''."""
    if not names:
        return ALL_SPECS
    wanted = [_key(n) for n in names.split(",") if n.strip()]
    chosen = []
    unknown = []
    for w in wanted:
        hits = [
            s
            for s in ALL_SPECS
            if w in (_key(s.name), _key(s.loss), _key(s.functional), _key(s.oracle))
        ]
        if not hits:
            unknown.append(w)
        chosen.extend(h for h in hits if h not in chosen)
    if unknown:
        known = ", ".join(s.name for s in ALL_SPECS)
        raise ValueError(f"--loss: unknown loss {', '.join(unknown)}; known: {known}")
    return tuple(chosen)
