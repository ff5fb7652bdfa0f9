"""Command-line options and hypothesis profiles shared by suites/ and tests/.

Options (see README): --device, --dtype, --loss, --api, --results-dir. Profiles: ``dev``
(fast, random), ``ci`` (derandomized, no deadline, no example database; chosen when
CI=true), ``thorough`` (thousands of examples). Pick one with --hypothesis-profile or
HYPOTHESIS_PROFILE; CONFORMANCE_MAX_EXAMPLES=N overrides its number of examples. This
file imports no torch: the project's own tests of the oracle run
without it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["suites.plugin"]

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "dev", max_examples=15, deadline=None, suppress_health_check=_SLOW_OK, print_blob=True
)
settings.register_profile(
    "ci",
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=_SLOW_OK,
    print_blob=True,
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=_SLOW_OK, print_blob=True
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
)
settings.load_profile(PROFILE)
if os.environ.get("CONFORMANCE_MAX_EXAMPLES"):  # a deeper (or quicker) search, same profile
    settings.register_profile(
        f"{PROFILE}-n", settings(max_examples=int(os.environ["CONFORMANCE_MAX_EXAMPLES"]))
    )
    settings.load_profile(f"{PROFILE}-n")


def pytest_addoption(parser):
    group = parser.getgroup("conformance", "torch-loss-conformance")
    group.addoption(
        "--device",
        default=None,
        help="torch devices to test, comma-separated (default: cpu, plus cuda when available); "
        "any torch device string is accepted",
    )
    group.addoption(
        "--dtype",
        default=None,
        help="dtypes, comma-separated, of float64,float32,float16,bfloat16 (default: all)",
    )
    group.addoption(
        "--loss",
        default=None,
        help="losses by module, functional or spec name, comma-separated (default: all)",
    )
    group.addoption("--api", default=None, help="module,functional (default: both)")
    group.addoption(
        "--results-dir",
        default=None,
        help="where the run's records, meta.json and summary.html go "
        "(default: results/torch-<version>)",
    )
