"""The agents' daily tools in a real Chromium over the real gateway: canned replies from the
composer ("/" and Ctrl+K, filled in, never sent), internal notes inline and live, and tags with
the inbox filtered by one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page, expect

from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Conversation, Customer, Message
from csgw.testing import RunningGateway, running_gateway
from tests.gateway.helpers import AgentClient, Visitor, add_agent
from tests.ui.test_end_to_end import WEBCHAT, console_plugins, sign_in

DESKTOP = {"width": 1280, "height": 800}
REFUND = {"title": "退款进度", "shortcut": "/退款", "group": None,
          "text": "{customer_name}您好，订单 {order_no} 的退款已提交，1-3 个工作日到账。{agent_name}"}
SIZES = {"title": "尺码建议", "shortcut": "/尺码", "group": "售后", "text": "麻烦发一下身高体重，帮您推荐尺码～"}


@asynccontextmanager
async def desk(tmp_path: Path, **sections: Any) -> AsyncIterator[tuple[RunningGateway, aiohttp.ClientSession]]:
    async with running_gateway(tmp_path, channels=WEBCHAT, extra_plugins=console_plugins(), **sections) as gw, \
            aiohttp.ClientSession() as session:
        yield gw, session


async def desktop_page(browser: Browser) -> Page:
    context = await browser.new_context(viewport=DESKTOP)
    return await context.new_page()


async def waiting_customer(session: aiohttp.ClientSession, gw: RunningGateway, visitor_id: str) -> int:
    """A widget visitor who asked for a person: their conversation's id."""
    visitor = await Visitor(session, gw.url, visitor_id).connect()
    acked = await visitor.say("c1", "人工客服")
    await visitor.close()
    return acked["conversation_id"]


async def test_canned_replies_from_slash_and_ctrl_k_fill_the_box_and_send_nothing(
        tmp_path, browser: Browser, artifacts: Path):
    async with desk(tmp_path) as (gw, session):
        _, boss_token = await add_agent("sue")
        _, amy_token = await add_agent("amy", skills=["售后"], status="online", role="agent")
        boss = AgentClient(session, gw.url, boss_token)
        for body in (REFUND, SIZES, {**SIZES, "shortcut": "/尺码表", "group": "售前", "title": "别的组"}):
            await boss.call("POST", "/canned", body, expect=201)
        cid = await waiting_customer(session, gw, "visitor-ui-canned-1")
        conversation = await Conversation.get(id=cid)
        await Customer.filter(id=conversation.customer_id).update(
            name="小王", orders=[{"order_id": "E20261126", "channel": "webchat"}])

        page = await desktop_page(browser)
        await sign_in(page, gw.url, amy_token)
        await page.goto(f"{gw.url}/console/#{cid}")
        box = page.locator("#reply")
        await expect(page.locator(".conv-head")).to_contain_text("小王")

        # "/" at the start of the box: the picker, filtered as the agent types.
        await box.click()
        await box.press_sequentially("/退")
        picker = page.locator(".canned")
        await expect(picker.locator(".canned-item")).to_have_count(1)
        await expect(picker.locator(".canned-item.active .shortcut")).to_have_text("/退款")
        await page.screenshot(path=artifacts / "canned-slash.png")
        await box.press("Enter")
        await expect(picker).to_have_count(0)
        await expect(box).to_have_value("小王您好，订单 E20261126 的退款已提交，1-3 个工作日到账。Amy")
        await expect(box).to_be_focused()

        # Ctrl+K: a search box; another group's reply is not offered to this agent.
        await box.fill("")
        await box.press("Control+k")
        search = page.locator(".canned-search")
        await expect(search).to_be_focused()
        await search.fill("尺码")
        await expect(picker.locator(".canned-item .shortcut")).to_have_text(["/尺码"])
        await search.press("ArrowDown")
        await search.press("Enter")
        await expect(box).to_have_value(SIZES["text"])
        await box.press("Escape")

        # Nothing was sent: the box only ever received text to edit.
        assert not await Message.filter(conversation_id=cid, sender="agent").exists()
        # The agent sends it themself, edited.
        await box.fill("您好！" + SIZES["text"])
        await box.press("Enter")
        await expect(page.locator("#conversation .msg.from-agent")).to_have_count(1)


async def test_a_supervisor_manages_canned_replies_in_the_console(tmp_path, browser: Browser, artifacts: Path):
    async with desk(tmp_path) as (gw, _):
        _, token = await add_agent("sue")
        page = await desktop_page(browser)
        page.on("dialog", lambda dialog: dialog.accept())
        await sign_in(page, gw.url, token)
        await page.locator("#canned-manage").click()
        dialog = page.locator("#canned-dialog")
        await expect(dialog).to_be_visible()
        form = dialog.locator("#canned-form")
        await form.locator("[name=title]").fill("发货时间")
        await form.locator("[name=shortcut]").fill("/发货")
        await form.locator("[name=text]").fill("亲，")
        await form.locator(".variable[data-name=customer_name]").click()
        await form.locator("[name=text]").press("End")
        await form.locator("[name=text]").press_sequentially(" 现货 48 小时内发出 {coupon}")
        await form.locator("button[type=submit]").click()
        await expect(dialog.locator("#canned-error")).to_contain_text("unknown variable {coupon}")
        await form.locator("[name=text]").fill("{customer_name}亲，现货 48 小时内发出")
        await form.locator("button[type=submit]").click()
        await expect(dialog.locator("#canned-admin-list li")).to_have_count(1)
        await expect(dialog.locator("#canned-admin-list")).to_contain_text("/发货")
        await page.screenshot(path=artifacts / "canned-admin.png")
        await dialog.locator("#canned-delete").click()
        await expect(dialog.locator("#canned-admin-list .empty")).to_be_visible()


async def test_a_note_is_shown_inline_live_and_never_to_the_visitor(tmp_path, browser: Browser, artifacts: Path):
    async with desk(tmp_path) as (gw, session):
        _, alice_token = await add_agent("alice", status="online", role="agent")
        _, bob_token = await add_agent("bob")
        visitor = await desktop_page(browser)
        await visitor.goto(gw.url + "/widget/demo")
        await visitor.locator(".launcher").click()
        await visitor.locator("textarea").fill("人工客服")
        await visitor.locator("textarea").press("Enter")
        await expect(visitor.locator(".joined")).to_contain_text("Alice")
        cid = (await Conversation.filter(state="assigned").first()).id

        alice, bob = await desktop_page(browser), await desktop_page(browser)
        await sign_in(alice, gw.url, alice_token)
        await sign_in(bob, gw.url, bob_token)
        await alice.goto(f"{gw.url}/console/#{cid}")
        await bob.goto(f"{gw.url}/console/#{cid}")
        await expect(bob.locator("#conversation .msg").first).to_be_visible()

        await alice.locator(".reply .mode-note").click()
        await expect(alice.locator("form.reply.note-mode")).to_be_visible()
        await alice.locator("#reply").fill("客户情绪激动，先安抚，别提补偿")
        await alice.locator("#reply").press("Enter")
        note = alice.locator("#conversation .msg.note")
        await expect(note.locator(".bubble")).to_have_text("客户情绪激动，先安抚，别提补偿")
        await expect(note.locator(".by")).to_contain_text("内部备注")
        await expect(bob.locator("#conversation .msg.note .bubble")).to_have_text("客户情绪激动，先安抚，别提补偿")
        await alice.screenshot(path=artifacts / "note-inline.png")

        # Back to replying: the visitor gets the reply, and never the note.
        await alice.locator(".reply .mode-reply").click()
        await alice.locator("#reply").fill("您好，我来帮您处理")
        await alice.locator("#reply").press("Enter")
        await expect(visitor.locator(".msg.agent .bubble").last).to_have_text("您好，我来帮您处理")
        await visitor.reload()
        await expect(visitor.locator(".msg .bubble").filter(has_text="我来帮您处理")).to_have_count(1)
        await expect(visitor.locator("body")).not_to_contain_text("安抚")
        # The note stays in the timeline after a reload, in its place.
        await alice.reload()
        await expect(alice.locator("#conversation .msg.note")).to_have_count(1)
        texts = await alice.locator("#conversation .current .msg .bubble").all_inner_texts()
        assert texts.index("客户情绪激动，先安抚，别提补偿") < texts.index("您好，我来帮您处理"), texts


async def test_tags_added_in_the_conversation_filter_the_inbox(tmp_path, browser: Browser, artifacts: Path):
    async with desk(tmp_path) as (gw, session):
        _, token = await add_agent("gina", status="online", max_concurrent=5)
        tagged = await waiting_customer(session, gw, "visitor-ui-tags-01")
        other = await waiting_customer(session, gw, "visitor-ui-tags-02")
        page = await desktop_page(browser)
        await sign_in(page, gw.url, token)
        items = page.locator("#conversation-list .conv-item")
        await expect(items).to_have_count(2)

        await page.goto(f"{gw.url}/console/#{tagged}")
        tag_input = page.locator(".tag-row .tag-input")
        await tag_input.fill("  ＶＩＰ　回访 ")
        await tag_input.press("Enter")
        await expect(page.locator(".tag-row .chip")).to_have_text(["VIP 回访×"])
        await expect(tag_input).to_have_value("")
        await expect(page.locator(f".conv-item[data-id='{tagged}'] .chip")).to_have_text(["VIP 回访"])

        await page.locator("#tag-filter").fill("VIP 回访")
        await page.locator("#tag-filter").press("Enter")
        await expect(page.locator("#filtered")).to_be_visible()
        await expect(items).to_have_count(1)
        await expect(items.first).to_have_attribute("data-id", str(tagged))
        await page.screenshot(path=artifacts / "tag-filter.png")
        await page.locator("#clear-filter").click()
        await expect(items).to_have_count(2)

        # A chip in the list filters by its tag too; removing the tag empties that filter.
        await page.locator(f".conv-item[data-id='{tagged}'] .chip-pick").click()
        await expect(items).to_have_count(1)
        await page.locator(".tag-row .chip-remove").click()
        await expect(page.locator(".tag-row .chip")).to_have_count(0)
        await expect(items).to_have_count(0)
        await page.locator("[data-tab=mine]").click()
        await expect(page.locator("#filtered")).to_be_hidden()
        await expect(page.locator(f".conv-item[data-id='{other}']")).to_have_count(1)


async def test_an_incident_banner_comes_live_and_a_supervisor_broadcasts_and_closes_it(
        tmp_path, browser: Browser, artifacts: Path):
    async with desk(tmp_path, incidents={"min_customers": 5}) as (gw, session):
        _, boss_token = await add_agent("sue")
        page = await desktop_page(browser)
        page.on("dialog", lambda dialog: dialog.accept())
        await sign_in(page, gw.url, boss_token)
        banners = page.locator("#incidents .incident")
        await expect(banners).to_have_count(0)
        for n in range(5):
            await gw.services.accept(InboundMessage("webchat", "default", f"v{n}", "下单后多久发货", f"m{n}"))
        await expect(banners).to_have_count(1)  # through the event socket
        await expect(banners.locator(".incident-head")).to_contain_text("突发事件：下单后多久发货")
        await expect(banners.locator(".incident-count")).to_have_text("5 位客户")
        await expect(banners.locator(".incident-examples li")).to_have_text(["下单后多久发货"])
        await banners.locator("textarea").fill("仓库盘点，发货延迟一天，敬请谅解。")
        await banners.locator("input[name=notify]").check()
        await banners.locator("button[type=submit]").click()
        await expect(page.locator("#toast")).to_contain_text("通知了 5 位")
        await expect(banners.locator(".incident-broadcast")).to_contain_text("仓库盘点")
        await page.screenshot(path=artifacts / "incident-banner.png")
        await banners.locator("button.danger").click()
        await expect(banners).to_have_count(0)
        assert await Message.filter(text="仓库盘点，发货延迟一天，敬请谅解。", sender="system").count() == 5
