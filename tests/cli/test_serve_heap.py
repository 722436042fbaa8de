"""`csgw serve` hides the start-up heap from the garbage collector (long full collections were the p99);
start-up, and a command's loading, run without collections."""

from __future__ import annotations

import gc
import sys

from aiohttp import web
from typer.testing import CliRunner

from csgw.cli import serve_loop
from csgw.cli.main import app
from csgw.cli.serve import settle_startup_heap
from csgw.commands import collector_paused
from csgw.gateway.logging import configure_logging


async def test_startup_heap_is_frozen_once_the_gateway_has_started() -> None:
    gc.unfreeze()
    gc.disable()  # as `run_gateway` starts
    try:
        await settle_startup_heap(web.Application())
        assert gc.get_freeze_count() > 1000
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_the_collector_is_off_while_the_gateway_starts_and_back_on_after(tmp_path, monkeypatch) -> None:
    config = tmp_path / "csgw.toml"
    config.write_text('[server]\ndata_dir = "./data"\n', encoding="utf-8")
    collecting = []
    monkeypatch.setattr(serve_loop, "serve_until_signalled", lambda *args: collecting.append(gc.isenabled()))
    try:
        result = CliRunner().invoke(app, ["serve", "--config", str(config)])
        assert result.exit_code == 0 and collecting == [False]  # settle_startup_heap turns it on
        assert gc.isenabled()  # and a start that never got so far does not leave it off
    finally:
        gc.enable()
        configure_logging("info", "console", sys.__stderr__)  # the runner closed its stream


def test_a_paused_collector_is_back_as_it_was() -> None:
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()
        with collector_paused():
            pass
        assert not gc.isenabled()  # off before (a gateway starting): still off
    finally:
        gc.enable()
