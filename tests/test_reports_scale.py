"""The report of a 200,000-record run: small, complete, and its counts are right.

No timing assertion here (a shared CI machine makes them flaky); the render time is
measured by ``python -m benchmarks.report_benchmark``.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synthetic_run import write_synthetic_run
from reports.html_report import REPRODUCER_BUDGET, render_report
from reports.summary import MAX_GROUPS_PER_SPEC

N_RECORDS = 200_000
MAX_PAGE_BYTES = 5_000_000


class Scan(HTMLParser):
    """The attributes the counts live in, and the reproducer text lengths."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: dict[str, dict[str, str | None]] = {}
        self.pages: dict[str, dict[str, str | None]] = {}
        self.cells: Counter[str] = Counter()
        self.failures: dict[str, list[dict[str, str | None]]] = {}
        self.more: Counter[str] = Counter()
        self.repro_chars: list[int] = []
        self._row: str | None = None
        self._page: str | None = None
        self._in_repro = False

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attrs_list)
        cls = set((attrs.get("class") or "").split())
        if tag == "tr" and "loss-row" in cls:
            self._row = attrs["data-loss"]
            assert self._row is not None
            self.rows[self._row] = attrs
        elif tag == "td" and "cell" in cls and self._row is not None:
            self.cells[self._row] += int(attrs.get("data-fail") or 0)
        elif tag == "section" and "loss-page" in cls:
            self._page = attrs["data-loss"]
            assert self._page is not None
            self.pages[self._page] = attrs
            self.failures[self._page] = []
        elif tag == "div" and "failure" in cls and self._page is not None:
            self.failures[self._page].append(attrs)
        elif tag == "p" and "groups-more" in cls and self._page is not None:
            self.more[self._page] += int(attrs["data-count"] or 0)
        elif tag == "pre" and "reproducer-code" in cls:
            self._in_repro = True
            self.repro_chars.append(0)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None
        elif tag == "section":
            self._page = None
        elif tag == "pre":
            self._in_repro = False

    def handle_data(self, data: str) -> None:
        if self._in_repro:
            self.repro_chars[-1] += len(data)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, Scan]:
    run = tmp_path_factory.mktemp("big")
    expected = write_synthetic_run(run, N_RECORDS, seed=1)
    out = render_report(run)
    scan = Scan()
    scan.feed(out.read_text(encoding="utf-8"))
    scan.close()
    return expected, out, scan


def test_generator_is_realistic(big: tuple[dict[str, Any], Path, Scan]) -> None:
    expected, _, _ = big
    assert expected["n"] == N_RECORDS and len(expected["specs"]) == 26
    assert 0.04 < expected["fail_total"] / N_RECORDS < 0.06
    assert len(expected["known"]) >= 10
    # some specs have more failure groups than the page shows
    assert max(len(g) for g in expected["groups"].values()) > MAX_GROUPS_PER_SPEC


def test_page_is_small(big: tuple[dict[str, Any], Path, Scan]) -> None:
    _, out, scan = big
    size = out.stat().st_size
    print(f"\n{N_RECORDS} records: report {size / 1e6:.2f} MB")
    assert size < MAX_PAGE_BYTES
    assert sum(scan.repro_chars) <= REPRODUCER_BUDGET + 2000 * len(scan.repro_chars)


def test_every_spec_has_a_row_and_a_page(big: tuple[dict[str, Any], Path, Scan]) -> None:
    expected, _, scan = big
    assert sorted(scan.rows) == sorted(expected["specs"])
    assert sorted(scan.pages) == sorted(expected["specs"])
    for spec in expected["specs"]:
        assert scan.rows[spec]["data-status"] == ("fail" if expected["fail"].get(spec) else "known")


def test_failure_counts_match(big: tuple[dict[str, Any], Path, Scan]) -> None:
    expected, _, scan = big
    for spec in expected["specs"]:
        n_fail = expected["fail"].get(spec, 0)
        assert scan.pages[spec]["data-fail"] == str(n_fail), spec
        assert scan.cells[spec] == n_fail, spec  # the matrix cells add up
        groups = expected["groups"][spec]
        shown = scan.failures[spec]
        assert len(shown) == min(len(groups), MAX_GROUPS_PER_SPEC), spec
        for f in shown:
            key = (f["data-rule"], f["data-quantity"], f["data-dtype"], f["data-device"])
            key5 = (*key, f["data-api"])
            assert int(f["data-count"] or 0) == groups[key5], (spec, key5)
        # shown groups plus the "further groups" line account for every failure
        assert sum(int(f["data-count"] or 0) for f in shown) + scan.more[spec] == n_fail
