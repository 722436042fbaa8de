"""Signing in to the console in a real Chromium over the real gateway: a supervisor's one-time
login link signs an agent in and online, a chosen away survives a reload and the next sign-in, a
used link is refused; lists name customers and agents and show the shop's time; the favicon."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from playwright.async_api import Browser, Page, expect

from csgw.gateway.models import Agent, Conversation, Customer, CustomerIdentity, Message
from csgw.testing import running_gateway
from tests.gateway.helpers import Visitor, add_agent, wait_for_condition
from tests.ui.test_desk_tools import DESKTOP, desk, desktop_page
from tests.ui.test_end_to_end import WEBCHAT, console_plugins, sign_in

SHOP_ZONE = "Asia/Shanghai"


async def link_for(page: Page, agent: str, screenshot: Path | None = None) -> str:
    """A supervisor's console: the agents view, a login link for `agent`."""
    await page.locator("#agents-manage").click()
    row = page.locator(".agent-row", has_text=agent)
    await row.locator(".login-link").click()
    link = page.locator("#agent-link input")
    await expect(link).to_have_value(re.compile(r"/console/#login=[A-Za-z0-9_-]{32}$"))
    if screenshot:
        await page.screenshot(path=screenshot)
    url = await link.input_value()
    await page.locator("#agents-close").click()
    return url


async def status_is(name: str, status: str) -> None:
    async def stored() -> bool:
        return (await Agent.get(name=name)).status == status

    await wait_for_condition(stored)


async def test_a_login_link_signs_in_online_and_a_chosen_away_survives_reload(tmp_path, browser: Browser,
                                                                              artifacts: Path):
    async with desk(tmp_path) as (gw, _):
        _, boss_token = await add_agent("sue")
        await add_agent("amy", role="agent")  # offline, never chose a status
        boss = await desktop_page(browser)
        await sign_in(boss, gw.url, boss_token)
        url = await link_for(boss, "Amy", artifacts / "agents-view-login-link.png")
        assert url.startswith(f"{gw.url}/console/#login=")
        await boss.locator("#agents-manage").click()  # open while Amy signs in: her status changes live

        amy = await desktop_page(browser)
        await amy.goto(url)
        await expect(amy.locator("#app")).to_be_visible()
        await expect(amy.locator("#me-name")).to_have_text("Amy")
        await expect(amy.locator("#status")).to_have_value("online")  # a first sign-in goes online
        assert "login=" not in amy.url  # the spent code leaves the address
        await status_is("amy", "online")
        await expect(boss.locator(".agent-row", has_text="Amy").locator(".dot")).to_have_class("dot st-online")

        await amy.locator("#status").select_option("away")
        await status_is("amy", "away")
        await amy.reload()
        await expect(amy.locator("#app")).to_be_visible()
        await expect(amy.locator("#status")).to_have_value("away")

        # The link worked once; a new one signs her in again, still away as she chose.
        again = await desktop_page(browser)
        await again.goto(url)
        await expect(again.locator("#signin-error")).to_have_text("这个登录链接已经用过了（每个只能用一次），请向主管要一个新的")
        await expect(again.locator("#signin .hint")).not_to_contain_text("agents token")
        await again.screenshot(path=artifacts / "link-used.png")
        await boss.locator("#agents-close").click()
        await again.goto(await link_for(boss, "Amy"))
        await expect(again.locator("#status")).to_have_value("away")
        assert (await Agent.get(name="amy")).status == "away"

        await again.locator("#signout").click()
        await expect(again.locator("#signin")).to_be_visible()
        await amy.reload()  # the other tab's session is its own
        await expect(amy.locator("#app")).to_be_visible()


async def test_lists_name_customers_and_agents_and_show_the_shops_time(tmp_path, browser: Browser, artifacts: Path):
    async with running_gateway(tmp_path, channels=WEBCHAT, extra_plugins=console_plugins(),
                               server={"timezone": SHOP_ZONE}) as gw, aiohttp.ClientSession() as session:
        _, boss_token = await add_agent("sue")
        amy, _ = await add_agent("amy", role="agent", status="online")
        conversations = []
        for visitor_id in ("visitor-ui-names-01", "visitor-ui-names-02"):
            visitor = await Visitor(session, gw.url, visitor_id).connect()
            conversations.append((await visitor.say("c1", "人工客服"))["conversation_id"])
            await visitor.close()

        async def both_amys() -> bool:
            return await Conversation.filter(id__in=conversations, agent_id=amy.id, state="assigned").count() == 2

        await wait_for_condition(both_amys)  # before Bo comes online
        named, nicknamed = [await Conversation.get(id=ident) for ident in conversations]
        await Customer.filter(id=named.customer_id).update(name="小王")
        await CustomerIdentity.filter(customer_id=nicknamed.customer_id).update(profile={"nickname": "阿强"})

        await add_agent("bo", role="agent", status="online")
        page = await desktop_page(browser)
        await sign_in(page, gw.url, boss_token)
        await page.locator("[data-tab=all]").click()
        item = page.locator(f".conv-item[data-id='{named.id}']")
        await expect(item.locator(".who")).to_have_text("小王")
        await expect(item.locator(".agent-name")).to_have_text("Amy")
        await expect(page.locator(f".conv-item[data-id='{nicknamed.id}'] .who")).to_have_text("阿强")
        last = await Message.filter(conversation_id=named.id).order_by("-id").first()
        assert last is not None
        shop_time = last.created_at.astimezone(ZoneInfo(SHOP_ZONE))
        if shop_time.date() == datetime.now(ZoneInfo(SHOP_ZONE)).date():
            await expect(item.locator(".when")).to_have_text(shop_time.strftime("%H:%M"))
        else:  # just past the shop's midnight: the date comes first
            await expect(item.locator(".when")).to_contain_text(shop_time.strftime("%H:%M"))
        await page.screenshot(path=artifacts / "names-in-the-list.png")

        # The transfer dialog names agents; the change, announced without the customer's name,
        # keeps it in the list.
        await page.locator(f".conv-item[data-id='{named.id}']").click()
        await page.locator("#conversation .transfer").click()
        choices = page.locator("#transfer-form select[name=agent_id]")
        await expect(choices.locator("option")).to_contain_text(["—", "Amy (在线, 2/5)", "Bo (在线, 0/5)"])
        await choices.select_option(label="Bo (在线, 0/5)")
        await page.locator("#transfer-form button[value=ok]").click()
        await expect(item.locator(".agent-name")).to_have_text("Bo")
        await expect(item.locator(".who")).to_have_text("小王")
        await expect(page.locator(".conv-head strong")).to_have_text("小王")


async def test_the_console_and_the_widget_page_have_a_favicon(tmp_path, browser: Browser):
    async with desk(tmp_path) as (gw, _):
        page = await (await browser.new_context(viewport=DESKTOP)).new_page()
        for address in ("/console/", "/widget/demo"):
            await page.goto(gw.url + address)
            icon = await page.locator("link[rel=icon]").get_attribute("href")
            assert icon
            served = await page.request.get(await page.evaluate("(href) => new URL(href, location.href).href", icon))
            assert served.status == 200 and served.headers["content-type"].startswith("image/svg+xml"), address
            assert b"<svg" in await served.body()
