"""Export/import tests run the CLI in-process too: restore logging after each (see tests/health)."""

from __future__ import annotations

from tests.health.conftest import logging_to_real_stderr

__all__ = ["logging_to_real_stderr"]
