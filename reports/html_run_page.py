"""The run's page: torch and environment facts, rules, tolerances, registry status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.html_util import clip, e, jsonish, known_reason_html, table

MAX_META_TEXT = 4000

_HANDLED_META = {
    "environment",
    "registry",
    "fix_candidates",
    "coverage_gaps",
    "rules",
    "tolerances",
    "stale_known",
    "profile",
    "hypothesis_profile",
    "seed",
    "derandomize",
    "suite_digest",
    "api_signatures",
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


def _env(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    env = meta.get("environment")
    return env if isinstance(env, Mapping) else meta


def _mapping(x: Any) -> Mapping[str, Any]:
    return x if isinstance(x, Mapping) else {}


def fact_rows(meta: Mapping[str, Any], summary: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(label, value) rows of ``#run-facts``."""
    env = _env(meta)
    torch = _mapping(env.get("torch"))
    git = _mapping(env.get("git"))
    devices = ["cpu"]
    cuda_devices = torch.get("cuda_devices") or meta.get("devices") or []
    if isinstance(cuda_devices, list):
        devices += [f"cuda:{i} {name}" for i, name in enumerate(cuda_devices)]
    seen = sorted({dev for (_, _, dev) in summary.get("cells", {})})
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
    seed = meta.get("seed")
    derandomize = meta.get("derandomize")
    if derandomize is None and seed == "derandomized":
        derandomize = True
    rows: list[tuple[str, Any]] = [
        ("torch", torch.get("version") or meta.get("torch_version") or "not importable"),
        ("torch build", build or None),
        ("CUDA available", torch.get("cuda_available")),
        ("devices", ", ".join(str(d) for d in devices)),
        ("devices in the records", ", ".join(seen) or None),
        ("threads", torch.get("num_threads")),
        ("hypothesis profile", meta.get("profile") or meta.get("hypothesis_profile")),
        ("seed", seed),
        ("derandomize", derandomize),
        ("max_examples", meta.get("max_examples")),
        ("suite digest", meta.get("suite_digest")),
        ("suite git revision", rev),
        ("numpy", env.get("numpy")),
        ("hypothesis", env.get("hypothesis")),
        ("pytest", env.get("pytest")),
        ("python", env.get("python")),
        ("platform", env.get("platform")),
        ("started", meta.get("started")),
        ("finished", meta.get("finished")),
    ]
    return [(k, v) for k, v in rows if v is not None and v != ""]


def _rules(meta: Mapping[str, Any]) -> str:
    rules = [r for r in meta.get("rules") or [] if isinstance(r, Mapping)]
    rows = [[e(r.get("number")), f'<span class="wrap">{e(r.get("text"))}</span>'] for r in rules]
    if not rows:
        rows = [["", "none recorded"]]
    return table(["rule", "text"], rows, id_="rules")


def _tolerances(meta: Mapping[str, Any]) -> str:
    tols = [t for t in meta.get("tolerances") or [] if isinstance(t, Mapping)]
    keys: dict[str, None] = {}
    for t in tols:
        keys.update(dict.fromkeys(str(k) for k in t))
    if "derivation" in keys:  # the long text goes last
        keys.pop("derivation")
        keys["derivation"] = None
    rows = [
        [
            f'<div class="wrap">{e(clip(jsonish(t[k]), MAX_META_TEXT))}</div>' if k in t else ""
            for k in keys
        ]
        for t in tols
    ]
    if not rows:
        return table(["tolerances"], [["none recorded"]], id_="tolerances")
    return table([e(k) for k in keys], rows, id_="tolerances")


def _id_list(meta: Mapping[str, Any], key: str, id_: str) -> str:
    items = meta.get(key)
    if isinstance(items, list) and items:
        return f'<ul id="{id_}">' + "".join(f"<li>{e(jsonish(s))}</li>" for s in items) + "</ul>"
    if isinstance(items, list):
        return f'<p id="{id_}">None.</p>'
    return f'<p id="{id_}">Not recorded.</p>'


def _gaps(meta: Mapping[str, Any]) -> str:
    gaps = meta.get("coverage_gaps")
    if not isinstance(gaps, Mapping):
        return '<p id="coverage-gaps">Not recorded.</p>'
    if not gaps:
        return (
            '<p id="coverage-gaps">None: every declared option, tensor and reduction was '
            "exercised.</p>"
        )
    return (
        '<ul id="coverage-gaps">'
        + "".join(
            f"<li>{e(k)}: {e(', '.join(map(str, v)) if isinstance(v, list) else jsonish(v))}</li>"
            for k, v in gaps.items()
        )
        + "</ul>"
    )


def _signatures(meta: Mapping[str, Any]) -> str:
    sigs = meta.get("api_signatures")
    if not isinstance(sigs, Mapping) or not sigs:
        return "<p>No API signatures recorded.</p>"
    rows = []
    for api, params in sorted(sigs.items()):
        if params is None:
            text = "<small>not found in this torch</small>"
        elif isinstance(params, list):
            text = e(
                ", ".join(
                    (
                        f"{p.get('name')}"
                        + (f" [{p.get('kind')}]" if p.get("kind") else "")
                        + (f"={p.get('default')}" if p.get("default") is not None else "")
                    )
                    if isinstance(p, Mapping)
                    else jsonish(p)
                    for p in params
                )
            )
        else:
            text = e(clip(jsonish(params), MAX_META_TEXT))
        rows.append([f"<code>{e(api)}</code>", text])
    return (
        f'<details id="api-signatures"><summary>API signatures ({len(rows)})</summary>'
        + table(["api", "parameters"], rows)
        + "</details>"
    )


def _known_table(
    summary: Mapping[str, Any],
    known_anchor: Mapping[str, str],
    registry: Mapping[str, Mapping[str, Any]],
) -> str:
    known = summary.get("known") or {}
    if not known:
        return '<p id="known">None applied.</p>'
    rows = []
    for kid, k in known.items():
        verdicts = ", ".join(f"{v} {n}" for v, n in k["verdicts"].items())
        entry = registry.get(kid) or next(
            (registry[o] for o in str(kid).split(",") if o in registry), {}
        )
        rows.append(
            [
                f'<span id="{known_anchor[kid]}">{e(kid)}</span>',
                e(entry.get("kind", "")),
                f"{k['count']}",
                e(verdicts),
                e(k.get("spec")),
                e(k.get("dtype")),
                known_reason_html(kid, registry),
            ]
        )
    return table(
        ["id", "kind", "cases", "verdicts", "first spec", "dtype", "reason, evidence"],
        rows,
        id_="known",
    )


def render_run_page(
    summary: Mapping[str, Any],
    meta: Mapping[str, Any],
    known_anchor: Mapping[str, str],
    registry: Mapping[str, Mapping[str, Any]],
) -> str:
    """``<section id="run" class="page">``."""
    out = [
        '<section id="run" class="page">',
        "<h1>The run</h1>",
        table(
            ["", ""], [[e(k), e(jsonish(v))] for k, v in fact_rows(meta, summary)], id_="run-facts"
        ),
    ]
    torch_env = _mapping(_env(meta).get("torch"))
    config = torch_env.get("config") or torch_env.get("config_first_line")
    if config:
        out.append(
            "<details><summary>torch build configuration</summary>"
            f"<pre>{e(clip(config, MAX_META_TEXT))}</pre></details>"
        )
    out += [
        "<h2>Acceptance rules</h2>",
        _rules(meta),
        "<h2>Tolerances</h2>",
        _tolerances(meta),
        "<h2>Known discrepancies applied</h2>",
        _known_table(summary, known_anchor, registry),
        "<h2>Stale registry entries (matched no case)</h2>",
        _id_list(meta, "stale_known", "stale"),
        "<h2>Fix candidates (matched cases, none failed)</h2>",
        _id_list(meta, "fix_candidates", "fix-candidates"),
        "<h2>Declared options never exercised</h2>",
        _gaps(meta),
        "<h2>API signatures</h2>",
        _signatures(meta),
    ]
    other = [
        [e(k), f'<div class="wrap">{e(clip(jsonish(v), 500))}</div>']
        for k, v in sorted(meta.items())
        if k not in _HANDLED_META
    ]
    if other:
        out.append("<h2>Other metadata</h2>" + table(["key", "value"], other, id_="other-meta"))
    out.append("</section>")
    return "".join(out)
