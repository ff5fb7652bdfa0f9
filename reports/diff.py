"""``python -m reports diff RUN_A RUN_B``: what changed between two torch releases.

Run A is the old release, run B the new one, both produced by the derandomized profile from
the same checkout (``tox -e torch2.13,torch2.14``). :func:`diff_runs` gathers:

- the runs' comparability (:mod:`reports.diff_meta`) and the case-match rate;
- the case findings (:mod:`reports.diff_cases`): new failures, fixed cases, newly excused
  cases, behaviour changes, accuracy regressions and improvements, presence changes;
- the registry's story: entries that excused cases in A and excuse none in B (retire them,
  or narrow their torch range), and entries only B needs;
- the API story: signature and default changes of the loss modules and functionals.

The exit status of the command is 1 when B has new failures (cases A did not fail).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports.diff_cases import CaseDiff, diff_cases
from reports.diff_meta import (
    Mismatch,
    SignatureChange,
    comparability,
    registry_entries,
    signature_changes,
    torch_version,
)
from reports.records import iter_records
from reports.run_meta import read_meta


@dataclass(frozen=True)
class RegistryFinding:
    """A registry entry whose use changed between the runs."""

    id: str
    cases_a: int
    cases_b: int
    status: str  # what happened, in words
    reason: str
    issue: str


@dataclass
class RunDiff:
    """Everything the renderers show."""

    run_a: str
    run_b: str
    torch_a: str
    torch_b: str
    mismatches: list[Mismatch]
    cases: CaseDiff
    retire: list[RegistryFinding] = field(default_factory=list)
    needed: list[RegistryFinding] = field(default_factory=list)
    signatures: list[SignatureChange] = field(default_factory=list)

    @property
    def has_new_failures(self) -> bool:
        return bool(self.cases.new_failures)

    @property
    def match_rate(self) -> float:
        return self.cases.matched / self.cases.n_b if self.cases.n_b else 0.0


def registry_story(
    cases: CaseDiff, meta_a: Mapping[str, Any], meta_b: Mapping[str, Any]
) -> tuple[list[RegistryFinding], list[RegistryFinding]]:
    """(entries to retire, entries only B needs)."""
    reg_a, reg_b = registry_entries(meta_a), registry_entries(meta_b)
    retire = []
    for kid, n_a in sorted(cases.known_a.items()):
        n_b = cases.known_b.get(kid, 0)
        if n_b:
            continue
        entry = reg_b.get(kid) or reg_a.get(kid) or {}
        if kid not in reg_b:
            status = "gone from B's registry"
        elif not reg_b[kid].get("applies", True):
            status = f"its torch range ({reg_b[kid].get('torch')}) excludes B: retired by its range"
        elif kid in cases.matched_ids_b:
            status = "matched B's cases and none failed: fixed in B; retire it or end its range"
        else:
            status = "matched no case of B (stale): fixed or no longer drawn"
        retire.append(
            RegistryFinding(
                kid, n_a, 0, status, str(entry.get("reason", "")), str(entry.get("issue", ""))
            )
        )
    needed = [
        RegistryFinding(
            kid,
            0,
            n_b,
            "excuses cases of B and none of A",
            str((reg_b.get(kid) or {}).get("reason", "")),
            str((reg_b.get(kid) or {}).get("issue", "")),
        )
        for kid, n_b in sorted(cases.known_b.items())
        if kid not in cases.known_a
    ]
    return retire, needed


def diff_runs(run_a: Path, run_b: Path) -> RunDiff:
    """Compare two run folders (A old, B new)."""
    meta_a, meta_b = read_meta(run_a), read_meta(run_b)
    cases = diff_cases(iter_records(run_a), iter_records(run_b))
    retire, needed = registry_story(cases, meta_a, meta_b)
    return RunDiff(
        run_a=str(run_a),
        run_b=str(run_b),
        torch_a=torch_version(meta_a),
        torch_b=torch_version(meta_b),
        mismatches=comparability(meta_a, meta_b),
        cases=cases,
        retire=retire,
        needed=needed,
        signatures=signature_changes(meta_a, meta_b),
    )
