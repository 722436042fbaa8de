"""The webhook receiver of the webhooks tests, for the incident events they carry; the report
command runs in-process, so logging is restored after each test (see tests/health)."""

from __future__ import annotations

from tests.health.conftest import logging_to_real_stderr
from tests.plugins.webhooks.conftest import receiver

__all__ = ["logging_to_real_stderr", "receiver"]
