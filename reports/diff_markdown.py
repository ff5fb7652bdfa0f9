"""The Markdown form of a release diff: short enough for a CI job summary.

Tables of groups (spec, dtype, device, quantity, ...) with their case counts; the first
few new failures and behaviour changes carry their reproducer in a collapsed block.
Every value from a record goes through :func:`md` (pipes, backticks, angle brackets and
newlines neutralised), so a case string cannot break the table or inject HTML; a
reproducer sits in a code fence longer than any run of backticks inside it, where Markdown
shows it verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from reports.diff import RunDiff
from reports.summary import Group, format_ulp

MAX_ROWS = 40
MAX_SAMPLES = 5
MAX_REPRO_LINES = 60


def md(value: Any) -> str:
    """A table-safe, HTML-inert rendering of one value."""
    text = "" if value is None else str(value)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "'")):
        text = text.replace(a, b)
    return " ".join(text.split())


def _table(headers: list[str], rows: Iterable[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(md(c) for c in r) + " |" for r in rows]
    return out


def _groups(title: str, groups: Mapping[tuple, Group], empty: str) -> list[str]:
    total = sum(g.count for g in groups.values())
    out = [f"## {title} ({total} cases in {len(groups)} groups)", ""]
    if not groups:
        return [*out, empty, ""]
    ordered = sorted(groups.values(), key=lambda g: (-g.count, tuple(g.fields.values())))
    headers = [*ordered[0].fields, "cases"]
    out += _table(headers, ([*g.fields.values(), g.count] for g in ordered[:MAX_ROWS]))
    if len(ordered) > MAX_ROWS:
        out.append(f"\n… and {len(ordered) - MAX_ROWS} more groups (see the HTML diff).")
    out.append("")
    for g in ordered[:MAX_SAMPLES]:
        out += _sample(g)
    return out


def _sample(g: Group) -> list[str]:
    s = g.sample
    head = ", ".join(f"{k} {v}" for k, v in g.fields.items())
    lines = [
        "<details><summary>" + md(head) + "</summary>",
        "",
        f"- test: {md(s.get('test'))}",
        f"- A: {md(s.get('a_verdict'))}, {md(s.get('a_outcome'))}, ULP {md(_u(s.get('a_ulp')))}",
        f"- B: {md(s.get('b_verdict'))}, {md(s.get('b_outcome'))}, ULP {md(_u(s.get('b_ulp')))}",
    ]
    if s.get("message"):
        lines.append(f"- message: {md(str(s['message'])[:600])}")
    repro = str(s.get("reproducer") or "")
    if repro:
        body = repro.splitlines()
        clipped = body[:MAX_REPRO_LINES]
        if len(body) > MAX_REPRO_LINES:
            clipped.append(f"# … {len(body) - MAX_REPRO_LINES} more lines (see the HTML diff)")
        runs = [len(r) for r in re.findall(r"`+", repro)]
        fence = "`" * max(3, max(runs, default=0) + 1)  # longer than any run inside
        lines += ["", fence + "python", *clipped, fence]
    return [*lines, "", "</details>", ""]


def _u(x: Any) -> str:
    return format_ulp(x) if isinstance(x, int | float) else "-"


def render_markdown(d: RunDiff) -> str:
    """The whole diff as Markdown."""
    c = d.cases
    out = [
        f"# torch {md(d.torch_a)} → {md(d.torch_b)}: conformance diff",
        "",
        f"A: `{md(d.run_a)}` ({c.n_a} records) · B: `{md(d.run_b)}` ({c.n_b} records)",
        "",
    ]
    if d.mismatches:
        out += ["**The runs may not have drawn the same inputs:**", ""]
        out += _table(["fact", "A", "B"], ([m.label, m.a, m.b] for m in d.mismatches))
        out.append("")
    else:
        out += ["Same profile, seed, suite and selection: the same inputs reached both.", ""]
    out += [
        f"Cases of B matched in A: {c.matched} of {c.n_b} ({100 * d.match_rate:.1f}%);"
        f" still failing in both: {c.still_failing}.",
        "",
    ]
    verdicts = sorted(set(c.totals_a) | set(c.totals_b))
    out += _table(
        ["run", *verdicts],
        (
            [f"A {d.torch_a}", *(c.totals_a.get(v, 0) for v in verdicts)],
            [f"B {d.torch_b}", *(c.totals_b.get(v, 0) for v in verdicts)],
        ),
    )
    out.append("")
    out += _groups("New failures", c.new_failures, "None.")
    out += _groups("Behaviour changes", c.behaviour, "None.")
    out += [f"## Registry entries to retire ({len(d.retire)})", ""]
    out += (
        _table(
            ["id", "cases excused in A", "what happened in B", "issue"],
            ([r.id, r.cases_a, r.status, r.issue] for r in d.retire),
        )
        if d.retire
        else ["None."]
    )
    out.append("")
    out += _groups("Fixed cases", c.fixed, "None.")
    out += _groups("Newly excused by the registry", c.newly_excused, "None.")
    if d.needed:
        out += [f"## Registry entries only B needs ({len(d.needed)})", ""]
        out += _table(
            ["id", "cases excused in B", "reason"],
            ([r.id, r.cases_b, r.reason[:200]] for r in d.needed),
        )
        out.append("")
    out += _accuracy(d)
    out += [f"## API signature changes ({len(d.signatures)})", ""]
    out += (
        _table(
            ["name", "change", "parameter", "A", "B"],
            ([s.name, s.what, s.parameter, s.a, s.b] for s in d.signatures),
        )
        if d.signatures
        else ["None."]
    )
    out.append("")
    gone = sorted(c.absent_a - c.absent_b)
    new_absent = sorted(c.absent_b - c.absent_a)
    if gone or new_absent:
        out += ["## Presence changes", ""]
        out += _table(
            ["spec", "api", "name", "change"],
            [*([*k, "absent in A, present in B"] for k in gone)]
            + [[*k, "present in A, absent in B"] for k in new_absent],
        )
        out.append("")
    return "\n".join(out) + "\n"


def _accuracy(d: RunDiff) -> list[str]:
    acc = d.cases.accuracy
    worse = sorted((k for k, a in acc.items() if a.regressed), key=lambda k: -acc[k].b)
    better = sorted((k for k, a in acc.items() if a.improved), key=lambda k: -acc[k].a)
    out = [
        f"## Accuracy regressions ({len(worse)}): worst ULP up more than 2x and by at least 2",
        "",
    ]
    rows = [[*k, format_ulp(acc[k].a), format_ulp(acc[k].b), acc[k].cases] for k in worse]
    out += (
        _table(["spec", "dtype", "device", "quantity", "A", "B", "cases"], rows[:MAX_ROWS])
        if rows
        else ["None."]
    )
    out += ["", f"## Accuracy improvements ({len(better)})", ""]
    rows = [[*k, format_ulp(acc[k].a), format_ulp(acc[k].b), acc[k].cases] for k in better]
    out += (
        _table(["spec", "dtype", "device", "quantity", "A", "B", "cases"], rows[:MAX_ROWS])
        if rows
        else ["None."]
    )
    return [*out, ""]
