"""`csgw serve` hides the start-up heap from the garbage collector (long full collections were the p99)."""

from __future__ import annotations

import gc

from aiohttp import web

from csgw.cli.serve import settle_startup_heap


async def test_startup_heap_is_frozen_once_the_gateway_has_started() -> None:
    gc.unfreeze()
    try:
        await settle_startup_heap(web.Application())
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
