"""The rendered HTML report, opened in headless Chromium over the DevTools Protocol.

A synthetic run (a passing spec, one with a registered known discrepancy, one with failures
whose kwargs, message and reproducer carry script/img payloads, and an unsupported-only spec)
is rendered with :func:`reports.html_report.render_report` and opened as a ``file://`` URL.
The tests check that the page loads without console errors or exceptions and requests
nothing but itself, that the matrix, a loss page and the run page show and hide as the DOM
contract says, that filtering, the problems-only switch, expanding a reproducer and the
copy button work with real input events, and that no payload ever runs. Screenshots of the
matrix and of a loss page are kept under ``test-artifacts/``.

Skips (with the reason) where no Chromium binary is found (``$CHROMIUM``, then chromium /
chromium-browser / google-chrome on PATH), ``websocket-client`` is missing, or the browser
cannot start.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("websocket", reason="websocket-client is not installed (a dev dependency)")

import contextlib

from reports.html_report import render_report
from reports.records import CaseRecorder, merge_records
from reports.run_meta import write_meta
from tests.browser_cdp import (
    WINDOW,
    Browser,
    BrowserError,
    BrowserTimeout,
    find_chromium,
    png_size,
)
from tests.synthetic_records import synthetic_record

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
WAIT = 10.0

SCRIPT_PAYLOAD = "<script>window.__pwned=1</script>"
IMG_PAYLOAD = '<img src=x onerror="window.__pwned=1">'
PAYLOAD = SCRIPT_PAYLOAD + IMG_PAYLOAD

PASS_SPEC = "HuberLoss"
KNOWN_SPEC = "KLDivLoss"
FAIL_SPEC = "CTCLoss[log_softmax]"
GREY_SPEC = "L1Loss"
SPECS = (PASS_SPEC, KNOWN_SPEC, FAIL_SPEC, GREY_SPEC)
FAIL_PAGE = "#loss-CTCLoss-log_softmax"
KNOWN_PAGE = "#loss-KLDivLoss"

KNOWN_ID = "kl-div-browser-demo"
KNOWN_REASON = "the documented pointwise formula differs from torch for target 0"
KNOWN_ISSUE = "https://github.com/pytorch/pytorch/issues/100001"
TORCH_VERSION = "2.13.0+cpu"

REPRODUCERS = {
    "3": "import torch\nx = torch.zeros(2, 3, 5)\nprint(x.sum())\n",
    "5": "import torch\ny = torch.ones(2, 3, 5, requires_grad=True)\nprint(y.grad)\n",
    "7": f"import torch\n# {SCRIPT_PAYLOAD}\nprint({IMG_PAYLOAD!r})\n",
}


def rec(spec: str, **over: Any) -> dict:
    """A case record of ``spec`` (``tests/synthetic_records.py``)."""
    return synthetic_record(spec, **over)


def records() -> list[dict]:
    """Every record of the synthetic run."""
    out = []
    for i, dtype in enumerate(("float32", "float64", "float32", "float64")):
        kind = "forward" if i < 2 else "backward"
        out.append(rec(PASS_SPEC, dtype=dtype, kind=kind, max_ulp=0.5 * (i + 1)))
    out.append(rec(KNOWN_SPEC, kwargs={"reduction": "batchmean", "log_target": False}))
    out.append(rec(KNOWN_SPEC, dtype="float64", max_ulp=1.5))
    for dtype in ("float32", "float64"):
        out.append(
            rec(
                KNOWN_SPEC,
                dtype=dtype,
                verdict="known",
                known_id=KNOWN_ID,
                max_ulp=float("inf"),
                message="rule 3: torch returns 0, the documented formula gives nan",
            )
        )
    ctc = {"blank": 0, "reduction": "mean", "zero_infinity": False}
    out.append(rec(FAIL_SPEC, kwargs=ctc, max_ulp=2.0))
    out.append(rec(FAIL_SPEC, kwargs={**ctc, "blank": 2}, dtype="float64", max_ulp=1.0))
    for n in range(3):
        out.append(
            rec(
                FAIL_SPEC,
                verdict="fail",
                rule="3",
                kwargs={**ctc, "zero_infinity": True},
                message=f"rule 3: output differs by {40 + n} ULP",
                max_abs=1.5e-5,
                max_rel=2.5e-6,
                max_ulp=40.0 + n,
                reproducer=REPRODUCERS["3"] + "#" * n,
                case_id=f"{n:016x}",
            )
        )
    out.append(
        rec(
            FAIL_SPEC,
            kind="backward",
            dtype="float64",
            verdict="fail",
            rule="5",
            quantity="grad[log_probs]",
            message="rule 5: gradient differs by 1200 ULP",
            max_abs=3.0e-9,
            max_rel=4.0e-10,
            max_ulp=1200.0,
            reproducer=REPRODUCERS["5"],
            case_id="00000000000000aa",
        )
    )
    out.append(
        rec(
            FAIL_SPEC,
            verdict="fail",
            rule="7",
            api="module",
            kwargs={**ctc, "blank": PAYLOAD, PAYLOAD: SCRIPT_PAYLOAD},
            message=f"rule 7: raised where the docs allow {PAYLOAD}",
            max_abs=float("nan"),
            max_rel=float("nan"),
            max_ulp=float("nan"),
            reproducer=REPRODUCERS["7"],
            test=f"suites/test_forward.py::test_forward[{PAYLOAD}]",
            case_id="00000000000000bb",
            outcome="raises RuntimeError",
        )
    )
    out.append(rec(GREY_SPEC, device="cuda", verdict="unsupported", max_ulp=None))
    return out


META = {
    "environment": {
        "python": "3.11.9",
        "numpy": "2.1.0",
        "platform": "Linux",
        "git": {"revision": "abc123def", "dirty": False},
        "torch": {
            "version": TORCH_VERSION,
            "git_version": "cf30153c",
            "cuda": None,
            "cuda_available": False,
            "cuda_devices": [],
            "num_threads": 8,
            "config_first_line": "PyTorch built with:",
        },
    },
    "profile": "ci",
    "seed": 4242,
    "stale_known": ["old-stale-entry"],
    "rules": [
        {"number": "3", "text": "values within the tolerance"},
        {"number": "5", "text": "gradients within the tolerance"},
        {"number": "7", "text": "documented inputs never raise"},
    ],
    "tolerances": [
        {"dtype": "float32", "device": "cpu", "ulp": 4, "why": "a sum of N terms"},
        {"dtype": "float64", "device": "cpu", "ulp": 4},
    ],
    "registry": [
        {
            "id": KNOWN_ID,
            "kind": "value",
            "losses": [KNOWN_SPEC],
            "torch": ">=2.0",
            "reason": KNOWN_REASON,
            "evidence": "F.kl_div(torch.tensor([0.]), torch.tensor([0.])) -> tensor(0.)",
            "torch_does": "returns 0 where target is 0",
            "issue": KNOWN_ISSUE,
        }
    ],
}


def row(spec: str) -> str:
    """The selector of a spec's matrix row."""
    return f"tr.loss-row[data-loss={json.dumps(spec)}]"


def wait_visible(b: Browser, selector: str, shown: bool = True) -> None:
    """Wait until ``selector`` is (or is not) visible; fail with the selector otherwise."""
    value = "true" if shown else "false"
    js = f"""(() => {{
      const el = document.querySelector({json.dumps(selector)});
      if (!el) return !{value};
      const r = el.getBoundingClientRect();
      const on = !el.closest('[hidden]') && r.width > 0 && r.height > 0;
      return on === {value};
    }})()"""
    with contextlib.suppress(BrowserTimeout):
        b.wait_for(js, timeout=WAIT)
    assert b.visible(selector) is shown, f"{selector} should be {'shown' if shown else 'hidden'}"


def visible_rows(b: Browser) -> list[str]:
    """The specs whose matrix row is visible."""
    return [spec for spec in SPECS if b.visible(row(spec))]


def goto(b: Browser, page: str) -> None:
    """Show ``#matrix`` or ``#run`` with a real click on the nav link."""
    b.click(f'#nav a[href="{page}"]')
    wait_visible(b, page)


def open_loss(b: Browser, spec: str, page: str) -> None:
    """Open a loss page by clicking its link in the matrix."""
    goto(b, "#matrix")
    b.type_text("#filter", "")
    b.click(f"{row(spec)} a.loss-link")
    wait_visible(b, page)


def screenshot(b: Browser, name: str) -> Path:
    """Save a screenshot under test-artifacts/ and check it is a PNG of the window size."""
    path = b.screenshot(ARTIFACTS / name)
    assert png_size(path) == WINDOW
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("browser-run")
    recs = records()
    with CaseRecorder(run_dir, "gw0") as r0, CaseRecorder(run_dir, "gw1") as r1:
        for i, r in enumerate(recs):
            (r0 if i % 2 else r1).record(r)
    write_meta(run_dir, META)
    merge_records(run_dir)
    return render_report(run_dir)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    binary = find_chromium()
    if binary is None:
        pytest.skip(
            "no Chromium binary found ($CHROMIUM, chromium, chromium-browser, google-chrome); "
            "install Debian's chromium package to run the report's browser test"
        )
    b = Browser(binary)
    try:
        b.start()
    except BrowserError as exc:
        pytest.skip(f"Chromium ({binary}) cannot start: {exc}")
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def page(browser: Browser, report: Path) -> Browser:
    browser.navigate(report.resolve().as_uri())
    browser.wait_for("document.body.classList.contains('js')", timeout=WAIT)
    browser.pump(0.2)
    return browser


def test_loads_without_console_errors(page: Browser) -> None:
    assert page.console_errors == []
    assert page.evaluate("document.scripts.length") == 1
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_requests_nothing_but_the_file(page: Browser, report: Path) -> None:
    url = report.resolve().as_uri()
    assert url in page.requested_urls
    others = [u for u in page.requested_urls if u != url and not u.startswith("data:")]
    assert others == []


def test_matrix_visible_and_loss_pages_hidden(page: Browser) -> None:
    goto(page, "#matrix")
    assert page.visible("#matrix-table")
    names = page.evaluate(
        "Array.from(document.querySelectorAll('#matrix-table .loss-row'), r => r.dataset.loss)"
    )
    assert sorted(names) == sorted(SPECS)
    assert visible_rows(page) == list(SPECS)
    pages = page.evaluate(
        "Array.from(document.querySelectorAll('section.loss-page'), s => '#' + s.id)"
    )
    assert len(pages) == len(SPECS) and FAIL_PAGE in pages and KNOWN_PAGE in pages
    for sel in [*pages, "#run"]:
        assert not page.visible(sel), sel
    status = (
        page.evaluate(f"document.querySelector({json.dumps(row(PASS_SPEC))}).dataset.status"),
        page.evaluate(f"document.querySelector({json.dumps(row(FAIL_SPEC))}).dataset.status"),
    )
    assert status == ("pass", "fail")
    assert page.visible(f"{row(FAIL_SPEC)} td.cell.st-fail")
    assert page.visible(f"{row(PASS_SPEC)} td.cell.st-pass")
    screenshot(page, "report-matrix.png")


def test_loss_link_shows_loss_page(page: Browser) -> None:
    open_loss(page, FAIL_SPEC, FAIL_PAGE)
    assert page.evaluate("location.hash") == FAIL_PAGE
    assert not page.visible("#matrix")
    assert not page.visible("#matrix-table")
    assert page.visible(f"{FAIL_PAGE} table.coverage")
    assert page.visible(f"{FAIL_PAGE} svg.histogram")
    bars = page.evaluate(
        f"""Array.from(document.querySelectorAll({json.dumps(FAIL_PAGE + " svg.histogram rect")}))
          .filter(r => {{ const b = r.getBoundingClientRect(); return b.width > 0 && b.height > 0; }})
          .length"""
    )
    assert bars > 0
    assert page.visible(f"{FAIL_PAGE} div.failure")
    screenshot(page, "report-loss.png")


def test_known_page_lists_the_registry_entry(page: Browser) -> None:
    open_loss(page, KNOWN_SPEC, KNOWN_PAGE)
    assert page.visible(f"{KNOWN_PAGE} div.known-list")
    text = page.evaluate(
        f"document.querySelector({json.dumps(KNOWN_PAGE + ' div.known-list')}).textContent"
    )
    assert KNOWN_ID in text and KNOWN_REASON in text
    link = f'{KNOWN_PAGE} div.known-list a[href="{KNOWN_ISSUE}"]'
    assert page.evaluate(f"document.querySelector({json.dumps(link)}) !== null")


def test_nav_shows_run_page(page: Browser) -> None:
    goto(page, "#run")
    assert not page.visible("#matrix")
    assert page.visible("#run-facts")
    facts = page.evaluate("document.getElementById('run-facts').textContent")
    assert TORCH_VERSION in facts
    assert page.visible("#rules") and page.visible("#tolerances")
    assert "old-stale-entry" in page.evaluate("document.getElementById('stale').textContent")
    goto(page, "#matrix")
    assert not page.visible("#run")


def test_filter_hides_and_restores_rows(page: Browser) -> None:
    goto(page, "#matrix")
    page.type_text("#filter", "cTc")
    wait_visible(page, row(PASS_SPEC), shown=False)
    assert visible_rows(page) == [FAIL_SPEC]
    page.type_text("#filter", "loss")
    wait_visible(page, row(PASS_SPEC))
    assert visible_rows(page) == list(SPECS)
    page.type_text("#filter", "no such loss")
    wait_visible(page, row(FAIL_SPEC), shown=False)
    assert visible_rows(page) == []
    page.type_text("#filter", "")
    wait_visible(page, row(FAIL_SPEC))
    assert page.evaluate("document.getElementById('filter').value") == ""
    assert visible_rows(page) == list(SPECS)


def test_only_problems_hides_passing_rows(page: Browser) -> None:
    goto(page, "#matrix")
    page.type_text("#filter", "")
    assert page.evaluate("document.getElementById('only-problems').checked") is False
    page.click("#only-problems")
    wait_visible(page, row(PASS_SPEC), shown=False)
    assert visible_rows(page) == [KNOWN_SPEC, FAIL_SPEC]
    page.type_text("#filter", "kldiv")
    wait_visible(page, row(FAIL_SPEC), shown=False)
    assert visible_rows(page) == [KNOWN_SPEC]
    page.type_text("#filter", "")
    page.click("#only-problems")
    wait_visible(page, row(PASS_SPEC))
    assert visible_rows(page) == list(SPECS)


def test_reproducer_expands_and_copies(page: Browser) -> None:
    open_loss(page, FAIL_SPEC, FAIL_PAGE)
    n = page.evaluate(
        f"document.querySelectorAll({json.dumps(FAIL_PAGE + ' details.reproducer')}).length"
    )
    assert n >= 3  # one failure group per rule
    shown = set()
    for i in range(n):
        page.evaluate(
            f"document.querySelectorAll({json.dumps(FAIL_PAGE + ' details.reproducer')})[{i}]"
            f".id = 'repro-{i}'"
        )
        pre = f"#repro-{i} pre.reproducer-code"
        assert not page.visible(pre), f"reproducer {i} is open before a click"
        page.click(f"#repro-{i} > summary")
        wait_visible(page, pre)
        text = page.evaluate(f"document.querySelector({json.dumps(pre)}).textContent")
        assert text.strip() in {r.strip() for r in REPRODUCERS.values()}
        shown.add(text.strip())
    assert REPRODUCERS["7"].strip() in shown  # the payload shows as text
    copy = f"{FAIL_PAGE} div.failure button.copy"
    before = list(page.console_errors)
    page.click(copy)
    page.wait_for(
        f"document.querySelector({json.dumps(copy)}).textContent.includes('copied')",
        timeout=WAIT,
    )
    page.pump(0.2)
    assert page.console_errors == before


def test_no_payload_ran_after_everything(page: Browser) -> None:
    page.pump(0.2)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.scripts.length") == 1
    images = "Array.from(document.images, i => i.getAttribute('src'))"
    assert [src for src in page.evaluate(images) if not str(src).startswith("data:")] == []


def test_no_errors_or_requests_after_everything(page: Browser, report: Path) -> None:
    page.pump(0.2)
    assert page.console_errors == []
    url = report.resolve().as_uri()
    assert [u for u in page.requested_urls if u != url and not u.startswith("data:")] == []
