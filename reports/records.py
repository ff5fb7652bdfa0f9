"""Per-worker JSON-lines case records and their merge.

Layout of a run folder::

    RUN_DIR/records/<worker>.jsonl   one file per pytest process ("main", "gw0", ...)
    RUN_DIR/cases.jsonl              all of them, concatenated by :func:`merge_records`
    RUN_DIR/meta.json                see :mod:`reports.run_meta`

Every line is one strict JSON object (no ``NaN``/``Infinity`` tokens): non-finite floats are
written as the strings ``"nan"``, ``"inf"`` and ``"-inf"``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

RECORDS_DIR = "records"
CASES_FILE = "cases.jsonl"

_WORKER_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def _float_safe(x: float) -> float | str:
    """Return ``x``, or its string spelling when it is not finite."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def json_safe(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON-serialisable Python values (strict JSON).

    numpy scalars and arrays become Python numbers and lists, non-finite floats become
    ``"nan"``/``"inf"``/``"-inf"``, tuples and sets become lists, mapping keys become
    strings, paths become strings, objects with ``tolist()`` (tensors) are converted
    through it, and anything else becomes its ``repr``.
    """
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return _float_safe(obj)
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, set | frozenset):
        return sorted((json_safe(v) for v in obj), key=repr)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return _float_safe(float(obj))
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        return repr(obj.item())
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, bytes):
        return repr(obj)
    tolist = getattr(obj, "tolist", None)
    if callable(tolist):
        try:
            return json_safe(tolist())
        except Exception:
            pass
    return repr(obj)


def dumps_record(rec: Mapping[str, Any]) -> str:
    """Serialise one record to a single strict-JSON line (without the newline)."""
    return json.dumps(json_safe(rec), allow_nan=False, ensure_ascii=False, separators=(",", ":"))


class CaseRecorder:
    """Appends case records of one pytest process to ``run_dir/records/<worker>.jsonl``.

    Each record is written as one line and flushed at once, so a crash of the worker loses
    nothing recorded before it. Use as a context manager or call :meth:`close`.
    """

    def __init__(self, run_dir: Path, worker: str, *, fsync: bool = False) -> None:
        """Open (append) the worker's file; ``worker`` is ``"main"`` or an xdist id."""
        if not _WORKER_RE.match(worker):
            raise ValueError(f"worker name {worker!r} is not a plain file name")
        self.run_dir = Path(run_dir)
        self.worker = worker
        self.path = self.run_dir / RECORDS_DIR / f"{worker}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._fh: IO[str] | None = open(self.path, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
        self.count = 0

    def record(self, rec: dict) -> None:
        """Append one case record (made JSON-safe) and flush it to the file."""
        if self._fh is None:
            raise ValueError(f"recorder for {self.worker!r} is closed")
        self._fh.write(dumps_record(rec) + "\n")
        self._fh.flush()
        if self._fsync:
            os.fsync(self._fh.fileno())
        self.count += 1

    def close(self) -> None:
        """Close the file; further :meth:`record` calls raise ``ValueError``."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> CaseRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _natural_key(path: Path) -> tuple:
    """Sort key so that gw2 comes before gw10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name))


def worker_files(run_dir: Path) -> list[Path]:
    """The worker record files of a run, in merge order (natural order of file names)."""
    rdir = Path(run_dir) / RECORDS_DIR
    if not rdir.is_dir():
        return []
    return sorted(rdir.glob("*.jsonl"), key=_natural_key)


def _iter_lines(path: Path) -> Iterator[str]:
    """Complete, non-empty lines of a JSONL file; a torn last line from a crash is skipped."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                # Torn final write: keep it only if it still parses.
                try:
                    json.loads(line)
                except ValueError:
                    return
            line = line.strip()
            if line:
                yield line


def merge_records(run_dir: Path) -> Path:
    """Concatenate every ``records/*.jsonl`` into ``run_dir/cases.jsonl`` and return its path.

    Order is deterministic: worker files by (natural) name, then line order. Blank lines
    and a torn last line are dropped. The file is replaced atomically.
    """
    run_dir = Path(run_dir)
    out = run_dir / CASES_FILE
    tmp = out.with_name(CASES_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as dst:
        for path in worker_files(run_dir):
            for line in _iter_lines(path):
                dst.write(line + "\n")
    os.replace(tmp, out)
    return out


def has_records(run_dir: Path) -> bool:
    """True when the run folder holds a non-empty ``cases.jsonl`` or worker file."""
    run_dir = Path(run_dir)
    cases = run_dir / CASES_FILE
    if cases.is_file() and cases.stat().st_size > 0:
        return True
    return any(p.stat().st_size > 0 for p in worker_files(run_dir))


def run_dir_error(run_dir: Path) -> str | None:
    """Why ``run_dir`` cannot be read as a run folder (missing, not a folder, no records),
    or None."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        return f"run folder {run_dir} does not exist"
    if not run_dir.is_dir():
        return f"{run_dir} is not a folder"
    if not has_records(run_dir):
        return f"run folder {run_dir} holds no records ({CASES_FILE} or records/*.jsonl)"
    return None


def iter_records(run_dir: Path) -> Iterator[dict]:
    """Yield the run's records: from ``cases.jsonl`` if merged, else from ``records/``."""
    run_dir = Path(run_dir)
    cases = run_dir / CASES_FILE
    paths = [cases] if cases.is_file() else worker_files(run_dir)
    loads = json.loads
    for path in paths:
        for line in _iter_lines(path):
            yield loads(line)
