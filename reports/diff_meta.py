"""What two runs' ``meta.json`` files say about a release diff: are the runs comparable
(the same inputs reached both releases), and what changed in the loss APIs.

A release diff is only meaningful when both runs drew the same cases. They do when both
used the derandomized profile with the same settings and seed, the same suite (the
``suite_digest`` of ``oracle/``, ``suites/``, ``fixtures/``), the same hypothesis, numpy and
Python, and the same selection. :func:`comparability` lists every fact that differs; the
diff still runs, and its case-match rate shows what the difference cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# (label, path into meta.json): facts that decide which inputs a run draws
DRAW_FACTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hypothesis profile", ("profile",)),
    ("derandomized", ("derandomize",)),
    ("seed", ("seed",)),
    ("max examples", ("max_examples",)),
    ("suite digest", ("suite_digest",)),
    ("suite git revision", ("environment", "git", "revision")),
    ("hypothesis", ("environment", "hypothesis")),
    ("numpy", ("environment", "numpy")),
    ("python", ("environment", "python")),
    ("selected specs", ("selection", "specs")),
    ("selected dtypes", ("selection", "dtypes")),
    ("selected devices", ("selection", "devices")),
    ("selected apis", ("selection", "apis")),
)


def _get(meta: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    cur: Any = meta
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def torch_version(meta: Mapping[str, Any]) -> str:
    """The run's torch version, or '?'."""
    return str(_get(meta, ("environment", "torch", "version")) or meta.get("torch_version") or "?")


@dataclass(frozen=True)
class Mismatch:
    """One draw-deciding fact that differs between the runs."""

    label: str
    a: Any
    b: Any


def comparability(meta_a: Mapping[str, Any], meta_b: Mapping[str, Any]) -> list[Mismatch]:
    """Every draw-deciding fact that differs, plus a run that was not derandomized."""
    out = [
        Mismatch(label, _get(meta_a, path), _get(meta_b, path))
        for label, path in DRAW_FACTS
        if _get(meta_a, path) != _get(meta_b, path)
    ]
    for side, meta in (("A", meta_a), ("B", meta_b)):
        if meta and meta.get("derandomize") is False:
            out.append(Mismatch(f"run {side} was not derandomized", None, None))
    return out


@dataclass(frozen=True)
class SignatureChange:
    """One change of a loss module's or functional's signature."""

    name: str  # "torch.nn.HuberLoss" / "torch.nn.functional.huber_loss"
    what: str  # "added", "removed", "parameter added", "parameter removed", "default", "kind"
    parameter: str
    a: str
    b: str


def _params(value: Any) -> dict[str, Mapping[str, str]] | None:
    if not isinstance(value, list):
        return None
    return {str(p.get("name")): p for p in value if isinstance(p, Mapping)}


def signature_changes(
    meta_a: Mapping[str, Any], meta_b: Mapping[str, Any]
) -> list[SignatureChange]:
    """Losses and parameters added or removed, defaults and parameter kinds changed."""
    sig_a = meta_a.get("api_signatures")
    sig_b = meta_b.get("api_signatures")
    if not isinstance(sig_a, Mapping) or not isinstance(sig_b, Mapping):
        return []
    out: list[SignatureChange] = []
    for name in sorted(set(sig_a) | set(sig_b)):
        pa, pb = _params(sig_a.get(name)), _params(sig_b.get(name))
        if pa is None and pb is None:
            continue
        if pa is None:
            out.append(SignatureChange(name, "added", "", "absent", _signature_text(pb)))
            continue
        if pb is None:
            out.append(SignatureChange(name, "removed", "", _signature_text(pa), "absent"))
            continue
        for p in pa:
            if p not in pb:
                out.append(
                    SignatureChange(name, "parameter removed", p, pa[p].get("default", ""), "")
                )
        for p in pb:
            if p not in pa:
                out.append(
                    SignatureChange(name, "parameter added", p, "", pb[p].get("default", ""))
                )
                continue
            for field, what in (("default", "default"), ("kind", "kind")):
                if pa[p].get(field) != pb[p].get(field):
                    out.append(
                        SignatureChange(name, what, p, str(pa[p].get(field)), str(pb[p].get(field)))
                    )
        order_a = [p for p in pa if p in pb]
        order_b = [p for p in pb if p in pa]
        if order_a != order_b:
            out.append(SignatureChange(name, "order", "", ", ".join(order_a), ", ".join(order_b)))
    return out


def _signature_text(params: Mapping[str, Mapping[str, str]] | None) -> str:
    if not params:
        return "()"
    return (
        "("
        + ", ".join(
            n if p.get("default") == "<required>" else f"{n}={p.get('default')}"
            for n, p in params.items()
        )
        + ")"
    )


def registry_entries(meta: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The run's registry entries by id (``meta["registry"]``)."""
    reg = meta.get("registry")
    if not isinstance(reg, list):
        return {}
    return {str(e.get("id")): e for e in reg if isinstance(e, Mapping) and e.get("id")}
