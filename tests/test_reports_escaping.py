"""Every string from a case or from the run's metadata reaches the report escaped.

Records whose EVERY string field carries a script payload and an attribute-breaking
payload, and a meta full of them, render to a page with exactly one ``<script>`` (the
assets' script), no ``<img>``, no event-handler attribute and the payloads as text.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

import pytest

from reports.html_assets import SCRIPT
from reports.html_report import render_report
from reports.records import CaseRecorder, merge_records
from reports.run_meta import write_meta

SCRIPT_PAYLOAD = "<script>window.__pwned=1</script>"
ATTR_PAYLOAD = "\"'><img src=x onerror=window.__pwned=1>"
PAYLOADS = (SCRIPT_PAYLOAD, ATTR_PAYLOAD)

# Attribute names the renderer writes; anything else (onerror, src, ...) is an injection.
ALLOWED_ATTRS = {
    "id",
    "class",
    "href",
    "rel",
    "lang",
    "charset",
    "http-equiv",
    "content",
    "name",
    "type",
    "placeholder",
    "aria-label",
    "title",
    "role",
    "width",
    "height",
    "viewbox",
    "x",
    "y",
    "x1",
    "x2",
    "y1",
    "y2",
    "fill",
    "stroke",
    "text-anchor",
    "transform",
    "data-loss",
    "data-status",
    "data-fail",
    "data-count",
    "data-rule",
    "data-quantity",
    "data-dtype",
    "data-device",
    "data-api",
    "data-known",
}


class Collector(HTMLParser):
    """Elements, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.script_text.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text[-1] += data
        else:
            self.text.append(data)


def _hostile_record(payload: str, verdict: str, n: int) -> dict[str, Any]:
    p = payload
    return {
        "test": f"suites/test_forward.py::test_forward[{p}-{n}]",
        "case_id": f"{p}{n}",
        "kind": p,
        "spec": f"Loss{p}",
        "loss": p,
        "variant": p,
        "api": p,
        "device": p,
        "dtype": p,
        "reduction": p,
        "kwargs": {p: p, "reduction": p, "weight": [p, p]},
        "shapes": {p: [3]},
        "regime": p,
        "features": [p, f"tie{p}"],
        "verdict": verdict,
        "rule": p,
        "quantity": p,
        "message": f"rule broken {p}",
        "max_abs": p,
        "max_rel": p,
        "max_ulp": p,
        "known_id": p if verdict == "known" else None,
        "outcome": p,
        "reproducer": f"import torch\nprint('{p}')\n",
    }


def _hostile_meta(p: str, q: str) -> dict[str, Any]:
    return {
        "environment": {
            "python": p,
            "numpy": q,
            "hypothesis": p,
            "pytest": q,
            "platform": p,
            "git": {"revision": p, "dirty": True},
            "torch": {
                "version": p,
                "git_version": q,
                "cuda": p,
                "cudnn": q,
                "hip": p,
                "cuda_available": p,
                "cuda_devices": [p, q],
                "num_threads": q,
                "config": p + q,
                "config_first_line": q,
            },
        },
        "profile": p,
        "seed": q,
        "derandomize": p,
        "suite_digest": q,
        "max_examples": p,
        "started": q,
        "finished": p,
        "stale_known": [p, q],
        "fix_candidates": [q, p],
        "coverage_gaps": {p: [q, p], q: p},
        "rules": [{"number": p, "text": q}, {"number": q, "text": p}],
        "tolerances": [{p: q, "dtype": p, "derivation": q}, {"ulp": p, q: p}],
        "registry": [
            {"id": p, "kind": q, "reason": p, "evidence": q, "issue": f"https://x/{q}"},
            {"id": q, "kind": p, "reason": q, "evidence": p, "issue": p, "torch_does": q},
        ],
        "api_signatures": {
            p: [{"name": p, "kind": q, "default": p}, {"name": q, "kind": p, "default": None}],
            q: None,
            f"torch.nn.{p}": q,
        },
        p: q,
        "note": p,
        "other": [q, {p: q}],
    }


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    run = tmp_path_factory.mktemp("hostile")
    with CaseRecorder(run, "main") as r:
        for i, p in enumerate(PAYLOADS):
            for verdict in ("fail", "known", "pass", p):
                r.record(_hostile_record(p, verdict, i))
        # both payloads in one record too
        r.record(_hostile_record(SCRIPT_PAYLOAD + ATTR_PAYLOAD, "fail", 9))
    write_meta(run, _hostile_meta(*PAYLOADS))
    merge_records(run)
    return render_report(run).read_text(encoding="utf-8")


def _parsed(page: str) -> Collector:
    c = Collector()
    c.feed(page)
    c.close()
    return c


def test_exactly_one_script_and_it_is_the_assets_one(page: str) -> None:
    c = _parsed(page)
    scripts = [a for t, a in c.tags if t == "script"]
    assert scripts == [{}]
    assert c.script_text == [SCRIPT]
    assert page.lower().count("<script") == 1


def test_no_injected_element_or_attribute(page: str) -> None:
    c = _parsed(page)
    assert not [t for t, _ in c.tags if t in ("img", "iframe", "object", "embed", "svg:script")]
    for tag, attrs in c.tags:
        unknown = set(attrs) - ALLOWED_ATTRS
        assert not unknown, (tag, unknown)  # e.g. an `onerror` or `src` broken out of a value
        href = attrs.get("href")
        if href is not None:
            assert href.startswith(("#", "https://", "data:")), href


def test_payloads_never_appear_raw(page: str) -> None:
    # neither payload, nor its dangerous pieces, is in the source unescaped: not in text,
    # not in an attribute value (where a raw quote would end the value)
    for p in PAYLOADS:
        assert p not in page
    low = page.lower()
    assert "<img" not in low
    assert "<script>window" not in low
    assert "\"'>" not in page


def test_payloads_appear_escaped_as_text(page: str) -> None:
    c = _parsed(page)
    text = "".join(c.text)
    for p in PAYLOADS:
        assert html.escape(p, quote=True) in page
        assert p in text
    # in the places that matter: spec, reproducer, message, kwargs, meta, registry
    assert f"print('{SCRIPT_PAYLOAD}')" in text
    assert f"rule broken {ATTR_PAYLOAD}" in text
    assert f"Loss{SCRIPT_PAYLOAD}" in text
    assert text.count(SCRIPT_PAYLOAD) >= 30
    assert text.count(ATTR_PAYLOAD) >= 30


def test_links_only_for_https(page: str) -> None:
    c = _parsed(page)
    hrefs = [a["href"] for t, a in c.tags if t == "a"]
    external = [h for h in hrefs if h and not h.startswith("#")]
    assert external == [f"https://x/{ATTR_PAYLOAD}"] * external.count(f"https://x/{ATTR_PAYLOAD}")
    assert external  # the registry's https issue is a link (its payload escaped)
    assert html.escape(f"https://x/{ATTR_PAYLOAD}", quote=True) in page
