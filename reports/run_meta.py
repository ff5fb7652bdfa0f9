"""Run metadata: ``run_dir/meta.json`` and the environment probe.

Suggested layout written by the pytest plugin::

    {"environment": collect_environment(), "profile": "ci", "seed": 1234,
     "started": "...", "finished": "...", "argv": [...],
     "stale_known": ["id", ...], "rules": [{"number": "1", "text": "..."}],
     "tolerances": [{"dtype": "float32", "device": "cpu", ...}]}

The HTML report also accepts the environment keys at the top level of the meta.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from reports.records import json_safe

META_FILE = "meta.json"


def write_meta(run_dir: Path, meta: dict) -> Path:
    """Write ``meta`` (made JSON-safe) to ``run_dir/meta.json`` with indent 2, sorted keys."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / META_FILE
    tmp = path.with_name(META_FILE + ".tmp")
    tmp.write_text(
        json.dumps(json_safe(meta), indent=2, sort_keys=True, allow_nan=False, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    tmp.replace(path)
    return path


def read_meta(run_dir: Path) -> dict:
    """Read ``run_dir/meta.json``; an empty dict when it does not exist."""
    path = Path(run_dir) / META_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _dist_version(name: str) -> str | None:
    """Installed distribution version, or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git(args: list[str], cwd: Path) -> str | None:
    """Output of a git command in ``cwd``, or None when it fails."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout


def git_revision(path: Path | None = None) -> dict | None:
    """``{"revision": sha, "dirty": bool}`` of the repo holding ``path``; None if not a checkout."""
    cwd = Path(path) if path is not None else Path(__file__).resolve().parent
    rev = _git(["rev-parse", "HEAD"], cwd)
    if rev is None:
        return None
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    return {"revision": rev.strip(), "dirty": None if status is None else bool(status.strip())}


def _torch_info() -> dict | None:
    """Facts about the importable torch build, or None when torch is not importable."""
    try:
        import torch  # lazy: torch is the system under test, not a dependency
    except Exception:
        return None

    def attempt(fn: Any) -> Any:
        try:
            return fn()
        except Exception:
            return None

    info: dict[str, Any] = {
        "version": attempt(lambda: str(torch.__version__)),
        "git_version": attempt(lambda: torch.version.git_version),
        "cuda": attempt(lambda: torch.version.cuda),
        "hip": attempt(lambda: getattr(torch.version, "hip", None)),
        "cudnn": attempt(
            lambda: torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        ),
        "cuda_available": attempt(lambda: bool(torch.cuda.is_available())),
        "num_threads": attempt(torch.get_num_threads),
        "mps_available": attempt(lambda: bool(torch.backends.mps.is_available())),
    }
    count = attempt(lambda: torch.cuda.device_count() if torch.cuda.is_available() else 0) or 0
    info["cuda_devices"] = [
        attempt(lambda i=i: torch.cuda.get_device_name(i)) for i in range(int(count))
    ]
    config = attempt(torch.__config__.show)
    if isinstance(config, str):
        lines = [ln.strip() for ln in config.splitlines() if ln.strip()]
        info["config_first_line"] = lines[0] if lines else None
        # The first line is the header "PyTorch built with:"; keep the body too.
        info["config"] = config
    else:
        info["config_first_line"] = None
        info["config"] = None
    return info


def collect_environment() -> dict:
    """Gather versions of python, platform, numpy, hypothesis, pytest, git and (if any) torch.

    Never raises for a missing torch or CUDA; absent facts are None.
    """
    try:
        import numpy

        numpy_version: str | None = numpy.__version__
    except Exception:
        numpy_version = _dist_version("numpy")
    return {
        "python": sys.version.split()[0],
        "python_full": sys.version,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "numpy": numpy_version,
        "hypothesis": _dist_version("hypothesis"),
        "pytest": _dist_version("pytest"),
        "git": git_revision(),
        "torch": _torch_info(),
    }
