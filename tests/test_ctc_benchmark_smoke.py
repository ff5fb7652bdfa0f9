"""Smoke run of ``benchmarks/ctc_benchmark.py`` (``--quick --repeat 1``) in-process: every row
runs and the per-sample losses of torch (float64) and torch's Python reference agree with the
oracle's. The reference row is skipped (its note says why) when expecttest is missing."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytest.importorskip("torch")

from benchmarks.ctc_benchmark import main


def test_quick_benchmark_losses_agree(capsys):
    result = main(["--quick", "--repeat", "1"])
    out = capsys.readouterr().out
    assert "| implementation |" in out and "T*N*(2S+1)*16" in out
    rows = {row.name: row for row in result["rows"]}
    oracle = result["rows"][0].losses
    assert oracle.shape == (32,) and np.all(np.isfinite(oracle))
    # float64: a loss of a few hundred, computed in log space by torch: 1e-12 relative
    f64 = rows["torch native CPU, float64"].losses
    np.testing.assert_allclose(f64, oracle, rtol=1e-12)
    f32 = rows["torch native CPU, float32"].losses
    np.testing.assert_allclose(f32, oracle, rtol=1e-5)
    ref = rows["torch ctcloss_reference (Python)"]
    if importlib.util.find_spec("expecttest") is None:
        assert ref.forward_s is None and ref.note.startswith("skipped")
    else:
        np.testing.assert_allclose(ref.losses, oracle, rtol=1e-12)
    assert result["peaks"]["forward"] > 0 and result["peaks"]["gradient"] > 0
