"""The oracle is independent of the system under test: importing it never imports torch."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import oracle

ROOT = Path(__file__).resolve().parents[1]


def oracle_modules() -> list[str]:
    return ["oracle"] + [f"oracle.{m.name}" for m in pkgutil.iter_modules(oracle.__path__)]


def test_every_oracle_module_is_listed():
    mods = oracle_modules()
    for name in ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss", "gradients", "_common"):
        assert f"oracle.{name}" in mods


def test_importing_the_oracle_does_not_import_torch():
    code = (
        "import importlib, sys\n"
        f"for m in {oracle_modules()!r}: importlib.import_module(m)\n"
        "import numpy as np, oracle\n"
        "oracle.huber_loss(np.ones(2), np.zeros(2))\n"
        "oracle.gradients.l1_loss(np.ones(2), np.zeros(2))\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_no_oracle_source_imports_torch():
    """Statically too: no import statement of torch anywhere, even in a function body."""
    for path in Path(oracle.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "torch" for n in names), (path, names)


def test_public_api():
    assert set(oracle.__all__) >= {
        "OracleInputError",
        "WORK",
        "gradients",
        "l1_loss",
        "mse_loss",
        "huber_loss",
        "smooth_l1_loss",
    }
    for name in ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss"):
        assert callable(getattr(oracle.gradients, name))
        assert "Documentation: torch 2.13" in getattr(oracle, name).__doc__
        assert "Documentation: torch 2.13" in getattr(oracle.gradients, name).__doc__
