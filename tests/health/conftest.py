"""Health tests run the CLI in-process; its logging set-up binds to the runner's stream, closed afterwards."""

from __future__ import annotations

import sys

import pytest

from csgw.gateway.logging import configure_logging


@pytest.fixture(autouse=True)
def logging_to_real_stderr():
    yield
    configure_logging("info", "console", sys.__stderr__)
