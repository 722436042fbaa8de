"""One desk for three widget sites (one in English, one in traditional Chinese) against one
in-process gateway: entries scoped to a site, each site's menu, welcome questions, greeting,
default group, and every text its customers read in its language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from structlog.testing import capture_logs

from csgw.api import hookimpl
from csgw.gateway.models import Conversation
from csgw.gateway.texts import text
from csgw.testing import RunningGateway, running_gateway
from tests.gateway.helpers import AgentClient, Visitor, add_agent
from tests.plugins.reply.test_scopes import SITES_KB

pytestmark = pytest.mark.asyncio(loop_scope="module")

SITES = [
    {"plugin": "webchat", "account": "shoes", "default_group": "鞋", "welcome": ["运费怎么算", "多久发货"]},
    {"plugin": "webchat", "account": "intl", "language": "en", "default_group": "intl"},
    # nobody is in 無人組: its hand-overs go to [assignment] default_group instead
    {"plugin": "webchat", "account": "hk", "language": "zh-Hant", "default_group": "無人組"},
]
HK_QUESTIONS = ["門市幾點開門？", "可以寄到澳門嗎？"]


class SiteQuestions:
    """The shop's own welcome questions for one site; its service is down for another."""

    @hookimpl
    def csgw_suggested_questions(self, account: str) -> list[str] | None:
        if account == "intl":
            raise RuntimeError("the shop's question service is down")
        return HK_QUESTIONS if account == "hk" else None


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def desk(tmp_path_factory) -> AsyncIterator[tuple[RunningGateway, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("sites")
    (folder / "kb.yaml").write_text(SITES_KB, encoding="utf-8")
    async with running_gateway(folder, channels=SITES, reply={"knowledge_base": str(folder / "kb.yaml")},
                               assignment={"default_group": "general"},
                               texts={"zh-Hant": {"webchat.greeting": "歡迎光臨港店！"}},
                               extra_plugins=[("site_questions", SiteQuestions())]) as gw:
        tokens = {}
        for name, group, room in (("lily", "鞋", 5), ("gina", "general", 5), ("emma", "intl", 1)):
            tokens[name] = (await add_agent(name, skills=[group], status="online", max_concurrent=room))[1]
        yield gw, tokens


@pytest_asyncio.fixture(loop_scope="module")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def said(sender: str):
    return lambda frame: frame["type"] == "message" and frame["from"] == sender


async def visit(session: aiohttp.ClientSession, gw: RunningGateway, site: str, visitor: str) -> Visitor:
    return await Visitor(session, gw.url, visitor, site=site).connect()


async def ask(visitor: Visitor, client_id: str, question: str, sender: str = "bot") -> dict[str, Any]:
    await visitor.say(client_id, question)
    return await visitor.receive_until(said(sender))


def labels(frame: dict[str, Any]) -> list[str]:
    return [choice["label"] for choice in frame.get("choices", ())]


async def test_each_site_says_hello_in_its_language_with_its_welcome_questions(desk, session):
    gw, _ = desk
    shoes = await visit(session, gw, "shoes", "visitor-shoes-hello")
    assert shoes.hello["config"] | {"color": None} == {
        "title": "在线客服", "greeting": "您好！有什么可以帮您？", "language": "zh-Hans",
        "welcome": ["运费怎么算", "多久发货"], "logo": None, "position": "right", "color": None}
    with capture_logs() as logged:
        intl = await visit(session, gw, "intl", "visitor-intl-hello")
    config = intl.hello["config"]
    assert (config["title"], config["greeting"], config["language"]) == (
        "Chat with us", "Hello! How can we help you?", "en")
    # the shop's plugin failed for this site: the site's own menu offers its questions instead
    assert config["welcome"] == ["多久发货？", "Do you ship abroad?", "运费怎么算？"]
    assert any(event["event"] == "suggested questions failed" and event["account"] == "intl" for event in logged)
    hk = await visit(session, gw, "hk", "visitor-hk-hello")
    assert hk.hello["config"]["greeting"] == "歡迎光臨港店！" and hk.hello["config"]["title"] == "線上客服"
    assert hk.hello["config"]["welcome"] == HK_QUESTIONS
    await shoes.say("s1", "多久发货")
    again = await visit(session, gw, "shoes", "visitor-shoes-hello")
    assert again.hello["config"]["welcome"] == []  # asking already: no questions offered again
    for visitor in (shoes, intl, hk, again):
        await visitor.close()


async def test_a_scoped_entry_answers_on_its_site_and_each_site_has_its_menu(desk, session):
    gw, _ = desk
    shoes = await visit(session, gw, "shoes", "visitor-shoes-menu")
    hk = await visit(session, gw, "hk", "visitor-hk-menu")
    assert (await ask(shoes, "s1", "鞋码怎么选"))["text"] == "鞋码偏大，建议选小一码。"
    elsewhere = await ask(hk, "h1", "鞋码怎么选")
    assert "鞋码偏大" not in elsewhere["text"] and elsewhere["text"].endswith("回覆 9 轉人工客服")
    assert (await ask(hk, "h2", "可以門市自取嗎"))["text"] == "可以，銅鑼灣門市自取。"
    assert labels(await ask(shoes, "s2", "你好")) == ["物流", "鞋码"]
    top = await ask(hk, "h3", "你好")
    assert top["text"].startswith("您好！很高興為您服務～") and labels(top) == ["物流", "門市"]
    for visitor in (shoes, hk):
        await visitor.close()


async def test_a_site_hands_over_to_its_group_and_a_group_nobody_serves_is_passed_over(desk, session):
    gw, _ = desk
    shoes = await visit(session, gw, "shoes", "visitor-shoes-person")
    asked = await shoes.say("s1", "人工")
    assert (await shoes.receive_until(said("bot")))["text"] == "正在为您转接人工客服，请稍候～"
    assert (await shoes.receive_until(said("system")))["text"] == text("handover.assigned", "zh-Hans", agent="Lily")
    assert (await Conversation.get(id=asked["conversation_id"])).group == "鞋"  # not [assignment]'s general

    hk = await visit(session, gw, "hk", "visitor-hk-person")
    asked = await hk.say("h1", "可以門市自取嗎")
    await hk.receive_until(said("bot"))
    assert (await ask(hk, "h2", "人工"))["text"] == "正在為您轉接人工客服，請稍候～"
    assert (await hk.receive_until(said("system")))["text"] == text("handover.assigned", "zh-Hant", agent="Gina")
    conversation = await Conversation.get(id=asked["conversation_id"])
    assert (conversation.state, conversation.group) == ("assigned", "general")
    assert (await ask(hk, "h3", "結束", "system"))["text"] == text("conversation.closed", "zh-Hant")
    for visitor in (shoes, hk):
        await visitor.close()


async def test_the_english_site_reads_english_from_menu_to_survey(desk, session):
    gw, tokens = desk
    emma = AgentClient(session, gw.url, tokens["emma"])
    first = await visit(session, gw, "intl", "visitor-intl-first")
    menu = await ask(first, "e1", "hello")
    assert menu["text"].startswith("Hello! Happy to help.\nReply with a number to choose a topic:")
    assert labels(menu) == ["物流", "International"]
    assert (await ask(first, "e2", "Do you ship abroad?"))["text"] == "We ship to 30 countries."
    assert (await ask(first, "e3", "运费怎么算"))["text"] == "Free shipping over 99 yuan."
    missed = await ask(first, "e4", "鞋码怎么选")
    assert "鞋码偏大" not in missed["text"] and missed["text"].endswith("reply 9 to talk to a person")

    handed = await first.say("e5", "human")
    assert (await first.receive_until(said("bot")))["text"] == "Connecting you with a person, please wait a moment."
    assert (await first.receive_until(said("system")))["text"] == text("handover.assigned", "en", agent="Emma")
    conversation_id = handed["conversation_id"]
    assert (await Conversation.get(id=conversation_id)).group == "intl"

    second = await visit(session, gw, "intl", "visitor-intl-second")  # Emma has room for one
    waiting = await second.say("q1", "I want a human")
    await second.receive_until(said("bot"))
    assert (await second.receive_until(said("system")))["text"] == text("handover.queued", "en", ahead=0, minutes=5)

    await emma.call("POST", f"/conversations/{conversation_id}/messages", {"text": "Happy to help!"}, expect=201)
    await emma.call("POST", f"/conversations/{conversation_id}/close", expect=200)
    assert (await first.receive_until(said("system")))["text"] == text("conversation.closed", "en")
    await first.receive_until(lambda frame: frame["type"] == "survey")
    assert (await second.receive_until(said("system")))["text"] == text("handover.assigned", "en", agent="Emma")
    assert (await Conversation.get(id=waiting["conversation_id"])).agent_id is not None

    thanks = await ask(first, "e6", "5", "system")
    assert thanks["text"] == text("survey.thanks", "en") + text("survey.comment_invite", "en")
    assert (await ask(first, "e7", "great service", "system"))["text"] == text("survey.comment_thanks", "en")

    await emma.call("PUT", "/me/status", {"status": "away"}, expect=200)  # nobody of intl online now
    third = await visit(session, gw, "intl", "visitor-intl-third")
    await third.say("t1", "human")
    await third.receive_until(said("bot"))
    assert (await third.receive_until(said("system")))["text"] == text("handover.offline", "en")
    for visitor in (first, second, third):
        await visitor.close()
