"""Tests of reports.html_summary and the ``python -m reports`` command line."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from reports.html_summary import render_summary
from reports.records import CaseRecorder, merge_records
from reports.run_meta import write_meta

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
EVIL = "<script>alert(1)</script>"


def rec(**over: Any) -> dict:
    """A synthetic case record following the harness schema."""
    base: dict[str, Any] = {
        "test": "suites/test_forward.py::test_forward[HuberLoss-float32-cpu-functional-mean]",
        "kind": "forward",
        "spec": "HuberLoss",
        "loss": "HuberLoss",
        "variant": "",
        "api": "functional",
        "device": "cpu",
        "dtype": "float32",
        "reduction": "mean",
        "kwargs": {"delta": 0.5, "reduction": "mean"},
        "shapes": {"input": [3, 4], "target": [3, 4]},
        "regime": "well",
        "features": ["tie"],
        "verdict": "pass",
        "rule": None,
        "quantity": "output",
        "message": "",
        "max_abs": 1e-7,
        "max_rel": 1e-7,
        "max_ulp": 0.5,
        "known_id": None,
        "reproducer": "import torch\n",
    }
    base.update(over)
    return base


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


def test_render_escapes_everything(tmp_path: Path) -> None:
    out = render_summary(make_run(tmp_path))
    assert out == tmp_path / "summary.html"
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert html.escape(EVIL) in page
    # In kwargs (the coverage repr and the failure's kwargs), message, reproducer, spec,
    # known id, stale list, rules and other meta.
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8
    assert "print(&#x27;&lt;script&gt;" in page


def test_render_contents(tmp_path: Path) -> None:
    page = render_summary(make_run(tmp_path)).read_text(encoding="utf-8")
    for text in (
        "2.13.0+cpu",
        "cf30153c",
        "2.1.0",
        "4242",
        "ci",
        "abc123def (dirty)",
        "shape and dtype equal",
        "a sum of N terms",
        "old-entry",
        "mse-x",
        "HuberLoss",
        "L1Loss",
        "float64",
    ):
        assert text in page, text
    # Colours: a failing cell, an amber one (known / xpass), a green one, a grey one.
    for cls in ("st-fail", "st-known", "st-pass", "st-grey"):
        assert f'class="{cls}"' in page, cls
    # One matrix row per spec, in sorted order.
    rows = re.findall(r'<th class="spec"><a href="#spec-\d+">([^<]*)</a>', page)
    assert rows == sorted(rows) and len(rows) == 4
    assert "<pre>" in page


def test_self_contained(tmp_path: Path) -> None:
    page = render_summary(make_run(tmp_path)).read_text(encoding="utf-8")
    low = page.lower()
    assert "http://" not in low and "https://" not in low
    assert "<link" not in low and "<script" not in low and "@import" not in low
    assert "src=" not in low and "url(" not in low
    assert low.startswith("<!doctype html>") and low.rstrip().endswith("</html>")


def test_render_from_unmerged_records_and_out_path(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", merged=False)
    out = render_summary(run, tmp_path / "elsewhere" / "r.html")
    assert out.is_file() and "HuberLoss" in out.read_text(encoding="utf-8")


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
    assert proc.stdout.strip() == str(run / "summary.html")
    assert (run / "cases.jsonl").is_file()  # merged on the way
    assert (run / "summary.html").is_file()

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
    for sub in ("render", "summary"):
        proc = _cli(sub, str(tmp_path / "empty"))
        assert proc.returncode == 2 and "no records" in proc.stderr
    assert _cli().returncode == 2  # no subcommand


N_SCALE = 200_000


def _write_scale_run(run_dir: Path) -> None:
    """200,000 synthetic records: 40 specs x 4 dtypes x 2 devices, varied kwargs.

    Lines are built from a JSON template (json.dumps per record would dominate the test).
    """
    specs = [f"Loss{i:02d}" + ("[variant]" if i % 5 == 0 else "") for i in range(40)]
    dtypes = ["float16", "bfloat16", "float32", "float64"]
    verdicts = ["pass"] * 90 + ["known"] * 5 + ["fail"] * 3 + ["xpass", "unsupported"]
    reproducer = json.dumps("import torch\n" + "x = torch.tensor([1.0, 2.0, 3.0])\n" * 20)
    shared = (
        '"kind":"forward","variant":"","api":"functional","reduction":"mean",'
        '"shapes":{"input":[3,4],"target":[3,4]},"regime":"well","quantity":"output",'
        f'"max_abs":1e-7,"max_rel":1e-7,"reproducer":{reproducer}'
    )
    run_dir.mkdir(parents=True)
    with open(run_dir / "cases.jsonl", "w", encoding="utf-8") as fh:
        for i in range(N_SCALE):
            spec = specs[i % 40]
            verdict = verdicts[(i * 7) % 100]
            fail = verdict == "fail"
            rule = '"3"' if fail else "null"
            message = "rule 3: |a-e| > tol" if fail else ""
            known = f'"known-{i % 7}"' if verdict == "known" else "null"
            device = "cuda" if (i // 160) % 2 else "cpu"
            features = '["tie"]' if i % 3 else '["subnormal","zero"]'
            fh.write(
                f'{{"test":"suites/test_forward.py::test_forward[{spec}-{i}]",'
                f'"spec":"{spec}","loss":"{spec}","dtype":"{dtypes[(i // 40) % 4]}",'
                f'"device":"{device}","features":{features},'
                f'"kwargs":{{"delta":{(i % 997) / 7.0!r},"reduction":"mean",'
                f'"weight":[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]}},'
                f'"verdict":"{verdict}","rule":{rule},"message":"{message}",'
                f'"max_ulp":{(i % 13) / 2},"known_id":{known},{shared}}}\n'
            )


def test_scale_200k(tmp_path: Path) -> None:
    run = tmp_path / "big"
    _write_scale_run(run)
    t0 = time.perf_counter()
    out = render_summary(run)
    elapsed = time.perf_counter() - t0
    size = out.stat().st_size
    print(f"\n200k records: summarize+render {elapsed:.2f} s, {size / 1e6:.2f} MB")
    assert elapsed < 10.0
    assert size < 5_000_000
    page = out.read_text(encoding="utf-8")
    assert "Loss39" in page and "+977 more" in page
    assert "known-6" in page and 'class="st-fail"' in page


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
