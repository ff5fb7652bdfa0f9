"""The matrix page: losses (rows) by (dtype, device) (columns), coloured by status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.html_util import e, table
from reports.summary import VERDICTS, columns, format_ulp

_EXTRA_ABBR = (
    ("xpass", "X"),
    ("unsupported", "U"),
    ("absent", "A"),
    ("invalid", "I"),
    ("other", "?"),
)


def cell_status(c: Mapping[str, Any]) -> str:
    """``fail``, ``known``, ``pass`` or ``grey`` for one cell's counts."""
    if c.get("fail"):
        return "fail"
    if c.get("known") or c.get("xpass"):
        return "known"
    if c.get("pass") or c.get("invalid"):
        return "pass"
    return "grey"


_RANK = {"fail": 3, "known": 2, "pass": 1, "grey": 0}


def row_status(cells: list[Mapping[str, Any]]) -> str:
    """The worst status of a row's cells."""
    return max((cell_status(c) for c in cells), key=_RANK.__getitem__, default="grey")


def _cell(c: Mapping[str, Any] | None) -> str:
    if c is None:
        return '<td class="cell st-empty">·</td>'
    title = ", ".join(f"{v} {c[v]}" for v in (*VERDICTS, "other") if c.get(v))
    extra = " ".join(f"{abbr}{c[v]}" for v, abbr in _EXTRA_ABBR if c.get(v))
    return (
        f'<td class="cell st-{cell_status(c)}" title="{e(title)}" data-fail="{int(c["fail"])}">'
        f"{c['pass']} / {c['known']} / {c['fail']}"
        + (f"<br><small>{e(extra)}</small>" if extra else "")
        + f"<br><small>ulp {e(format_ulp(c['worst_ulp']))}</small></td>"
    )


def _totals(totals: Mapping[str, Any]) -> str:
    keys = [*VERDICTS, *(k for k in totals if k not in VERDICTS and k != "n")]
    return table(
        ["cases", *(e(k) for k in keys)],
        [[str(totals.get("n", 0)), *(str(totals.get(k, 0)) for k in keys)]],
        id_="totals",
    )


def render_matrix(summary: Mapping[str, Any], slugs: Mapping[str, str], title: str) -> str:
    """``<section id="matrix" class="page">`` with the totals, legend, controls and table."""
    cols = columns(summary)
    cells = summary["cells"]
    out = [
        '<section id="matrix" class="page">',
        f"<h1>{e(title)}</h1>",
        "<h2>Totals</h2>",
        _totals(summary["totals"]),
        "<h2>Matrix</h2>",
        '<p class="legend">Each cell: pass / known / fail, then the worst ULP error. '
        '<span class="st-fail">fail</span><span class="st-known">known or xpass</span>'
        '<span class="st-pass">all pass</span><span class="st-grey">unsupported or absent</span>'
        '<span class="st-empty">not run</span> '
        "<small>X xpass, U unsupported, A absent, I invalid, ? other</small></p>",
        '<p class="controls"><input id="filter" type="search" placeholder="filter losses" '
        'aria-label="filter losses"><label><input id="only-problems" type="checkbox"> '
        "only fail or known</label></p>",
        '<table id="matrix-table"><thead><tr><th>loss</th>',
    ]
    out += [f"<th>{e(dt)}<br><small>{e(dev)}</small></th>" for dt, dev in cols]
    out.append("</tr></thead><tbody>")
    for spec in summary["per_spec"]:
        row = [cells.get((spec, dt, dev)) for dt, dev in cols]
        status = row_status([c for c in row if c is not None])
        out.append(
            f'<tr class="loss-row" data-loss="{e(spec)}" data-status="{status}">'
            f'<td><a class="loss-link" href="#loss-{e(slugs[spec])}">{e(spec)}</a></td>'
        )
        out.extend(_cell(c) for c in row)
        out.append("</tr>")
    out.append("</tbody></table>")
    if not summary["per_spec"]:
        out.append("<p>No records.</p>")
    out.append("</section>")
    return "".join(out)
