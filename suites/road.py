"""The one road every case travels (design.md, "The flow").

case ──► oracle (expected value or OracleInputError) ──┐
     └─► torch target (value, gradients or exception) ─┴─► compare (rules) ──► registry
     ──► verdict (pass | fail | known | xpass | unsupported) ──► recorder ──► assertion

``Road`` is bound to one test combination (spec, dtype, device, api, reduction). The test
modules only draw cases and hand them to ``check_forward`` / ``check_gradients``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import oracle
from suites.allowances import (
    broadcast_sum_bound,
    derived_features,
    floor_scale,
    scale_underflow_bound,
)
from suites.case import LEGACY_ARGS, LossCase, loss_cases
from suites.compare import Comparison, compare_values, denominator_bound, reduction_bound
from suites.dtypes import info
from suites.known import case_namespace, classify, load_registry
from suites.record import case_record, outcome_class, presence_record
from suites.reproducer import reproducer
from suites.specs import LossSpec
from suites.targets import Outcome, TorchTarget, absent_names, present_names
from suites.tolerances import budget_for


@dataclass
class Result:
    """The verdict on one quantity of one case."""

    verdict: str
    quantity: str
    comparison: Comparison
    known: list[str] = field(default_factory=list)
    reproducer: str = ""
    outcome: str | None = None  # torch's result class (suites.record.outcome_class)
    grad_output: np.ndarray | None = None


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

    # -- presence in this torch --------------------------------------------------------
    def absent(self) -> list[str]:
        """Names this torch lacks: the loss itself on this api, or options/tensors of it."""
        return absent_names(self.spec, self.api)

    def require_present(self) -> None:
        """Record every absent name of this combination; skip when the loss itself is absent.

        A release that lacks an option is recorded (verdict ``absent``) and the option is
        simply not drawn; a release that lacks the loss skips the test with the reason.
        """
        missing = self.absent()
        for name in missing:
            self._record_absent(name)
        if self.present is None:
            pytest.skip(f"absent in torch {self.torch_version}: {', '.join(missing)}")

    def _record_absent(self, name: str) -> None:
        self.verdicts.append("absent")
        if self.recorder is None:
            return
        self.recorder.record(
            presence_record(
                self.test_id,
                self.spec,
                self.api,
                self.device,
                self.dtype,
                self.reduction,
                name,
                self.torch_version,
            )
        )

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
            with np.errstate(all="ignore"):  # NaN and inf are the oracle's data, not noise
                return getattr(oracle, self.spec.oracle)(*pos, **kw)
        except oracle.OracleInputError as exc:
            return exc

    def terms(self, case: LossCase) -> np.ndarray:
        """The unreduced loss the reduction sums (for rule 3's bound)."""
        opts = {k: v for k, v in case.options.items() if k not in LEGACY_ARGS}
        opts["reduction"] = "none"
        pos, kw = self._oracle_args(case, opts)
        with np.errstate(all="ignore"):
            return getattr(oracle, self.spec.oracle)(*pos, **kw)

    def expected_gradients(self, case: LossCase, grad_output: np.ndarray | None) -> dict:
        pos, kw = self._oracle_args(case, case.options)
        with np.errstate(all="ignore"):
            return getattr(oracle.gradients, self.spec.oracle)(*pos, **kw, grad_output=grad_output)

    def denominator(self, case: LossCase) -> tuple[float, float] | None:
        """The documented denominator of 'mean' (a weighted loss's sum of weights) or of
        'batchmean' (KLDiv's batch size), when the spec has one."""
        if case.reduction not in ("mean", "batchmean") or self.spec.mean_denominator is None:
            return None
        return self.spec.mean_denominator(case)

    # -- checks ----------------------------------------------------------------------
    def absent_values(self, case: LossCase) -> list[str]:
        """Option values of the case this torch lacks (``LossSpec.absent_values``)."""
        return self.spec.absent_values(case) if self.spec.absent_values else []

    def _absent_case(self, case: LossCase, missing: list[str], quantity: str, kind: str) -> Result:
        """A case that uses an option value this torch lacks: recorded ``absent``, not run."""
        cmp = Comparison(
            quantity, True, message=f"torch {self.torch_version} has no {', '.join(missing)}"
        )
        result = Result("absent", quantity, cmp, outcome="absent")
        self._record(case, result, kind)
        return result

    def check_forward(self, case: LossCase, kind: str = "forward") -> Result:
        if missing := self.absent_values(case):
            return self._absent_case(case, missing, "output", kind)
        actual = self.target.run(case)
        if actual.unsupported:  # no kernel: the oracle's work would be wasted
            return self._unsupported(case, actual, "output")
        expected = self.expected(case)
        cmp = self._compare_output(case, expected, actual)
        return self._conclude(
            case, cmp, kind, outcome=outcome_class(actual.value, actual.exception)
        )

    def gradient_args(self, case: LossCase) -> tuple[str, ...]:
        return tuple(n for n in self.spec.differentiable if n in case.inputs)

    def check_gradients(
        self, case: LossCase, grad_output: np.ndarray | None, kind: str = "gradient"
    ) -> list[Result]:
        if missing := self.absent_values(case):
            return [self._absent_case(case, missing, "gradient", kind)]
        grads = self.gradient_args(case)
        actual = self.target.run(case, grads=grads, grad_output=grad_output)
        if actual.unsupported:
            return [self._unsupported(case, actual, "gradient")]
        expected = self.expected_gradients(case, grad_output)
        terms = self.terms(case)
        case.derived |= derived_features(case, terms, grad_output)
        expanded = self.expanded_gradients(case, grad_output)
        results = []
        for name in grads:
            q = f"grad[{name}]"
            if actual.exception is not None:
                cmp = Comparison(q, False, "2", f"torch raised {actual.error} in forward/backward")
            elif actual.grads.get(name) is None:
                cmp = Comparison(q, False, "4", f"torch gave no gradient for {name}")
            else:
                budget = budget_for(self.spec.name, "gradient", self.dtype, self.device)
                scale = floor_scale(case, np.shape(expected[name]), grad_output, terms.size)
                bound = np.maximum(
                    scale_underflow_bound(
                        case, expected[name], grad_output, terms.size, self.spec.scale_args
                    )
                    + denominator_bound(
                        self.denominator(case), terms.size, self.dtype, budget, expected[name]
                    )
                    + self.cancellation_bound(case, name, grad_output, budget),
                    broadcast_sum_bound(
                        expanded,
                        name,
                        np.shape(expected[name]),
                        terms.size,
                        self.dtype,
                        budget.terms_u,
                        budget.sum_steps,
                    ),
                )
                judge = partial(
                    compare_values,
                    q,
                    actual=actual.grads[name],
                    actual_dtype=actual.grad_dtypes[name],
                    dtype=self.dtype,
                    budget=budget,
                    bound=bound,
                    rule_values="4",
                    floor_scale=scale,
                )
                cmp = judge(expected=expected[name])
                if not cmp.ok:
                    cmp = self._other_side(case, name, grad_output, cmp, judge)
                if not cmp.ok and not cmp.other_side:
                    cmp = self._alternative(case, name, grad_output, cmp, judge)
            outcome = outcome_class(actual.grads.get(name), actual.exception, cmp)
            results.append(self._conclude(case, cmp, kind, grad_output, grads, outcome))
        return results

    def _other_side(
        self,
        case: LossCase,
        name: str,
        grad_output: np.ndarray | None,
        cmp: Comparison,
        judge: Callable[..., Comparison],
    ) -> Comparison:
        """Flag a failed gradient that is exactly the other one-sided derivative at the
        case's exact kinks (``LossSpec.tie_gradients``): still a failure, which only a
        registry entry on ``tie_other_side_failure`` can excuse."""
        if self.spec.tie_gradients is None:
            return cmp
        with np.errstate(all="ignore"):
            other = self.spec.tie_gradients(case, grad_output)
        if not other or name not in other or not judge(expected=other[name]).ok:
            return cmp
        cmp.other_side = True
        cmp.message += (
            "; torch's gradient is the other one-sided derivative at the case's exact kinks "
            "(a different subgradient convention at the tie)"
        )
        return cmp

    def _alternative(
        self,
        case: LossCase,
        name: str,
        grad_output: np.ndarray | None,
        cmp: Comparison,
        judge: Callable[..., Comparison],
    ) -> Comparison:
        """Flag a failed gradient that is, within the same rules, the spec's alternative
        quantity (``LossSpec.alternative_gradients``): still a failure, which only a registry
        entry on ``alternative_failure`` can excuse."""
        if self.spec.alternative_gradients is None:
            return cmp
        with np.errstate(all="ignore"):
            alt = self.spec.alternative_gradients(case, grad_output)
        if alt is None:
            return cmp
        label, grads = alt
        if name not in grads or not judge(expected=grads[name]).ok:
            return cmp
        cmp.alternative = label
        cmp.message += f"; torch's gradient is the {label} gradient instead"
        return cmp

    def cancellation_bound(
        self, case: LossCase, name: str, grad_output: np.ndarray | None, budget: Any
    ) -> np.ndarray | float:
        """terms_u * u * G for the spec's gradient_scale G (cancelling gradients)."""
        if self.spec.gradient_scale is None:
            return 0.0
        g = self.spec.gradient_scale(case, name, grad_output)
        if g is None:
            return 0.0
        u = info(self.dtype).unit_roundoff
        with np.errstate(all="ignore"):
            g = np.nan_to_num(np.abs(np.asarray(g, dtype=np.longdouble)), nan=0.0, posinf=0.0)
            return np.longdouble(budget.terms_u * u) * g

    def expanded_gradients(
        self, case: LossCase, grad_output: np.ndarray | None
    ) -> dict[str, np.ndarray] | None:
        """The oracle's gradients with every floating tensor expanded to one common shape:
        the per-element contributions that a broadcast argument's gradient sums. None when
        nothing was broadcast or the tensors do not broadcast together."""
        names = [n for n, v in case.inputs.items() if np.issubdtype(v.dtype, np.floating)]
        try:
            expanded = np.broadcast_arrays(*(case.inputs[n] for n in names))
        except ValueError:
            return None
        if all(e.shape == case.inputs[n].shape for n, e in zip(names, expanded, strict=True)):
            return None
        inputs = dict(case.inputs)
        inputs.update({n: np.array(e) for n, e in zip(names, expanded, strict=True)})
        wide = replace(case, inputs=inputs, derived=set())
        try:
            return self.expected_gradients(wide, grad_output)
        except oracle.OracleInputError:
            return None

    def check_invalid(self, case: LossCase, argument: str, actual: Outcome | None = None) -> Result:
        """An input the docs forbid: the oracle must name ``argument``; torch must raise.

        ``actual`` is torch's outcome when it was obtained elsewhere (in an isolated
        process, for inputs that could make torch read out of bounds)."""
        expected = self.expected(case)
        if not isinstance(expected, oracle.OracleInputError):
            raise AssertionError(f"the oracle accepted an invalid input: {case!r}")
        if expected.argument != argument:
            raise AssertionError(f"the oracle blamed {expected.argument!r}, not {argument!r}")
        if actual is None:
            actual = self.target.run(case)
        if actual.unsupported:  # no kernel for the dtype: nothing to learn about validation
            return self._unsupported(case, actual, "output")
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
        outcome = outcome_class(actual.value, actual.exception)
        return self._conclude(case, cmp, "invalid", outcome=outcome)

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
        scales = None if self.spec.term_scale is None else self.spec.term_scale(case)
        if case.reduction == "mean" and self.spec.mean_term_factor is not None:
            factor = np.asarray(self.spec.mean_term_factor(case), dtype=np.longdouble)
            with np.errstate(all="ignore"):
                terms = terms * factor
                scales = None if scales is None else scales * factor
        if self.spec.accumulation_steps is not None:
            budget = replace(
                budget, sum_steps=budget.sum_steps + self.spec.accumulation_steps(case)
            )
        bound = reduction_bound(
            terms, case.reduction, self.dtype, budget, self.denominator(case), expected, scales
        )
        scale = floor_scale(case, np.shape(expected), None, terms.size)
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

    # -- verdicts and records --------------------------------------------------------
    def _conclude(
        self,
        case: LossCase,
        cmp: Comparison,
        kind: str,
        grad_output: np.ndarray | None = None,
        grads: tuple[str, ...] = (),
        outcome: str | None = None,
    ) -> Result:
        ns = case_namespace(case, self.device, self.torch_version)
        ns["quantity"] = cmp.quantity
        ns["nonfinite_failure"] = cmp.nonfinite
        ns["subnormal_failure"] = cmp.subnormal
        ns["tie_other_side_failure"] = cmp.other_side
        ns["alternative_failure"] = cmp.alternative
        failures = [] if cmp.ok else [(cmp.quantity, cmp.rule)]
        verdict, ids = classify(self.registry, ns, failures)
        result = Result(
            verdict,
            cmp.quantity,
            cmp,
            ids,
            reproducer(case, self.device, grad_output, grads),
            outcome,
            grad_output,
        )
        self._record(case, result, kind)
        return result

    def _unsupported(self, case: LossCase, actual: Outcome, quantity: str) -> Result:
        self.unsupported_reason = actual.error or ""
        cmp = Comparison(quantity, True, message=f"unsupported: {actual.error}")
        result = Result("unsupported", quantity, cmp, outcome=outcome_class(None, actual.exception))
        self._record(case, result, "forward" if quantity == "output" else "gradient")
        return result

    def _record(self, case: LossCase, result: Result, kind: str) -> None:
        self.verdicts.append(result.verdict)
        if self.recorder is None:
            return
        self.recorder.record(
            case_record(
                self.test_id,
                kind,
                case,
                self.device,
                result.verdict,
                result.quantity,
                result.comparison,
                result.known,
                result.reproducer,
                outcome=result.outcome,
                grad_output=result.grad_output,
            )
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
