"""``suites.signatures.loss_signatures``: what a run records of the loss APIs, for the
release diff's signature section."""

from __future__ import annotations

from types import SimpleNamespace

from suites.signatures import loss_signatures
from suites.specs import ALL_SPECS


def test_every_spec_module_and_functional_is_recorded() -> None:
    sigs = loss_signatures(ALL_SPECS)
    for spec in ALL_SPECS:
        assert f"torch.nn.{spec.loss}" in sigs
        assert f"torch.nn.functional.{spec.functional}" in sigs


def test_documented_signature_of_huber() -> None:
    # torch.nn.HuberLoss(reduction='mean', delta=1.0), as documented; self is dropped
    params = loss_signatures()["torch.nn.HuberLoss"]
    assert [(p["name"], p["default"]) for p in params] == [
        ("reduction", "'mean'"),
        ("delta", "1.0"),
    ]
    fn = loss_signatures([SimpleNamespace(loss="HuberLoss", functional="huber_loss")])
    names = [p["name"] for p in fn["torch.nn.functional.huber_loss"]]
    assert names[:2] == ["input", "target"]
    assert fn["torch.nn.functional.huber_loss"][0]["default"] == "<required>"


def test_a_loss_this_torch_lacks_is_recorded_as_absent() -> None:
    fake = SimpleNamespace(loss="NoSuchLoss", functional="no_such_loss")
    sigs = loss_signatures([fake])
    assert sigs["torch.nn.NoSuchLoss"] is None
    assert sigs["torch.nn.functional.no_such_loss"] is None
