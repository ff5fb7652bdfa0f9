"""Tests of reports.html_report (structure, contents, budget) and the ``python -m reports`` CLI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from reports.html_assets import CSP, SCRIPT
from reports.html_report import render_html, render_report, reproducer_allowance
from reports.html_util import unique_slugs
from reports.records import CaseRecorder, merge_records
from reports.run_meta import write_meta
from reports.summary import MAX_GROUPS_PER_SPEC, summarize
from tests.synthetic_records import synthetic_record

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
EVIL = "<script>alert(1)</script>"


def rec(**over: Any) -> dict:
    """A synthetic HuberLoss case record (``tests/synthetic_records.py``)."""
    base = {
        "kwargs": {"delta": 0.5, "reduction": "mean"},
        "features": ["tie"],
        "case_id": None,
        "outcome": None,
    }
    record = synthetic_record("HuberLoss", **base)
    record.update(over)
    return record


META = {
    "environment": {
        "python": "3.11.9",
        "numpy": "2.1.0",
        "hypothesis": "6.100.0",
        "pytest": "8.3.0",
        "platform": "Linux",
        "git": {"revision": "abc123def", "dirty": True},
        "torch": {
            "version": "2.13.0+cpu",
            "git_version": "cf30153c",
            "cuda": None,
            "cudnn": None,
            "cuda_available": False,
            "cuda_devices": [],
            "num_threads": 8,
            "config_first_line": "PyTorch built with:",
        },
    },
    "profile": "ci",
    "seed": 4242,
    "stale_known": ["old-entry", EVIL],
    "rules": [{"number": "1", "text": "shape and dtype equal"}, {"number": "3", "text": EVIL}],
    "tolerances": [
        {"dtype": "float32", "device": "cpu", "ulp": 4, "why": "a sum of N terms"},
        {"dtype": "float16", "device": "cpu", "ulp": 8, "floor": 1e-3},
    ],
    "note": EVIL,
    "registry": [
        {
            "id": "mse-x",
            "kind": "doc",
            "reason": "the docs say one thing",
            "evidence": "torch.nn.functional.mse_loss(...) -> 2.0",
            "issue": "https://github.com/pytorch/pytorch/issues/1",
        },
        {
            "id": f"id-{EVIL}",
            "reason": EVIL,
            "evidence": EVIL,
            "issue": "javascript:alert(1)",
        },
    ],
    "fix_candidates": ["fixed-maybe"],
    "coverage_gaps": {"HuberLoss": ["weight"]},
    "suite_digest": "d1g3st",
    "derandomize": True,
    "api_signatures": {
        "torch.nn.HuberLoss": [
            {"name": "reduction", "kind": "POSITIONAL_OR_KEYWORD", "default": "mean"},
            {"name": "delta", "kind": "POSITIONAL_OR_KEYWORD", "default": 1.0},
        ],
        "torch.nn.Gone": None,
        "torch.nn.Broken": "signature not available",
    },
}


def make_run(run_dir: Path, merged: bool = True) -> Path:
    """A small synthetic run with two workers, including hostile strings."""
    with CaseRecorder(run_dir, "gw0") as r0, CaseRecorder(run_dir, "gw1") as r1:
        r0.record(rec())
        r0.record(rec(dtype="float64", max_ulp=1.0))
        r0.record(
            rec(
                verdict="fail",
                rule="3",
                max_ulp=float("inf"),
                kwargs={"delta": EVIL, "reduction": "mean"},
                message=f"rule 3 broken {EVIL}",
                reproducer=f"import torch\nprint('{EVIL}')\n",
                test=f"suites/test_forward.py::test_forward[{EVIL}]",
                case_id="00000000deadbeef",
                outcome="inf",
            )
        )
        r1.record(rec(spec=f"Evil{EVIL}", verdict="known", known_id=f"id-{EVIL}"))
        r1.record(rec(spec="L1Loss", device="cuda", verdict="unsupported", max_ulp=None))
        r1.record({"kind": "invalid", "spec": "L1Loss", "verdict": "invalid", "test": "t"})
        r1.record(rec(spec="MSELoss", verdict="xpass", known_id="mse-x", max_ulp=0.0))
    write_meta(run_dir, META)
    if merged:
        merge_records(run_dir)
    return run_dir


VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass
class Node:
    """An element of the parsed page."""

    tag: str
    attrs: dict[str, str | None]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[Node]:
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Node]:
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag)
            and (cls is None or cls in n.classes)
            and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def by_id(self, id_: str) -> Node:
        (node,) = [n for n in self.iter() if n.attrs.get("id") == id_]
        return node


class TreeParser(HTMLParser):
    """A strict little tree builder: every non-void element must be closed explicitly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.cur = self.root
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.cur.children.append(Node(tag, dict(attrs), self.cur))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self.cur.tag != tag:
            self.errors.append(f"</{tag}> closes <{self.cur.tag}>")
            node = self.cur
            while node.parent is not None and node.tag != tag:
                node = node.parent
            if node.parent is None:
                return
            self.cur = node
        self.cur = self.cur.parent or self.root

    def handle_data(self, data: str) -> None:
        self.cur.children.append(data)


def parse_page(page: str) -> Node:
    """The page's tree; asserts it is balanced."""
    parser = TreeParser()
    parser.feed(page)
    parser.close()
    assert parser.errors == [], parser.errors[:5]
    assert parser.cur is parser.root, f"unclosed <{parser.cur.tag}>"
    return parser.root


SPECS = sorted(["HuberLoss", f"Evil{EVIL}", "L1Loss", "MSELoss"])


def test_dom_contract(tmp_path: Path) -> None:
    out = render_report(make_run(tmp_path))
    assert out == tmp_path / "report.html"
    root = parse_page(out.read_text(encoding="utf-8"))
    (csp,) = root.find_all("meta", http_equiv="Content-Security-Policy")
    assert csp.attrs["content"] == CSP
    (script,) = root.find_all("script")
    assert script.text() == SCRIPT and "src" not in script.attrs
    nav = root.by_id("nav")
    assert nav.tag == "nav"
    assert {a.attrs["href"] for a in nav.find_all("a")} >= {"#matrix", "#run"}

    matrix = root.by_id("matrix")
    assert matrix.tag == "section" and "page" in matrix.classes
    assert root.by_id("filter").attrs["type"] == "search"
    assert root.by_id("only-problems").attrs["type"] == "checkbox"
    table = root.by_id("matrix-table")
    rows = table.find_all("tr", cls="loss-row")
    assert [r.attrs["data-loss"] for r in rows] == SPECS
    status = {r.attrs["data-loss"]: r.attrs["data-status"] for r in rows}
    assert status == {
        "HuberLoss": "fail",
        f"Evil{EVIL}": "known",
        "L1Loss": "pass",  # an invalid-input case that passed; the cuda cell is grey
        "MSELoss": "known",  # xpass
    }
    cell_classes = set()
    for r in rows:
        first, *cells = [c for c in r.children if isinstance(c, Node)]
        (link,) = first.find_all("a", cls="loss-link")
        assert link.text() == r.attrs["data-loss"]
        page = root.by_id(link.attrs["href"][1:])
        assert page.tag == "section" and {"page", "loss-page"} <= page.classes
        assert page.attrs["data-loss"] == r.attrs["data-loss"]
        assert page.find_all("table", cls="coverage")
        (svg,) = page.find_all("svg", cls="histogram")
        assert svg.attrs["role"] == "img"
        assert len(page.find_all("div", cls="known-list")) == 1
        for c in cells:
            assert c.tag == "td" and "cell" in c.classes
            (st,) = [k for k in c.classes if k.startswith("st-")]
            cell_classes.add(st)
    assert cell_classes == {"st-fail", "st-known", "st-pass", "st-grey", "st-empty"}
    assert root.by_id("loss-HuberLoss").attrs["data-loss"] == "HuberLoss"
    assert root.by_id("loss-Evil-script-alert-1-script").attrs["data-loss"] == f"Evil{EVIL}"

    huber = root.by_id("loss-HuberLoss")
    (failure,) = huber.find_all("div", cls="failure")
    (det,) = failure.find_all("details", cls="reproducer")
    assert det.find_all("summary")
    (pre,) = det.find_all("pre", cls="reproducer-code")
    assert pre.text() == f"import torch\nprint('{EVIL}')\n"
    (button,) = failure.find_all("button", cls="copy")
    assert button.attrs["type"] == "button"
    assert failure.attrs["data-count"] == "1" and failure.attrs["data-rule"] == "3"
    assert "00000000deadbeef" in failure.text() and "inf" in failure.text()

    run = root.by_id("run")
    assert run.tag == "section" and "page" in run.classes
    for id_, tag in (("run-facts", "table"), ("rules", "table"), ("tolerances", "table")):
        assert run.by_id(id_).tag == tag
    stale = run.by_id("stale")
    assert stale.tag == "ul"
    assert [li.text() for li in stale.find_all("li")] == ["old-entry", EVIL]
    # every .page is a direct child of <main>: the script toggles them as a flat list
    pages = [n for n in root.iter() if "page" in n.classes]
    assert len(pages) == len(SPECS) + 2
    assert all(p.parent is not None and p.parent.tag == "main" for p in pages)


def test_run_page_contents(tmp_path: Path) -> None:
    root = parse_page(render_report(make_run(tmp_path)).read_text(encoding="utf-8"))
    run = root.by_id("run")
    facts = {
        tr.find_all("td")[0].text(): tr.find_all("td")[1].text()
        for tr in run.by_id("run-facts").find_all("tr")
        if tr.find_all("td")
    }
    assert facts["torch"] == "2.13.0+cpu"
    assert facts["torch build"] == "git cf30153c"
    assert facts["hypothesis profile"] == "ci" and facts["seed"] == "4242"
    assert facts["derandomize"] == "true" and facts["suite digest"] == "d1g3st"
    assert facts["suite git revision"] == "abc123def (dirty)"
    assert facts["devices in the records"] == "?, cpu, cuda"
    text = run.text()
    for s in ("shape and dtype equal", "a sum of N terms", "fixed-maybe", "weight", "4242"):
        assert s in text, s
    sigs = run.by_id("api-signatures")
    assert sigs.tag == "details"
    stext = sigs.text()
    assert "reduction [POSITIONAL_OR_KEYWORD]=mean" in stext and "delta" in stext
    assert "not found in this torch" in stext and "signature not available" in stext
    # known table: reason and evidence details, https link only for https URLs
    known = run.by_id("known")
    assert "the docs say one thing" in known.text() and "mse_loss(...) -> 2.0" in known.text()
    hrefs = [a.attrs["href"] for a in root.find_all("a")]
    assert "https://github.com/pytorch/pytorch/issues/1" in hrefs
    assert not any(h.startswith("javascript") for h in hrefs)
    assert all(h.startswith(("#", "https://")) for h in hrefs)
    # the MSELoss page lists its known id, linked to the run page's row, with the reason
    mse = root.by_id("loss-MSELoss")
    (k,) = mse.find_all("div", cls="known")
    assert k.attrs["data-known"] == "mse-x" and k.attrs["data-count"] == "1"
    (link,) = [a for a in k.find_all("a") if a.attrs["href"].startswith("#known-")]
    assert root.by_id(link.attrs["href"][1:]).text() == "mse-x"
    assert "the docs say one thing" in k.text()


def test_totals_legend_and_histogram(tmp_path: Path) -> None:
    root = parse_page(render_report(make_run(tmp_path)).read_text(encoding="utf-8"))
    totals = root.by_id("totals")
    heads = [th.text() for th in totals.find_all("th")]
    cells = [td.text() for td in totals.find_all("td")]
    assert dict(zip(heads, cells, strict=True))["cases"] == "7"
    assert dict(zip(heads, cells, strict=True))["fail"] == "1"
    assert root.find_all("p", cls="legend")
    (svg,) = root.by_id("loss-HuberLoss").find_all("svg", cls="histogram")
    bars = svg.find_all("rect", cls="bar")
    titles = sorted(b.find_all("title")[0].text() for b in bars)
    # float32: 0.5 (pass) and inf (fail); float64: 1.0 (pass)
    assert titles == [
        "float32 inf ulp: 1 cases",
        "float32 ≤0.5 ulp: 1 cases",
        "float64 ≤1 ulp: 1 cases",
    ]
    legend = [t.text() for t in svg.find_all("text")]
    assert "float32" in legend and "float64" in legend
    (empty,) = root.by_id("loss-L1Loss").find_all("svg", cls="histogram")
    assert not empty.find_all("rect", cls="bar") and "no ULP measurements" in empty.text()


def test_self_contained(tmp_path: Path) -> None:
    page = render_report(make_run(tmp_path)).read_text(encoding="utf-8")
    low = page.lower()
    assert "http://" not in low and "@import" not in low and "url(" not in low
    assert " src=" not in low
    root = parse_page(page)
    for link in root.find_all("link"):
        assert link.attrs["href"].startswith("data:")
    assert low.startswith("<!doctype html>") and low.rstrip().endswith("</html>")


def test_unique_slugs() -> None:
    assert unique_slugs(["a b", "a-b", "a  b", "x[y]", "--"]) == {
        "a b": "a-b",
        "a-b": "a-b-2",
        "a  b": "a-b-3",
        "x[y]": "x-y",
        "--": "loss",
    }


def test_colliding_slugs_get_distinct_pages(tmp_path: Path) -> None:
    with CaseRecorder(tmp_path, "main") as r:
        for spec in ("A B", "A-B", "A.B"):
            r.record(rec(spec=spec))
    root = parse_page(render_report(tmp_path).read_text(encoding="utf-8"))
    ids = [s.attrs["id"] for s in root.find_all("section", cls="loss-page")]
    assert ids == ["loss-A-B", "loss-A-B-2", "loss-A-B-3"]
    hrefs = [a.attrs["href"] for a in root.find_all("a", cls="loss-link")]
    assert hrefs == [f"#{i}" for i in ids]


def test_failure_groups_keep_the_shortest_reproducer() -> None:
    fail = {"verdict": "fail", "rule": "3", "quantity": "output"}
    records = [
        rec(**fail, test="long", reproducer="x" * 50),
        rec(**fail, test="short-first", reproducer="y" * 10),
        rec(**fail, test="short-second", reproducer="z" * 10),
        rec(**fail, test="other-dtype", dtype="float64", reproducer="w" * 99),
        rec(**fail, test="no-repro", api="module", reproducer=None),
    ]
    cov = summarize(records)["per_spec"]["HuberLoss"]
    groups = {
        (g["rule"], g["quantity"], g["dtype"], g["device"], g["api"]): g
        for g in cov["failure_groups"]
    }
    g = groups[("3", "output", "float32", "cpu", "functional")]
    assert g["count"] == 3 and g["sample"]["test"] == "short-first"
    assert groups[("3", "output", "float64", "cpu", "functional")]["count"] == 1
    assert groups[("3", "output", "float32", "cpu", "module")]["sample"]["test"] == "no-repro"
    assert [x["count"] for x in cov["failure_groups"]] == [3, 1, 1]  # most frequent first


def test_failure_groups_are_capped() -> None:
    n_groups = MAX_GROUPS_PER_SPEC + 5
    records = [
        rec(verdict="fail", rule=str(i), quantity="output", test=f"t{i}-{j}")
        for i in range(n_groups)
        for j in range(2)
    ]
    cov = summarize(records)["per_spec"]["HuberLoss"]
    assert len(cov["failure_groups"]) == MAX_GROUPS_PER_SPEC
    assert cov["groups_more"] == 5 and cov["groups_more_cases"] == 10
    assert sum(g["count"] for g in cov["failure_groups"]) + 10 == cov["n_fail"] == 2 * n_groups


def test_summary_histograms_kinds_known_and_odd_records() -> None:
    records: list[Any] = [
        rec(max_ulp=0.5),
        rec(dtype="float16", max_ulp=3.0),
        rec(dtype="float16", max_ulp="inf", verdict="fail", rule="2"),
        rec(dtype="float16", max_ulp="nan"),  # not counted
        rec(kind="gradient", verdict="known", known_id="k1", max_ulp=9.0),  # not judged
        rec(kind="gradient", verdict="known", known_id="k1"),
        rec(kind="gradient", verdict="xpass", known_id="k2", outcome="finite"),
        # odd records: none of these may crash the summary
        ["not", "a", "dict"],
        {},
        rec(kwargs=["a", "list"], features="tie", verdict=["x"], max_ulp={"a": 1}),
        rec(known_id={"odd": 1}, rule=[1], quantity=None, api=None, reproducer=12),
        rec(verdict="fail", rule=None, reproducer=None, message=None, kwargs=None),
    ]
    s = summarize(records)
    cov = s["per_spec"]["HuberLoss"]
    by_dtype = cov["ulp_hist_by_dtype"]
    assert list(by_dtype) == ["float16", "float32"]
    assert by_dtype["float16"]["≤4"] == 1 and by_dtype["float16"]["inf"] == 1
    # judged float32 cases at 0.5: the first pass, the xpass and two odd-but-judged records
    assert by_dtype["float32"]["≤0.5"] == 4 and sum(by_dtype["float32"].values()) == 4
    kv = cov["kind_verdicts"]
    assert kv["gradient"] == {"known": 2, "xpass": 1}
    assert kv["forward"]["fail"] == 2
    assert cov["known_counts"] == {"k1": 2, "k2": 1, "{'odd': 1}": 1}
    assert cov["outcomes"] == ["finite"]
    assert s["totals"]["n"] == len(records)
    assert s["cells"][("?", "?", "?")]["other"] == 2  # the list and the empty dict


def _summary_with_reproducers(sizes: list[int]) -> dict:
    records = [
        rec(
            verdict="fail",
            rule="3",
            dtype=f"d{i}",
            case_id=f"{i:016x}",
            reproducer="".join(f"line {k}\n" for k in range(n // 7 + 1))[:n],
        )
        for i, n in enumerate(sizes)
    ]
    return summarize(records)


def test_reproducer_allowance_prefers_short_ones() -> None:
    s = _summary_with_reproducers([300, 100, 200, 17_000])
    groups = s["per_spec"]["HuberLoss"]["failure_groups"]
    size = {i: len(g["sample"]["reproducer"]) for i, g in enumerate(groups)}
    allowed = reproducer_allowance(s["per_spec"], budget=320)["HuberLoss"]
    assert sorted(size[i] for i in allowed) == [100, 200]
    allowed = reproducer_allowance(s["per_spec"], budget=10_000_000)["HuberLoss"]
    assert sorted(size[i] for i in allowed) == [100, 200, 300]  # 17,000 > 16 KB: never


def test_long_reproducer_is_cut_with_the_show_command(tmp_path: Path) -> None:
    s = _summary_with_reproducers([120, 17_000])
    page = render_html(s, {}, title="t", run_dir="/runs/x y")
    root = parse_page(page)
    blocks = {f.attrs["data-dtype"]: f for f in root.find_all("div", cls="failure")}
    short, long_ = blocks["d0"], blocks["d1"]
    (pre,) = short.find_all("pre", cls="reproducer-code")
    assert len(pre.text()) == 120 and not short.find_all("p", cls="truncated")
    (pre,) = long_.find_all("pre", cls="reproducer-code")
    assert 0 < len(pre.text()) <= 2000 and pre.text().startswith("line 0\n")
    (note,) = long_.find_all("p", cls="truncated")
    assert "python -m reports show '/runs/x y' 0000000000000001" in note.text()
    assert "17000 characters" in note.text()


def test_reproducer_budget_on_the_page() -> None:
    s = _summary_with_reproducers([15_000] * 30)  # 450 KB in all

    page = render_html(s, {}, title="t", run_dir="r")
    full = [len(p.text()) for p in parse_page(page).find_all("pre", cls="reproducer-code")]
    assert full == [15_000] * 30
    page = render_html(s, {}, title="t", run_dir="r", reproducer_budget=100_000)
    sizes = [len(p.text()) for p in parse_page(page).find_all("pre", cls="reproducer-code")]
    assert sizes.count(15_000) == 6 and all(n <= 2000 for n in sizes if n != 15_000)


def test_render_from_unmerged_records_and_out_path(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", merged=False)
    out = render_report(run, tmp_path / "elsewhere" / "r.html")
    assert out == tmp_path / "elsewhere" / "r.html"
    assert out.is_file() and "HuberLoss" in out.read_text(encoding="utf-8")


def test_render_without_meta_or_new_fields(tmp_path: Path) -> None:
    with CaseRecorder(tmp_path, "main") as r:
        r.record({"spec": "L1Loss", "verdict": "fail"})
        r.record({"verdict": "pass"})
    root = parse_page(render_report(tmp_path).read_text(encoding="utf-8"))
    assert root.by_id("stale").text() == "Not recorded."
    assert len(root.find_all("div", cls="failure")) == 1
    assert root.by_id("rules").tag == "table" and root.by_id("tolerances").tag == "table"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PYTHON), "-m", "reports", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_render_and_summary(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", merged=False)
    proc = _cli("render", str(run))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(run / "report.html")
    assert (run / "cases.jsonl").is_file()  # merged on the way
    assert (run / "report.html").is_file()

    out = tmp_path / "report.html"
    proc = _cli("render", str(run), "-o", str(out))
    assert proc.returncode == 0 and out.is_file()

    proc = _cli("summary", str(run))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:4] == ["spec", "dtype", "device", "n"]
    huber = next(ln.split() for ln in lines if ln.split()[:3] == ["HuberLoss", "float32", "cpu"])
    assert huber[3] == "2" and huber[-1] == "inf"  # n and worst ULP
    assert lines[-1].split()[:2] == ["TOTAL", "7"]


def test_cli_exit_code_2(tmp_path: Path) -> None:
    proc = _cli("render", str(tmp_path / "missing"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    (tmp_path / "empty" / "records").mkdir(parents=True)
    (tmp_path / "empty" / "records" / "gw0.jsonl").touch()
    for sub in (("render",), ("summary",), ("show", "0" * 16)):
        proc = _cli(sub[0], str(tmp_path / "empty"), *sub[1:])
        assert proc.returncode == 2 and "no records" in proc.stderr
    assert _cli().returncode == 2  # no subcommand


def test_cli_show(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    long_repro = "import torch\n" + "x = 1\n" * 5000
    with CaseRecorder(run, "extra") as r:
        r.record(rec(case_id="00000000deadbeef", test="second", reproducer=long_repro))
        r.record(rec(case_id="1111111111111111", test="other"))
    merge_records(run)
    proc = _cli("show", str(run), "00000000deadbeef")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("test:") == 2 and "second" in out and "other" not in out
    assert "verdict:  fail  rule: 3" in out and "quantity: output" in out
    assert f"message:  rule 3 broken {EVIL}" in out
    assert long_repro in out  # the full reproducer, not cut
    proc = _cli("show", str(run), "00000000deadbeef", "--test", "second")
    assert proc.returncode == 0 and proc.stdout.count("test:") == 1
    proc = _cli("show", str(run), "feedfacefeedface")
    assert proc.returncode == 2 and "no record with case_id 'feedfacefeedface'" in proc.stderr
    proc = _cli("show", str(run), "00000000deadbeef", "--test", "nowhere")
    assert proc.returncode == 2 and "nowhere" in proc.stderr


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
