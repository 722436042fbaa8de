"""Binding customers to the shop's own account id: codes sent on any channel, the widget's
verified identity, the agent API; binding to a taken id merges; live context from plugins."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from datetime import timedelta

import aiohttp
from tortoise import Tortoise

from csgw.gateway.binding import make_code
from csgw.gateway.clock import now
from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.models import Conversation, Customer, CustomerIdentity
from csgw.gateway.storage.db import (
    close_database,
    current_connection,
    open_database,
    tortoise_config,
)
from csgw.gateway.storage.migrations import CURRENT_VERSION, current_version
from csgw.plugins import binding
from csgw.plugins.webchat.identity import sign_visitor
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, Visitor, add_agent, wait_for_condition
from tests.routing.conftest import SHOP, SLOW_TIMERS, ScriptedRepliesPlugin, Shop, shop

SECRET = "binding-secret"
SITE_SECRET = "site-secret"
CHANNELS = [*SHOP, {"plugin": "webchat", "account": "site", "identity_secret": SITE_SECRET}]
BINDING = {"binding_secret": SECRET}


async def test_wechat_code_and_verified_widget_end_as_one_customer_with_all_history(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url, channels=CHANNELS, customers=BINDING) as s:
        _, token = await add_agent("a")
        agent = AgentClient(s.session, s.gw.url, token)
        minted = await agent.call("POST", "/customers/binding-code", {"shop_user_id": "member-1001"}, expect=201)
        assert minted["message"] == f"绑定 {minted['code']}" and minted["shop_user_id"] == "member-1001"

        first = await s.say("wx-openid-1", "问一下尺码")  # a WeChat-like customer, unknown to the shop
        await s.say("wx-openid-1", minted["message"])
        await s.wait_text("wx-openid-1", "已绑定您的会员账号")
        wechat_customer = await Customer.get(id=first.customer_id)
        assert wechat_customer.shop_user_id == "member-1001"

        # The same shopper, logged in on the shop's site: the widget's signed visitor id is their account.
        visitor = await Visitor(s.session, s.gw.url, "member-1001", site="site",
                                sig=sign_visitor(SITE_SECRET, "member-1001")).connect()
        try:
            await visitor.say("c1", "问一下发货")
            await visitor.receive_until(lambda f: f["type"] == "message" and f["text"] == "机器人的回答")
        finally:
            await visitor.close()
        widget = await CustomerIdentity.get(channel="webchat", account="site", platform_user_id="member-1001")
        assert await Customer.get_or_none(id=wechat_customer.id) is None  # merged into the widget's customer
        again = await s.say("wx-openid-1", "问一下退货")
        assert again.customer_id == widget.customer_id

        profile = await agent.call("GET", f"/customers/{widget.customer_id}", expect=200)
        assert profile["shop_user_id"] == "member-1001"
        assert {(i["channel"], i["platform_user_id"]) for i in profile["identities"]} == {
            ("fake", "wx-openid-1"), ("webchat", "member-1001")}
        customer_texts = [(m["channel"], m["text"]) for m in profile["history"] if m["sender"] == "customer"]
        assert customer_texts == [("fake", "问一下尺码"), ("fake", minted["message"]), ("webchat", "问一下发货"),
                                  ("fake", "问一下退货")]
        assert "已绑定您的会员账号。" in [m["text"] for m in profile["history"]]
        assert {c["channel"] for c in profile["conversations"]} == {"fake", "webchat"}
        assert profile["context"] == {}


def documented_code(shop_user_id: str, expiry: int) -> str:
    """The format gateway/binding.py documents, computed independently."""
    digest = hmac.new(SECRET.encode(), f"{shop_user_id}{expiry}".encode(), hashlib.sha256).digest()
    return f"{shop_user_id}-{expiry}-{base64.b32encode(digest).decode().rstrip('=')[:16]}"


async def test_codes_wrong_expired_or_for_another_account_are_refused(tmp_path):
    async with shop(tmp_path, customers=BINDING) as s:
        expiry = int((now() + timedelta(hours=1)).timestamp())
        assert make_code(SECRET, "shop-7", now() + timedelta(hours=1)) == documented_code("shop-7", expiry)
        conversation = await s.say("u1", "问一下")
        await s.say("u1", f"绑定 {documented_code('shop-7', expiry)[:-2]}AA")
        await s.wait_text("u1", "绑定码无效")
        past = int((now() - timedelta(seconds=5)).timestamp())
        await s.say("u1", f"綁定 {documented_code('shop-7', past)}")
        await s.wait_text("u1", "绑定码已过期")
        assert (await Customer.get(id=conversation.customer_id)).shop_user_id is None
        await s.say("u1", f"bind: {documented_code('shop-7', expiry).lower()}")  # pasted in lower case
        await s.wait_text("u1", "已绑定您的会员账号")
        await s.say("u1", f"绑定 {documented_code('shop-8', expiry)}")
        await s.wait_text("u1", "您已绑定其他会员账号")
        assert (await Customer.get(id=conversation.customer_id)).shop_user_id == "shop-7"


async def test_code_sent_while_an_agent_has_the_chat_is_still_answered(tmp_path):
    async with shop(tmp_path, customers=BINDING) as s:
        a, _ = await add_agent("a", status="online")
        conversation = await s.say("u1", "转人工")
        assert conversation.agent_id == a.id
        await s.say("u1", "绑定 " + make_code(SECRET, "shop-9", now() + timedelta(minutes=5)))
        await s.wait_text("u1", "已绑定您的会员账号")
        assert (await Customer.get(id=conversation.customer_id)).shop_user_id == "shop-9"
        assert (await Conversation.get(id=conversation.id)).agent_id == a.id


async def test_without_a_secret_codes_are_off(tmp_path):
    async with shop(tmp_path) as s:
        _, token = await add_agent("a")
        agent = AgentClient(s.session, s.gw.url, token)
        refused = await agent.call("POST", "/customers/binding-code", {"shop_user_id": "x"}, expect=409)
        assert refused["error"]["code"] == "binding_disabled"
        await s.say("u1", "问 绑定 abc")
        await s.wait_text("u1", "机器人的回答")  # not taken for a code: other handlers answer


async def test_agent_binds_by_patch_and_a_taken_id_merges(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url, customers=BINDING) as s:
        _, token = await add_agent("a")
        agent = AgentClient(s.session, s.gw.url, token)
        one = await s.say("u1", "问一下")
        two = await s.say("u2", "问一下")
        await agent.call("PATCH", f"/customers/{one.customer_id}", {"shop_user_id": "s-1", "tags": ["老客"]}, expect=200)
        merged = await agent.call("PATCH", f"/customers/{two.customer_id}", {"shop_user_id": "s-1"}, expect=200)
        assert merged["id"] == two.customer_id and merged["shop_user_id"] == "s-1" and merged["tags"] == ["老客"]
        assert {i["platform_user_id"] for i in merged["identities"]} == {"u1", "u2"}
        assert await Customer.get_or_none(id=one.customer_id) is None
        # Both were open on the shop's thread: the customer keeps the newer one open.
        assert await Conversation.filter(customer_id=two.customer_id, state__not="closed").values_list(
            "id", flat=True) == [two.id]
        bad = await agent.call("PATCH", f"/customers/{two.customer_id}", {"shop_user_id": "has space"}, expect=422)
        assert bad["error"]["code"] == "bad_shop_user_id"
        await agent.call("PATCH", f"/customers/{two.customer_id}", {"shop_user_id": 5}, expect=422)
        await agent.call("POST", "/customers/binding-code", {"shop_user_id": "x", "ttl_seconds": 0}, expect=422)
        unbound = await agent.call("PATCH", f"/customers/{two.customer_id}", {"shop_user_id": None}, expect=200)
        assert unbound["shop_user_id"] is None


class ShopOrders:
    """A shop's plugin: live orders by shop account; one broken plugin and one that never answers."""

    @hookimpl
    async def csgw_customer_context(self, services, customer):
        return {"orders": [{"id": "A-1", "for": customer["shop_user_id"]}], "level": "gold"}


class BrokenContext:
    @hookimpl
    def csgw_customer_context(self, services, customer):
        raise RuntimeError("shop API down")


class HangingContext:
    def __init__(self) -> None:
        self.never = asyncio.Event()

    @hookimpl
    async def csgw_customer_context(self, customer):
        await self.never.wait()
        return {"level": "never shown"}


async def test_customer_context_merges_plugins_and_survives_errors_and_timeouts(tmp_path):
    plugins = [("scripted_replies", ScriptedRepliesPlugin()), ("shop_orders", ShopOrders()),
               ("broken_context", BrokenContext()), ("hanging", HangingContext())]
    async with running_gateway(tmp_path, channels=SHOP, extra_plugins=plugins, assignment=SLOW_TIMERS,
                               customers={"context_timeout_seconds": 0.2}) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("a")
        conversation = await Shop(gw, session).say("u1", "问一下")
        agent = AgentClient(session, gw.url, token)
        await agent.call("PATCH", f"/customers/{conversation.customer_id}", {"shop_user_id": "s-2"}, expect=200)
        profile = await agent.call("GET", f"/customers/{conversation.customer_id}", expect=200)
        assert profile["context"] == {"orders": [{"id": "A-1", "for": "s-2"}], "level": "gold"}


async def test_an_older_database_gains_the_column_and_its_unique_index(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        conversation = await s.say("u1", "问一下")
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        # A schema-2 database: the customer table without shop_user_id.
        await current_connection().execute_script(
            'CREATE TABLE "customer_old" AS SELECT "id", "name", "tags", "vip", "exclusive_agent_id", "state", '
            '"notes", "orders", "created_at", "updated_at" FROM "customer"; DROP TABLE "customer"; '
            'ALTER TABLE "customer_old" RENAME TO "customer"; UPDATE "csgw_schema_version" SET "version" = 2')
    finally:
        await close_database()
    await open_database(database_url)  # upgrades at start
    try:
        assert await current_version() == CURRENT_VERSION
        await Customer.filter(id=conversation.customer_id).update(shop_user_id="s-3")
        twin = await Customer.create(id=999, name="twin")  # the copied table has no id sequence
        try:
            await Customer.filter(id=twin.id).update(shop_user_id="s-3")
        except Exception as error:  # the unique index holds
            assert "unique" in str(error).lower()
        else:
            raise AssertionError("a second customer took the same shop_user_id")
    finally:
        await close_database()


async def test_verified_binding_waits_for_nothing_but_the_message(tmp_path):
    """An unsigned site (no identity_secret) never binds its visitors."""
    channels = [{"plugin": "webchat", "account": "open"}]
    async with shop(tmp_path, channels=channels) as s:
        visitor = await Visitor(s.session, s.gw.url, "visitor-0001", site="open").connect()
        try:
            await visitor.say("c1", "问一下")
        finally:
            await visitor.close()
        identity = await CustomerIdentity.get(channel="webchat", platform_user_id="visitor-0001")

        async def stored() -> bool:
            return await Customer.exists(id=identity.customer_id)

        await wait_for_condition(stored)
        assert (await Customer.get(id=identity.customer_id)).shop_user_id is None
        assert "verified_shop_user_id" not in identity.profile


async def test_a_visitor_first_seen_on_an_unsigned_site_is_bound_once_the_site_signs(tmp_path):
    """The verification travels with each message, not only with the identity's first profile."""

    async def chat(s: Shop, client_id: str, **signature: str) -> None:
        visitor = await Visitor(s.session, s.gw.url, "member-2002", site="site", **signature).connect()
        try:
            await visitor.say(client_id, "问一下发货")
            await visitor.receive_until(lambda f: f["type"] == "message" and f["text"] == "机器人的回答")
        finally:
            await visitor.close()

    async with shop(tmp_path, channels=[{"plugin": "webchat", "account": "site"}]) as s:
        await chat(s, "c1")
    async with shop(tmp_path, channels=CHANNELS) as s:
        await chat(s, "c2", sig=sign_visitor(SITE_SECRET, "member-2002"))
        identity = await CustomerIdentity.get(channel="webchat", account="site", platform_user_id="member-2002")
        assert "verified_shop_user_id" not in identity.profile  # stored while the site was unsigned
        assert (await Customer.get(id=identity.customer_id)).shop_user_id == "member-2002"


async def test_a_message_recovered_after_a_restart_binds_from_the_stored_identity(tmp_path):
    """With no profile from the channel (recovery), the identity's stored profile decides."""
    async with shop(tmp_path, channels=CHANNELS) as s:
        visitor = await Visitor(s.session, s.gw.url, "member-4004", site="site",
                                sig=sign_visitor(SITE_SECRET, "member-4004")).connect()
        try:
            ack = await visitor.say("c1", "问一下发货")
            await visitor.receive_until(lambda f: f["type"] == "message" and f["text"] == "机器人的回答")
        finally:
            await visitor.close()
        identity = await CustomerIdentity.get(channel="webchat", account="site", platform_user_id="member-4004")
        await Customer.filter(id=identity.customer_id).update(shop_user_id=None)  # as if never bound
        binder = binding._binders[id(s.services)]
        binder.checked.clear()  # a new process has checked nobody

        message = {"conversation_id": ack["conversation_id"], "channel": "webchat", "account": "site",
                   "direction": "in", "text": "问一下发货"}
        await binding.csgw_message_received(services=s.services, message=message, profile=None)

        assert (await Customer.get(id=identity.customer_id)).shop_user_id == "member-4004"
