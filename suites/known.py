"""The known-discrepancy registry, matched per case (never per test id).

``fixtures/known_discrepancies.toml`` holds ``[[entry]]`` tables:

    id        unique, kebab-case
    kind      bug | behaviour | doc | precision | validation
    losses    spec names ("CrossEntropyLoss[prob_target]"), loss names that match every
              variant ("CrossEntropyLoss"), or fnmatch patterns ("*Margin*")
    torch     a PEP 440 specifier of the releases it applies to (">=2.6")
    when      a Python expression over the case (default "True"), see ``case_namespace``
    apis, dtypes, devices, quantities, rules   optional fnmatch lists ("*" when absent)
    reason    why torch differs (required)
    evidence  an issue link or the measurement that shows it (required)
    torch_does  what torch does instead (required)
    issue     upstream issue link, or "" when none was found (required key)
    always    true (default): every matching case is expected to fail, so a passing one is
              ``xpass``; false for entries whose predicate marks where a failure CAN occur
              (precision limits near the top of the range): a passing match is ``pass``

A failing case whose every failing quantity matches an entry is ``known``. Entries that
match no case of a run, failing or passing, are stale.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import Version

REGISTRY = Path(__file__).resolve().parent.parent / "fixtures" / "known_discrepancies.toml"
KINDS = ("bug", "behaviour", "doc", "precision", "validation")
REQUIRED = ("id", "kind", "losses", "torch", "reason", "evidence", "torch_does", "issue")
ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")  # records join matched ids with commas
OPTIONAL = ("when", "apis", "dtypes", "devices", "quantities", "rules", "always")


class Namespace(dict):
    """Names of a case for ``when``: unknown names (an absent feature) read as False.

    Besides the case's names (``case_namespace``), the road sets ``quantity``,
    ``nonfinite_failure`` (every out-of-tolerance element of the quantity is ±inf or NaN)
    ``subnormal_failure`` (every out-of-tolerance element's exact value is subnormal) and
    ``tie_other_side_failure`` (the gradient is the other one-sided derivative at the
    case's exact kinks: ``LossSpec.tie_gradients``) and ``alternative_failure`` (the
    label of ``LossSpec.alternative_gradients`` when the gradient is that quantity, else "").
    """

    def __missing__(self, key: str) -> Any:
        return False


@dataclass(frozen=True)
class Entry:
    id: str
    kind: str
    losses: tuple[str, ...]
    torch: SpecifierSet
    when: str
    apis: tuple[str, ...]
    dtypes: tuple[str, ...]
    devices: tuple[str, ...]
    quantities: tuple[str, ...]
    rules: tuple[str, ...]
    reason: str
    evidence: str
    torch_does: str
    issue: str
    always: bool = True

    def applies_to(self, spec: str, torch_version: str) -> bool:
        return _loss_matches(spec, self.losses) and _version_in(torch_version, self.torch)

    def matches(self, ns: Namespace, quantity: str, rule: str | None) -> bool:
        if not (
            _loss_matches(ns["spec"], self.losses)
            and _version_in(ns["torch_version"], self.torch)
            and _any(ns["api"], self.apis)
            and _any(ns["dtype"], self.dtypes)
            and _any(ns["device"].split(":")[0], self.devices)
            and _any(quantity, self.quantities)
            and (rule is None or _any(rule, self.rules))
        ):
            return False
        ns = Namespace(ns, quantity=quantity)
        return bool(eval(self._code, {"__builtins__": {}}, ns))

    @property
    def _code(self) -> Any:
        return _compile(self.when, self.id)


def _any(value: str, patterns: tuple[str, ...]) -> bool:
    """Exact names first ("grad[input]" has brackets fnmatch would read as a set)."""
    return any(value == p or fnmatchcase(value, p) for p in patterns)


def _loss_matches(spec: str, patterns: tuple[str, ...]) -> bool:
    """A spec name, or its loss name without the [variant] (which fnmatch would read as a
    character set)."""
    return _any(spec, patterns) or _any(spec.split("[")[0], patterns)


def _version_in(version: str, spec: SpecifierSet) -> bool:
    v = Version(version.split("+")[0])
    return spec.contains(v, prereleases=True)


@cache
def _compile(expr: str, entry_id: str) -> Any:
    try:
        return compile(expr, f"<known_discrepancies:{entry_id}>", "eval")
    except SyntaxError as exc:
        raise ValueError(f"registry entry {entry_id}: `when` is not an expression: {exc}") from None


def parse_registry(text: str, source: str = "<string>") -> tuple[Entry, ...]:
    data = tomllib.loads(text)
    entries = []
    seen = set()
    for i, raw in enumerate(data.get("entry", [])):
        where = f"{source}: entry #{i + 1} ({raw.get('id', '?')})"
        for key in REQUIRED:
            if key not in raw or (key != "issue" and not str(raw[key]).strip()):
                raise ValueError(f"{where}: `{key}` is required and must not be empty")
        unknown = set(raw) - set(REQUIRED) - set(OPTIONAL)
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        if raw["kind"] not in KINDS:
            raise ValueError(f"{where}: kind must be one of {KINDS}, not {raw['kind']!r}")
        if not ID.fullmatch(str(raw["id"])):
            raise ValueError(f"{where}: id must be kebab-case ([a-z0-9] words joined by '-')")
        if raw["id"] in seen:
            raise ValueError(f"{where}: duplicate id")
        seen.add(raw["id"])
        when = str(raw.get("when", "True"))
        _compile(when, raw["id"])
        entries.append(
            Entry(
                id=raw["id"],
                kind=raw["kind"],
                losses=tuple(raw["losses"]),
                torch=SpecifierSet(raw["torch"]),
                when=when,
                apis=tuple(raw.get("apis", ["*"])),
                dtypes=tuple(raw.get("dtypes", ["*"])),
                devices=tuple(raw.get("devices", ["*"])),
                quantities=tuple(raw.get("quantities", ["*"])),
                rules=tuple(raw.get("rules", ["*"])),
                reason=str(raw["reason"]).strip(),
                evidence=str(raw["evidence"]).strip(),
                torch_does=str(raw["torch_does"]).strip(),
                issue=str(raw["issue"]).strip(),
                always=bool(raw.get("always", True)),
            )
        )
    return tuple(entries)


@cache
def load_registry(path: Path = REGISTRY) -> tuple[Entry, ...]:
    return parse_registry(path.read_text(), str(path))


def case_namespace(case: Any, device: str, torch_version: str) -> Namespace:
    """What ``when`` can read: spec, loss, variant, api, dtype, device, reduction, regime,
    every option (defaults filled in), ``has_<tensor>`` for each tensor argument, the
    shapes as ``shape_<tensor>``, ``numel`` of the first input, and each feature as True."""
    ns = Namespace(
        spec=case.spec.name,
        loss=case.spec.loss,
        variant=case.spec.variant,
        api=case.api,
        dtype=case.dtype,
        device=device,
        regime=case.regime,
        torch_version=torch_version,
        legacy="size_average" in case.options or "reduce" in case.options,
    )
    ns.update(case.effective_options())
    for a in case.spec.args:
        ns[f"has_{a.name}"] = a.name in case.inputs
    for name, arr in case.inputs.items():
        ns[f"shape_{name}"] = tuple(arr.shape)
    first = case.positional[0] if case.positional else None
    ns["numel"] = 0 if first is None else int(first.size)
    for f in case.features:
        ns[f] = True
    return ns


def classify(
    entries: tuple[Entry, ...], ns: Namespace, failures: list[tuple[str, str | None]]
) -> tuple[str, list[str]]:
    """Verdict for a case: ``failures`` lists (quantity, rule) of every failing quantity.

    Returns ("fail" | "known" | "xpass" | "pass", matching entry ids); a passing case
    matched only by ``always = false`` entries is "pass", with their ids (not stale).
    """
    if failures:
        ids: list[str] = []
        for quantity, rule in failures:
            hit = [e.id for e in entries if e.matches(ns, quantity, rule)]
            if not hit:
                return "fail", ids
            ids.extend(h for h in hit if h not in ids)
        return "known", ids
    hits = [e for e in entries if e.matches(ns, ns.get("quantity", "output"), None)]
    ids = [e.id for e in hits]
    return ("xpass", ids) if any(e.always for e in hits) else ("pass", ids)
