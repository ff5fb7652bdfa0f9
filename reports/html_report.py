"""The self-contained HTML report of a run: matrix, one page per loss, the run's page.

``render_report(run_dir)`` summarises ``RUN_DIR``'s records in one pass
(:mod:`reports.summary`) and writes ``RUN_DIR/report.html``: one file with inline CSS, one
inline script (:mod:`reports.html_assets`) and inline SVG, no external asset. The DOM
contract (ids and classes that the script and the browser test rely on):

- ``<nav id="nav">`` links to ``#matrix`` and ``#run``;
- ``<section id="matrix" class="page">`` with ``#filter``, ``#only-problems`` and
  ``#matrix-table`` (one ``tr.loss-row[data-loss][data-status]`` per spec, first cell
  ``a.loss-link``, other cells ``td.cell.st-*``);
- one ``<section id="loss-SLUG" class="page loss-page" data-loss="SPEC">`` per spec with
  ``table.coverage``, ``svg.histogram``, ``div.failure`` blocks (``details.reproducer`` >
  ``pre.reproducer-code`` and ``button.copy``) and ``div.known-list``;
- ``<section id="run" class="page">`` with ``#run-facts``, ``#rules``, ``#tolerances`` and
  ``#stale``.

It scales by aggregating: the page holds counts, coverage sets, at most 40 failure groups
per loss with one sample each, and reproducers within a size budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reports.html_assets import CSP, CSS, SCRIPT
from reports.html_loss_page import render_loss_page
from reports.html_matrix import render_matrix
from reports.html_run_page import render_run_page
from reports.html_util import e, registry_by_id, unique_slugs
from reports.records import iter_records
from reports.run_meta import read_meta
from reports.summary import summarize

REPORT_FILE = "report.html"
REPRODUCER_BUDGET = 1_500_000  # characters of reproducers on the whole page
MAX_FULL_REPRODUCER = 16_384  # longer ones are always cut to their first lines


def _repro_len(group: Mapping[str, Any]) -> int | None:
    r = (group.get("sample") or {}).get("reproducer")
    return len(r) if isinstance(r, str) and r else None


def reproducer_allowance(
    per_spec: Mapping[str, Mapping[str, Any]],
    budget: int = REPRODUCER_BUDGET,
    limit: int = MAX_FULL_REPRODUCER,
) -> dict[str, set[int]]:
    """``{spec: {group index}}`` of the failure samples shown in full.

    The shortest reproducers are admitted first, until their total reaches ``budget``;
    any longer than ``limit`` never is. This shows the most reproducers in full.
    """
    sizes: list[tuple[int, str, int]] = []
    for spec, cov in per_spec.items():
        for i, g in enumerate(cov.get("failure_groups") or []):
            n = _repro_len(g)
            if n is not None and n <= limit:
                sizes.append((n, spec, i))
    sizes.sort()
    allowed: dict[str, set[int]] = {spec: set() for spec in per_spec}
    used = 0
    for n, spec, i in sizes:
        if used + n > budget:
            break
        used += n
        allowed[spec].add(i)
    return allowed


def render_html(
    summary: Mapping[str, Any],
    meta: Mapping[str, Any],
    *,
    title: str,
    run_dir: str,
    reproducer_budget: int = REPRODUCER_BUDGET,
) -> str:
    """The whole page as a string, from a :func:`reports.summary.summarize` result.

    ``run_dir`` is the folder named in the ``show`` command of a cut reproducer.
    """
    per_spec = summary["per_spec"]
    slugs = unique_slugs(per_spec)
    known_anchor = {k: f"known-{i}" for i, k in enumerate(summary["known"])}
    registry = registry_by_id(meta)
    allowed = reproducer_allowance(per_spec, reproducer_budget)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{e(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        '<nav id="nav"><a href="#matrix">Matrix</a><a href="#run">Run</a></nav><main>',
        render_matrix(summary, slugs, title),
    ]
    for spec, cov in per_spec.items():
        out.append(
            render_loss_page(
                spec,
                slugs[spec],
                cov,
                full_reproducers=allowed[spec],
                run_dir=run_dir,
                known_anchor=known_anchor,
                registry=registry,
            )
        )
    out.append(render_run_page(summary, meta, known_anchor, registry))
    out.append(f"</main><script>{SCRIPT}</script></body></html>\n")
    return "\n".join(out)


def render_report(run_dir: Path, out_path: Path | None = None) -> Path:
    """Summarise a run folder and write its HTML report; returns the report's path.

    Reads ``meta.json`` (optional) and the records (``cases.jsonl``, else ``records/``);
    writes ``run_dir/report.html`` unless ``out_path`` is given.
    """
    run_dir = Path(run_dir)
    out = Path(out_path) if out_path is not None else run_dir / REPORT_FILE
    meta = read_meta(run_dir)
    summary = summarize(iter_records(run_dir))
    page = render_html(
        summary, meta, title=f"torch loss conformance: {run_dir.name}", run_dir=str(run_dir)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
