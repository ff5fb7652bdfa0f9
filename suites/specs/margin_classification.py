"""LossSpec entries (placeholder, being written)."""

from __future__ import annotations

SPECS: tuple = ()
