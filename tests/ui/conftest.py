"""Browser fixtures: Debian's chromium (installed by install_chromium.sh) driven by playwright."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

HERE = Path(__file__).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("CSGW_UI_ARTIFACTS", HERE.parents[1] / "build" / "ui-artifacts"))
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def chromium_path() -> str:
    subprocess.run(["sh", str(HERE / "install_chromium.sh")], check=True, capture_output=True)
    return CHROMIUM


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS,
                                                   headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """A folder for this test's screenshots (kept after the run, under build/ by default)."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
