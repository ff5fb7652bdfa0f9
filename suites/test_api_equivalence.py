"""The documented equivalences of the API, checked on torch itself and against the oracle.

- The module and the functional give the same value and gradients, bit for bit (the module
  is documented as the functional's wrapper).
- The deprecated ``size_average``/``reduce`` give the reduction the documentation maps them
  to ("specifying either of those two args will override reduction"), with the deprecation
  warning, through both APIs; the oracle judges the value.
- An option passed with its documented default equals the option omitted.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from suites.case import LossCase, loss_cases
from suites.record import case_record
from suites.road import Road
from suites.selection import for_specs
from suites.targets import TorchTarget, present_names

DEPRECATION = "size_average and reduce args will be deprecated"


def documented_legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """The docs: both default to True; reduce=False gives per-element losses and ignores
    size_average; otherwise size_average=False sums and True averages."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def _record(
    recorder,
    request,
    case: LossCase,
    device: str,
    verdict: str,
    quantity: str,
    msg: str,
    outcome: str | None = None,
):
    if recorder is not None:
        recorder.record(
            case_record(
                request.node.nodeid,
                "api",
                case,
                device,
                verdict,
                quantity,
                message=msg,
                outcome=outcome,
            )
        )


def _shared_cases(spec, dtype, reduction):
    """Cases valid for both APIs: only options and tensors the module has too."""
    module, functional = present_names(spec, "module"), present_names(spec, "functional")
    if module is None or functional is None:
        pytest.skip(f"{spec.name}: module or functional absent in this torch")
    present = module & functional
    return loss_cases(spec, dtype, "module", reduction, present)


def test_module_equals_functional(spec_combo, recorder, request):
    spec, dtype, device = spec_combo
    target = TorchTarget(device)
    grads = spec.differentiable

    @given(data=st.data())
    def run(data):
        reduction = data.draw(st.sampled_from(spec.reductions), label="reduction")
        case = data.draw(_shared_cases(spec, dtype, reduction), label="case")
        if spec.absent_values and (missing := spec.absent_values(case)):
            msg = f"torch {torch.__version__} has no {', '.join(missing)}"
            _record(recorder, request, case, device, "absent", "module==functional", msg, "absent")
            return
        wanted = tuple(g for g in grads if g in case.inputs)
        as_functional = replace(case, api="functional")
        out_m = target.run(case, grads=wanted)
        out_f = target.run(as_functional, grads=wanted)
        if out_m.unsupported:
            return
        problems = []
        if (out_m.exception is None) != (out_f.exception is None):
            problems.append(f"module raised {out_m.error}, functional raised {out_f.error}")
        elif out_m.exception is None:
            if not same(out_m.value, out_f.value):
                problems.append(f"value: module {out_m.value!r} != functional {out_f.value!r}")
            for g in wanted:
                if not same(out_m.grads.get(g), out_f.grads.get(g)):
                    problems.append(f"grad[{g}] differs between module and functional")
        msg = "; ".join(problems)
        _record(
            recorder,
            request,
            case,
            device,
            "fail" if problems else "pass",
            "module==functional",
            msg,
        )
        assert not problems, f"{spec.name} {dtype} {device}: {msg}\n{case!r}"

    run()


@for_specs(lambda spec: spec.legacy_reduction_args)
def test_legacy_reduction_arguments(spec_combo, selection, recorder, request):
    spec, dtype, device = spec_combo
    target = TorchTarget(device)
    combos = [
        (sa, rd)
        for sa, rd in itertools.product((None, True, False), repeat=2)
        if (sa, rd) != (None, None)
    ]

    @given(data=st.data())
    def run(data):
        sa, rd = data.draw(st.sampled_from(combos), label="size_average, reduce")
        api = data.draw(st.sampled_from(selection.apis), label="api")
        also = data.draw(st.sampled_from((None, "none", "mean", "sum")), label="reduction too")
        documented = documented_legacy_reduction(sa, rd)
        road = Road(
            spec, dtype, device, api, documented, recorder=recorder, test_id=request.node.nodeid
        )
        road.require_present()
        base = data.draw(road.cases(), label="case")
        options = {k: v for k, v in base.options.items() if k != "reduction"}
        legacy = dict(options)
        legacy.update({k: v for k, v in (("size_average", sa), ("reduce", rd)) if v is not None})
        if also is not None:
            legacy["reduction"] = also  # overridden by the legacy arguments, as documented
        explicit = dict(options, reduction=documented)
        case_legacy = replace(base, options=legacy, reduction=documented)
        case_explicit = replace(base, options=explicit, reduction=documented)
        got = target.run(case_legacy)
        want = target.run(case_explicit)
        if got.unsupported:
            return
        warned = any(DEPRECATION in w for w in got.warnings)
        assert warned, f"no deprecation warning for size_average={sa}, reduce={rd}: {got.warnings}"
        assert (got.exception is None) == (want.exception is None), (got.error, want.error)
        assert same(got.value, want.value), (
            f"size_average={sa}, reduce={rd} (reduction={also!r}) gave {got.value!r}; the "
            f"documented reduction {documented!r} gives {want.value!r}"
        )
        road.assert_ok(road.check_forward(case_legacy, kind="api"))

    run()


def test_explicit_default_equals_omitted(spec_combo, selection, recorder, request):
    spec, dtype, device = spec_combo
    target = TorchTarget(device)

    @given(data=st.data())
    def run(data):
        api = data.draw(st.sampled_from(selection.apis), label="api")
        road = Road(
            spec, dtype, device, api, "mean", recorder=recorder, test_id=request.node.nodeid
        )
        road.require_present()
        case = data.draw(road.cases(), label="case")
        present = road.present or frozenset()
        defaults = {o.name: o.default for o in spec.options if api in o.apis and o.name in present}
        defaults["reduction"] = "mean"
        omitted = {k: v for k, v in case.options.items() if k not in defaults}
        explicit = dict(omitted, **defaults)
        a = target.run(replace(case, options=omitted))
        b = target.run(replace(case, options=explicit))
        if a.unsupported:
            return
        ok = same(a.value, b.value) and (a.exception is None) == (b.exception is None)
        _record(
            recorder,
            request,
            replace(case, options=explicit),
            device,
            "pass" if ok else "fail",
            "default==omitted",
            "" if ok else f"{a.value!r} != {b.value!r}",
        )
        assert ok, (
            f"defaults {defaults} passed explicitly change the result: {a.value!r} != {b.value!r}"
        )

    run()
