"""The pytest plugin that pins torch, parametrizes the suites and records every case.

It is loaded from the root conftest. Recording is on when the run collects ``suites/`` (or
``--results-dir`` is given): each xdist worker appends JSON lines to
``<results-dir>/records/<worker>.jsonl``; the controller writes ``meta.json`` (torch build,
devices, numpy, hypothesis profile and seed, the project's git revision, the selection, the
rules, the budgets and the stale registry entries), merges the records into
``cases.jsonl`` and renders ``report.html``.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
from pathlib import Path

import pytest

from suites.failed_tests import FailedTests

ROOT = Path(__file__).resolve().parent.parent
SUITES = ROOT / "suites"


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def _worker_id(config) -> str:
    return config.workerinput["workerid"] if _is_worker(config) else "main"


def _records_wanted(config) -> bool:
    if config.getoption("--results-dir"):
        return True
    args = config.args or []
    for a in args:
        p = Path(a.split("::")[0])
        p = p if p.is_absolute() else Path(config.invocation_params.dir) / p
        try:
            p.resolve().relative_to(SUITES)
            return True
        except ValueError:
            continue
    return False


def results_dir(config) -> Path:
    given = config.getoption("--results-dir")
    if given:
        return Path(given).resolve()
    import torch

    return ROOT / "results" / f"torch-{torch.__version__}"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "special: documented special cases of one loss")
    config._conformance_recording = _records_wanted(config)
    if not config._conformance_recording:
        return
    import torch

    torch.set_num_threads(1)  # reductions then run in one order: a run is bit-reproducible
    # on accelerators, prefer deterministic kernels (module == functional bit for bit);
    # warn_only: an op without a deterministic kernel still runs
    torch.use_deterministic_algorithms(True, warn_only=True)
    config._conformance_selection = _selection(config)
    run = results_dir(config)
    config._conformance_run = run
    if not _is_worker(config):
        if run.exists():
            shutil.rmtree(run)
        (run / "records").mkdir(parents=True)
        config._conformance_started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        # the files as they were when the run started: what drew and judged its cases
        config._conformance_digest = suite_digest()


def _selection(config):
    """The run's selection, computed once; a bad option is a usage error, not a traceback."""
    cached = getattr(config, "_conformance_selection", None)
    if cached is not None:
        return cached
    from suites.selection import selection_from

    try:
        config._conformance_selection = selection_from(config)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    return config._conformance_selection


@pytest.fixture(scope="session")
def selection(pytestconfig):
    return _selection(pytestconfig)


@pytest.fixture(scope="session")
def recorder(pytestconfig):
    if not getattr(pytestconfig, "_conformance_recording", False):
        yield None
        return
    from reports.records import CaseRecorder

    rec = CaseRecorder(pytestconfig._conformance_run, _worker_id(pytestconfig))
    yield rec
    rec.close()


def pytest_generate_tests(metafunc) -> None:
    """Parametrize ``combo`` (spec, dtype, device, api, reduction) and ``spec_combo``
    (spec, dtype, device) over the selection; ids read ``HuberLoss-float16-cpu-module-mean``."""
    names = metafunc.fixturenames
    if "combo" not in names and "spec_combo" not in names:
        return
    sel = _selection(metafunc.config)
    only = getattr(metafunc.function, "spec_filter", None)
    specs = [s for s in sel.specs if only is None or only(s)]
    if "combo" in names:
        params = [
            (s, dt, dev, api, red)
            for s in specs
            for dt in sel.dtypes
            for dev in sel.devices
            for api in sel.apis
            for red in s.reductions
        ]
        ids = ["-".join((p[0].name, *p[1:])) for p in params]
        metafunc.parametrize("combo", params, ids=ids)
    else:
        params = [(s, dt, dev) for s in specs for dt in sel.dtypes for dev in sel.devices]
        ids = ["-".join((p[0].name, *p[1:])) for p in params]
        metafunc.parametrize("spec_combo", params, ids=ids)


def _coverage_gaps(run: Path, selection) -> dict[str, list[str]]:
    """Per selected spec, the declared options, optional tensors, legacy arguments and
    reductions that no recorded case passed explicitly, and the declared edge-case
    features (``LossSpec.coverage``) that no recorded case had (a run should leave none)."""
    from reports.records import iter_records

    seen: dict[str, set[str]] = {}
    for rec in iter_records(run):
        names = seen.setdefault(rec.get("spec", "?"), set())
        kwargs = rec.get("kwargs") or {}
        names.update(kwargs)
        if "reduction" in kwargs:
            names.add(f"reduction={kwargs['reduction']}")
        names.update(f"feature:{f}" for f in rec.get("features") or ())
    gaps = {}
    for spec in selection.specs:
        wanted = {o.name for o in spec.options}
        wanted |= {a.name for a in spec.args if a.optional}
        wanted |= {f"reduction={r}" for r in spec.reductions}
        if spec.legacy_reduction_args:
            wanted |= {"size_average", "reduce"}
        wanted |= {f"feature:{f}" for f in spec.coverage}
        missing = sorted(wanted - seen.get(spec.name, set()))
        if missing:
            gaps[spec.name] = missing
    return gaps


def _registry_use(run: Path, meta_registry: list[dict]) -> tuple[list[str], list[str]]:
    """(stale, fix candidates): applicable entries that matched no case at all, and
    entries that matched cases of which none failed (torch may have fixed them)."""
    from reports.records import iter_records

    seen: set[str] = set()
    failed: set[str] = set()
    for rec in iter_records(run):
        for i in (rec.get("known_id") or "").split(","):
            if i:
                seen.add(i)
                if rec.get("verdict") == "known":
                    failed.add(i)
    applicable = [e["id"] for e in meta_registry if e["applies"]]
    stale = [i for i in applicable if i not in seen]
    fixed = [i for i in applicable if i in seen and i not in failed]
    return stale, fixed


_FAILED_TESTS = FailedTests()


def pytest_runtest_logreport(report) -> None:
    """Collect failed tests (the controller gets every worker's reports)."""
    _FAILED_TESTS.add(report)


def _record_failed_tests(run: Path, spec_names: list[str]) -> None:
    """A failed test that left no failing case record is recorded as a failure (rule
    ``crash``), so the report and the release diff see it (``suites.failed_tests``)."""
    if not _FAILED_TESTS.failed:
        return
    from reports.records import CaseRecorder, iter_records, merge_records

    failing = {r.get("test") for r in iter_records(run) if r.get("verdict") == "fail"}
    extra = _FAILED_TESTS.records(failing, spec_names)
    if extra:
        with CaseRecorder(run, "tests") as rec:
            for r in extra:
                rec.record(r)
        merge_records(run)


def pytest_sessionfinish(session, exitstatus) -> None:
    config = session.config
    if _is_worker(config) or not getattr(config, "_conformance_recording", False):
        return
    import torch

    from reports.records import merge_records
    from reports.run_meta import collect_environment, write_meta
    from suites.compare import RULES
    from suites.known import load_registry
    from suites.tolerances import load_budgets

    run: Path = config._conformance_run
    sel = getattr(config, "_conformance_selection", None)
    if sel is None:
        return
    merge_records(run)
    _record_failed_tests(run, [s.name for s in sel.specs])
    from hypothesis import settings

    current = settings()
    registry = [
        {
            "id": e.id,
            "kind": e.kind,
            "losses": list(e.losses),
            "torch": str(e.torch),
            "reason": e.reason,
            "evidence": e.evidence,
            "issue": e.issue,
            "applies": any(e.applies_to(s.name, torch.__version__) for s in sel.specs),
        }
        for e in load_registry()
    ]
    meta = {"environment": collect_environment()}
    meta.update(
        {
            "started": getattr(config, "_conformance_started", None),
            "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "exitstatus": int(exitstatus),
            "profile": os.environ.get("HYPOTHESIS_PROFILE")
            or config.getoption("hypothesis_profile", None)
            or ("ci" if os.environ.get("CI", "").lower() == "true" else "dev"),
            "seed": "derandomized"
            if current.derandomize
            else config.getoption("hypothesis_seed", None),
            "max_examples": current.max_examples,
            "derandomize": bool(current.derandomize),
            "suite_digest": getattr(config, "_conformance_digest", None) or suite_digest(),
            "api_signatures": _signatures(sel.specs),
            "selection": {
                "specs": [s.name for s in sel.specs],
                "dtypes": list(sel.dtypes),
                "devices": list(sel.devices),
                "apis": list(sel.apis),
            },
            "rules": [{"number": n, "text": t} for n, t in RULES],
            "tolerances": [
                {
                    "losses": ", ".join(b.losses),
                    "quantity": b.quantity,
                    "dtypes": ", ".join(b.dtypes),
                    "devices": ", ".join(b.devices),
                    "ulp": b.ulp,
                    "terms_u": b.terms_u,
                    "floor_subnormals": b.floor_subnormals,
                    "derivation": b.derivation,
                }
                for b in load_budgets()
            ],
            "registry": registry,
        }
    )
    meta["stale_known"], meta["fix_candidates"] = _registry_use(run, registry)
    meta["coverage_gaps"] = _coverage_gaps(run, sel)
    write_meta(run, meta)
    config._conformance_summary = _render(run)
    config._conformance_totals = _totals(run)
    config._conformance_stale = meta["stale_known"]
    config._conformance_fixed = meta["fix_candidates"]
    config._conformance_gaps = meta["coverage_gaps"]


def suite_digest() -> str:
    """SHA-256 (16 hex digits) of every file that decides what a run draws and how it
    judges: ``oracle/``, ``suites/`` and ``fixtures/`` (Python, TOML, golden files) and the
    root conftest. Two runs with the same digest, profile and hypothesis version draw the
    same inputs; ``python -m reports diff`` checks it."""
    import hashlib

    h = hashlib.sha256()
    files = [ROOT / "conftest.py"]
    for folder in ("oracle", "suites", "fixtures"):
        files += [
            p
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        ]
    for path in sorted(f for f in files if f.is_file()):
        h.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _signatures(specs) -> dict | str:
    from suites.signatures import loss_signatures

    try:
        return loss_signatures(specs)
    except Exception as exc:  # a torch whose nn namespace cannot be read: say so
        return f"not recorded: {type(exc).__name__}: {exc}"


def _render(run: Path) -> str:
    """Render ``report.html``; a renderer error is reported, never loses the run's records."""
    try:
        from reports.html_report import render_report

        return str(render_report(run))
    except Exception as exc:
        return (
            f"not rendered ({type(exc).__name__}: {exc}); "
            f"retry with: python -m reports render {run}"
        )


def _totals(run: Path) -> dict[str, int]:
    from reports.records import iter_records

    out: dict[str, int] = {}
    for rec in iter_records(run):
        out[rec.get("verdict", "?")] = out.get(rec.get("verdict", "?"), 0) + 1
    return out


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    path = getattr(config, "_conformance_summary", None)
    if path is None:
        return
    tr = terminalreporter
    tr.section("torch-loss-conformance")
    tr.write_line(f"results:  {config._conformance_run}")
    tr.write_line(f"report:   {path}")
    totals = getattr(config, "_conformance_totals", {})
    tr.write_line("cases:    " + ", ".join(f"{v} {k}" for k, v in sorted(totals.items())))
    stale = getattr(config, "_conformance_stale", [])
    if stale:
        tr.write_line(f"stale known-discrepancy entries (matched no case): {', '.join(stale)}")
    gaps = getattr(config, "_conformance_gaps", {})
    if gaps:
        for spec, missing in gaps.items():
            tr.write_line(f"never exercised: {spec}: {', '.join(missing)}")
    else:
        tr.write_line("coverage: every declared option, tensor and reduction was exercised")
    fixed = getattr(config, "_conformance_fixed", [])
    if fixed:
        tr.write_line(f"entries that matched cases but none failed (fixed?): {', '.join(fixed)}")
