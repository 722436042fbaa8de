"""The host's side of the shop's lookup hooks: each implementation on its own within the time
limit, the first order found wins, and the caller learns which plugins failed."""

from __future__ import annotations

import asyncio

from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager


class Finds:
    def __init__(self, order: dict | None) -> None:
        self.order = order
        self.asked: list[tuple[str, object]] = []

    @hookimpl
    async def csgw_order_lookup(self, order_no, customer):
        self.asked.append((order_no, customer["id"]))
        return self.order


class Broken:
    @hookimpl
    def csgw_order_lookup(self, order_no):
        raise RuntimeError("shop API down")


class Hangs:
    def __init__(self) -> None:
        self.never = asyncio.Event()

    @hookimpl
    async def csgw_order_lookup(self, services, order_no, customer):
        await self.never.wait()


class Nonsense:
    @hookimpl
    def csgw_order_lookup(self):
        return ["not", "an", "order"]


class Context:
    def __init__(self, fail: bool) -> None:
        self.fail = fail

    @hookimpl
    def csgw_customer_context(self, customer):
        if self.fail:
            raise RuntimeError("CRM down")
        return {"orders": [{"order_id": "X1"}]}


def host(*plugins: tuple[str, object]) -> PluginHost:
    return PluginHost(get_plugin_manager(load_entrypoints=False, extra=list(plugins)))


async def test_the_first_order_found_wins_and_failures_are_named():
    nothing, found, later = Finds(None), Finds({"order_id": "A1", "status": "paid"}), Finds({"order_id": "A1"})
    # registered in this order, asked in pluggy's (the last registered first)
    lookups = host(("later", later), ("nonsense", Nonsense()), ("found", found), ("hangs", Hangs()),
                   ("broken", Broken()), ("nothing", nothing))
    assert lookups.order_lookup_plugins() == ("nothing", "broken", "hangs", "found", "nonsense", "later")
    result = await lookups.order_lookup(None, "A1", {"id": 7}, timeout=0.05)  # type: ignore[arg-type]
    assert result.order == {"order_id": "A1", "status": "paid"} and not result.unavailable
    assert result.failed == ("broken", "hangs", "nonsense")
    assert nothing.asked == found.asked == later.asked == [("A1", 7)]


async def test_not_found_while_a_plugin_failed_is_unavailable_not_missing():
    failing = await host(("nothing", Finds(None)), ("hangs", Hangs())).order_lookup(
        None, "A2", {"id": 8}, timeout=0.05)  # type: ignore[arg-type]
    assert failing.order is None and failing.unavailable
    missing = await host(("nothing", Finds(None))).order_lookup(None, "A2", {"id": 8}, timeout=0.05)  # type: ignore[arg-type]
    assert missing.order is None and not missing.unavailable
    assert host().order_lookup_plugins() == ()


async def test_live_context_names_the_plugins_that_failed():
    both = host(("crm", Context(fail=False)), ("erp", Context(fail=True)))
    live = await both.live_context(None, {"id": 9}, timeout=0.05)  # type: ignore[arg-type]
    assert live.context == {"orders": [{"order_id": "X1"}]} and live.failed == ("erp",)
    assert await both.customer_context(None, {"id": 9}, timeout=0.05) == live.context  # type: ignore[arg-type]
