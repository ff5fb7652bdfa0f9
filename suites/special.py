"""Shared pieces of the per-loss special-case modules (suites/test_*_special_cases.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from suites.road import Road


def roads(spec_combo, selection, reduction: str, recorder: Any, request: Any) -> Iterator[Road]:
    """One recording Road per selected api for a (spec, dtype, device) combination; an api
    on which this torch lacks the loss is recorded as absent and skips the test."""
    spec, dtype, device = spec_combo
    for api in selection.apis:
        road = Road(
            spec, dtype, device, api, reduction, recorder=recorder, test_id=request.node.nodeid
        )
        road.require_present()
        yield road
