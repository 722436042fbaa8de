"""The site widget in a real Chromium against a scripted widget-protocol server."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.ui.conftest import PHONE
from tests.ui.fake_widget_server import STATIC, FakeWidgetServer

VISITOR_ID = re.compile(r"^v-[0-9a-f]{24}$")


@pytest.fixture
async def server() -> AsyncIterator[FakeWidgetServer]:
    async with FakeWidgetServer() as fake:
        yield fake


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    yield page
    await context.close()


async def open_chat(page: Page, url: str) -> None:
    await page.goto(url)
    await page.locator(".launcher").click()
    await expect(page.locator(".panel")).to_be_visible()


async def say(page: Page, text: str) -> None:
    box = page.locator("textarea")
    await box.fill(text)
    await box.press("Enter")


async def stored_visitor(page: Page) -> str:
    return await page.evaluate("localStorage.getItem('csgw_visitor')")


async def test_visitor_asks_and_sees_the_bot_answer(server, page, artifacts: Path):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await open_chat(page, server.url + "/embed?site=shop1")
    await expect(page.locator(".title")).to_have_text("测试小店")
    await expect(page.locator(".greeting")).to_have_text("您好！")

    await say(page, "下单后多久发货")
    await expect(page.locator(".msg.me .bubble")).to_have_text("下单后多久发货")
    await expect(page.locator(".msg.bot .bubble").last).to_contain_text("48小时")
    await expect(page.locator("textarea")).to_have_value("")
    await page.screenshot(path=artifacts / "widget-360.png")

    visitor = await stored_visitor(page)
    assert VISITOR_ID.match(visitor)
    sent = (await server.wait_for(lambda f: f["type"] == "message"))[0]
    assert sent["visitor"] == visitor and sent["text"] == "下单后多久发货"
    assert all(url.startswith(server.url) for url in requests), requests


async def test_reload_keeps_the_visitor_and_shows_the_history_once(server, page):
    await open_chat(page, server.url + "/embed?site=shop1")
    await say(page, "多久发货")
    await expect(page.locator(".msg.bot .bubble").last).to_contain_text("48小时")
    visitor = await stored_visitor(page)

    await page.reload()
    # The panel stays open across a reload within the tab; the history is replayed by resume.
    await expect(page.locator(".panel")).to_be_visible()
    await expect(page.locator(".msg.me .bubble")).to_have_text(["多久发货"])
    await expect(page.locator(".msg.bot:not(.greeting) .bubble")).to_have_count(1)
    assert await stored_visitor(page) == visitor
    resumes = await server.wait_for(lambda f: f["type"] == "resume", count=2)
    assert [f["after"] for f in resumes] == [0, 0] and {f["visitor"] for f in resumes} == {visitor}


async def test_reconnect_resumes_what_was_missed_without_duplicates(server, page):
    await open_chat(page, server.url + "/embed?site=shop1")
    await say(page, "多久发货")
    await expect(page.locator(".msg.bot .bubble").last).to_contain_text("48小时")
    visitor = await stored_visitor(page)
    last_id = server.history[visitor][-1]["id"]

    await server.drop()
    await expect(page.locator(".status")).to_contain_text("正在重连")
    missed = await server.push(visitor, {"from": "agent", "text": "断线时客服发的", "agent_name": "Alice"})
    await say(page, "断线时我发的")

    resume = (await server.wait_for(lambda f: f["type"] == "resume", count=2))[1]
    assert resume["after"] == last_id
    await expect(page.locator(".msg.agent .bubble")).to_have_text(["断线时客服发的"])
    await expect(page.locator(".msg.me .bubble")).to_have_text(["多久发货", "断线时我发的"])
    await expect(page.locator(".msg.me.pending")).to_have_count(0)
    await expect(page.locator(".status")).to_have_text("")
    texts = [m["text"] for m in server.history[visitor] if m["from"] == "customer"]
    assert texts == ["多久发货", "断线时我发的"]
    ids = [int(i) for i in await page.locator(".msg[data-id]").evaluate_all("ns => ns.map(n => n.dataset.id)")]
    assert ids == sorted(ids) and missed["id"] in ids and len(ids) == len(set(ids))


async def test_menu_choices_agent_typing_and_survey(server, page, artifacts: Path):
    await open_chat(page, server.url + "/embed?site=shop1")
    await say(page, "菜单")
    choices = page.locator(".choice")
    await expect(choices).to_have_text(["1. 物流", "2. 退换货"])
    await choices.first.click()
    await expect(page.locator(".msg.bot .bubble").last).to_have_text("物流：默认发顺丰。")
    assert (await server.wait_for(lambda f: f["type"] == "message" and f["text"] == "1"))

    visitor = await stored_visitor(page)
    await server.push(visitor, {"type": "agent_joined", "name": "Alice"})
    await expect(page.locator(".joined")).to_have_text("Alice 已加入会话")
    await expect(page.locator(".sub")).to_have_text("Alice")
    await server.push(visitor, {"type": "typing", "from": "agent", "on": True})
    await expect(page.locator(".status")).to_have_text("客服正在输入…")
    await server.push(visitor, {"from": "agent", "agent_name": "Alice", "text": "<b>您好</b> 请看 https://example.com/x"})
    await expect(page.locator(".status")).to_have_text("")
    agent = page.locator(".msg.agent").last
    await expect(agent.locator(".name")).to_have_text("Alice")
    await expect(agent.locator(".bubble")).to_have_text("<b>您好</b> 请看 https://example.com/x")
    await expect(agent.locator("a")).to_have_attribute("href", "https://example.com/x")
    await server.push(visitor, {"from": "agent", "agent_name": "Alice", "text": "图", "image": "/widget/photo.png"})
    await expect(page.locator(".msg.agent img")).to_have_attribute("src", server.url + "/widget/photo.png")
    await server.push(visitor, {"from": "agent", "text": "x", "image": "javascript:alert(1)"})
    await expect(page.locator(".msg.agent img")).to_have_count(1)

    await server.push(visitor, {"from": "system", "text": "本次会话已结束，感谢您的咨询！"})
    await server.push(visitor, {"type": "survey"})
    stars = page.locator(".star")
    await expect(stars).to_have_count(5)
    await page.screenshot(path=artifacts / "widget-survey-360.png")
    await stars.nth(4).click()
    assert (await server.wait_for(lambda f: f["type"] == "survey"))[0]["score"] == 5
    await expect(page.locator(".survey")).to_contain_text("感谢您的评价！")


async def test_after_hours_the_widget_takes_a_message(server, page, artifacts: Path):
    await open_chat(page, server.url + "/embed?site=shop1")
    await server.wait_for(lambda f: f["type"] == "resume")
    visitor = await stored_visitor(page)
    await server.push(visitor, {"type": "desk_closed", "opens_at": "2026-10-27T01:00:00+00:00"})
    form = page.locator("form.leave")
    await form.locator("[name=contact]").fill("wx_wang88")
    await form.locator("button").click()
    await expect(form.locator(".leave-error")).to_have_text("请填写联系方式和留言内容")  # no message yet
    await form.locator("[name=name]").fill("王女士")
    await form.locator("[name=text]").fill("鞋码想换成 38")
    await page.screenshot(path=artifacts / "widget-leave-message-360.png")
    await form.locator("button").click()
    sent = (await server.wait_for(lambda f: f["type"] == "leave_message"))[0]
    assert (sent["name"], sent["contact"], sent["text"]) == ("王女士", "wx_wang88", "鞋码想换成 38")
    await server.push(visitor, {"type": "ack", "client_id": sent["client_id"], "id": 500})
    await server.push(visitor, {"type": "message_left", "client_id": sent["client_id"]})
    await expect(page.locator(".msg.left")).to_have_text("留言已收到，客服上班后会第一时间联系您。")
    await expect(page.locator(".msg.me .bubble")).to_have_text(["鞋码想换成 38"])
    await expect(form).to_have_count(0)


async def test_unread_badge_while_closed_and_not_again_after_reload(server, page):
    await page.goto(server.url + "/embed?site=shop1")
    await server.wait_for(lambda f: f["type"] == "resume")
    visitor = await stored_visitor(page)
    for text in ("第一条", "第二条"):
        await server.push(visitor, {"from": "agent", "text": text, "agent_name": "Alice"})
    badge = page.locator(".badge")
    await expect(badge).to_have_text("2")
    await page.locator(".launcher").click()
    await expect(badge).to_be_hidden()
    await page.locator(".x").click()
    await page.reload()
    await expect(page.locator(".msg.agent .bubble")).to_have_count(2)
    await expect(badge).to_be_hidden()


async def test_per_site_look_and_languages(browser: Browser):
    config = {"title": "港店客服", "color": "#ff5500", "position": "left", "language": "zh-Hant",
              "greeting": "歡迎光臨"}
    async with FakeWidgetServer(config) as server:
        context = await browser.new_context(viewport={"width": 1024, "height": 700})
        page = await context.new_page()
        await open_chat(page, server.url + "/embed?site=hk")
        await expect(page.locator(".title")).to_have_text("港店客服")
        await expect(page.locator("textarea")).to_have_attribute("placeholder", "輸入訊息，Enter 傳送")
        await expect(page.locator(".launcher")).to_have_css("background-color", "rgb(255, 85, 0)")
        box = await page.locator(".launcher").bounding_box()
        assert box is not None and box["x"] < 100

        english = await context.new_page()
        await open_chat(english, server.url + "/embed?site=hk&lang=en")
        await expect(english.locator("textarea")).to_have_attribute("placeholder", "Type a message, Enter to send")
        await expect(english.locator(".send")).to_have_text("Send")
        await context.close()


async def test_welcome_questions_are_buttons_that_ask_until_the_visitor_writes(browser: Browser):
    async with FakeWidgetServer({"welcome": ["运费怎么算", "多久发货"]}) as server:
        context = await browser.new_context(viewport=PHONE)  # closed before the server: its socket ends
        page = await context.new_page()
        await open_chat(page, server.url + "/embed?site=shop1")
        chips = page.locator(".greeting + .welcome .choice")  # right under the greeting
        await expect(chips).to_have_text(["运费怎么算", "多久发货"])
        await chips.nth(1).click()
        sent = (await server.wait_for(lambda f: f["type"] == "message"))[0]
        assert sent["text"] == "多久发货"
        await expect(page.locator(".msg.me .bubble")).to_have_text(["多久发货"])
        await expect(page.locator(".msg.bot:not(.greeting) .bubble").last).to_contain_text("48小时")
        await expect(page.locator(".welcome")).to_have_count(0)
        await page.reload()  # the history has the visitor's question: no buttons again
        await expect(page.locator(".msg.me .bubble")).to_have_text(["多久发货"])
        await expect(page.locator(".welcome")).to_have_count(0)
        await context.close()


async def test_identity_from_the_site_is_used(server, page):
    async with page.expect_websocket() as opened:
        await page.goto(server.url + "/embed?site=members&visitor=member-0042&sig=abc123")
    socket = await opened.value
    assert "site=members" in socket.url and "visitor=member-0042" in socket.url and "sig=abc123" in socket.url
    frame = (await server.wait_for(lambda f: f["type"] == "resume"))[0]
    assert frame["visitor"] == "member-0042"
    assert await stored_visitor(page) is None


def test_script_is_small():
    size = len(gzip.compress((STATIC / "widget.js").read_bytes(), 9))
    assert size < 30 * 1024, size
