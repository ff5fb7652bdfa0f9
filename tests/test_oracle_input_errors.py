"""Every invalid input raises ``OracleInputError`` naming the argument and the rule."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import oracle
from oracle import _common
from oracle._common import OracleInputError

X = np.array([1.0, 2.0])
Y = np.array([0.5, 3.0])
LOSSES = ("l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss")


def raises(argument: str, fn, *args, match: str | None = None, **kwargs) -> OracleInputError:
    with pytest.raises(OracleInputError) as info:
        fn(*args, **kwargs)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.argument == argument, str(err)
    assert str(err) == f"{argument}: {err.rule}"
    if match is not None:
        assert match in err.rule, err.rule
    return err


def test_error_message_format_and_pickling():
    err = OracleInputError("delta", "must be positive, got -1.0")
    assert str(err) == "delta: must be positive, got -1.0"
    back = pickle.loads(pickle.dumps(err))
    assert (back.argument, back.rule) == ("delta", "must be positive, got -1.0")


@pytest.mark.parametrize("delta", [-1.0, 0.0, -0.0, math.nan, -math.inf])
def test_delta_must_be_positive(delta):
    for fn in (oracle.huber_loss, oracle.gradients.huber_loss):
        err = raises("delta", fn, X, Y, delta=delta, match="must be positive")
    if delta == -1.0:
        assert str(err) == "delta: must be positive, got -1.0"


@pytest.mark.parametrize("beta", [-1.0, -5e-324, math.nan, -math.inf])
def test_beta_must_be_nonnegative(beta):
    for fn in (oracle.smooth_l1_loss, oracle.gradients.smooth_l1_loss):
        raises("beta", fn, X, Y, beta=beta, match="must be non-negative")


@pytest.mark.parametrize("bad", [True, "1.0", None, np.array([1.0, 2.0]), 1j])
def test_options_must_be_real_scalars(bad):
    raises("delta", oracle.huber_loss, X, Y, delta=bad)
    raises("beta", oracle.smooth_l1_loss, X, Y, beta=bad)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", ["avg", "MEAN", "", None, 1])
def test_unknown_reduction(loss, reduction):
    raises("reduction", getattr(oracle, loss), X, Y, reduction=reduction)
    raises("reduction", getattr(oracle.gradients, loss), X, Y, reduction=reduction)
    if reduction == "avg":
        err = raises("reduction", getattr(oracle, loss), X, Y, reduction=reduction)
        assert str(err) == "reduction: 'avg' is not one of 'none', 'mean', 'sum'"


@pytest.mark.parametrize("loss", ("l1_loss", "mse_loss", "smooth_l1_loss"))
def test_legacy_flags_must_be_bools(loss):
    raises("size_average", getattr(oracle, loss), X, Y, size_average="yes")
    raises("reduce", getattr(oracle, loss), X, Y, reduce=1.0)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(("xs", "ys"), [((2,), (3,)), ((2, 3), (3, 2)), ((0,), (2,))])
def test_input_and_target_must_broadcast(loss, xs, ys):
    for fn in (getattr(oracle, loss), getattr(oracle.gradients, loss)):
        err = raises("target", fn, np.ones(xs), np.ones(ys), match="does not broadcast")
    if (xs, ys) == ((2,), (3,)):
        assert str(err) == "target: shape (3,) does not broadcast with input shape (2,)"


@pytest.mark.parametrize("loss", ("l1_loss", "mse_loss", "huber_loss"))
@pytest.mark.parametrize("wshape", [(3,), (2, 1, 2), (4, 2)])
def test_weight_must_broadcast_to_the_loss(loss, wshape):
    """(2, 1, 2) and (4, 2) would broadcast *with* (2, 2) but not *to* it."""
    x, y = np.ones((2, 2)), np.zeros((2, 2))
    for fn in (getattr(oracle, loss), getattr(oracle.gradients, loss)):
        raises("weight", fn, x, y, weight=np.ones(wshape), match="does not broadcast")


@pytest.mark.parametrize("loss", LOSSES)
def test_grad_output_must_have_the_output_shape(loss):
    f = getattr(oracle.gradients, loss)
    x, y = np.ones((2, 3)), np.zeros(3)
    for red, g in [
        ("none", np.ones(3)),
        ("none", np.ones((3, 2))),
        ("none", np.ones(())),
        ("mean", np.ones(1)),
        ("sum", np.ones((2, 3))),
    ]:
        raises("grad_output", f, x, y, reduction=red, grad_output=g, match="output shape")
    raises("grad_output", f, x, y, reduction="sum", grad_output=np.array(1j))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(
    "bad",
    [np.array([True, False]), np.array([1j, 2j]), np.array(["a", "b"]), np.array([1.0, None])],
)
def test_input_and_target_must_be_real_numbers(loss, bad):
    f = getattr(oracle, loss)
    raises("input", f, bad, Y)
    raises("target", f, X, bad)


def test_weight_must_be_real():
    raises("weight", oracle.l1_loss, X, Y, weight=np.array([True, True]))


def test_helpers_name_their_argument():
    raises("gamma", _common.check_positive, "gamma", 0)
    raises("eps", _common.check_nonnegative, "eps", -1)
    assert _common.check_nonnegative("eps", 0) == 0
    raises("reduction", _common.check_reduction, "sum", ("none", "mean"))
    raises("b", _common.broadcast_inputs, a=np.ones(2), b=np.ones(3))
    raises("weight", _common.broadcast_weight, np.ones(3), (2,))
    raises("grad_output", _common.reduction_grad, np.ones(2), (3,), "none")
    raises("x", _common.as_work, [[1.0], [1.0, 2.0]], "x")
