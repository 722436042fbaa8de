"""The whole path in a real Chromium over the real gateway: widget visitor, bot, console agent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import entry_points
from pathlib import Path

import aiohttp
from playwright.async_api import Browser, Page, expect

import csgw.plugins.console as console_plugin
from csgw.gateway.models import Agent, Conversation
from csgw.testing import RunningGateway, running_gateway
from tests.gateway.helpers import AgentClient, Visitor, add_agent
from tests.ui.conftest import PHONE

WEBCHAT = [{"plugin": "webchat", "account": "default"}]
RETURNS = "收到商品7天内、吊牌完好可无理由退换，请在订单页申请售后。"


def console_plugins() -> list[tuple[str, object]]:
    """The console plugin, unless the installed package already registers it by entry point."""
    registered = {ep.value for ep in entry_points(group="csgw")}
    return [] if "csgw.plugins.console" in registered else [("console", console_plugin)]


@asynccontextmanager
async def gateway(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    async with running_gateway(tmp_path, channels=WEBCHAT, extra_plugins=console_plugins()) as gw:
        yield gw


async def phone_page(browser: Browser) -> Page:
    context = await browser.new_context(viewport=PHONE)
    return await context.new_page()


async def sign_in(page: Page, url: str, token: str) -> None:
    await page.goto(url + "/console/")
    await page.locator("#token-input").fill(token)
    await page.locator("#signin-form button[type=submit]").click()
    await expect(page.locator("#app")).to_be_visible()
    await expect(page.locator("#live.up")).to_be_visible()


async def visitor_says(page: Page, text: str) -> None:
    box = page.locator("textarea")
    await box.fill(text)
    await box.press("Enter")


async def test_visitor_bot_agent_reply_reload_and_survey(tmp_path, browser: Browser, artifacts: Path):
    async with gateway(tmp_path) as gw:
        _, token = await add_agent("alice", status="away")
        # she chose away last time: signing in keeps her away, so the conversation waits in the queue
        await Agent.filter(name="alice").update(chosen_status="away")
        agent = await phone_page(browser)
        agent.on("dialog", lambda dialog: dialog.accept())
        await sign_in(agent, gw.url, token)

        visitor = await phone_page(browser)
        await visitor.goto(gw.url + "/widget/demo")
        await visitor.locator(".launcher").click()
        await expect(visitor.locator(".title")).to_have_text("在线客服")

        # A knowledge-base question: the bot answers.
        await visitor_says(visitor, "下单后多久发货呀")
        await expect(visitor.locator(".msg.bot:not(.greeting) .bubble").last).to_contain_text("48小时")

        # Something the bot cannot answer; the visitor asks for a person: queued, seen live in the console.
        await visitor_says(visitor, "我的快递显示签收了但我没收到")
        await expect(visitor.locator(".msg.bot .bubble").last).not_to_contain_text("48小时")
        await visitor_says(visitor, "人工客服")
        await expect(visitor.locator(".msg.system .bubble").last).to_contain_text("客服")
        await agent.locator("[data-tab=queue]").click()
        item = agent.locator(".conv-item")
        await expect(item).to_have_count(1)
        await expect(item.locator(".waiting")).to_be_visible()
        await expect(item.locator(".unread")).to_have_text("3")
        await agent.screenshot(path=artifacts / "console-inbox-360.png")

        await item.click()
        messages = agent.locator("#conversation .msg")
        await expect(messages.filter(has_text="我的快递显示签收了但我没收到")).to_have_count(1)
        await expect(messages.filter(has_text="48小时")).to_have_count(1)
        # why the bot did not answer: the decision and the candidates it weighed
        await expect(agent.locator("#conversation .msg.from-bot .why").last).to_contain_text("依据")
        await agent.locator("#conversation .take").click()
        await expect(agent.locator(".conv-head .state")).to_have_text("已接入")
        await expect(visitor.locator(".joined")).to_contain_text("Alice")

        await agent.locator("#reply").fill("您好，我是Alice，马上帮您查")
        await agent.locator("#reply").press("Enter")
        await expect(agent.locator("#reply")).to_have_value("")
        await expect(messages.filter(has_text="马上帮您查")).to_have_count(1)
        reply = visitor.locator(".msg.agent").last
        await expect(reply.locator(".bubble")).to_have_text("您好，我是Alice，马上帮您查")
        await expect(reply.locator(".name")).to_have_text("Alice")
        await agent.screenshot(path=artifacts / "console-conversation-360.png")
        await visitor.screenshot(path=artifacts / "widget-agent-reply-360.png")

        # A reload shows the whole history once, in order.
        await visitor.reload()
        bubbles = visitor.locator(".msg:not(.greeting) .bubble")
        await expect(bubbles.filter(has_text="马上帮您查")).to_have_count(1)
        texts = await bubbles.all_inner_texts()
        order = [next(i for i, t in enumerate(texts) if needle in t)
                 for needle in ("多久发货", "48小时", "我的快递", "马上帮您查")]
        assert order == sorted(order), texts

        # The agent closes: the console says why the reply box is off, the visitor is asked to rate.
        await agent.locator("#conversation .close").click()
        await expect(agent.locator(".reply .blocked")).to_have_text("会话已结束，无法回复")
        await expect(agent.locator("#reply")).to_be_disabled()
        stars = visitor.locator(".star")
        await expect(stars).to_have_count(5)
        await stars.nth(3).click()
        await expect(visitor.locator(".survey")).to_contain_text("感谢您的评价")
        conversation = await Conversation.filter(state="closed").first()
        assert conversation is not None and conversation.satisfaction == 4

        # Under the stars, a comment (optional): sent with the score, shown to the agent at once.
        comment = visitor.locator(".survey textarea")
        await expect(comment).to_have_attribute("placeholder", "还有什么想对我们说的？（选填）")
        await expect(visitor.locator(".survey button[type=submit]")).to_be_disabled()
        await comment.fill("回复很快，谢谢 Alice")
        await visitor.screenshot(path=artifacts / "widget-survey-360.png")
        await comment.press("Enter")
        await expect(visitor.locator(".survey .commented")).to_have_text("已收到您的留言，谢谢！")
        await expect(visitor.locator(".survey textarea")).to_have_count(0)
        rating = agent.locator("#conversation .rating")
        await expect(rating.locator(".score")).to_have_text("客户评价 4/5")
        await expect(rating.locator(".comment")).to_have_text("回复很快，谢谢 Alice")
        stored = await Conversation.get(id=conversation.id)
        assert (stored.satisfaction, stored.satisfaction_comment) == (4, "回复很快，谢谢 Alice")
        await agent.screenshot(path=artifacts / "console-rating-360.png")


async def test_console_status_switch_and_new_assignment_notice(tmp_path, browser: Browser, artifacts: Path):
    async with gateway(tmp_path) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("bob", status="away")
        await Agent.filter(name="bob").update(chosen_status="away")  # so signing in keeps him away
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        agent = await context.new_page()
        await sign_in(agent, gw.url, token)
        await agent.locator("#status").select_option("online")
        await expect(agent.locator("#status.st-online")).to_be_visible()

        customer = await Visitor(session, gw.url, "visitor-e2e-0001").connect()
        await customer.say("c1", "人工客服")
        await expect(agent.locator("#toast")).to_contain_text("新会话分配给您")
        mine = agent.locator("[data-tab=mine] .count")
        await expect(mine).to_contain_text("1")
        await agent.locator(".conv-item").first.click()
        await expect(agent.locator("#reply")).to_be_focused()

        # Keyboard: Esc leaves the reply box, digits switch lists, ? shows the shortcuts.
        await agent.keyboard.press("Escape")
        await agent.keyboard.press("2")
        await expect(agent.locator("[data-tab=queue]")).to_have_attribute("aria-selected", "true")
        await agent.keyboard.press("1")
        await expect(agent.locator("[data-tab=mine]")).to_have_attribute("aria-selected", "true")
        await agent.keyboard.press("?")
        await expect(agent.locator("#help-dialog")).to_be_visible()
        await agent.keyboard.press("Escape")
        await expect(agent.locator("#help-dialog")).to_be_hidden()
        await agent.keyboard.press("r")
        await expect(agent.locator("#reply")).to_be_focused()
        await expect(agent.locator("#profile h2")).to_contain_text("客户资料")
        await agent.locator("#profile input[name=tags]").fill("老客户, 退货")
        await agent.locator("#profile button[type=submit]").click()
        await expect(agent.locator("#profile .tag")).to_have_text(["老客户", "退货"])

        # Canned replies: search them and drop one into the reply box (tests/ui/test_desk_tools.py
        # has the rest).
        await AgentClient(session, gw.url, token).call("POST", "/canned", {
            "title": "怎么退货", "shortcut": "/退货", "text": RETURNS}, expect=201)
        await agent.locator("#reply").press("Control+k")
        await agent.locator(".canned-search").fill("退货")
        await expect(agent.locator(".canned-results li.active .title")).to_have_text("怎么退货")
        await agent.locator(".canned-search").press("Enter")
        await expect(agent.locator(".canned")).to_have_count(0)
        await expect(agent.locator("#reply")).to_have_value(RETURNS)
        await agent.screenshot(path=artifacts / "console-desktop.png")
        await customer.close()
        await context.close()
