"""The one road every case travels (design.md, "The flow").

case ──► oracle (expected value or OracleInputError) ──┐
     └─► torch target (value, gradients or exception) ─┴─► compare (rules) ──► registry
     ──► verdict (pass | fail | known | xpass | unsupported) ──► recorder ──► assertion

``Road`` is bound to one test combination (spec, dtype, device, api, reduction). The test
modules only draw cases and hand them to ``check_forward`` / ``check_gradients``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import oracle
from suites.case import LEGACY_ARGS, LossCase, loss_cases
from suites.compare import Comparison, compare_values, reduction_bound
from suites.dtypes import ACCUMULATION, info, overflow_threshold
from suites.known import case_namespace, classify, load_registry
from suites.reproducer import reproducer
from suites.specs import LossSpec
from suites.targets import Outcome, TorchTarget, present_names
from suites.tolerances import budget_for


@dataclass
class Result:
    """The verdict on one quantity of one case."""

    verdict: str
    quantity: str
    comparison: Comparison
    known: list[str] = field(default_factory=list)
    reproducer: str = ""


class Road:
    def __init__(
        self,
        spec: LossSpec,
        dtype: str,
        device: str,
        api: str,
        reduction: str = "*",
        *,
        target: TorchTarget | None = None,
        recorder: Any = None,
        test_id: str = "",
    ) -> None:
        self.spec, self.dtype, self.device, self.api = spec, dtype, device, api
        self.reduction = reduction
        self.target = target or TorchTarget(device)
        self.recorder = recorder
        self.test_id = test_id
        self.torch_version = torch.__version__
        self.present = present_names(spec, api)
        self.registry = load_registry()
        self.verdicts: list[str] = []
        self.unsupported_reason = ""

    # -- drawing ---------------------------------------------------------------------
    def cases(self) -> st.SearchStrategy[LossCase]:
        return loss_cases(self.spec, self.dtype, self.api, self.reduction, self.present)

    # -- the oracle ------------------------------------------------------------------
    def _oracle_args(self, case: LossCase, options: dict[str, Any]) -> tuple[list, dict]:
        kw = dict(case.keyword_tensors)
        kw.update(options)
        return case.positional, kw

    def expected(self, case: LossCase) -> np.ndarray | oracle.OracleInputError:
        pos, kw = self._oracle_args(case, case.options)
        try:
            return getattr(oracle, self.spec.oracle)(*pos, **kw)
        except oracle.OracleInputError as exc:
            return exc

    def terms(self, case: LossCase) -> np.ndarray:
        """The unreduced loss the reduction sums (for rule 3's bound)."""
        opts = {k: v for k, v in case.options.items() if k not in LEGACY_ARGS}
        opts["reduction"] = "none"
        pos, kw = self._oracle_args(case, opts)
        return getattr(oracle, self.spec.oracle)(*pos, **kw)

    def expected_gradients(self, case: LossCase, grad_output: np.ndarray | None) -> dict:
        pos, kw = self._oracle_args(case, case.options)
        return getattr(oracle.gradients, self.spec.oracle)(*pos, **kw, grad_output=grad_output)

    # -- checks ----------------------------------------------------------------------
    def check_forward(self, case: LossCase, kind: str = "forward") -> Result:
        expected = self.expected(case)
        actual = self.target.run(case)
        if actual.unsupported:
            return self._unsupported(case, actual, "output")
        cmp = self._compare_output(case, expected, actual)
        return self._conclude(case, cmp, kind)

    def gradient_args(self, case: LossCase) -> tuple[str, ...]:
        return tuple(n for n in self.spec.differentiable if n in case.inputs)

    def check_gradients(
        self, case: LossCase, grad_output: np.ndarray | None, kind: str = "gradient"
    ) -> list[Result]:
        grads = self.gradient_args(case)
        actual = self.target.run(case, grads=grads, grad_output=grad_output)
        if actual.unsupported:
            return [self._unsupported(case, actual, "gradient")]
        expected = self.expected_gradients(case, grad_output)
        terms = self.terms(case)
        case.derived |= derived_features(case, terms, grad_output)
        results = []
        for name in grads:
            q = f"grad[{name}]"
            if actual.exception is not None:
                cmp = Comparison(q, False, "2", f"torch raised {actual.error} in forward/backward")
            elif actual.grads.get(name) is None:
                cmp = Comparison(q, False, "4", f"torch gave no gradient for {name}")
            else:
                budget = budget_for(self.spec.name, "gradient", self.dtype, self.device)
                scale = self.floor_scale(case, np.shape(expected[name]), grad_output)
                bound = scale_underflow_bound(
                    case, expected[name], grad_output, terms.size, self.spec.scale_args
                )
                cmp = compare_values(
                    q,
                    expected[name],
                    actual.grads[name],
                    actual.grad_dtypes[name],
                    self.dtype,
                    budget,
                    bound,
                    rule_values="4",
                    floor_scale=scale,
                )
            results.append(self._conclude(case, cmp, kind, grad_output, grads))
        return results

    def check_invalid(self, case: LossCase, argument: str) -> Result:
        """An input the docs forbid: the oracle must name ``argument``; torch must raise."""
        expected = self.expected(case)
        if not isinstance(expected, oracle.OracleInputError):
            raise AssertionError(f"the oracle accepted an invalid input: {case!r}")
        if expected.argument != argument:
            raise AssertionError(f"the oracle blamed {expected.argument!r}, not {argument!r}")
        actual = self.target.run(case)
        if actual.exception is not None:
            cmp = Comparison("output", True, message=f"torch raised {actual.error}")
        else:
            warned = "; ".join(actual.warnings) or "no warning"
            cmp = Comparison(
                "output",
                False,
                "2",
                f"the documentation forbids this input ({expected}); torch returned "
                f"{actual.value!r} ({warned})",
            )
        return self._conclude(case, cmp, "invalid")

    def _compare_output(self, case: LossCase, expected: Any, actual: Outcome) -> Comparison:
        if isinstance(expected, oracle.OracleInputError):
            if actual.exception is not None:
                return Comparison("output", True, message=f"both reject: {expected}")
            return Comparison(
                "output",
                False,
                "2",
                f"the documentation forbids this input ({expected}) but torch returned a value",
            )
        if actual.exception is not None:
            return Comparison("output", False, "2", f"torch raised {actual.error}")
        budget = budget_for(self.spec.name, "output", self.dtype, self.device)
        terms = self.terms(case)
        case.derived |= derived_features(case, terms)
        bound = reduction_bound(terms, case.reduction, self.dtype, budget)
        scale = self.floor_scale(case, np.shape(expected), None)
        return compare_values(
            "output",
            expected,
            actual.value,
            actual.dtype,
            self.dtype,
            budget,
            bound,
            floor_scale=scale,
        )

    def floor_scale(
        self, case: LossCase, shape: tuple[int, ...], grad_output: np.ndarray | None
    ) -> np.ndarray | float:
        """max(1, |w|) of every factor applied after a possible underflow (rule 3's floor).

        The factors are the spec's scale tensors (a weight) and grad_output; their
        elementwise product P is the amplification of each element's floor. A result of
        P's shape takes P; a reduced result takes sum(P), divided by N for 'mean'; any other
        shape (a gradient summed over broadcast dimensions) takes P.size * max(P).
        """
        amp = self.spec.floor_amplification(case.effective_options())
        factors = [case.inputs[n] for n in self.spec.scale_args if n in case.inputs]
        if grad_output is not None:
            factors.append(grad_output)
        if not factors:
            return amp
        mags = [
            np.maximum(
                np.abs(np.nan_to_num(f.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)), 1.0
            )
            for f in factors
        ]
        try:
            product = np.prod(np.broadcast_arrays(*mags), axis=0)
        except ValueError:
            product = np.array(float(np.prod([m.max() for m in mags])))
        if product.shape == tuple(shape):
            return amp * product
        if shape == () and case.reduction != "none":
            n = max(product.size, 1) if case.reduction == "mean" else 1
            return amp * float(product.sum()) / n
        return amp * float(product.size * (product.max() if product.size else 1.0))

    # -- verdicts and records --------------------------------------------------------
    def _conclude(
        self,
        case: LossCase,
        cmp: Comparison,
        kind: str,
        grad_output: np.ndarray | None = None,
        grads: tuple[str, ...] = (),
    ) -> Result:
        ns = case_namespace(case, self.device, self.torch_version)
        ns["quantity"] = cmp.quantity
        failures = [] if cmp.ok else [(cmp.quantity, cmp.rule)]
        verdict, ids = classify(self.registry, ns, failures)
        repro = ""
        if verdict != "pass":
            repro = reproducer(case, self.device, grad_output, grads)
        result = Result(verdict, cmp.quantity, cmp, ids, repro)
        self._record(case, result, kind)
        return result

    def _unsupported(self, case: LossCase, actual: Outcome, quantity: str) -> Result:
        self.unsupported_reason = actual.error or ""
        cmp = Comparison(quantity, True, message=f"unsupported: {actual.error}")
        result = Result("unsupported", quantity, cmp)
        self._record(case, result, "forward" if quantity == "output" else "gradient")
        return result

    def _record(self, case: LossCase, result: Result, kind: str) -> None:
        self.verdicts.append(result.verdict)
        if self.recorder is None:
            return
        cmp = result.comparison
        kwargs = {k: v for k, v in case.options.items()}
        for name in case.keyword_tensors:
            kwargs[name] = "<tensor>"
        self.recorder.record(
            {
                "test": self.test_id,
                "kind": kind,
                "spec": self.spec.name,
                "loss": self.spec.loss,
                "variant": self.spec.variant,
                "api": self.api,
                "device": self.device,
                "dtype": self.dtype,
                "reduction": case.reduction,
                "kwargs": kwargs,
                "shapes": case.shapes,
                "regime": case.regime,
                "features": sorted(case.features),
                "verdict": result.verdict,
                "rule": cmp.rule,
                "quantity": result.quantity,
                "message": cmp.message,
                "max_abs": cmp.max_abs,
                "max_rel": cmp.max_rel,
                "max_ulp": cmp.max_ulp,
                "known_id": ",".join(result.known) or None,
                "reproducer": result.reproducer,
            }
        )

    # -- outcome of a whole test -----------------------------------------------------
    def assert_ok(self, results: Result | list[Result]) -> None:
        for r in results if isinstance(results, list) else [results]:
            if r.verdict == "fail":
                raise AssertionError(
                    f"{self.spec.name} {self.api} {self.dtype} {self.device} "
                    f"reduction={self.reduction}: rule {r.comparison.rule} broken\n"
                    f"{r.comparison.message}\nreproducer:\n{r.reproducer}"
                )

    def conclude(self) -> None:
        """Skip, with the reason, a test whose every case torch could not run at this dtype."""
        if self.verdicts and all(v == "unsupported" for v in self.verdicts):
            pytest.skip(f"unsupported by torch {self.torch_version}: {self.unsupported_reason}")


def derived_features(
    case: LossCase, terms: np.ndarray, grad_output: np.ndarray | None = None
) -> set[str]:
    """Features that need the oracle's unreduced terms or the drawn grad_output.

    sum_overflow: the exact sum of |terms| reaches the overflow threshold of the dtype torch
    accumulates in, so a sum taken in it is inf even where the documented mean is finite.
    underflow_risk: the square of the smallest nonzero finite magnitude of the case
    underflows the dtype, so a product the loss forms in the dtype can flush to 0 (and an
    infinite factor then turns it into NaN).
    overflow_risk: the product of the largest finite magnitude of each floating tensor of
    the case (grad_output included), times 4, reaches the dtype's overflow threshold: some
    product or difference the loss or its gradient forms in the dtype can overflow.
    """
    out: set[str] = set()
    t = np.abs(np.asarray(terms, dtype=np.longdouble))
    t = t[np.isfinite(t)]
    if (
        case.reduction != "none"
        and t.size
        and t.sum() >= overflow_threshold(ACCUMULATION[case.dtype])
    ):
        out.add("sum_overflow")
    tensors = [v for v in case.inputs.values() if np.issubdtype(v.dtype, np.floating)]
    if grad_output is not None:
        tensors.append(grad_output)
    product = np.longdouble(4)
    for v in tensors:
        a = np.abs(v.astype(np.longdouble))
        a = a[np.isfinite(a)]
        if a.size:
            product *= max(a.max(), np.longdouble(1))
    if product >= overflow_threshold(case.dtype):
        out.add("overflow_risk")
    tiny = [
        np.abs(v[(v != 0) & np.isfinite(v)]).min()
        for v in map(_as_ld, tensors)
        if ((v != 0) & np.isfinite(v)).any()
    ]
    if tiny and min(tiny) ** 2 < info(case.dtype).smallest_subnormal:
        out.add("underflow_risk")
    return out


def _as_ld(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=np.longdouble)


def scale_underflow_bound(
    case: LossCase,
    expected: np.ndarray,
    grad_output: np.ndarray | None,
    n_terms: int,
    scale_args: tuple[str, ...] = (),
) -> np.ndarray | float:
    """Rule 4's allowance for a gradient seed that is subnormal in the dtype.

    A backward forms the seed s * g * w in the dtype: s = 1/N ('mean') or 1, g the
    grad_output, w the scale tensors (a weight), in some order. When a partial product
    falls below the smallest normal number it is exact only to half a subnormal spacing, a
    relative error of 0.5 * smallest_subnormal / m (m its magnitude), which the gradient
    built from it inherits: bound = that relative error * |expected|, elementwise where the
    seed has the gradient's shape, from the smallest seed otherwise.
    """
    d = info(case.dtype)
    s = np.longdouble(1) / max(n_terms, 1) if case.reduction == "mean" else np.longdouble(1)
    seeds = [np.asarray(s)]
    running = np.asarray(s)
    parts = [case.inputs[n] for n in scale_args if n in case.inputs]
    if grad_output is not None:
        parts.insert(0, grad_output)
    for p in parts:
        try:
            running = running * np.abs(p.astype(np.longdouble))
        except ValueError:
            break
        seeds.append(running)
    e = np.abs(np.asarray(expected, dtype=np.longdouble))
    rel = np.zeros(e.shape, dtype=np.longdouble)
    half = np.longdouble(d.smallest_subnormal) / 2  # 0.5 * 5e-324 is 0 in float64
    for seed in seeds:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where((seed != 0) & (seed < d.tiny) & np.isfinite(seed), half / seed, 0)
        if r.shape != e.shape:
            r = np.asarray(r.max() if r.size else 0)
        rel = np.maximum(rel, r)
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(rel * e)
