"""The HTML form of a release diff: one self-contained page (inline CSS, no script).

The same sections as the Markdown form, with every group listed (up to the diff's cap) and
each group's sample in a collapsed block with its message and reproducer. Every string
from a record or a meta file goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from reports.diff import RunDiff
from reports.summary import Group, format_ulp

MAX_REPRODUCER = 16_000

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em;
color:#222;font-size:14px;max-width:1400px}
h1{font-size:1.45em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 7px;
text-align:left;vertical-align:top}th{background:#f3f3f3}td.num{text-align:right}
pre{background:#f6f8fa;padding:.6em;overflow:auto;max-height:30em;white-space:pre-wrap}
.bad{background:#fbe3e3}.good{background:#e3f4e3}.warn{background:#fff4d6;padding:.5em}
details{margin:.3em 0}summary{cursor:pointer}
"""


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]], cls: str = "") -> str:
    out = [f'<table class="{e(cls)}"><tr>' + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr>"]
    for r in rows:
        out.append(
            "<tr>"
            + "".join(
                f'<td class="num">{e(c)}</td>' if isinstance(c, int | float) else f"<td>{e(c)}</td>"
                for c in r
            )
            + "</tr>"
        )
    out.append("</table>")
    return "".join(out)


def _u(x: Any) -> str:
    return format_ulp(x) if isinstance(x, int | float) else "-"


def _sample(g: Group) -> str:
    s = g.sample
    repro = str(s.get("reproducer") or "")
    if len(repro) > MAX_REPRODUCER:
        repro = repro[:MAX_REPRODUCER] + (
            f"\n# … clipped; the full one: python -m reports show RUN_B {s.get('case_id')}"
        )
    rows = [
        ["test", s.get("test")],
        ["case id", s.get("case_id")],
        ["kwargs", s.get("kwargs")],
        [
            "A",
            f"{s.get('a_verdict')}, {s.get('a_outcome')}, ULP {_u(s.get('a_ulp'))}"
            + (f", excused by {s.get('a_known')}" if s.get("a_known") else ""),
        ],
        [
            "B",
            f"{s.get('b_verdict')}, {s.get('b_outcome')}, ULP {_u(s.get('b_ulp'))}"
            + (f", excused by {s.get('b_known')}" if s.get("b_known") else ""),
        ],
        ["rule", s.get("rule")],
    ]
    parts = [_table(["", ""], rows)]
    if s.get("message"):
        parts.append(f"<pre>{e(str(s['message'])[:4000])}</pre>")
    if repro:
        parts.append(f"<pre>{e(repro)}</pre>")
    return "".join(parts)


def _groups(title: str, anchor: str, groups: Mapping[tuple, Group], cls: str) -> str:
    total = sum(g.count for g in groups.values())
    out = [f'<h2 id="{anchor}">{e(title)} ({total} cases in {len(groups)} groups)</h2>']
    if not groups:
        return out[0] + "<p>None.</p>"
    ordered = sorted(groups.values(), key=lambda g: (-g.count, tuple(g.fields.values())))
    out.append(
        _table([*ordered[0].fields, "cases"], ([*g.fields.values(), g.count] for g in ordered), cls)
    )
    for g in ordered:
        head = ", ".join(f"{k} {v}" for k, v in g.fields.items())
        out.append(f"<details><summary>{e(head)} ({g.count})</summary>{_sample(g)}</details>")
    return "".join(out)


def render_html(d: RunDiff) -> str:
    """The whole diff as one HTML page."""
    c = d.cases
    title = f"torch {d.torch_a} → {d.torch_b}: conformance diff"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>A: <code>{e(d.run_a)}</code> ({c.n_a} records) · "
        f"B: <code>{e(d.run_b)}</code> ({c.n_b} records)</p>",
    ]
    if d.mismatches:
        out.append('<div class="warn"><b>The runs may not have drawn the same inputs:</b>')
        out.append(_table(["fact", "A", "B"], ([m.label, m.a, m.b] for m in d.mismatches)))
        out.append("</div>")
    else:
        out.append("<p>Same profile, seed, suite and selection: the same inputs reached both.</p>")
    out.append(
        f"<p>Cases of B matched in A: {c.matched} of {c.n_b} ({100 * d.match_rate:.1f}%); "
        f"still failing in both: {c.still_failing}.</p>"
    )
    verdicts = sorted(set(c.totals_a) | set(c.totals_b))
    out.append(
        _table(
            ["run", *verdicts],
            (
                [f"A {d.torch_a}", *(c.totals_a.get(v, 0) for v in verdicts)],
                [f"B {d.torch_b}", *(c.totals_b.get(v, 0) for v in verdicts)],
            ),
        )
    )
    out.append(_groups("New failures", "new-failures", c.new_failures, "bad"))
    out.append(_groups("Behaviour changes", "behaviour", c.behaviour, ""))
    out.append(f'<h2 id="retire">Registry entries to retire ({len(d.retire)})</h2>')
    out.append(
        _table(
            ["id", "cases excused in A", "what happened in B", "reason", "issue"],
            ([r.id, r.cases_a, r.status, r.reason, r.issue] for r in d.retire),
            "good",
        )
        if d.retire
        else "<p>None.</p>"
    )
    out.append(_groups("Fixed cases", "fixed", c.fixed, "good"))
    out.append(_groups("Newly excused by the registry", "newly-excused", c.newly_excused, ""))
    out.append(f'<h2 id="needed">Registry entries only B needs ({len(d.needed)})</h2>')
    out.append(
        _table(
            ["id", "cases excused in B", "reason", "issue"],
            ([r.id, r.cases_b, r.reason, r.issue] for r in d.needed),
        )
        if d.needed
        else "<p>None.</p>"
    )
    out.append(_accuracy(d))
    out.append(f'<h2 id="signatures">API signature changes ({len(d.signatures)})</h2>')
    out.append(
        _table(
            ["name", "change", "parameter", "A", "B"],
            ([s.name, s.what, s.parameter, s.a, s.b] for s in d.signatures),
        )
        if d.signatures
        else "<p>None.</p>"
    )
    gone, new_absent = sorted(c.absent_a - c.absent_b), sorted(c.absent_b - c.absent_a)
    out.append('<h2 id="presence">Presence changes</h2>')
    out.append(
        _table(
            ["spec", "api", "name", "change"],
            [[*k, "absent in A, present in B"] for k in gone]
            + [[*k, "present in A, absent in B"] for k in new_absent],
        )
        if gone or new_absent
        else "<p>None.</p>"
    )
    if c.groups_dropped:
        out.append(
            f"<p>{c.groups_dropped} cases fell in groups past the cap and are counted only.</p>"
        )
    out.append("</body></html>\n")
    return "\n".join(out)


def _accuracy(d: RunDiff) -> str:
    acc = d.cases.accuracy
    out = []
    for title, anchor, pick, key, cls in (
        (
            "Accuracy regressions: worst ULP up more than 2x and by at least 2",
            "accuracy",
            lambda a: a.regressed,
            lambda k: -acc[k].b,
            "bad",
        ),
        (
            "Accuracy improvements",
            "accuracy-better",
            lambda a: a.improved,
            lambda k: -acc[k].a,
            "good",
        ),
    ):
        keys = sorted((k for k, a in acc.items() if pick(a)), key=key)
        out.append(f'<h2 id="{anchor}">{e(title)} ({len(keys)})</h2>')
        if not keys:
            out.append("<p>None.</p>")
            continue
        out.append(
            _table(
                ["spec", "dtype", "device", "quantity", "A worst ULP", "B worst ULP", "cases"],
                ([*k, format_ulp(acc[k].a), format_ulp(acc[k].b), acc[k].cases] for k in keys),
                cls,
            )
        )
        for k in keys:
            g = Group(
                dict(zip(("spec", "dtype", "device", "quantity"), k, strict=True)),
                1,
                acc[k].sample_b,
            )
            out.append(
                f"<details><summary>B's worst case: {e(', '.join(k))}</summary>{_sample(g)}</details>"
            )
    return "".join(out)
