"""One-pass aggregation of case records (counts and coverage, never a listing).

Memory is proportional to the number of (spec, dtype, device) cells and the capped
coverage sets, not to the number of records.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

VERDICTS: tuple[str, ...] = ("pass", "fail", "known", "xpass", "unsupported", "absent", "invalid")
OTHER = "other"  # bucket for verdicts outside VERDICTS (missing or unexpected)

MAX_KWARG_VALUES = 20
MAX_SET_VALUES = 100
MAX_EXTRA_TRACKED = 10_000
MAX_FAILURES_PER_SPEC = 20
MAX_GROUPS_PER_SPEC = 40
MAX_KNOWN_PER_SPEC = 200
MAX_REPR = 120
MISSING = "?"

# Upper edges of the ULP histogram buckets (value <= edge); then "> last", then "inf".
ULP_EDGES: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 65536.0)
ULP_LABELS: tuple[str, ...] = (
    "0",
    *(f"≤{e:g}" for e in ULP_EDGES[1:]),
    f">{ULP_EDGES[-1]:g}",
    "inf",
)

_DTYPE_ORDER = {
    d: i
    for i, d in enumerate(
        ["float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int64"]
    )
}
_DEVICE_ORDER = {"cpu": 0, "cuda": 1, "mps": 2}

Cell = tuple[str, str, str]
GroupKey = tuple[str, str, str, str, str]  # (rule, quantity, dtype, device, api)


@dataclass
class Group:
    """Cases that share a finding and its grouping fields: their count and ONE sample, the
    case with the shortest reproducer (hypothesis's shrunk example; the first on a tie).
    Used by the report's failure groups and by the release diff."""

    fields: dict[str, str]
    count: int = 0
    sample: dict[str, Any] = field(default_factory=dict)
    sample_size: int = -1

    def add(self, sample: Callable[[], dict[str, Any]], size: int) -> None:
        """Count one case; ``sample`` builds its record only when it becomes the sample."""
        self.count += 1
        if self.sample_size < 0 or size < self.sample_size:
            self.sample = sample()
            self.sample_size = size


def reproducer_size(rec: Mapping[str, Any]) -> int:
    """Length of a record's reproducer (0 when it has none)."""
    repro = rec.get("reproducer")
    return len(repro) if isinstance(repro, str) else 0


def as_float(x: Any) -> float | None:
    """A recorded number as float: accepts numbers and "nan"/"inf"/"-inf"; None otherwise."""
    if x is None or isinstance(x, bool):
        return None
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return None
    return None


def short_repr(value: Any, limit: int = MAX_REPR) -> str:
    """``repr(value)`` cut to ``limit`` characters."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 1] + "…"


class CappedSet:
    """Distinct string values, keeping the first ``limit``; counts further distinct ones.

    Extra values are tracked by hash up to ``MAX_EXTRA_TRACKED`` so memory stays bounded;
    beyond that ``more_capped`` is set and ``more`` is a lower bound.
    """

    __slots__ = ("_extra", "limit", "more_capped", "values")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.values: dict[str, None] = {}
        self._extra: set[int] = set()
        self.more_capped = False

    def add(self, value: str) -> None:
        """Add one value."""
        values = self.values
        if value in values:
            return
        if len(values) < self.limit:
            values[value] = None
            return
        if len(self._extra) < MAX_EXTRA_TRACKED:
            self._extra.add(hash(value))
        else:
            self.more_capped = self.more_capped or hash(value) not in self._extra

    @property
    def more(self) -> int:
        """Number of distinct values seen beyond the kept ones (a lower bound if capped)."""
        return len(self._extra)

    def export(self) -> dict:
        """``{"values": sorted list, "more": int, "more_capped": bool}``."""
        return {
            "values": sorted(self.values, key=_value_sort_key),
            "more": self.more,
            "more_capped": self.more_capped,
        }


def _value_sort_key(s: str) -> tuple:
    """Numbers in numeric order first, then the rest alphabetically."""
    try:
        f = float(s)
    except ValueError:
        return (1, 0.0, s)
    return (0, f if not math.isnan(f) else math.inf, s)


def column_key(col: tuple[str, str]) -> tuple:
    """Sort key of a (dtype, device) column: device, then dtype by width."""
    dtype, device = col
    base = device.split(":")[0]
    return (_DEVICE_ORDER.get(base, 9), base, device, _DTYPE_ORDER.get(dtype, 99), dtype)


def ulp_bucket(ulp: float) -> int:
    """Index into :data:`ULP_LABELS` for a (non-NaN) ULP error."""
    if math.isinf(ulp):
        return len(ULP_LABELS) - 1
    return bisect.bisect_left(ULP_EDGES, abs(ulp))


def _new_cell() -> dict:
    cell: dict[str, Any] = dict.fromkeys(VERDICTS, 0)
    cell[OTHER] = 0
    cell["n"] = 0
    cell["worst_ulp"] = None
    return cell


class _SpecCoverage:
    """Option coverage and failure samples of one spec."""

    __slots__ = (
        "apis",
        "devices",
        "dtype_hist",
        "dtypes",
        "fail_rules",
        "failures",
        "features",
        "groups",
        "groups_more",
        "groups_more_cases",
        "kind_verdicts",
        "kinds",
        "known_counts",
        "known_ids",
        "known_more",
        "kwargs",
        "n",
        "n_fail",
        "outcomes",
        "reductions",
        "regimes",
        "ulp_hist",
        "worst_ulp",
    )

    def __init__(self) -> None:
        self.n = 0
        self.n_fail = 0
        self.worst_ulp: float | None = None
        self.kwargs: dict[str, CappedSet] = {}
        self.apis = CappedSet(MAX_SET_VALUES)
        self.reductions = CappedSet(MAX_SET_VALUES)
        self.regimes = CappedSet(MAX_SET_VALUES)
        self.features = CappedSet(MAX_SET_VALUES)
        self.kinds = CappedSet(MAX_SET_VALUES)
        self.dtypes = CappedSet(MAX_SET_VALUES)
        self.devices = CappedSet(MAX_SET_VALUES)
        self.known_ids = CappedSet(MAX_SET_VALUES)
        self.ulp_hist = [0] * len(ULP_LABELS)
        self.fail_rules: dict[str, int] = {}
        self.failures: list[dict] = []
        self.dtype_hist: dict[str, list[int]] = {}
        self.kind_verdicts: dict[str, dict[str, int]] = {}
        self.groups: dict[GroupKey, Group] = {}
        self.groups_more = CappedSet(0)
        self.groups_more_cases = 0
        self.known_counts: dict[str, int] = {}
        self.known_more = 0
        self.outcomes = CappedSet(MAX_SET_VALUES)

    def add_failure(self, key: GroupKey, sample: Callable[[], dict], repro_len: int) -> None:
        """Count a failure in its group; keep the sample with the shortest reproducer."""
        group = self.groups.get(key)
        if group is None:
            if len(self.groups) >= MAX_GROUPS_PER_SPEC:
                self.groups_more.add(repr(key))
                self.groups_more_cases += 1
                return
            group = self.groups[key] = Group({})
        group.add(sample, repro_len)

    def export_groups(self) -> list[dict]:
        """Failure groups, most frequent first."""
        out = [
            {
                "rule": k[0],
                "quantity": k[1],
                "dtype": k[2],
                "device": k[3],
                "api": k[4],
                "count": g.count,
                "sample": g.sample,
            }
            for k, g in self.groups.items()
        ]
        out.sort(key=lambda g: (-g["count"], g["rule"], g["quantity"], g["dtype"], g["device"]))
        return out

    def export(self) -> dict:
        return {
            "n": self.n,
            "n_fail": self.n_fail,
            "worst_ulp": self.worst_ulp,
            "kwargs": {k: v.export() for k, v in sorted(self.kwargs.items())},
            "apis": self.apis.export()["values"],
            "reductions": self.reductions.export()["values"],
            "regimes": self.regimes.export()["values"],
            "features": self.features.export()["values"],
            "kinds": self.kinds.export()["values"],
            "dtypes": self.dtypes.export()["values"],
            "devices": self.devices.export()["values"],
            "known_ids": self.known_ids.export()["values"],
            "ulp_hist": dict(zip(ULP_LABELS, self.ulp_hist, strict=True)),
            "fail_rules": dict(sorted(self.fail_rules.items())),
            "ulp_hist_by_dtype": {
                dt: dict(zip(ULP_LABELS, h, strict=True))
                for dt, h in sorted(self.dtype_hist.items(), key=lambda kv: _dtype_key(kv[0]))
            },
            "kind_verdicts": {k: dict(v) for k, v in sorted(self.kind_verdicts.items())},
            "failure_groups": self.export_groups(),
            "groups_more": self.groups_more.more,
            "groups_more_capped": self.groups_more.more_capped,
            "groups_more_cases": self.groups_more_cases,
            "known_counts": dict(sorted(self.known_counts.items())),
            "known_more": self.known_more,
            "outcomes": self.outcomes.export()["values"],
        }


def _dtype_key(dtype: str) -> tuple:
    return (_DTYPE_ORDER.get(dtype, 99), dtype)


def _str(x: Any) -> str:
    """A record field as a display string; missing -> '?'."""
    if x is None or x == "":
        return MISSING
    return x if isinstance(x, str) else str(x)


class Summarizer:
    """Streaming form of :func:`summarize`: call :meth:`add` per record, then :meth:`result`."""

    def __init__(self) -> None:
        self.cells: dict[Cell, dict] = {}
        self.specs: dict[str, _SpecCoverage] = {}
        self.known: dict[str, dict] = {}
        self.totals: dict[str, int] = dict.fromkeys(VERDICTS, 0)
        self.n = 0

    def add(self, rec: Mapping[str, Any]) -> None:
        """Fold one record into the summary (a non-mapping counts as an empty record)."""
        if not isinstance(rec, Mapping):
            rec = {}
        get = rec.get
        spec = _str(get("spec") or get("loss"))
        dtype = _str(get("dtype"))
        device = _str(get("device"))
        verdict = get("verdict")
        vkey = verdict if verdict in VERDICTS else OTHER
        self.n += 1
        tkey = verdict if isinstance(verdict, str) else OTHER
        self.totals[tkey] = self.totals.get(tkey, 0) + 1

        key = (spec, dtype, device)
        cell = self.cells.get(key)
        if cell is None:
            cell = self.cells[key] = _new_cell()
        cell[vkey] += 1
        cell["n"] += 1

        cov = self.specs.get(spec)
        if cov is None:
            cov = self.specs[spec] = _SpecCoverage()
        cov.n += 1

        ulp = as_float(get("max_ulp"))
        # a known discrepancy's error is the discrepancy, not torch's accuracy: the worst
        # ULP of a cell is taken over the cases judged on accuracy (pass, xpass, fail)
        judged = verdict in ("pass", "xpass", "fail")
        if judged and ulp is not None and not math.isnan(ulp):
            if cell["worst_ulp"] is None or ulp > cell["worst_ulp"]:
                cell["worst_ulp"] = ulp
            if cov.worst_ulp is None or ulp > cov.worst_ulp:
                cov.worst_ulp = ulp
            bucket = ulp_bucket(ulp)
            cov.ulp_hist[bucket] += 1
            dh = cov.dtype_hist.get(dtype)
            if dh is None:
                dh = cov.dtype_hist[dtype] = [0] * len(ULP_LABELS)
            dh[bucket] += 1

        kind = _str(get("kind"))
        kv = cov.kind_verdicts.get(kind)
        if kv is None:
            if len(cov.kind_verdicts) >= MAX_SET_VALUES:
                kind = OTHER
                kv = cov.kind_verdicts.setdefault(OTHER, {})
            else:
                kv = cov.kind_verdicts[kind] = {}
        kv[tkey] = kv.get(tkey, 0) + 1
        outcome = get("outcome")
        if outcome is not None:
            cov.outcomes.add(_str(outcome))

        kwargs = get("kwargs")
        if isinstance(kwargs, Mapping):
            kw = cov.kwargs
            for name, value in kwargs.items():
                cs = kw.get(name)
                if cs is None:
                    cs = kw[name] = CappedSet(MAX_KWARG_VALUES)
                cs.add(short_repr(value))
        for key, cset in (
            ("api", cov.apis),
            ("reduction", cov.reductions),
            ("regime", cov.regimes),
            ("kind", cov.kinds),
        ):
            v = get(key)
            if v is not None:
                cset.add(_str(v))
        cov.dtypes.add(dtype)
        cov.devices.add(device)
        features = get("features")
        if isinstance(features, list | tuple):
            for f in features:
                cov.features.add(_str(f))

        known_id = get("known_id")
        if known_id:
            kid = _str(known_id)
            cov.known_ids.add(kid)
            if kid in cov.known_counts or len(cov.known_counts) < MAX_KNOWN_PER_SPEC:
                cov.known_counts[kid] = cov.known_counts.get(kid, 0) + 1
            else:
                cov.known_more += 1
            entry = self.known.get(kid)
            if entry is None:
                entry = self.known[kid] = {
                    "count": 0,
                    "verdicts": {},
                    "spec": spec,
                    "dtype": dtype,
                    "device": device,
                    "test": get("test"),
                }
            entry["count"] += 1
            entry["verdicts"][tkey] = entry["verdicts"].get(tkey, 0) + 1

        if verdict == "fail":
            cov.n_fail += 1
            rule = _str(get("rule"))
            cov.fail_rules[rule] = cov.fail_rules.get(rule, 0) + 1

            def sample() -> dict:
                return {
                    "test": get("test"),
                    "case_id": get("case_id"),
                    "kind": get("kind"),
                    "dtype": dtype,
                    "device": device,
                    "api": get("api"),
                    "quantity": get("quantity"),
                    "kwargs": kwargs if isinstance(kwargs, Mapping) else None,
                    "rule": get("rule"),
                    "message": get("message"),
                    "outcome": get("outcome"),
                    "max_ulp": get("max_ulp"),
                    "max_abs": get("max_abs"),
                    "max_rel": get("max_rel"),
                    "reproducer": get("reproducer"),
                }

            if len(cov.failures) < MAX_FAILURES_PER_SPEC:
                cov.failures.append(sample())
            gkey = (rule, _str(get("quantity")), dtype, device, _str(get("api")))
            cov.add_failure(gkey, sample, reproducer_size(rec))

    def add_all(self, records: Iterable[Mapping[str, Any]]) -> Summarizer:
        """Fold every record; returns self."""
        add = self.add
        for rec in records:
            add(rec)
        return self

    def result(self) -> dict:
        """The summary dict (see :func:`summarize`)."""
        totals = dict(self.totals)
        totals["n"] = self.n
        specs = sorted(self.specs)
        return {
            "cells": {k: dict(v) for k, v in sorted(self.cells.items())},
            "per_spec": {s: self.specs[s].export() for s in specs},
            "failures": {s: list(self.specs[s].failures) for s in specs if self.specs[s].failures},
            "known": {
                k: {**v, "verdicts": dict(v["verdicts"])} for k, v in sorted(self.known.items())
            },
            "totals": totals,
        }


def summarize(records: Iterable[Mapping[str, Any]]) -> dict:
    """Aggregate case records in one pass.

    Returns a dict with:

    - ``cells``: ``{(spec, dtype, device): {verdict: count for each of VERDICTS, "other",
      "n", "worst_ulp"}}``; ``worst_ulp`` is the max ``max_ulp`` (None ignored, NaN ignored,
      ``"inf"`` counts as infinity) or None;
    - ``per_spec``: ``{spec: {"n", "n_fail", "worst_ulp", "kwargs": {name: {"values": [repr,
      ...] (at most 20), "more": N, "more_capped": bool}}, "apis", "reductions", "regimes",
      "features", "kinds", "dtypes", "devices", "known_ids" (sorted lists), "ulp_hist":
      {bucket label: count}, "fail_rules": {rule: count}, "ulp_hist_by_dtype": {dtype:
      {bucket label: count}}, "kind_verdicts": {kind: {verdict: count}}, "failure_groups":
      [{"rule", "quantity", "dtype", "device", "api", "count", "sample"}] (at most 40, most
      frequent first; the sample is the group's case with the shortest reproducer, the first
      on a tie), "groups_more" (distinct groups beyond the 40), "groups_more_capped",
      "groups_more_cases" (their failures), "known_counts": {known_id: count},
      "known_more", "outcomes"}}``;
    - ``failures``: ``{spec: [first 20 failing records, trimmed to test, rule, message,
      max_ulp, reproducer and a few context fields]}``;
    - ``known``: ``{known_id: {"count", "verdicts", "spec", "dtype", "device", "test"}}``
      with the first matching case's spec/dtype/device/test;
    - ``totals``: ``{verdict: count, ..., "n": total}``.
    """
    return Summarizer().add_all(records).result()


def columns(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (dtype, device) columns present in a summary, in display order."""
    return sorted({(dt, dev) for (_, dt, dev) in summary["cells"]}, key=column_key)


def format_ulp(ulp: float | None) -> str:
    """Short display of a ULP error."""
    if ulp is None:
        return "-"
    if math.isinf(ulp):
        return "inf"
    if ulp == int(ulp) and abs(ulp) < 1e6:
        return str(int(ulp))
    return f"{ulp:.3g}"


def summary_to_json(summary: Mapping[str, Any]) -> dict:
    """A JSON-serialisable copy: ``cells`` becomes a list of dicts with spec/dtype/device."""
    out = dict(summary)
    out["cells"] = [
        {"spec": s, "dtype": dt, "device": dev, **{k: v for k, v in c.items()}}
        for (s, dt, dev), c in summary["cells"].items()
    ]
    return out


def format_text_table(summary: Mapping[str, Any]) -> str:
    """Plain-text table: one line per (spec, dtype, device) with counts and worst ULP."""
    header = ("spec", "dtype", "device", "n", *VERDICTS, "worst_ulp")
    rows: list[tuple[str, ...]] = [header]
    order = {c: i for i, c in enumerate(columns(summary))}
    for (spec, dt, dev), c in sorted(
        summary["cells"].items(), key=lambda kv: (kv[0][0], order[(kv[0][1], kv[0][2])])
    ):
        rows.append(
            (spec, dt, dev, str(c["n"]), *(str(c[v]) for v in VERDICTS), format_ulp(c["worst_ulp"]))
        )
    t = summary["totals"]
    rows.append(("TOTAL", "", "", str(t["n"]), *(str(t.get(v, 0)) for v in VERDICTS), ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for i, r in enumerate(rows):
        cells = [r[j].ljust(widths[j]) if j < 3 else r[j].rjust(widths[j]) for j in range(len(r))]
        lines.append("  ".join(cells).rstrip())
        if i == 0 or i == len(rows) - 2:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"
