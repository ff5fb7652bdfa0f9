"""Tests of the release diff (``reports.diff*`` and ``python -m reports diff``).

Two synthetic run folders, A (old torch) and B (new torch), differ in known ways: every
kind of finding the issue names is planted once, next to controls that must not be
reported (the same case in both, an accuracy change under the 2x-and-2-ULP threshold).
"""

from __future__ import annotations

import copy
import html
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reports.diff import diff_runs
from reports.diff_cases import behaviour_kind, case_key
from reports.diff_html import render_html
from reports.diff_markdown import render_markdown
from reports.records import CaseRecorder, merge_records
from reports.run_meta import write_meta

ROOT = Path(__file__).resolve().parents[1]
EVIL = "<script>window.__pwned=1</script>"


def rec(case_id: str, **over: Any) -> dict:
    base: dict[str, Any] = {
        "test": "suites/test_forward.py::test_forward[HuberLoss-float32-cpu-functional-mean]",
        "kind": "forward",
        "spec": "HuberLoss",
        "loss": "HuberLoss",
        "api": "functional",
        "device": "cpu",
        "dtype": "float32",
        "reduction": "mean",
        "kwargs": {"reduction": "mean"},
        "regime": "well",
        "features": [],
        "case_id": case_id,
        "verdict": "pass",
        "outcome": "finite",
        "rule": None,
        "quantity": "output",
        "message": "",
        "max_ulp": 0.5,
        "known_id": None,
        "reproducer": f"import torch  # case {case_id}\n",
    }
    base.update(over)
    return base


SIG_A = {
    "torch.nn.HuberLoss": [
        {"name": "reduction", "kind": "POSITIONAL_OR_KEYWORD", "default": "'mean'"},
        {"name": "delta", "kind": "POSITIONAL_OR_KEYWORD", "default": "1.0"},
    ],
    "torch.nn.NewLoss": None,
}
SIG_B = {
    "torch.nn.HuberLoss": [
        {"name": "reduction", "kind": "POSITIONAL_OR_KEYWORD", "default": "'sum'"},
        {"name": "delta", "kind": "POSITIONAL_OR_KEYWORD", "default": "1.0"},
        {"name": "eps", "kind": "KEYWORD_ONLY", "default": "0.0"},
    ],
    "torch.nn.NewLoss": [],
}


def meta(version: str, signatures: dict, **over: Any) -> dict:
    m: dict[str, Any] = {
        "environment": {
            "torch": {"version": version},
            "hypothesis": "6.170.17",
            "numpy": "2.1.0",
            "python": "3.11.7",
        },
        "profile": "ci",
        "derandomize": True,
        "seed": "derandomized",
        "max_examples": 40,
        "suite_digest": "0123456789abcdef",
        "selection": {"specs": ["HuberLoss"], "dtypes": ["float32"], "devices": ["cpu"]},
        "api_signatures": signatures,
        "registry": [
            {"id": "huber-fixed", "applies": True, "torch": ">=2.0", "reason": "r", "issue": ""},
            {"id": "huber-ranged", "applies": over.pop("ranged_applies", True), "torch": "<2.14"},
            {"id": "huber-b-only", "applies": True, "torch": ">=2.14", "reason": "new in B"},
        ],
    }
    m.update(over)
    return m


def write_run(run: Path, records: list[dict], m: dict) -> Path:
    with CaseRecorder(run, "gw0") as r:
        for x in records:
            r.record(x)
    write_meta(run, m)
    merge_records(run)
    return run


def runs(tmp_path: Path, **meta_b: Any) -> tuple[Path, Path]:
    same = rec("same", max_ulp=1.0)
    a = [
        same,
        rec("newfail"),
        rec("fixed", verdict="known", known_id="huber-fixed", max_ulp=None),
        rec("ranged", verdict="known", known_id="huber-ranged", max_ulp=None),
        rec("nan", max_ulp=0.0),
        rec("exc", verdict="pass", outcome="raises RuntimeError", kind="invalid", max_ulp=None),
        rec("tie", quantity="grad[input]", outcome="finite", max_ulp=0.0),
        rec("acc-up", dtype="float64", max_ulp=1.0),
        rec("acc-small", dtype="float16", max_ulp=3.0),
        rec("excused-b", spec="L1Loss"),
        {
            **rec("absent"),
            "verdict": "absent",
            "quantity": "eps",
            "case_id": None,
            "reproducer": "",
        },
        rec("balanced"),
    ]
    b = [
        same,
        rec(
            "newfail",
            verdict="fail",
            rule="3",
            max_ulp=40.0,
            message=f"rule 3 {EVIL}",
            reproducer=f"print('{EVIL}')\n",
            kwargs={"delta": EVIL},
        ),
        rec("unseen", verdict="fail", rule="2", outcome="nan", max_ulp=None),
        rec("fixed", verdict="pass", known_id="huber-fixed", max_ulp=0.0),
        rec("ranged", verdict="pass", max_ulp=0.0),
        rec("nan", verdict="known", known_id="huber-b-only", outcome="nan", max_ulp=None),
        rec("exc", verdict="pass", outcome="raises ValueError", kind="invalid", max_ulp=None),
        rec(
            "tie",
            quantity="grad[input]",
            verdict="known",
            known_id="huber-b-only",
            outcome="finite (other side at tie)",
            max_ulp=None,
        ),
        rec("acc-up", dtype="float64", max_ulp=5.0),
        rec("acc-small", dtype="float16", max_ulp=4.0),
        rec("excused-b", spec="L1Loss", verdict="known", known_id="huber-b-only", max_ulp=None),
        rec(
            "balanced",
            verdict="absent",
            outcome="absent",
            max_ulp=None,
            message="torch 2.14.1 has no LinearCrossEntropyOptions(acc_policy='balanced')",
        ),
    ]
    run_a = write_run(tmp_path / "a", a, meta("2.13.0+cpu", SIG_A))
    run_b = write_run(
        tmp_path / "b", b, meta("2.14.1+cu130", SIG_B, ranged_applies=False, **meta_b)
    )
    return run_a, run_b


def test_every_finding_is_reported_and_the_controls_are_not(tmp_path: Path) -> None:
    d = diff_runs(*runs(tmp_path))
    c = d.cases
    assert d.torch_a == "2.13.0+cpu" and d.torch_b == "2.14.1+cu130"
    assert d.mismatches == []
    assert c.n_a == 12 and c.n_b == 12 and c.matched == 11
    # new failures: the case A passed, and the case A never drew
    new = {(g.fields["rule"], g.fields["A"]): g.count for g in c.new_failures.values()}
    assert new == {("3", "pass"): 1, ("2", "not drawn in A"): 1}
    assert d.has_new_failures and c.new_failure_count == 2
    # fixes: an entry that matched B's cases and excused none; one retired by its range
    retire = {r.id: r.status for r in d.retire}
    assert set(retire) == {"huber-fixed", "huber-ranged"}
    assert "fixed in B" in retire["huber-fixed"]
    assert "retired by its range" in retire["huber-ranged"]
    assert {g.fields["A excused by"] for g in c.fixed.values()} == {"huber-fixed", "huber-ranged"}
    assert [r.id for r in d.needed] == ["huber-b-only"]
    # behaviour: NaN where there was a number, a different exception, the tie's other side
    kinds = {g.fields["change"]: (g.fields["A"], g.fields["B"]) for g in c.behaviour.values()}
    assert kinds == {
        "NaN/inf where there was a number": ("finite", "nan"),
        "a different exception": ("raises RuntimeError", "raises ValueError"),
        "a changed subgradient at a tie": ("finite", "finite (other side at tie)"),
    }
    # accuracy: 1 -> 5 ULP (float64) regressed; 3 -> 4 (float16) and 0.5 -> 40 fail do not
    # count twice: the failing case is judged in both runs and is its own cell
    regressed = {k for k, a in c.accuracy.items() if a.regressed}
    assert ("HuberLoss", "float64", "cpu", "output") in regressed
    assert ("HuberLoss", "float16", "cpu", "output") not in regressed
    # signatures: a default change, a new parameter, a loss that appeared
    sig = {(s.name, s.what, s.parameter): (s.a, s.b) for s in d.signatures}
    assert sig[("torch.nn.HuberLoss", "default", "reduction")] == ("'mean'", "'sum'")
    assert sig[("torch.nn.HuberLoss", "parameter added", "eps")] == ("", "0.0")
    assert ("torch.nn.NewLoss", "added", "") in sig
    # presence: the option absent in A is present in B; the option value B lacks is a
    # presence change, not a behaviour change
    assert c.absent_a - c.absent_b == {("HuberLoss", "functional", "eps")}
    assert c.absent_b - c.absent_a == {
        ("HuberLoss", "functional", "LinearCrossEntropyOptions(acc_policy='balanced')")
    }


@pytest.mark.parametrize(
    ("a", "b", "regressed"),
    [
        (1.0, 5.0, True),
        (0.0, 2.0, True),
        (0.0, 1.5, False),
        (3.0, 4.0, False),
        (10.0, 21.0, True),
        (10.0, 20.0, False),
        (2.0, float("inf"), True),
    ],
)
def test_accuracy_threshold(tmp_path: Path, a: float, b: float, regressed: bool) -> None:
    run_a = write_run(tmp_path / "a", [rec("x", max_ulp=a)], meta("1", {}))
    run_b = write_run(tmp_path / "b", [rec("x", max_ulp=b)], meta("2", {}))
    acc = diff_runs(run_a, run_b).cases.accuracy[("HuberLoss", "float32", "cpu", "output")]
    assert acc.regressed is regressed
    assert acc.improved is False


def test_identical_runs_find_nothing(tmp_path: Path) -> None:
    run_a, _ = runs(tmp_path)
    d = diff_runs(run_a, run_a)
    c = d.cases
    assert c.matched == c.n_b - 1  # the absent record has no case id
    assert not (c.new_failures or c.behaviour or c.fixed or c.newly_excused)
    assert not (d.retire or d.needed or d.signatures)
    assert not any(a.regressed or a.improved for a in c.accuracy.values())


def test_mismatched_draw_facts_are_listed(tmp_path: Path) -> None:
    d = diff_runs(*runs(tmp_path, suite_digest="fedcba9876543210", derandomize=False))
    labels = {m.label for m in d.mismatches}
    assert {"suite digest", "derandomized", "run B was not derandomized"} <= labels
    assert "may not have drawn the same inputs" in render_markdown(d)


def test_records_without_case_id_match_by_reproducer() -> None:
    r = rec("x")
    del r["case_id"]
    assert case_key(r) == case_key(copy.deepcopy(r))
    assert case_key({**r, "reproducer": "other"}) != case_key(r)
    assert case_key({**r, "reproducer": ""}) is None


def test_behaviour_kinds() -> None:
    assert behaviour_kind("finite", "inf") == "NaN/inf where there was a number"
    assert behaviour_kind("nan", "finite") == "a number where there was NaN/inf"
    assert behaviour_kind("finite", "raises RuntimeError") == "now raises"
    assert behaviour_kind("raises RuntimeError", "finite") == "no longer raises"
    assert behaviour_kind("finite (other side at tie)", "finite") == (
        "a changed subgradient at a tie"
    )


def test_renderings_escape_case_strings(tmp_path: Path) -> None:
    d = diff_runs(*runs(tmp_path))
    page = render_html(d)
    assert "<script" not in page.lower()
    assert html.escape(EVIL) in page
    text = render_markdown(d)
    # outside code fences (where Markdown shows text verbatim) nothing is raw HTML
    outside = re.sub(r"(?ms)^(`{3,})python\n.*?^\1$", "", text)
    assert "<script" not in outside.lower()
    assert "&lt;script&gt;" in outside
    assert "print('<script>" in text  # the reproducer itself, verbatim in its fence
    # pipes in a value cannot add a column to a Markdown table
    for line in text.splitlines():
        if line.startswith("| ") and "HuberLoss" in line:
            assert line.count(" | ") == line.replace("\\|", "").count(" | ")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reports", "diff", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_exit_status_and_outputs(tmp_path: Path) -> None:
    run_a, run_b = runs(tmp_path)
    out_html, out_md = tmp_path / "d.html", tmp_path / "d.md"
    p = _cli(str(run_a), str(run_b), "-o", str(out_html), "--markdown", str(out_md))
    assert p.returncode == 1, p.stderr
    assert "## New failures (2 cases in 2 groups)" in p.stdout
    assert out_md.read_text(encoding="utf-8") == p.stdout
    assert "New failures" in out_html.read_text(encoding="utf-8")
    assert "2 new failures in torch 2.14.1+cu130" in p.stderr
    # no new failures (B compared with itself): exit 0
    assert _cli(str(run_b), str(run_b)).returncode == 0
    # a missing run folder is a usage error
    p = _cli(str(run_a), str(tmp_path / "missing"))
    assert p.returncode == 2 and "does not exist" in p.stderr
