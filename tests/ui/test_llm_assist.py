"""The language-model assistant in the console, in a real Chromium over the real gateway and the
fake model: the hand-over summary as a note, a reply draft that only fills the box (the agent
edits and sends it), a summary on request, a failing model's message. (A desk without a model
gets `enabled: false` from GET /assist, which hides both buttons: tests/plugins/llm.)"""

from __future__ import annotations

from pathlib import Path

import aiohttp
from playwright.async_api import Browser, expect

from csgw.gateway.models import Conversation, Message
from csgw.testing import running_gateway
from tests.fakes.openai_server import FakeModel, fail
from tests.gateway.helpers import Visitor, add_agent, wait_for_condition
from tests.ui.test_end_to_end import WEBCHAT, console_plugins, sign_in

DESKTOP = {"width": 1280, "height": 800}
AUTHENTIC = "本店所有商品均为品牌官方正品，支持专柜验货，假一赔十。"


async def test_drafts_and_summaries_in_the_console(tmp_path, browser: Browser, artifacts: Path):
    async with FakeModel() as model, running_gateway(
            tmp_path, channels=WEBCHAT, extra_plugins=console_plugins(),
            llm={"base_url": model.base_url, "model": "fake-model", "timeout_seconds": 2}) as gw, \
            aiohttp.ClientSession() as session:
        _, token = await add_agent("amy", status="online")
        visitor = await Visitor(session, gw.url, "visitor-llm-1").connect()
        model.script(fail(500, "busy"))  # the customer's question: the KB's own reply stands
        await visitor.say("c1", "专柜验货吗")
        await visitor.say("c2", "转人工")
        cid = (await visitor.say("c3", "麻烦快点"))["conversation_id"]
        await visitor.close()
        await wait_for_condition(lambda: Message.filter(conversation_id=cid, direction="note").exists())

        context = await browser.new_context(viewport=DESKTOP)
        page = await context.new_page()
        await sign_in(page, gw.url, token)
        await page.goto(f"{gw.url}/console/#{cid}")
        await expect(page.locator("#conversation .msg.note")).to_contain_text("AI 摘要：顾客问了")

        box = page.locator("#reply")
        await page.locator(".draft-button").click()
        await expect(box).to_have_value(AUTHENTIC)  # the fake drafts from the KB entry nearest the question
        await expect(page.locator("#toast")).to_contain_text("authentic")
        assert not await Message.filter(conversation_id=cid, sender="agent").exists()  # only filled in
        await box.fill(AUTHENTIC + "请放心购买～")
        await box.press("Enter")
        await expect(page.locator("#conversation .msg.from-agent")).to_contain_text("请放心购买")

        await page.locator(".summary-button").click()
        await expect(page.locator(".assist-summary")).to_contain_text("顾客问了3个问题")
        await page.screenshot(path=artifacts / "llm-assist.png")
        model.script(fail(503, "overloaded"))
        await page.locator(".draft-button").click()
        await expect(page.locator("#toast.error")).to_contain_text("unavailable")
        assert (await Conversation.get(id=cid)).agent_id is not None

