"""The self-contained HTML summary of a run (inline CSS, no scripts, no external assets).

Every string that comes from a record or from the run's metadata goes through
:func:`html.escape` before it reaches the page.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reports.records import iter_records
from reports.run_meta import read_meta
from reports.summary import VERDICTS, columns, format_ulp, summarize

SUMMARY_FILE = "summary.html"
MAX_MESSAGE = 4000
MAX_REPRODUCER = 20000

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:1.5em;color:#222;font-size:14px}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.matrix td{text-align:center;white-space:nowrap;min-width:6em}
table.matrix th.spec{text-align:left;white-space:nowrap}
.st-fail{background:#f4c7c3}.st-known{background:#fce8b2}.st-pass{background:#c8e6c9}
.st-grey{background:#e0e0e0;color:#555}.st-empty{background:#fafafa;color:#aaa}
small{color:#555}
pre{background:#f6f8fa;border:1px solid #ddd;padding:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-word;max-width:100%}
.failure{border-left:4px solid #d93025;padding-left:8px;margin:.8em 0}
.bar{display:inline-block;height:.8em;background:#5c85d6;vertical-align:middle}
.legend span{display:inline-block;padding:2px 8px;margin-right:4px;border:1px solid #ccc}
code{background:#f3f3f3;padding:0 2px}
"""


def e(value: Any) -> str:
    """Escape any value for HTML text or attribute context."""
    if value is None:
        return ""
    return html.escape(value if isinstance(value, str) else str(value), quote=True)


def _clip(text: Any, limit: int) -> str:
    """``str(text)`` cut to ``limit`` characters with a marker."""
    s = "" if text is None else (text if isinstance(text, str) else str(text))
    if len(s) <= limit:
        return s
    return s[:limit] + f"\n… ({len(s) - limit} more characters)"


def _jsonish(value: Any) -> str:
    """Compact display of a metadata value."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _num(x: Any) -> str:
    """Display of a recorded number (may be a string like "inf")."""
    if x is None:
        return "-"
    if isinstance(x, float):
        return format_ulp(x) if (math.isinf(x) or x == int(x)) else f"{x:.4g}"
    return str(x)


def _cell_status(c: Mapping[str, Any]) -> str:
    """CSS class of a matrix cell."""
    if c["fail"]:
        return "st-fail"
    if c["known"] or c["xpass"]:
        return "st-known"
    if c["pass"] or c["invalid"]:
        return "st-pass"
    return "st-grey"


def _env(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    """The environment dict: ``meta["environment"]`` or the meta itself."""
    env = meta.get("environment")
    return env if isinstance(env, Mapping) else meta


def _meta_rows(meta: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, value) rows of the run metadata table."""
    env = _env(meta)
    torch = env.get("torch") if isinstance(env.get("torch"), Mapping) else {}
    git = env.get("git") if isinstance(env.get("git"), Mapping) else {}
    devices = ["cpu"]
    cuda_devices = torch.get("cuda_devices") or meta.get("devices") or []
    if isinstance(cuda_devices, list):
        devices += [f"cuda:{i} {name}" for i, name in enumerate(cuda_devices)]
    rev = git.get("revision") or meta.get("git_revision")
    if rev and git.get("dirty"):
        rev = f"{rev} (dirty)"
    build = ", ".join(
        f"{k} {v}"
        for k, v in (
            ("git", torch.get("git_version")),
            ("CUDA", torch.get("cuda")),
            ("HIP", torch.get("hip")),
            ("cuDNN", torch.get("cudnn")),
        )
        if v
    )
    rows: list[tuple[str, Any]] = [
        ("torch", torch.get("version") or meta.get("torch_version") or "not importable"),
        ("torch build", build or None),
        ("CUDA available", torch.get("cuda_available")),
        ("devices", ", ".join(str(d) for d in devices)),
        ("threads", torch.get("num_threads")),
        ("numpy", env.get("numpy")),
        ("hypothesis", env.get("hypothesis")),
        ("pytest", env.get("pytest")),
        ("python", env.get("python")),
        ("platform", env.get("platform")),
        ("profile", meta.get("profile") or meta.get("hypothesis_profile")),
        ("seed", meta.get("seed")),
        ("suite git revision", rev),
    ]
    return [(k, v) for k, v in rows if v is not None and v != ""]


_HANDLED_META = {
    "environment",
    "registry",  # shown with the known discrepancies
    "fix_candidates",
    "coverage_gaps",
    "rules",
    "tolerances",
    "stale_known",
    "profile",
    "hypothesis_profile",
    "seed",
    "torch_version",
    "git_revision",
    "devices",
    "python",
    "python_full",
    "platform",
    "machine",
    "numpy",
    "hypothesis",
    "pytest",
    "git",
    "torch",
}


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    """An HTML table; cells are already-escaped HTML fragments."""
    out = [f'<table class="{cls}">' if cls else "<table>", "<tr>"]
    out += [f"<th>{h}</th>" for h in headers]
    out.append("</tr>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _render_matrix(summary: Mapping[str, Any], spec_ids: Mapping[str, str]) -> str:
    """Spec x (dtype, device) matrix of counts coloured by status."""
    cols = columns(summary)
    cells = summary["cells"]
    out = ['<table class="matrix"><tr><th>spec</th>']
    out += [f"<th>{e(dt)}<br><small>{e(dev)}</small></th>" for dt, dev in cols]
    out.append("</tr>")
    for spec in summary["per_spec"]:
        out.append(f'<tr><th class="spec"><a href="#{spec_ids[spec]}">{e(spec)}</a></th>')
        for dt, dev in cols:
            c = cells.get((spec, dt, dev))
            if c is None:
                out.append('<td class="st-empty">·</td>')
                continue
            title = ", ".join(f"{v} {c[v]}" for v in (*VERDICTS, "other") if c.get(v))
            extra = " ".join(
                f"{abbr}{c[v]}"
                for v, abbr in (
                    ("xpass", "X"),
                    ("unsupported", "U"),
                    ("absent", "A"),
                    ("invalid", "I"),
                    ("other", "?"),
                )
                if c.get(v)
            )
            out.append(
                f'<td class="{_cell_status(c)}" title="{e(title)}">'
                f"{c['pass']} / {c['known']} / {c['fail']}"
                + (f"<br><small>{e(extra)}</small>" if extra else "")
                + f"<br><small>ulp {e(format_ulp(c['worst_ulp']))}</small></td>"
            )
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def _render_coverage(cov: Mapping[str, Any]) -> str:
    """Option coverage table of one spec."""
    rows: list[list[str]] = []
    for label in ("apis", "reductions", "regimes", "features", "kinds", "dtypes", "devices"):
        vals = cov.get(label) or []
        rows.append([e(label), e(", ".join(vals)) if vals else "<small>none</small>"])
    for name, cs in cov.get("kwargs", {}).items():
        text = e(", ".join(cs["values"]))
        if cs["more"]:
            more = f"+{cs['more']}{'+' if cs['more_capped'] else ''} more"
            text += f" <small>{e(more)}</small>"
        rows.append([f"<code>{e(name)}</code>", text])
    return _table(["option", "values seen"], rows)


def _render_hist(cov: Mapping[str, Any]) -> str:
    """ULP error histogram of one spec as a table with inline bars."""
    hist = cov.get("ulp_hist") or {}
    total = sum(hist.values())
    if not total:
        return "<p><small>no ULP measurements</small></p>"
    peak = max(hist.values())
    rows = []
    for label, count in hist.items():
        if not count:
            continue
        width = max(1, round(200 * count / peak))
        rows.append(
            [
                e(label),
                f"<span class='num'>{count}</span>",
                f'<span class="bar" style="width:{width}px"></span>',
            ]
        )
    return _table(["max ULP", "cases", ""], rows)


def _render_failure(f: Mapping[str, Any]) -> str:
    """One failure sample."""
    ctx = ", ".join(
        f"{k} {f[k]}"
        for k in ("kind", "api", "dtype", "device", "quantity")
        if f.get(k) is not None
    )
    metrics = ", ".join(
        f"{k} {_num(f.get(k))}" for k in ("max_ulp", "max_abs", "max_rel") if f.get(k) is not None
    )
    kw = f.get("kwargs")
    parts = [
        '<div class="failure">',
        f"<div><code>{e(f.get('test'))}</code></div>",
        f"<div>rule <b>{e(f.get('rule') if f.get('rule') is not None else '?')}</b>"
        f" · {e(ctx)}" + (f" · {e(metrics)}" if metrics else "") + "</div>",
    ]
    if kw:
        parts.append(f"<div>kwargs <code>{e(_jsonish(kw))}</code></div>")
    if f.get("message"):
        parts.append(f"<pre>{e(_clip(f['message'], MAX_MESSAGE))}</pre>")
    if f.get("reproducer"):
        parts.append(
            "<details><summary>reproducer</summary>"
            f"<pre>{e(_clip(f['reproducer'], MAX_REPRODUCER))}</pre></details>"
        )
    parts.append("</div>")
    return "".join(parts)


def render_html(summary: Mapping[str, Any], meta: Mapping[str, Any], title: str = "") -> str:
    """The whole page as a string, from a :func:`summarize` result and the run's meta."""
    specs = list(summary["per_spec"])
    spec_ids = {s: f"spec-{i}" for i, s in enumerate(specs)}
    known_ids = {k: f"known-{i}" for i, k in enumerate(summary["known"])}
    totals = summary["totals"]
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title or 'torch loss conformance')}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(title or 'torch loss conformance')}</h1>",
    ]

    # Metadata
    out.append("<h2 id='meta'>Run</h2>")
    out.append(_table(["", ""], [[e(k), e(_jsonish(v))] for k, v in _meta_rows(meta)]))
    torch_env = _env(meta).get("torch")
    if isinstance(torch_env, Mapping):
        config = torch_env.get("config") or torch_env.get("config_first_line")
        if config:
            out.append(
                "<details><summary>torch build configuration</summary>"
                f"<pre>{e(_clip(config, MAX_MESSAGE))}</pre></details>"
            )
    other = [
        [e(k), e(_clip(_jsonish(v), 500))]
        for k, v in sorted(meta.items())
        if k not in _HANDLED_META
    ]
    if other:
        out.append("<h3>Other metadata</h3>" + _table(["key", "value"], other))

    # Totals
    out.append("<h2 id='totals'>Totals</h2>")
    tot_keys = [*VERDICTS, *(k for k in totals if k not in VERDICTS and k != "n")]
    out.append(
        _table(
            ["cases", *(e(k) for k in tot_keys)],
            [[f"{totals['n']}", *(str(totals.get(k, 0)) for k in tot_keys)]],
        )
    )

    # Matrix
    out.append("<h2 id='matrix'>Matrix</h2>")
    out.append(
        '<p class="legend">Each cell: pass / known / fail, worst ULP. '
        '<span class="st-fail">fail</span><span class="st-known">known or xpass</span>'
        '<span class="st-pass">all pass</span><span class="st-grey">unsupported or absent</span>'
        " <small>X xpass, U unsupported, A absent, I invalid</small></p>"
    )
    out.append(_render_matrix(summary, spec_ids) if specs else "<p>No records.</p>")

    # Known discrepancies
    out.append("<h2 id='known'>Known discrepancies applied</h2>")
    registry = {r.get("id"): r for r in meta.get("registry") or [] if isinstance(r, Mapping)}
    if summary["known"]:
        rows = []
        for kid, k in summary["known"].items():
            verdicts = ", ".join(f"{v} {n}" for v, n in k["verdicts"].items())
            entry = registry.get(kid) or {}
            for one in str(kid).split(","):
                entry = entry or registry.get(one) or {}
            rows.append(
                [
                    f'<span id="{known_ids[kid]}">{e(kid)}</span>',
                    e(entry.get("kind", "")),
                    f"{k['count']}",
                    e(verdicts),
                    e(k.get("spec")),
                    e(k.get("dtype")),
                    _reason_cell(kid, registry),
                ]
            )
        out.append(
            _table(
                ["id", "kind", "cases", "verdicts", "first spec", "dtype", "reason, evidence"], rows
            )
        )
    else:
        out.append("<p>None applied.</p>")
    stale = meta.get("stale_known")
    if isinstance(stale, list):
        out.append("<h3 id='stale'>Stale registry entries (matched no case)</h3>")
        out.append(
            "<ul>" + "".join(f"<li>{e(s)}</li>" for s in stale) + "</ul>"
            if stale
            else "<p>None.</p>"
        )

    fixed = meta.get("fix_candidates")
    if isinstance(fixed, list) and fixed:
        out.append("<h3 id='fixed'>Entries that matched cases but none failed (fixed?)</h3>")
        out.append("<ul>" + "".join(f"<li>{e(s)}</li>" for s in fixed) + "</ul>")
    gaps = meta.get("coverage_gaps")
    if isinstance(gaps, Mapping):
        out.append("<h3 id='coverage-gaps'>Declared options never exercised</h3>")
        out.append(
            "<ul>"
            + "".join(f"<li>{e(k)}: {e(', '.join(map(str, v)))}</li>" for k, v in gaps.items())
            + "</ul>"
            if gaps
            else "<p>None: every declared option, tensor and reduction was exercised.</p>"
        )

    # Per spec
    out.append("<h2 id='specs'>Per loss</h2>")
    failures = summary["failures"]
    for spec in specs:
        cov = summary["per_spec"][spec]
        out.append(f'<h2 id="{spec_ids[spec]}">{e(spec)}</h2>')
        out.append(
            f"<p>{cov['n']} cases, {cov['n_fail']} failing, worst ULP "
            f"{e(format_ulp(cov['worst_ulp']))}</p>"
        )
        out.append("<h3>Option coverage</h3>" + _render_coverage(cov))
        out.append("<h3>Error histogram</h3>" + _render_hist(cov))
        if cov.get("known_ids"):
            links = ", ".join(
                f'<a href="#{known_ids[k]}">{e(k)}</a>' if k in known_ids else e(k)
                for k in cov["known_ids"]
            )
            out.append(f"<h3>Known discrepancies</h3><p>{links}</p>")
        spec_failures = failures.get(spec) or []
        if spec_failures:
            rules = ", ".join(f"rule {r}: {n}" for r, n in cov.get("fail_rules", {}).items())
            out.append(
                f"<h3>Failures ({len(spec_failures)} shown of {cov['n_fail']}; {e(rules)})</h3>"
            )
            out.extend(_render_failure(f) for f in spec_failures)

    # Rules and tolerances
    rules = meta.get("rules")
    if isinstance(rules, list) and rules:
        out.append("<h2 id='rules'>Acceptance rules</h2>")
        out.append(
            _table(
                ["rule", "text"],
                [[e(r.get("number")), e(r.get("text"))] for r in rules if isinstance(r, Mapping)],
            )
        )
    tolerances = meta.get("tolerances")
    if isinstance(tolerances, list) and tolerances:
        keys: dict[str, None] = {}
        for t in tolerances:
            if isinstance(t, Mapping):
                keys.update(dict.fromkeys(str(k) for k in t))
        out.append("<h2 id='tolerances'>Tolerances</h2>")
        out.append(
            _table(
                [e(k) for k in keys],
                [
                    [e(_jsonish(t[k])) if k in t else "" for k in keys]
                    for t in tolerances
                    if isinstance(t, Mapping)
                ],
            )
        )
    out.append("</body></html>\n")
    return "\n".join(out)


def render_summary(run_dir: Path, out_path: Path | None = None) -> Path:
    """Summarise a run folder and write its HTML page; returns the page's path.

    Reads ``meta.json`` (optional) and the records (``cases.jsonl``, else ``records/``);
    writes ``run_dir/summary.html`` unless ``out_path`` is given.
    """
    run_dir = Path(run_dir)
    out = Path(out_path) if out_path is not None else run_dir / SUMMARY_FILE
    meta = read_meta(run_dir)
    summary = summarize(iter_records(run_dir))
    title = f"torch loss conformance: {run_dir.name}"
    page = render_html(summary, meta, title=title)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def _reason_cell(kid: object, registry: Mapping) -> str:
    """Reason, evidence and issue link of every registry id in a (comma-joined) known id."""
    e = html.escape
    parts = []
    for one in str(kid).split(","):
        entry = registry.get(one)
        if not entry:
            continue
        issue = str(entry.get("issue") or "")
        link = (
            f' <a href="{e(issue, quote=True)}">{e(issue)}</a>'
            if issue.startswith("https://")
            else ""
        )
        parts.append(
            f"<details><summary>{e(one)}{link}</summary><p>{e(str(entry.get('reason', '')))}</p>"
            f"<p><b>evidence</b> {e(str(entry.get('evidence', '')))}</p></details>"
        )
    return "".join(parts)
