"""One loss's page: coverage, test kind x verdict counts, histogram, failures, known ids."""

from __future__ import annotations

import shlex
from collections.abc import Collection, Mapping
from typing import Any

from reports.html_util import clip, e, jsonish, known_reason_html, num, table
from reports.summary import ULP_LABELS, VERDICTS, format_ulp
from reports.svg_histogram import render_histogram

MAX_MESSAGE = 1000
MAX_KWARGS = 600
PREVIEW_LINES = 30
PREVIEW_CHARS = 2000
_COVERAGE_FIELDS = (
    "apis",
    "reductions",
    "regimes",
    "features",
    "kinds",
    "outcomes",
    "dtypes",
    "devices",
)


def show_command(run_dir: str, case_id: Any, test: Any) -> str:
    """The command that prints one case's full reproducer."""
    if case_id:
        return f"python -m reports show {shlex.quote(run_dir)} {shlex.quote(str(case_id))}"
    return f"grep -F {shlex.quote(str(test))} {shlex.quote(run_dir)}/cases.jsonl"


def preview(text: str) -> str:
    """The first lines of a long reproducer."""
    lines = text.splitlines(keepends=True)[:PREVIEW_LINES]
    return "".join(lines)[:PREVIEW_CHARS]


def _coverage(cov: Mapping[str, Any]) -> str:
    rows: list[list[str]] = []
    for label in _COVERAGE_FIELDS:
        vals = cov.get(label) or []
        rows.append([e(label), e(", ".join(map(str, vals))) if vals else "<small>none</small>"])
    for name, cs in (cov.get("kwargs") or {}).items():
        text = e(", ".join(cs.get("values", [])))
        if cs.get("more"):
            more = f"+{cs['more']}{'+' if cs.get('more_capped') else ''} more"
            text += f" <small>{e(more)}</small>"
        rows.append([f"<code>{e(name)}</code>", text])
    return table(["option", "values exercised"], rows, cls="coverage")


def _kinds(cov: Mapping[str, Any]) -> str:
    kv: Mapping[str, Mapping[str, int]] = cov.get("kind_verdicts") or {}
    if not kv:
        return ""
    extra = sorted({v for c in kv.values() for v in c if v not in VERDICTS})
    cols = [v for v in VERDICTS if any(c.get(v) for c in kv.values())] + extra
    rows = [
        [e(kind), *(f'<span class="num">{c.get(v, 0)}</span>' for v in cols)]
        for kind, c in kv.items()
    ]
    return table(["test kind", *(e(v) for v in cols)], rows, cls="kinds")


def _failure(group: Mapping[str, Any], full: bool, run_dir: str) -> str:
    f: Mapping[str, Any] = group.get("sample") or {}
    ctx = " · ".join(
        f"{k} {group.get(k)}" for k in ("quantity", "dtype", "device", "api") if group.get(k)
    )
    metrics = ", ".join(
        f"{k} {num(f.get(k))}" for k in ("max_ulp", "max_abs", "max_rel") if f.get(k) is not None
    )
    count = int(group.get("count", 0))
    parts = [
        f'<div class="failure" data-rule="{e(group.get("rule"))}" '
        f'data-quantity="{e(group.get("quantity"))}" data-dtype="{e(group.get("dtype"))}" '
        f'data-device="{e(group.get("device"))}" data-api="{e(group.get("api"))}" '
        f'data-count="{count}">',
        f'<div class="head">rule {e(group.get("rule"))} · {e(ctx)} — '
        f'<span class="count">{count}</span> failing case{"s" if count != 1 else ""}</div>',
        f"<div>test <code>{e(f.get('test'))}</code>"
        + (f" case <code>{e(f.get('case_id'))}</code>" if f.get("case_id") else "")
        + "</div>",
    ]
    if metrics or f.get("outcome"):
        outcome = f" · torch gave {f['outcome']}" if f.get("outcome") else ""
        parts.append(f'<div class="numbers">{e(metrics)}{e(outcome)}</div>')
    if f.get("kwargs"):
        parts.append(f"<div>kwargs <code>{e(clip(jsonish(f['kwargs']), MAX_KWARGS))}</code></div>")
    if f.get("message"):
        parts.append(f'<pre class="message">{e(clip(f["message"], MAX_MESSAGE))}</pre>')
    repro = f.get("reproducer")
    repro = repro if isinstance(repro, str) else ("" if repro is None else str(repro))
    cmd = show_command(run_dir, f.get("case_id"), f.get("test"))
    if full or not repro:
        shown, note = repro or "# no reproducer recorded", ""
        summary = f"reproducer ({repro.count(chr(10)) + 1 if repro else 0} lines)"
    else:
        shown = preview(repro)
        note = (
            f'<p class="truncated"><small>Reproducer cut to its first lines '
            f"({len(repro)} characters in all); print the whole one with "
            f"<code>{e(cmd)}</code></small></p>"
        )
        summary = "reproducer (first lines)"
    parts.append(
        f'<details class="reproducer"><summary>{e(summary)}</summary>'
        f'<pre class="reproducer-code">{e(shown)}</pre></details>'
        '<button class="copy" type="button">copy reproducer</button>' + note
    )
    parts.append("</div>")
    return "".join(parts)


def _known(
    cov: Mapping[str, Any],
    known_anchor: Mapping[str, str],
    registry: Mapping[str, Mapping[str, Any]],
) -> str:
    counts: Mapping[str, int] = cov.get("known_counts") or {}
    out = ['<div class="known-list">', "<h3>Known discrepancies that applied</h3>"]
    if not counts:
        out.append("<p>None.</p>")
    for kid, n in counts.items():
        anchor = known_anchor.get(kid)
        name = f'<a href="#{anchor}">{e(kid)}</a>' if anchor else e(kid)
        out.append(
            f'<div class="known" data-known="{e(kid)}" data-count="{int(n)}">'
            f"{name}: {int(n)} case{'s' if n != 1 else ''}"
            f"{known_reason_html(kid, registry)}</div>"
        )
    if cov.get("known_more"):
        out.append(f"<p><small>+{int(cov['known_more'])} cases of further ids</small></p>")
    out.append("</div>")
    return "".join(out)


def render_loss_page(
    spec: str,
    slug: str,
    cov: Mapping[str, Any],
    *,
    full_reproducers: Collection[int],
    run_dir: str,
    known_anchor: Mapping[str, str],
    registry: Mapping[str, Mapping[str, Any]],
) -> str:
    """``<section id="loss-SLUG" class="page loss-page">`` for one spec.

    ``full_reproducers`` holds the indices of the failure groups whose reproducer fits the
    page's budget; the others show their first lines and the ``show`` command.
    """
    groups = cov.get("failure_groups") or []
    out = [
        f'<section id="loss-{e(slug)}" class="page loss-page" data-loss="{e(spec)}" '
        f'data-fail="{int(cov.get("n_fail", 0))}">',
        f"<h1>{e(spec)}</h1>",
        f"<p>{int(cov.get('n', 0))} cases, {int(cov.get('n_fail', 0))} failing, worst ULP "
        f'{e(format_ulp(cov.get("worst_ulp")))} · <a href="#matrix">back to the matrix</a></p>',
        _kinds(cov),
        "<h2>Option coverage</h2>",
        _coverage(cov),
        "<h2>Error histogram</h2>",
        render_histogram(cov.get("ulp_hist_by_dtype") or {}, ULP_LABELS, spec),
        "<h2>Failures</h2>",
    ]
    if not groups:
        out.append("<p>None.</p>")
    else:
        rules = ", ".join(f"rule {r}: {n}" for r, n in (cov.get("fail_rules") or {}).items())
        out.append(
            f"<p>{len(groups)} group{'s' if len(groups) != 1 else ''} by (rule, quantity, "
            f"dtype, device, api), one sample each, the one with the shortest reproducer; "
            f"{e(rules)}</p>"
        )
        out.extend(_failure(g, i in full_reproducers, run_dir) for i, g in enumerate(groups))
    if cov.get("groups_more"):
        more = "+" if cov.get("groups_more_capped") else ""
        out.append(
            f'<p class="groups-more" data-count="{int(cov.get("groups_more_cases", 0))}">'
            f"{int(cov['groups_more'])}{more} further groups with "
            f"{int(cov.get('groups_more_cases', 0))} failing cases are not shown.</p>"
        )
    out.append(_known(cov, known_anchor, registry))
    out.append("</section>")
    return "".join(out)
