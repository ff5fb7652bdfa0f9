"""The known-discrepancy registry: the loader's refusals and the per-case verdicts."""

from __future__ import annotations

import pytest

from suites.known import Namespace, classify, load_registry, parse_registry

GOOD = """
[[entry]]
id = "demo"
kind = "doc"
losses = ["L1Loss"]
torch = ">=2.4"
when = "has_weight and reduction == 'mean'"
quantities = ["output", "grad[input]"]
reason = "because"
evidence = "measured"
torch_does = "something else"
issue = ""
"""


def ns(**kw) -> Namespace:
    base = dict(
        spec="L1Loss",
        loss="L1Loss",
        api="functional",
        dtype="float32",
        device="cpu",
        torch_version="2.13.0+cpu",
        reduction="mean",
        has_weight=True,
    )
    base.update(kw)
    return Namespace(base)


def test_the_shipped_registry_loads_and_every_entry_has_reason_and_evidence():
    entries = load_registry()
    assert entries, "fixtures/known_discrepancies.toml has no entries"
    for e in entries:
        assert e.reason and e.evidence and e.torch_does


@pytest.mark.parametrize(
    "key", ["reason", "evidence", "torch_does", "id", "kind", "losses", "torch"]
)
def test_an_entry_without_a_required_key_is_refused(key):
    text = "\n".join(line for line in GOOD.splitlines() if not line.startswith(f"{key} ="))
    with pytest.raises(ValueError, match=key):
        parse_registry(text)


def test_an_empty_reason_is_refused():
    with pytest.raises(ValueError, match="reason"):
        parse_registry(GOOD.replace('reason = "because"', 'reason = "  "'))


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ('kind = "doc"', 'kind = "oops"', "kind"),
        ('when = "has_weight', 'when = "has_weight and (', "expression"),
        ('issue = ""', 'issue = ""\nseverity = 3', "unknown keys"),
        # records join the ids a case matched with commas: an id may not contain one
        ('id = "demo"', 'id = "demo-(1,)"', "kebab-case"),
        ('id = "demo"', 'id = "Demo_Entry"', "kebab-case"),
    ],
)
def test_malformed_entries_are_refused(old, new, match):
    with pytest.raises(ValueError, match=match):
        parse_registry(GOOD.replace(old, new))


def test_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        parse_registry(GOOD + GOOD)


def test_a_failing_case_matching_every_failure_is_known():
    entries = parse_registry(GOOD)
    assert classify(entries, ns(), [("output", "3")]) == ("known", ["demo"])
    # bracketed quantity names are matched exactly, not as fnmatch character sets
    assert classify(entries, ns(), [("grad[input]", "4")]) == ("known", ["demo"])


def test_a_failure_outside_the_predicate_stays_a_failure():
    entries = parse_registry(GOOD)
    assert classify(entries, ns(reduction="sum"), [("output", "3")])[0] == "fail"
    assert classify(entries, ns(has_weight=False), [("output", "3")])[0] == "fail"
    assert classify(entries, ns(), [("grad[target]", "4")])[0] == "fail"
    assert classify(entries, ns(spec="MSELoss"), [("output", "3")])[0] == "fail"
    assert classify(entries, ns(torch_version="2.3.1"), [("output", "3")])[0] == "fail"


def test_a_passing_match_is_xpass_unless_the_entry_is_not_always():
    entries = parse_registry(GOOD)
    assert classify(entries, ns(quantity="output"), []) == ("xpass", ["demo"])
    sometimes = parse_registry(GOOD.replace('issue = ""', 'issue = ""\nalways = false'))
    assert classify(sometimes, ns(quantity="output"), []) == ("pass", ["demo"])
    assert classify(entries, ns(quantity="output", reduction="sum"), []) == ("pass", [])


def test_unknown_names_in_when_read_false():
    entries = parse_registry(GOOD.replace("has_weight and", "some_feature_never_set or"))
    assert classify(entries, ns(reduction="sum"), [("output", "3")])[0] == "fail"
