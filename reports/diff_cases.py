"""Case-by-case comparison of two runs (run A: the old release, run B: the new one).

A case is identified by ``(test, case_id, quantity)``: ``case_id`` is the digest of the
exact inputs (``suites.record.case_digest``), so with the derandomized profile the same
case appears in both runs. A is indexed in memory (a few small fields per case); B is
streamed. Findings are aggregated into groups (spec, dtype, device, quantity, ...) with a
count and one sample each: the sample with the shortest reproducer, which is hypothesis's
shrunk example. Memory is bounded by A's case count, never by the text of the records.

Findings:

- **new failures**: B fails a case that A did not fail (or that A never drew);
- **fixed cases**: A failed or needed a registry entry, B passes;
- **newly excused**: A passed, B needs a registry entry (the registry already knew);
- **behaviour changes**: torch's result class differs (``outcome``: a different exception,
  NaN/inf where there was a number, the other one-sided derivative at a tie, ...);
- **accuracy**: per (spec, dtype, device, quantity), the worst ULP error over the cases
  judged on accuracy in both runs; a regression is B > 2 A and B - A >= 2 ULP;
- **registry**: entries that excused cases in A and excuse none in B (retire them) and
  entries B needs that A did not;
- **presence**: losses, options, tensors and option values one release lacks (verdict
  ``absent``), by name.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reports.summary import Group, as_float, reproducer_size

JUDGED = ("pass", "xpass", "fail")
EXCUSED = ("known",)
MAX_GROUPS = 300
REGRESSION_FACTOR = 2.0
REGRESSION_MIN_ULP = 2.0

Key = tuple[str, str, str]


def case_key(rec: Mapping[str, Any]) -> Key | None:
    """``(test, case_id, quantity)``; a record without ``case_id`` falls back to a digest of
    its reproducer (which spells the inputs out); None when neither is there."""
    cid = rec.get("case_id")
    if not cid:
        repro = rec.get("reproducer")
        if not repro:
            return None
        cid = "r" + hashlib.sha256(str(repro).encode()).hexdigest()[:15]
    return (str(rec.get("test")), str(cid), str(rec.get("quantity")))


@dataclass(slots=True)
class Seen:
    """What run A recorded for one case (the first record of the key)."""

    verdict: str
    outcome: str | None
    ulp: float | None
    known: str | None
    rule: str | None


@dataclass
class Accuracy:
    """Worst ULP error of one (spec, dtype, device, quantity) over cases judged in both."""

    a: float = 0.0
    b: float = 0.0
    cases: int = 0
    sample_b: dict[str, Any] = field(default_factory=dict)

    @property
    def regressed(self) -> bool:
        return self.b > REGRESSION_FACTOR * self.a and self.b - self.a >= REGRESSION_MIN_ULP

    @property
    def improved(self) -> bool:
        return self.a > REGRESSION_FACTOR * self.b and self.a - self.b >= REGRESSION_MIN_ULP


@dataclass
class CaseDiff:
    """The case-level findings; see the module docstring."""

    totals_a: dict[str, int] = field(default_factory=dict)
    totals_b: dict[str, int] = field(default_factory=dict)
    n_a: int = 0
    n_b: int = 0
    matched: int = 0
    unkeyed: int = 0
    still_failing: int = 0
    new_failures: dict[tuple, Group] = field(default_factory=dict)
    fixed: dict[tuple, Group] = field(default_factory=dict)
    newly_excused: dict[tuple, Group] = field(default_factory=dict)
    behaviour: dict[tuple, Group] = field(default_factory=dict)
    accuracy: dict[tuple, Accuracy] = field(default_factory=dict)
    known_a: dict[str, int] = field(default_factory=dict)  # id -> cases it excused in A
    known_b: dict[str, int] = field(default_factory=dict)
    matched_ids_b: set[str] = field(default_factory=set)  # ids that matched any case in B
    absent_a: set[tuple[str, str, str]] = field(default_factory=set)
    absent_b: set[tuple[str, str, str]] = field(default_factory=set)
    groups_dropped: int = 0

    @property
    def new_failure_count(self) -> int:
        return sum(g.count for g in self.new_failures.values())


def absent_name(rec: Mapping[str, Any]) -> tuple[str, str, str]:
    """(spec, api, name) of an ``absent`` record: a presence record names the loss, option
    or tensor in ``quantity``; a case that used an option value this torch lacks says
    "torch X has no NAME" in its message."""
    name = str(rec.get("quantity"))
    message = str(rec.get("message") or "")
    if rec.get("kind") != "presence" and " has no " in message:
        name = message.split(" has no ", 1)[1]
    return (str(rec.get("spec")), str(rec.get("api")), name)


def _ulp(rec: Mapping[str, Any]) -> float | None:
    u = as_float(rec.get("max_ulp"))
    return None if u is None or math.isnan(u) else u


def _sample(rec: Mapping[str, Any], a: Seen | None) -> dict[str, Any]:
    return {
        "test": rec.get("test"),
        "case_id": rec.get("case_id"),
        "quantity": rec.get("quantity"),
        "kwargs": rec.get("kwargs"),
        "regime": rec.get("regime"),
        "a_verdict": None if a is None else a.verdict,
        "a_outcome": None if a is None else a.outcome,
        "a_ulp": None if a is None else a.ulp,
        "a_known": None if a is None else a.known,
        "b_verdict": rec.get("verdict"),
        "b_outcome": rec.get("outcome"),
        "b_ulp": _ulp(rec),
        "b_known": rec.get("known_id"),
        "rule": rec.get("rule"),
        "message": rec.get("message"),
        "reproducer": rec.get("reproducer"),
    }


def _where(rec: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(rec.get("spec")),
        str(rec.get("dtype")),
        str(rec.get("device")),
        str(rec.get("quantity")),
    )


def behaviour_kind(a: str, b: str) -> str:
    """A short name for a change of torch's result class from ``a`` to ``b``."""
    a_raises, b_raises = a.startswith("raises"), b.startswith("raises")
    if a_raises and b_raises:
        return "a different exception"
    if b_raises:
        return "now raises"
    if a_raises:
        return "no longer raises"
    a_base, b_base = a.split(" (")[0], b.split(" (")[0]
    if a_base != b_base:
        if a_base == "finite":
            return "NaN/inf where there was a number"
        if b_base == "finite":
            return "a number where there was NaN/inf"
        return "NaN and inf swapped"
    if "other side at tie" in a + b:
        return "a changed subgradient at a tie"
    return "a different alternative quantity"


class _Differ:
    def __init__(self) -> None:
        self.d = CaseDiff()
        self.index: dict[Key, Seen] = {}

    def _group(self, table: dict[tuple, Group], key: tuple, names: tuple[str, ...]) -> Group | None:
        g = table.get(key)
        if g is None:
            if len(table) >= MAX_GROUPS:
                self.d.groups_dropped += 1
                return None
            g = table[key] = Group(dict(zip(names, key, strict=True)))
        return g

    @staticmethod
    def _count(rec: Mapping[str, Any], totals: dict[str, int], absent: set) -> str:
        """Count the record's verdict (and an absent name); returns the verdict."""
        verdict = str(rec.get("verdict"))
        totals[verdict] = totals.get(verdict, 0) + 1
        if verdict == "absent":
            absent.add(absent_name(rec))
        return verdict

    def add_a(self, rec: Mapping[str, Any]) -> None:
        d = self.d
        d.n_a += 1
        verdict = self._count(rec, d.totals_a, d.absent_a)
        for kid in (rec.get("known_id") or "").split(","):
            if kid and verdict in EXCUSED:
                d.known_a[kid] = d.known_a.get(kid, 0) + 1
        key = case_key(rec)
        if key is not None and key not in self.index:
            self.index[key] = Seen(
                verdict, rec.get("outcome"), _ulp(rec), rec.get("known_id"), rec.get("rule")
            )

    def add_b(self, rec: Mapping[str, Any]) -> None:
        d = self.d
        d.n_b += 1
        verdict = self._count(rec, d.totals_b, d.absent_b)
        for kid in (rec.get("known_id") or "").split(","):
            if kid:
                d.matched_ids_b.add(kid)
                if verdict in EXCUSED:
                    d.known_b[kid] = d.known_b.get(kid, 0) + 1
        key = case_key(rec)
        if key is None:
            d.unkeyed += 1
        a = None if key is None else self.index.get(key)
        if a is not None:
            d.matched += 1
        where = _where(rec)
        names = ("spec", "dtype", "device", "quantity")
        if verdict == "fail":
            if a is not None and a.verdict == "fail":
                d.still_failing += 1
            else:
                k = (*where, str(rec.get("rule")), "not drawn in A" if a is None else a.verdict)
                g = self._group(d.new_failures, k, (*names, "rule", "A"))
                if g:
                    g.add(lambda: _sample(rec, a), reproducer_size(rec))
        if a is None:
            return
        if a.verdict in ("fail", "known") and verdict in ("pass", "xpass"):
            k = (*where, a.known or f"rule {a.rule}")
            g = self._group(d.fixed, k, (*names, "A excused by"))
            if g:
                g.add(lambda: _sample(rec, a), reproducer_size(rec))
        elif a.verdict in ("pass", "xpass") and verdict == "known":
            k = (*where, str(rec.get("known_id")))
            g = self._group(d.newly_excused, k, (*names, "B excused by"))
            if g:
                g.add(lambda: _sample(rec, a), reproducer_size(rec))
        out_b = rec.get("outcome")
        if "absent" in (a.verdict, verdict):  # a presence change, listed as such
            return
        if a.outcome and out_b and a.outcome != out_b:
            k = (*where, behaviour_kind(a.outcome, str(out_b)), a.outcome, str(out_b))
            g = self._group(d.behaviour, k, (*names, "change", "A", "B"))
            if g:
                g.add(lambda: _sample(rec, a), reproducer_size(rec))
        ulp_b = _ulp(rec)
        if a.verdict in JUDGED and verdict in JUDGED and a.ulp is not None and ulp_b is not None:
            acc = d.accuracy.get(where)
            if acc is None:
                acc = d.accuracy[where] = Accuracy()
            acc.cases += 1
            acc.a = max(acc.a, a.ulp)
            if ulp_b >= acc.b:
                acc.b = ulp_b
                acc.sample_b = _sample(rec, a)


def diff_cases(
    records_a: Iterable[Mapping[str, Any]], records_b: Iterable[Mapping[str, Any]]
) -> CaseDiff:
    """Index ``records_a``, stream ``records_b``; see the module docstring."""
    differ = _Differ()
    for rec in records_a:
        differ.add_a(rec)
    for rec in records_b:
        differ.add_b(rec)
    return differ.d
