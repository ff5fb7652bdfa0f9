"""Tests of reports.records and reports.run_meta."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from reports.records import CaseRecorder, iter_records, json_safe, merge_records
from reports.run_meta import collect_environment, read_meta, write_meta


def _strict_loads(line: str) -> dict:
    """json.loads that refuses NaN/Infinity tokens."""

    def refuse(token: str) -> float:
        raise ValueError(f"non-strict JSON token {token}")

    return json.loads(line, parse_constant=refuse)


def test_two_workers_then_merge(tmp_path: Path) -> None:
    with CaseRecorder(tmp_path, "gw1") as r1, CaseRecorder(tmp_path, "gw0") as r0:
        for i in range(3):
            r1.record({"worker": "gw1", "i": i})
            r0.record({"worker": "gw0", "i": i})
    # gw10 sorts after gw2 (natural order), and "main" after the gw files.
    with CaseRecorder(tmp_path, "gw10") as r10:
        r10.record({"worker": "gw10", "i": 0})
    with CaseRecorder(tmp_path, "gw2") as r2:
        r2.record({"worker": "gw2", "i": 0})

    assert (tmp_path / "records" / "gw0.jsonl").is_file()
    # Before merging, iter_records reads records/ in merge order.
    unmerged = list(iter_records(tmp_path))
    out = merge_records(tmp_path)
    assert out == tmp_path / "cases.jsonl"
    merged = list(iter_records(tmp_path))
    assert merged == unmerged
    assert [(r["worker"], r["i"]) for r in merged] == [
        ("gw0", 0),
        ("gw0", 1),
        ("gw0", 2),
        ("gw1", 0),
        ("gw1", 1),
        ("gw1", 2),
        ("gw2", 0),
        ("gw10", 0),
    ]
    # Merging again is idempotent.
    merge_records(tmp_path)
    assert list(iter_records(tmp_path)) == merged


def test_flushed_per_record_and_appends(tmp_path: Path) -> None:
    rec = CaseRecorder(tmp_path, "main")
    rec.record({"a": 1})
    # Visible on disk before close: a crash would lose nothing.
    assert (tmp_path / "records" / "main.jsonl").read_text().count("\n") == 1
    rec.close()
    with pytest.raises(ValueError):
        rec.record({"a": 2})
    with CaseRecorder(tmp_path, "main") as again:
        again.record({"a": 2})
    assert [r["a"] for r in iter_records(tmp_path)] == [1, 2]


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    with CaseRecorder(tmp_path, "gw0") as r:
        r.record({"a": 1})
    with open(tmp_path / "records" / "gw0.jsonl", "a") as fh:
        fh.write('{"a": 2, "trunc')
    merge_records(tmp_path)
    assert list(iter_records(tmp_path)) == [{"a": 1}]


def test_bad_worker_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        CaseRecorder(tmp_path, "../evil")


def test_strict_json_with_nan_inf_and_numpy(tmp_path: Path) -> None:
    with CaseRecorder(tmp_path, "main") as r:
        r.record(
            {
                "max_ulp": float("inf"),
                "max_abs": float("nan"),
                "max_rel": -math.inf,
                "np_scalar": np.float32(0.5),
                "np_nan": np.float16("nan"),
                "np_int": np.int64(7),
                "np_bool": np.bool_(True),
                "arr": np.array([1.0, np.inf, -np.inf, np.nan], dtype=np.float64),
                "shape": (3, 4),
                "kwargs": {"weight": np.arange(3, dtype=np.float32), 1: "int-key"},
                "path": tmp_path,
                "ld": np.longdouble(1.5),
                "none": None,
            }
        )
    lines = (tmp_path / "records" / "main.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert "NaN" not in lines[0] and "Infinity" not in lines[0]
    rec = _strict_loads(lines[0])
    assert rec["max_ulp"] == "inf"
    assert rec["max_abs"] == "nan"
    assert rec["max_rel"] == "-inf"
    assert rec["np_scalar"] == 0.5 and type(rec["np_scalar"]) is float
    assert rec["np_nan"] == "nan"
    assert rec["np_int"] == 7 and rec["np_bool"] is True
    assert rec["arr"] == [1.0, "inf", "-inf", "nan"]
    assert rec["shape"] == [3, 4]
    assert rec["kwargs"] == {"weight": [0.0, 1.0, 2.0], "1": "int-key"}
    assert rec["path"] == str(tmp_path)
    assert rec["ld"] == 1.5
    assert rec["none"] is None


def test_json_safe_fallback_repr() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "Thing()"

    assert json_safe({"x": Thing(), "s": {2, 1}}) == {"x": "Thing()", "s": [1, 2]}


def test_meta_round_trip(tmp_path: Path) -> None:
    meta = {"seed": 1, "profile": "ci", "b": [1, 2], "a": {"z": float("nan")}}
    path = write_meta(tmp_path, meta)
    text = path.read_text()
    assert text.index('"a"') < text.index('"b"') < text.index('"profile"')  # sorted keys
    assert '\n  "a"' in text  # indent=2
    assert read_meta(tmp_path) == {"seed": 1, "profile": "ci", "b": [1, 2], "a": {"z": "nan"}}
    assert read_meta(tmp_path / "nothing") == {}


def test_collect_environment() -> None:
    env = collect_environment()
    json.dumps(json_safe(env), allow_nan=False)
    assert env["python"].count(".") == 2
    assert env["numpy"] == np.__version__
    assert env["pytest"] and env["hypothesis"]
    # This file lives in the project's git checkout.
    assert env["git"] is None or len(env["git"]["revision"]) == 40
    torch_info = env["torch"]
    try:
        import torch
    except ImportError:
        assert torch_info is None
    else:
        assert torch_info["version"] == str(torch.__version__)
        assert torch_info["cuda_available"] == torch.cuda.is_available()
        assert len(torch_info["cuda_devices"]) == (
            torch.cuda.device_count() if torch.cuda.is_available() else 0
        )
        assert torch_info["num_threads"] >= 1


def test_collect_environment_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # makes "import torch" raise ImportError
    env = collect_environment()
    assert env["torch"] is None
    assert env["numpy"] == np.__version__
