"""The bot serves orders, through one in-process gateway with the demo knowledge base, a fake
shop API on a loopback port and the shop's plugin calling it: a bound customer's one order and
several (picked by number), an unknown customer's order number, not found, a bad state handed
over with priority and a note, a slow and a failing shop API, the knowledge base's questions left
to it, and a customer looking up too many numbers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from structlog.testing import capture_logs

from csgw.gateway.binding import make_code
from csgw.gateway.clock import now
from csgw.gateway.messages import InboundMessage
from csgw.gateway.models import Conversation, Message
from csgw.testing import RunningGateway, running_gateway
from tests.fakes.shop_api import FakeShopApi, ShopApiPlugin
from tests.gateway.helpers import AgentClient, add_agent

pytestmark = pytest.mark.asyncio(loop_scope="module")

SECRET = "orders-binding-secret"
TIMEOUT = 1.5  # [customers] context_timeout_seconds: what a hanging shop API costs a test
PRIORITY = 12  # [orders] handover_priority, above the payment lane's 7 that "没到账" also hits


@dataclass
class Answer:
    conversation: Conversation
    replies: list[Message]

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.replies)

    @property
    def bot(self) -> Message:
        return next(reply for reply in self.replies if reply.sender == "bot")


def waits_for(answer: Answer) -> dict[str, Any]:
    """What the order bot waits for, without the digest of the rest of the memory."""
    return {k: v for k, v in answer.conversation.bot_state["orders"].items() if k != "others"}


class Desk:
    def __init__(self, gw: RunningGateway, shop: FakeShopApi, agent: AgentClient) -> None:
        self.gw, self.shop, self.agent, self.counter = gw, shop, agent, 0

    async def ask(self, user: str, text: str) -> Answer:
        """The customer writes; once the gateway has dealt with it, what it answered."""
        self.counter += 1
        services = self.gw.services
        accepted = await services.accept(InboundMessage("fake", "shop", user, text, f"{user}-{self.counter}"))
        await services.pipeline.drain()
        replies = await Message.filter(reply_to_id=accepted.message_id).order_by("id")
        return Answer(await Conversation.get(id=accepted.conversation_id), replies)

    async def bind(self, user: str, member: str) -> None:
        code = make_code(SECRET, member, now() + timedelta(minutes=5))
        assert "已绑定您的会员账号" in (await self.ask(user, f"绑定 {code}")).text

    def order(self, order_no: str, member: str | None = None, **fields: Any) -> dict[str, Any]:
        self.shop.orders[order_no] = {"order_id": order_no, **fields}
        if member is not None:
            self.shop.members.setdefault(member, []).append(order_no)
        return self.shop.orders[order_no]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def desk(tmp_path_factory) -> AsyncIterator[Desk]:
    async with FakeShopApi() as shop, running_gateway(
        tmp_path_factory.mktemp("orders"), channels=[{"plugin": "fake", "account": "shop"}],
        extra_plugins=[("shop_api", ShopApiPlugin(shop.base_url))],
        server={"timezone": "Asia/Shanghai"},
        customers={"binding_secret": SECRET, "context_timeout_seconds": TIMEOUT},
        orders={"handover_priority": PRIORITY, "lookups_per_hour": 3},
        assignment={"tick_seconds": 60}, escalation={"tick_seconds": 300},
    ) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("anna", status="online")
        yield Desk(gw, shop, AgentClient(session, gw.url, token))


async def test_a_bound_customer_with_one_order_gets_status_carrier_tracking_and_eta(desk):
    desk.order("A20261101", "m-one", status="shipped", title="羊毛围巾", carrier="顺丰", tracking_no="SF1234567890",
               eta="2026-11-28T02:00:00+00:00")
    await desk.bind("u-one", "m-one")
    answer = await desk.ask("u-one", "我的订单到哪了")
    assert answer.text == "订单 A20261101：已发货\n商品：羊毛围巾\n快递：顺丰 SF1234567890\n预计送达：2026-11-28 10:00"
    assert answer.bot.payload["source"] == "orders" and answer.bot.payload["entry_id"] == "orders:status"
    assert answer.conversation.state == "bot" and "m-one" in desk.shop.requests
    tracking = await desk.ask("u-one", "快遞單號是多少")  # traditional characters read the same
    assert "快递：顺丰 SF1234567890" in tracking.text and tracking.bot.payload["intent"] == "shipping"


async def test_several_orders_are_listed_and_the_next_number_picks_one(desk):
    desk.order("B20261001", "m-many", status="delivered", title="帆布鞋", updated_at="2026-10-02T08:00:00+08:00")
    desk.order("B20261102", "m-many", status="shipped", title="毛衣", carrier="中通", tracking_no="ZT778899",
               updated_at="2026-11-20T08:00:00+08:00")
    desk.order("B20261103", "m-many", status="to_ship", title="围巾", updated_at="2026-11-21T08:00:00+08:00")
    await desk.bind("u-many", "m-many")
    listed = await desk.ask("u-many", "查一下物流")
    assert listed.text == ("您有 3 个订单，想查哪一个？请回复序号：\n"
                           "1. B20261103（待发货）围巾\n2. B20261102（已发货）毛衣\n3. B20261001（已签收）帆布鞋")
    assert waits_for(listed) == {"ask": "choice", "intent": "shipping",
                                 "choices": ["B20261103", "B20261102", "B20261001"]}
    again = await desk.ask("u-many", "第5个")
    assert again.text == "请回复 1 到 3 之间的序号。"
    picked = await desk.ask("u-many", "2")
    assert picked.text == "订单 B20261102：已发货\n商品：毛衣\n快递：中通 ZT778899"
    assert "orders" not in picked.conversation.bot_state  # answered: the next "2" is not a choice


async def test_a_menu_the_knowledge_base_shows_meanwhile_takes_the_next_number(desk):
    desk.order("B20261201", "m-menu", status="shipped")
    desk.order("B20261202", "m-menu", status="paid")
    await desk.bind("u-menu", "m-menu")
    assert waits_for(await desk.ask("u-menu", "订单状态"))["ask"] == "choice"
    menu = await desk.ask("u-menu", "0")  # not a choice: the knowledge base shows its numbered menu
    assert menu.bot.payload["source"] != "orders" and "1." in menu.text
    after = await desk.ask("u-menu", "2")
    assert after.bot.payload["source"] != "orders"  # the menu's second item, not the second order


async def test_an_unknown_customer_is_asked_for_the_number_which_is_then_looked_up(desk):
    desk.order("C20261120001", status="topup_done", title="视频月卡")
    asked = await desk.ask("u-guest", "会员没开通")
    assert asked.text.startswith("请发送您的订单号，我来帮您查询；会员也可以发送“绑定 绑定码”")
    assert waits_for(asked) == {"ask": "number", "intent": "topup"}
    answer = await desk.ask("u-guest", "C20261120001")
    assert answer.text == ("订单 C20261120001：充值成功\n商品：视频月卡\n"
                           "如仍有问题，请回复“人工”，客服马上为您处理。")
    assert desk.shop.requests[-1] == "C20261120001"
    missing = await desk.ask("u-guest", "订单 C20269999999 到哪了")
    assert missing.text == "没有查到订单 C20269999999，请核对后重新发送；需要帮助请回复“人工”。"
    assert missing.conversation.state == "bot"


async def test_orders_on_the_profile_answer_and_the_question_picks_the_refund(desk):
    first = await desk.ask("u-profile", "你好")
    orders = [{"order_id": "P20260901", "status": "completed"}, {"order_id": "P20261001", "status": "refunding",
                                                                  "title": "羽绒服"}]
    await desk.agent.call("PATCH", f"/customers/{first.conversation.customer_id}", {"orders": orders}, expect=200)
    answer = await desk.ask("u-profile", "退款进度")
    assert answer.text == "订单 P20261001：退款中\n商品：羽绒服\n如仍有问题，请回复“人工”，客服马上为您处理。"


async def test_an_order_in_a_bad_state_goes_to_a_person_with_priority_and_a_note(desk):
    record = desk.order("D20261125", "m-bad", status="topup_failed", title="游戏点券 600")
    await desk.bind("u-bad", "m-bad")
    answer = await desk.ask("u-bad", "充值没到账")
    assert answer.bot.text == ("订单 D20261125：充值失败\n商品：游戏点券 600\n"
                               "如仍有问题，请回复“人工”，客服马上为您处理。\n这个订单需要人工处理，已为您转接客服，请稍候。")
    assert answer.bot.payload["order"] == record
    conversation = answer.conversation
    assert (conversation.state, conversation.priority) == ("assigned", PRIORITY)
    shown = await desk.agent.call("GET", f"/conversations/{conversation.id}", expect=200)
    assert shown["priority"] == PRIORITY
    messages = await desk.agent.call("GET", f"/conversations/{conversation.id}/messages", expect=200)
    [note] = [m for m in messages["items"] if m["direction"] == "note"]
    assert note["sender"] == "bot" and note["payload"]["order"] == record and note["payload"]["source"] == "orders"
    assert note["text"].startswith("订单需要人工处理（机器人已转人工） · topup\n> 充值没到账\n订单 D20261125：充值失败")
    assert '"status": "topup_failed"' in note["text"]


async def test_a_slow_or_failing_shop_api_gets_a_polite_answer(desk):
    desk.shop.hang("m-slow")
    desk.shop.hang("E20260000001")
    desk.shop.fail("F20260000002", status=500)
    await desk.bind("u-slow", "m-slow")
    sorry = "抱歉，订单系统暂时查询不到，请稍后再试；着急的话请回复“人工”。"
    with capture_logs() as logged:
        assert (await desk.ask("u-slow", "我的订单到哪了")).text == sorry  # its orders: no answer in time
        assert (await desk.ask("u-slow", "订单E20260000001到哪了")).text == sorry  # the lookup hangs too
        failing = await desk.ask("u-late", "F20260000002 发货了吗")  # the lookup answers 500
    assert failing.text == sorry and failing.conversation.state == "bot"
    failures = sorted((e["event"], e["plugin"]) for e in logged if e["event"].endswith("failed"))
    # asked at once when a number is given: a hanging shop costs one time limit, not two
    assert failures == [("customer context failed", "shop_api")] * 2 + [("order lookup failed", "shop_api")] * 2
    assert "TimeoutError" in next(e["error"] for e in logged if e["event"] == "customer context failed")
    assert "500" in [e for e in logged if e["event"] == "order lookup failed"][-1]["error"]


async def test_the_knowledge_bases_questions_are_left_to_it(desk):
    desk.order("G20261101", "m-kb", status="shipped", carrier="圆通", tracking_no="YT55")
    await desk.bind("u-kb", "m-kb")
    for question in ("怎么退款", "退货流程是什么", "下单后多久发货", "支持七天无理由退货吗"):
        answer = await desk.ask("u-kb", question)
        assert answer.bot.payload["source"] != "orders", question
    assert "48小时" in (await desk.ask("u-kb", "下单后多久发货")).text
    assert "YT55" in (await desk.ask("u-kb", "我的快递到哪了")).text


async def test_a_customer_looking_up_too_many_numbers_is_slowed_down(desk):
    for number in range(3):
        answer = await desk.ask("u-guess", f"订单 H2026000000{number} 到哪了")
        assert answer.text.startswith("没有查到订单")
    refused = await desk.ask("u-guess", "订单 H20260000009 到哪了")
    assert refused.text == "查询次数太多了，请稍后再试，或回复“人工”联系客服。"
    assert "H20260000009" not in desk.shop.requests
