"""The declarative description of a loss: our OpInfo.

A ``LossSpec`` says everything the generic harness needs to know about one loss (or one
variant of it): how torch and the oracle name it, which tensors it takes and which of them
are differentiable, which options exist (where they go in the module API, since which
torch release), which reductions it has, and how to draw valid inputs for it. Nothing
loss-specific lives anywhere else in ``suites/`` except the per-loss special-case tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import strategies as st

Api = Literal["module", "functional"]
APIS: tuple[Api, ...] = ("module", "functional")
REDUCTIONS = ("none", "mean", "sum")


@dataclass(frozen=True)
class TensorArg:
    """A tensor argument of the loss.

    ``positional`` arguments are passed in order to both the functional and the module's
    forward; the others are keyword arguments of the functional (``weight=`` of
    ``l1_loss``) or, with ``module_init``, constructor arguments of the module.
    """

    name: str
    differentiable: bool
    positional: bool = True
    optional: bool = False
    apis: tuple[Api, ...] = APIS
    module_init: bool = False
    since: str | None = None
    # the module's name for what provides this tensor, when it differs (LinearCrossEntropyLoss
    # has a ``bias`` flag where the functional takes ``linear_bias``): presence is checked
    # under this name on the module api
    module_alias: str | None = None
    # what the loss receives in place of the drawn tensor, as a Python expression of it
    # ("scores.log_softmax(-1)"): evaluated on torch's tensor (gradients flow to the drawn
    # one) and written verbatim into reproducers; the oracle takes the drawn tensor
    passed_as: str | None = None

    def present_in(self, api: str, present: frozenset[str] | set[str]) -> bool:
        name = self.module_alias if api == "module" and self.module_alias else self.name
        return name in present


@dataclass(frozen=True)
class Option:
    """A non-tensor option (``delta``, ``beta``, ``margin``, ...).

    ``values(dtype)`` is a strategy of valid values; the harness sometimes omits the option
    (torch's default applies), sometimes passes the default explicitly.
    """

    name: str
    default: Any
    values: Callable[[str], st.SearchStrategy[Any]]
    apis: tuple[Api, ...] = APIS
    since: str | None = None
    doc: str = ""


@dataclass(frozen=True)
class InvalidInput:
    """An input the documentation forbids: the oracle must reject it naming ``argument``;
    the suite records what torch does with it (raise, warn, or silently return)."""

    name: str
    argument: str
    inputs: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    apis: tuple[Api, ...] = APIS
    rule: str = ""
    # torch could read or write out of bounds with it (a class index >= C): the suite runs
    # that call in a subprocess, forward only (suites/isolated.py)
    out_of_bounds: bool = False


# (draw, dtype, regime, options, optional args to include) -> {arg name: numpy array}; it
# may adjust the drawn options in place where a regime needs it (the triplet tie regime
# sets eps = 0, bulk linear cross entropy scales its batch chunk size): the case keeps the
# adjusted options, so the oracle, torch and the reproducer all see them
InputDrawer = Callable[[st.DrawFn, str, str, dict[str, Any], frozenset[str]], dict[str, Any]]
# case -> set of feature names (loss-specific facts about the inputs)
FeatureFn = Callable[[Any], set[str]]
# case -> (the documented denominator of reduction='mean', the sum of the magnitudes of
# its terms): a sum of class weights, which torch accumulates with its own rounding error
DenominatorFn = Callable[[Any], tuple[float, float]]
# (case, tensors, module options) -> (the module, its forward's positional tensors)
ModuleFactory = Callable[[Any, dict[str, Any], dict[str, Any]], tuple[Any, list[Any]]]
# case options -> the keyword arguments torch takes (a dict of settings -> an options object)
TorchOptions = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class LossSpec:
    """One loss (or variant) as the harness sees it."""

    loss: str  # the torch.nn module name, e.g. "HuberLoss"
    functional: str  # the torch.nn.functional name, e.g. "huber_loss"
    oracle: str  # the oracle function name (same as the functional by convention)
    args: tuple[TensorArg, ...]
    options: tuple[Option, ...]
    draw_inputs: InputDrawer
    regimes: tuple[str, ...]
    features: FeatureFn = field(default=lambda case: set())
    variant: str = ""
    reductions: tuple[str, ...] = REDUCTIONS
    legacy_reduction_args: bool = False  # has size_average / reduce
    warns_on_broadcast: bool = False  # warns when target.size() != input.size()
    # tensors that multiply the elementwise loss (weight): an underflow of the unscaled
    # loss in the dtype is amplified by them, which rule 3's floor must allow for
    scale_args: tuple[str, ...] = ()
    # constant factors the loss applies after an intermediate may underflow (MSE's 2,
    # SmoothL1's 1/beta): rule 3's floor is multiplied by this, as a function of options
    floor_amplification: Callable[[dict[str, Any]], float] = field(default=lambda options: 1.0)
    since: str | None = None
    doc: str = ""
    invalid: tuple[InvalidInput, ...] = ()
    # input and target are broadcast elementwise (False for class-index targets, whose
    # shapes differ by design): decides the generic "broadcast" feature
    broadcasts: bool = True
    # the documented denominator of 'mean' when it is not the number of unreduced terms
    # (weighted NLL and cross entropy divide by the sum of the targets' class weights)
    mean_denominator: DenominatorFn | None = None
    # a module whose constructor does not take the case's tensors (LinearCrossEntropyLoss
    # owns its linear weight): builds it and loads them; None for the plain constructor
    module_factory: ModuleFactory | None = None
    # turns options drawn as plain data into what torch takes (LinearCrossEntropyOptions)
    torch_options: TorchOptions | None = None
    # case -> names of the option VALUES the case uses that this torch lacks (an
    # acc_policy a release removed): the case is recorded ``absent`` and not judged. The
    # values are still drawn, so every release sees the same draws (a release diff lists
    # them under presence changes); absent option NAMES are not drawn (``present_names``)
    absent_values: Callable[[Any], list[str]] | None = None
    # case -> per unreduced term, the magnitude M_n of what the term is computed from
    # (cross entropy: |x_y| + |logsumexp x|, which cancel when the loss is small): the
    # elementwise rounding error of term n is at most terms_u * u * M_n, which rule 3's
    # bound uses in place of |t_n|. None: M_n = |t_n| (no cancellation in the term).
    term_scale: Callable[[Any], Any] | None = None
    # (case, gradient name, grad_output) -> per element of that gradient, the magnitude G
    # such that its rounding error is at most terms_u * u * G (rule 4's bound); None: the
    # budget's ulp of the expected gradient suffices (no cancellation)
    gradient_scale: Callable[[Any, str, Any], Any] | None = None
    # case -> per unreduced term n, the factor 'mean' applies to it before averaging (CTC
    # divides each loss by its target length: mean_n(l_n / U_n)): rule 3's bound weighs the
    # terms (and their term_scale) by it. None: 'mean' is sum / N (or mean_denominator)
    mean_term_factor: Callable[[Any], Any] | None = None
    # case -> roundings a reduction may take beyond the budget's sum_steps (a chunked
    # kernel that adds its chunks' partial sums one after another)
    accumulation_steps: Callable[[Any], int] | None = None
    # (case, grad_output) -> the gradients the oracle gives when every EXACT kink of the case
    # (a hinge argument exactly 0, equal inputs of a norm) takes the other one-sided
    # derivative than the oracle's documented subgradient; None where the case has no exact
    # kink. A torch gradient that fails rule 4 but matches these is flagged ``other_side``
    # (the registry's ``tie_other_side_failure``): a different convention at a tie, told
    # apart from a wrong subgradient, which still fails
    tie_gradients: Callable[[Any, Any], dict[str, Any] | None] | None = None
    # (case, grad_output) -> (label, gradients): a different well-defined quantity torch's
    # gradient may compute instead of the documented derivative (CTC: the gradient of the
    # loss as if log_probs came from log_softmax). A failed gradient that matches it within
    # the same bound is flagged with the label (the registry's ``alternative_failure``)
    alternative_gradients: Callable[[Any, Any], tuple[str, dict[str, Any]] | None] | None = None
    # features (see ``features``) that the documented edge cases of this loss produce: a
    # run that records none of a name reports it under "never exercised"
    coverage: tuple[str, ...] = ()
    # the code a reproducer needs to rebuild torch_options' objects
    reproducer_imports: tuple[str, ...] = ()
    # case -> source lines that build the module as module_factory does, ending in
    # ``loss = ...`` (the reproducer of a module case of a spec with a module_factory)
    module_reproducer: Callable[[Any], list[str]] | None = None

    @property
    def name(self) -> str:
        return f"{self.loss}[{self.variant}]" if self.variant else self.loss

    def arg(self, name: str) -> TensorArg:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(f"{self.name} has no tensor argument {name!r}")

    def option(self, name: str) -> Option:
        for o in self.options:
            if o.name == name:
                return o
        raise KeyError(f"{self.name} has no option {name!r}")

    @property
    def differentiable(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.args if a.differentiable)
