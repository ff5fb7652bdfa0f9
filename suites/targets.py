"""How a case runs on torch: module or functional, on a device, at a dtype.

``TorchTarget.run`` turns the case's numpy arrays into tensors (bit-exact), calls the loss,
and returns an ``Outcome``: the value and the autograd gradients as float64 numpy (exact
upcasts), or the exception torch raised, with the warnings it emitted. ``call`` is the one
place the loss is invoked, so the project's own tests can plant bugs by overriding it.
"""

from __future__ import annotations

import inspect
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.torch_version import TorchVersion

from suites.case import LEGACY_ARGS, LossCase
from suites.specs import LossSpec

UNSUPPORTED = re.compile(
    r"not implemented for '(Half|BFloat16|Float|Double)'|unsupported (data)?type|"
    r"does not support (half|bfloat16)",
    re.IGNORECASE,
)


@dataclass
class Outcome:
    value: np.ndarray | None = None
    dtype: str | None = None
    grads: dict[str, np.ndarray | None] = field(default_factory=dict)
    grad_dtypes: dict[str, str | None] = field(default_factory=dict)
    exception: BaseException | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def unsupported(self) -> bool:
        return self.exception is not None and bool(UNSUPPORTED.search(str(self.exception)))

    @property
    def error(self) -> str | None:
        if self.exception is None:
            return None
        return f"{type(self.exception).__name__}: {self.exception}"


def torch_dtype(name: str) -> torch.dtype:
    return getattr(torch, name)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """Exact float64 copy of a floating tensor (every dtype under test fits in float64)."""
    return t.detach().to("cpu", torch.float64).numpy().copy()


def released(since: str | None, version: str | None = None) -> bool:
    """This torch (or ``version``) is at least ``since`` (None: any release)."""
    if since is None:
        return True
    return TorchVersion(version or torch.__version__) >= since


def present_names(spec: LossSpec, api: str) -> frozenset[str] | None:
    """Option and tensor-argument names this torch accepts; None when the loss is absent,
    or when the spec is a variant a release before its ``since`` lacks although the names
    exist (a Python-number ``var`` of GaussianNLLLoss, accepted since 2.6)."""
    if not released(spec.since):
        return None
    if api == "module":
        cls = getattr(torch.nn, spec.loss, None)
        if cls is None:
            return None
        params = set(inspect.signature(cls.__init__).parameters)
        params |= set(inspect.signature(cls.forward).parameters)
    else:
        fn = getattr(torch.nn.functional, spec.functional, None)
        if fn is None:
            return None
        params = set(inspect.signature(fn).parameters)
    return frozenset(params)


def absent_names(spec: LossSpec, api: str) -> list[str]:
    """Options and optional tensors the spec knows on this api that this torch lacks."""
    present = present_names(spec, api)
    if present is None:
        name = spec.loss if api == "module" else spec.functional
        if not released(spec.since):
            return [f"{spec.name} (since torch {spec.since})"]
        return [name]
    missing = [o.name for o in spec.options if api in o.apis and o.name not in present]
    missing += [
        a.name for a in spec.args if a.optional and api in a.apis and not a.present_in(api, present)
    ]
    return missing


class TorchTarget:
    """Runs cases on torch on one device."""

    def __init__(self, device: str) -> None:
        self.device = torch.device(device)

    def tensors(self, case: LossCase, grads: tuple[str, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, a in case.inputs.items():
            if name in case.sequences:  # a Python sequence of ints, as the user passes it
                out[name] = python_sequence(a, case.sequences[name])
                continue
            t = torch.from_numpy(np.array(a, order="C", copy=True))
            if np.issubdtype(a.dtype, np.floating):
                t = t.to(torch.float64).to(torch_dtype(case.dtype))
            t = t.to(self.device)
            if name in grads:
                t.requires_grad_(True)
            out[name] = t
        return out

    def call(self, case: LossCase, tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        """Invoke the loss exactly as a user would, through the case's api."""
        spec = case.spec
        tensors = dict(tensors)
        for a in spec.args:
            if a.passed_as and a.name in tensors:  # e.g. scores.log_softmax(-1)
                tensors[a.name] = eval(a.passed_as, {"torch": torch}, {a.name: tensors[a.name]})
        pos = [tensors[a.name] for a in spec.args if a.positional]
        options = spec.torch_options(case.options) if spec.torch_options else dict(case.options)
        if case.api == "functional":
            fn = getattr(torch.nn.functional, spec.functional)
            kw = {
                a.name: tensors[a.name] for a in spec.args if not a.positional and a.name in tensors
            }
            return fn(*pos, **kw, **options)
        if spec.module_factory is not None:
            module, forward_args = spec.module_factory(case, tensors, options)
            return module(*forward_args)
        init = dict(options)
        fwd: dict[str, Any] = {}
        for a in spec.args:
            if not a.positional and a.name in tensors:
                (init if a.module_init else fwd)[a.name] = tensors[a.name]
        module = getattr(torch.nn, spec.loss)(**init)
        return module(*pos, **fwd)

    def run(
        self,
        case: LossCase,
        grads: tuple[str, ...] = (),
        grad_output: np.ndarray | None = None,
    ) -> Outcome:
        out = Outcome()
        try:
            tensors = self.tensors(case, grads)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                loss = self.call(case, tensors)
                out.value = to_numpy(loss)
                out.dtype = str(loss.dtype).removeprefix("torch.")
                if grads:
                    if grad_output is None:
                        g = torch.ones_like(loss)
                    else:
                        g = torch.from_numpy(np.array(grad_output, order="C", copy=True)).to(
                            torch.float64
                        )
                        g = g.to(loss.dtype).to(self.device)
                    wanted = [tensors[n] for n in grads]
                    got = torch.autograd.grad(loss, wanted, g, allow_unused=True)
                    for n, t in zip(grads, got, strict=True):
                        out.grads[n] = None if t is None else to_numpy(t)
                        out.grad_dtypes[n] = (
                            None if t is None else str(t.dtype).removeprefix("torch.")
                        )
            out.warnings = [str(w.message) for w in caught]
        except Exception as exc:  # torch's reaction to the case is data, not a crash
            out.exception = exc
        return out


def python_sequence(a: np.ndarray, kind: str) -> int | list[int] | tuple[int, ...]:
    """An integer array as the Python value a user would pass: an int for a 0-d array,
    else a list or a tuple of ints."""
    if np.ndim(a) == 0:
        return int(a)
    values = [int(v) for v in np.ravel(a)]
    return tuple(values) if kind == "tuple" else values


def legacy_free(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in LEGACY_ARGS}


class PlainSubclass(torch.Tensor):
    """A torch.Tensor subclass that adds nothing: it only routes every call through the
    ``__torch_function__`` protocol, as DTensor, FakeTensor, masked and user subclasses do."""


class SubclassTarget(TorchTarget):
    """Runs the case with its first positional tensor wrapped in ``PlainSubclass``.

    The result must not change: ``__torch_function__`` dispatch must forward every argument.
    """

    def tensors(self, case: LossCase, grads: tuple[str, ...]) -> dict[str, torch.Tensor]:
        out = super().tensors(case, grads)
        first = next(a.name for a in case.spec.args if a.positional)
        out[first] = out[first].as_subclass(PlainSubclass)
        return out
