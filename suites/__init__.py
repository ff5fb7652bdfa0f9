"""The conformance suites: torch against the oracle, case by case."""
