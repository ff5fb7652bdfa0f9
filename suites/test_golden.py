"""torch on the hand-derived golden cases (fixtures/golden/), judged by the golden values
themselves through the acceptance rules: independent of the oracle's code."""

from __future__ import annotations

import pytest
import torch

from suites.case import explicit_case
from suites.compare import compare_values
from suites.golden import load_golden
from suites.known import case_namespace, classify, load_registry
from suites.record import case_record, outcome_class
from suites.specs import ALL_SPECS
from suites.targets import TorchTarget
from suites.tolerances import budget_for

CASES = load_golden()
SPEC_OF: dict = {}
for _s in ALL_SPECS:  # the plain variant (registered first) judges a functional's cases
    SPEC_OF.setdefault(_s.functional, _s)


@pytest.mark.parametrize("golden", CASES, ids=lambda c: c.name)
def test_torch_matches_golden(golden, selection, recorder, request):
    spec = SPEC_OF[golden.function]
    if spec not in selection.specs:
        pytest.skip(f"{spec.name} not selected")
    problems = []
    for device in selection.devices:
        for dtype in [d for d in ("float64", "float32") if d in selection.dtypes]:
            for api in selection.apis:
                if "weight" in golden.tensors and api == "module":
                    continue
                case = explicit_case(spec, dtype, api, golden.tensors, golden.options, "golden")
                out = TorchTarget(device).run(case)
                if out.exception is not None:
                    problems.append(f"{dtype} {api}: torch raised {out.error}")
                    continue
                b = budget_for(spec.name, "output", dtype, device)
                cmp = compare_values("output", golden.expected, out.value, out.dtype, dtype, b)
                ns = case_namespace(case, device, torch.__version__)
                ns["quantity"] = "output"
                verdict, ids = classify(
                    load_registry(), ns, [] if cmp.ok else [("output", cmp.rule)]
                )
                if recorder is not None:
                    case.derived.add(golden.name)
                    recorder.record(
                        case_record(
                            request.node.nodeid,
                            "golden",
                            case,
                            device,
                            verdict,
                            "output",
                            cmp,
                            ids,
                            message=cmp.message or golden.derivation,
                            outcome=outcome_class(out.value, out.exception),
                        )
                    )
                if verdict == "fail":
                    problems.append(f"{device} {dtype} {api}: {cmp.message} ({golden.derivation})")
    assert not problems, "\n".join(problems)
