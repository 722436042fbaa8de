"""A fake of a shop's own order API (a real aiohttp server on 127.0.0.1) and the shop's csgw
plugin that calls it, as a shop would write one: live orders of a member through
`csgw_customer_context`, one order by number through `csgw_order_lookup`.

    async with FakeShopApi() as shop:
        shop.orders["A1001"] = {"order_id": "A1001", "status": "shipped", ...}
        shop.members["member-1"] = ["A1001"]
        shop.hang("A2002")                  # that look-up never answers (until the fake stops)
        shop.fail("member-2", status=500)   # that member's orders answer 500
        plugin = ShopApiPlugin(shop.base_url)
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from csgw.api import Gateway, hookimpl


class FakeShopApi:
    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.members: dict[str, list[str]] = {}
        self.requests: list[str] = []
        self._hanging: set[str] = set()
        self._failing: dict[str, int] = {}
        self._released = asyncio.Event()
        app = web.Application()
        app.router.add_get("/members/{member}/orders", self._member_orders)
        app.router.add_get("/orders/{order_no}", self._order)
        self.server = TestServer(app, host="127.0.0.1")

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def hang(self, key: str) -> None:
        """Requests about `key` (a member or an order number) wait until the fake stops."""
        self._hanging.add(key)

    def fail(self, key: str, status: int = 500) -> None:
        self._failing[key] = status

    async def _held(self, key: str) -> web.Response | None:
        self.requests.append(key)
        if key in self._hanging:
            await self._released.wait()
        if key in self._failing:
            return web.json_response({"error": "internal"}, status=self._failing[key])
        return None

    async def _member_orders(self, request: web.Request) -> web.Response:
        member = request.match_info["member"]
        refused = await self._held(member)
        if refused is not None:
            return refused
        return web.json_response({"orders": [self.orders[no] for no in self.members.get(member, [])]})

    async def _order(self, request: web.Request) -> web.Response:
        order_no = request.match_info["order_no"]
        refused = await self._held(order_no)
        if refused is not None:
            return refused
        if order_no not in self.orders:
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response(self.orders[order_no])

    async def __aenter__(self) -> FakeShopApi:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._released.set()
        await self.server.close()


class ShopApiPlugin:
    """The shop's plugin: a bound member's live orders, and any order by its number."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @hookimpl
    async def csgw_customer_context(self, services: Gateway, customer: dict[str, Any]) -> dict[str, Any] | None:
        member = customer.get("shop_user_id")
        if not member or services.http is None:
            return None
        async with services.http.get(f"{self.base_url}/members/{member}/orders") as response:
            response.raise_for_status()
            return {"orders": (await response.json())["orders"], "member": member}

    @hookimpl
    async def csgw_order_lookup(self, services: Gateway, order_no: str,
                                customer: dict[str, Any]) -> dict[str, Any] | None:
        assert services.http is not None
        async with services.http.get(f"{self.base_url}/orders/{order_no}") as response:
            if response.status == 404:
                return None
            response.raise_for_status()
            found: dict[str, Any] = await response.json()
            return found
