"""A synthetic run folder of N case records, fast to write, realistic to report on.

26 specs x 4 dtypes x 2 devices, several test kinds, many kwargs values, about 5 % failures
spread over many (rule, quantity) pairs with reproducers up to 18 KB, known ids, NaN and
inf ULP errors. Lines are built from string templates (``json.dumps`` per record would
dominate); :func:`write_synthetic_run` returns the counts a report must show.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from reports.run_meta import write_meta

SPEC_BASES = (
    "L1Loss",
    "MSELoss",
    "HuberLoss",
    "SmoothL1Loss",
    "NLLLoss",
    "CrossEntropyLoss[class_index]",
    "CrossEntropyLoss[prob_target]",
    "BCELoss",
    "BCEWithLogitsLoss",
    "KLDivLoss",
    "PoissonNLLLoss",
    "GaussianNLLLoss",
    "GaussianNLLLoss[scalar_var]",
    "CTCLoss",
    "CTCLoss[log_softmax]",
    "HingeEmbeddingLoss",
    "CosineEmbeddingLoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "LinearCrossEntropyLoss[class_index]",
    "LinearCrossEntropyLoss[prob_target]",
)
DTYPES = ("float16", "bfloat16", "float32", "float64")
DEVICES = ("cpu", "cuda")
KINDS = ("forward", "gradient", "special", "api", "golden")
QUANTITIES = ("output", "grad_input", "grad_target", "grad_weight")
RULES = ("1", "2", "3", "4")
APIS = ("functional", "module")
REDUCTIONS = ("none", "mean", "sum")
FEATURES = ('["tie"]', '["subnormal","zero"]', "[]", '["broadcast","zero_dim"]', '["inf"]')
OUTCOMES = ('"finite"', '"nan"', '"inf"', '"raises RuntimeError"')
KNOWN_IDS = tuple(f"known-entry-{i}" for i in range(12))
FAIL_PER_MILLE = 50


def _reproducer(rng: random.Random, spec: str) -> str:
    """A reproducer of 0.3 to 18 KB (a few long ones, most short)."""
    size = rng.choice((300, 600, 1200, 2500, 5000, 9000, 18_000))
    head = f"import torch\n# {spec}\nx = torch.tensor([\n"
    body_line = "    1.0000001, -2.5e-08, 3.4028235e38, 0.0, -0.0, 6.1e-05,\n"
    n = max(1, (size - len(head) - 40) // len(body_line))
    return head + body_line * n + "])\nprint(torch.nn.functional.l1_loss(x, x))\n"


def write_synthetic_run(run_dir: Path, n: int, seed: int = 0) -> dict[str, Any]:
    """Write ``run_dir/cases.jsonl`` (n records) and ``meta.json``; return expected counts.

    Returns ``{"n", "specs", "fail": {spec: count}, "fail_total", "known": {id: count},
    "groups": {spec: {(rule, quantity, dtype, device, api): count}}}``.
    """
    rng = random.Random(seed)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    specs = SPEC_BASES
    repro_pool = [json.dumps(_reproducer(rng, s)) for s in specs for _ in range(3)]
    # per-spec failure "shapes": a spec fails in a few (rule, quantity) pairs
    fail_kinds = {
        s: [(rng.choice(RULES), rng.choice(QUANTITIES)) for _ in range(rng.randint(2, 6))]
        for s in specs
    }
    fail: Counter[str] = Counter()
    known: Counter[str] = Counter()
    groups: dict[str, Counter[tuple[str, str, str, str, str]]] = {s: Counter() for s in specs}
    shared = '"variant":"","shapes":{"input":[3,4],"target":[3,4]},"max_abs":1e-7,"max_rel":1e-7'
    lines: list[str] = []
    with open(run_dir / "cases.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for i in range(n):
            r = rng.random()
            spec = specs[i % len(specs)]
            dtype = DTYPES[(i // len(specs)) % 4]
            device = DEVICES[(i // (len(specs) * 4)) % 2]
            api = APIS[i % 2 ^ (i // 7) % 2]
            kind = KINDS[(i // 3) % len(KINDS)]
            reduction = REDUCTIONS[i % 3]
            ulp: str = f"{(i % 29) / 4}"
            rule = "null"
            message = ""
            known_id = "null"
            reproducer = '""'
            quantity = "output" if kind != "gradient" else "grad_input"
            if r < FAIL_PER_MILLE / 1000:
                verdict = "fail"
                rl, quantity = rng.choice(fail_kinds[spec])
                rule = f'"{rl}"'
                message = f"rule {rl}: |actual - expected| = {rng.random():.3g} > tol"
                reproducer = rng.choice(repro_pool)
                ulp = rng.choice(('"inf"', '"nan"', "1e30", "517.5", "12.0", "null"))
                fail[spec] += 1
                groups[spec][(rl, quantity, dtype, device, api)] += 1
            elif r < 0.11:
                verdict = "known"
                kid = KNOWN_IDS[(i // 5) % len(KNOWN_IDS)]
                known_id = f'"{kid}"'
                known[kid] += 1
                ulp = '"nan"' if i % 2 else "3.0e5"
            elif r < 0.13:
                verdict = "unsupported"
                ulp = "null"
            elif r < 0.131:
                verdict = "xpass"
            else:
                verdict = "pass"
            case_id = f"{(i * 2654435761 + seed) & 0xFFFFFFFFFFFFFFFF:016x}"
            lines.append(
                f'{{"test":"suites/test_{kind}.py::test_{kind}[{spec}-{dtype}-{device}]",'
                f'"case_id":"{case_id}","kind":"{kind}","spec":"{spec}","loss":"{spec}",'
                f'"api":"{api}","device":"{device}","dtype":"{dtype}",'
                f'"reduction":"{reduction}","kwargs":{{"reduction":"{reduction}",'
                f'"margin":{(i % 1013) / 8!r},"p":{1 + i % 3},"eps":1e-{6 + i % 4}}},'
                f'"regime":"{("well", "tie", "edge", "bulk")[i % 4]}",'
                f'"features":{FEATURES[i % len(FEATURES)]},"verdict":"{verdict}",'
                f'"rule":{rule},"quantity":"{quantity}","message":"{message}",'
                f'"max_ulp":{ulp},"known_id":{known_id},'
                f'"outcome":{OUTCOMES[i % len(OUTCOMES)]},"reproducer":{reproducer},{shared}}}\n'
            )
            if len(lines) >= 10_000:
                fh.write("".join(lines))
                lines.clear()
        fh.write("".join(lines))
    write_meta(
        run_dir,
        {
            "environment": {"torch": {"version": "2.13.0+synthetic"}, "python": "3.11"},
            "profile": "synthetic",
            "seed": seed,
            "stale_known": ["stale-entry"],
            "rules": [{"number": r, "text": f"rule {r}"} for r in RULES],
            "tolerances": [{"dtype": "*", "device": "*", "ulp": 1.0}],
            "registry": [
                {"id": k, "reason": f"reason of {k}", "evidence": "measured", "issue": ""}
                for k in KNOWN_IDS
            ],
        },
    )
    return {
        "n": n,
        "specs": list(specs),
        "fail": dict(fail),
        "fail_total": sum(fail.values()),
        "known": dict(known),
        "groups": {s: dict(g) for s, g in groups.items()},
    }
