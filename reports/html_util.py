"""Small helpers shared by the HTML report modules: escaping, tables, number display.

Every string that reaches the page goes through :func:`e` (``html.escape`` with
``quote=True``), in text and in attribute values alike.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from reports.summary import format_ulp

_SLUG_RE = re.compile(r"[^A-Za-z0-9_-]+")


def e(value: Any) -> str:
    """Escape any value for HTML text or a double-quoted attribute; None becomes ''."""
    if value is None:
        return ""
    return html.escape(value if isinstance(value, str) else str(value), quote=True)


def slug(name: str) -> str:
    """The contract's slug of a spec name (``loss-SLUG`` is its page id)."""
    return _SLUG_RE.sub("-", name).strip("-")


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """``{name: slug}`` with ``-2``, ``-3`` suffixes where two names give the same slug."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = slug(name) or "loss"
        candidate, i = base, 1
        while candidate in used:
            i += 1
            candidate = f"{base}-{i}"
        used.add(candidate)
        out[name] = candidate
    return out


def clip(text: Any, limit: int) -> str:
    """``str(text)`` cut to ``limit`` characters with a marker saying how much was cut."""
    s = "" if text is None else (text if isinstance(text, str) else str(text))
    if len(s) <= limit:
        return s
    return s[:limit] + f"\n… ({len(s) - limit} more characters)"


def jsonish(value: Any) -> str:
    """Compact display of a metadata value."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def num(x: Any) -> str:
    """Display of a recorded number (which may be a string such as ``"inf"``)."""
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        return format_ulp(x) if (math.isinf(x) or x == int(x)) else f"{x:.4g}"
    return str(x)


def table(
    headers: Iterable[str], rows: Iterable[Iterable[str]], *, cls: str = "", id_: str = ""
) -> str:
    """An HTML table; headers and cells are already-escaped HTML fragments."""
    attrs = (f' id="{e(id_)}"' if id_ else "") + (f' class="{e(cls)}"' if cls else "")
    out = [f"<table{attrs}><thead><tr>"]
    out += [f"<th>{h}</th>" for h in headers]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def https_link(url: Any, text: Any = None) -> str:
    """An ``<a>`` for an ``https://`` URL; anything else is shown as plain text (or '')."""
    if not isinstance(url, str) or not url:
        return ""
    if not url.startswith("https://"):
        return e(url)
    return f'<a href="{e(url)}" rel="noreferrer">{e(text if text is not None else url)}</a>'


def registry_by_id(meta: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The run's registry entries (``meta["registry"]``) by id."""
    reg = meta.get("registry")
    if not isinstance(reg, list):
        return {}
    return {str(r.get("id")): r for r in reg if isinstance(r, Mapping) and r.get("id")}


def known_entry_html(one: str, entry: Mapping[str, Any]) -> str:
    """Reason, evidence and issue link of one registry entry, in a ``<details>``."""
    link = https_link(entry.get("issue"))
    return (
        f"<details><summary>{e(one)}{' ' + link if link else ''}</summary>"
        f'<p class="reason">{e(entry.get("reason", ""))}</p>'
        f'<p><b>evidence</b> <span class="evidence">{e(entry.get("evidence", ""))}</span></p>'
        + (f"<p><b>torch does</b> {e(entry['torch_does'])}</p>" if entry.get("torch_does") else "")
        + "</details>"
    )


def known_reason_html(kid: str, registry: Mapping[str, Mapping[str, Any]]) -> str:
    """Reason/evidence details of every registry id in a (comma-joined) known id."""
    return "".join(
        known_entry_html(one, registry[one]) for one in str(kid).split(",") if one in registry
    )
