"""The supervisors' report view in a real Chromium over the real gateway: figures per KB category
and per tag over the shop's last 7 and 30 days, the trend per day, the questions the bot left
unanswered, an empty breakdown, English; an agent sees no report entry and the API refuses them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from playwright.async_api import Browser, Locator, Page, expect

from csgw.gateway.models import Agent
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent
from tests.reports.seed import M, conversation, message, tag, unanswered
from tests.ui.test_end_to_end import WEBCHAT, console_plugins, sign_in

SHOP = ZoneInfo("Asia/Shanghai")
BROWSER_ZONE = "America/Los_Angeles"  # the browser's own days are not the shop's
SHIPPING, RETURNS = "订单/物流", "售后/退换"  # two categories of the demo knowledge base


async def seed(agent: Agent, now: datetime) -> None:
    """Four conversations of the last two hours and one of ten days ago; the figures each test
    step expects are worked out beside them."""
    start = now - timedelta(hours=2)
    # 1 (物流): the bot answers and nobody else is needed; rated 5.
    c1 = await conversation(1, "webchat", "default", start, state="closed", closed_at=start + 2 * M, satisfaction=5)
    await message(c1, "bot", start + 0.1 * M)
    await tag(c1.id, SHIPPING)
    # 2 (物流): handed over; the agent answers after 90 s, closes 330 s after taking it; rated 4.
    at = start + 5 * M
    c2 = await conversation(2, "webchat", "default", at, state="closed", agent_id=agent.id, waiting_since=at + M,
                            assigned_at=at + M, first_response_at=at + 2.5 * M, closed_at=at + 6.5 * M,
                            satisfaction=4, satisfaction_comment="很快")
    await message(c2, "bot", at + 0.1 * M)
    await message(c2, "agent", at + 2.5 * M, agent)
    await tag(c2.id, SHIPPING)
    # 3 (退换, tagged 加急 by the agent): answered after 240 s, closed 600 s after taking it; rated 2;
    #    the customer is back 9 minutes after the close (4), so it was reopened.
    at = start + 20 * M
    c3 = await conversation(3, "webchat", "default", at, state="closed", agent_id=agent.id, waiting_since=at + M,
                            assigned_at=at + M, first_response_at=at + 5 * M, closed_at=at + 11 * M, satisfaction=2)
    await message(c3, "bot", at + 0.1 * M)
    await message(c3, "agent", at + 5 * M, agent)
    await tag(c3.id, RETURNS)
    await tag(c3.id, "加急", "agent")
    # 4 (no category): a question the bot could not answer, nearest the returns category.
    at = start + 40 * M
    c4 = await conversation(3, "webchat", "default", at, state="closed", closed_at=at + 5 * M)
    await unanswered(c4, "退款到哪张卡了？", at + 0.5 * M, "none", RETURNS)
    # 5 (物流), ten days ago: in the 30 days only.
    at = now - timedelta(days=10)
    c5 = await conversation(4, "webchat", "default", at, state="closed", closed_at=at + M)
    await message(c5, "bot", at + 0.1 * M)
    await tag(c5.id, SHIPPING)


def row(page: Page, name: str) -> Locator:
    return page.locator("#report-table tbody tr.report-row").filter(has=page.locator("th", has_text=name))


async def expect_row(page: Page, name: str, **cells: str) -> None:
    for column, text in cells.items():
        await expect(row(page, name).locator(f"td[data-col={column}]")).to_have_text(text)


def shop_today() -> date:
    return datetime.now(SHOP).date()


async def test_a_supervisor_reads_the_figures_per_category_and_tag_an_agent_is_refused(
        tmp_path, browser: Browser, artifacts: Path):
    async with running_gateway(tmp_path, channels=WEBCHAT, extra_plugins=console_plugins(),
                               server={"timezone": "Asia/Shanghai"}) as gw, aiohttp.ClientSession() as session:
        sue, sue_token = await add_agent("sue", status="online")
        _, amy_token = await add_agent("amy", status="online", role="agent")
        await seed(sue, datetime.now(UTC))
        context = await browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=BROWSER_ZONE)
        page = await context.new_page()
        await sign_in(page, gw.url, sue_token)
        today = shop_today()

        await page.locator("#reports-open").click()
        await expect(page.locator(".panes")).to_be_hidden()
        await expect(page.locator("#report-periods [data-period=week]")).to_have_attribute("aria-pressed", "true")
        rows = page.locator("#report-table tbody tr.report-row")
        # most conversations first; the conversation without a category last
        await expect(rows.locator("th")).to_have_text([SHIPPING, RETURNS, "未分类"])
        await expect(page.locator("#report-table thead th").first).to_have_text("分类")
        await expect_row(page, SHIPPING, conversations="2", bot_containment="50%", first_response="1:30",
                         handling="5:30", satisfaction="4.5（2 条）", reopen="0%")
        await expect_row(page, RETURNS, conversations="1", bot_containment="0%", first_response="4:00",
                         handling="10:00", satisfaction="2（1 条）", reopen="100%")
        await expect_row(page, "未分类", conversations="1", bot_containment="100%", first_response="—",
                         handling="—", satisfaction="—", reopen="0%")
        total = page.locator("#report-total")
        for figure, text in {"conversations": "4", "handed_over": "2", "bot_containment": "50%", "first_response": "2:45",
                             "handling": "7:45", "satisfaction": "3.67（3 条）", "resolution": "75%", "reopen": "25%",
                             "sla_missed": "0"}.items():
            await expect(total.locator(f"[data-figure={figure}] .value")).to_have_text(text)
        await expect(total.locator("[data-figure=first_response] .small")).to_have_text("平均 · P90 4:00")
        # the shop's last 7 days, today (in Shanghai, not the browser's Los Angeles) last
        days = page.locator("#report-trend tbody tr")
        await expect(days).to_have_count(7)
        last = await days.last.get_attribute("data-day")
        assert last in {today.isoformat(), shop_today().isoformat()}, last
        first = date.fromisoformat(last) - timedelta(days=6)
        await expect(days.first).to_have_attribute("data-day", first.isoformat())
        counts = [int(text) for text in await days.locator("td.count").all_inner_texts()]
        assert sum(counts) == 4, counts
        await expect(page.locator("#report-zone")).to_contain_text("Asia/Shanghai")
        unanswered_list = page.locator("#report-unanswered")
        await expect(unanswered_list.locator(".unanswered")).to_have_count(1)
        await expect(unanswered_list.locator(f".unanswered[data-category='{RETURNS}'] .question")).to_have_text(
            ["退款到哪张卡了？"])
        await page.screenshot(path=artifacts / "report-by-category.png", full_page=True)

        # by tag: the agent's own tag has a row; the unanswered questions belong to categories only
        await page.locator("#report-by").select_option("tag")
        await expect(rows.locator("th")).to_have_text([SHIPPING, "加急", RETURNS, "无标签"])
        await expect(page.locator("#report-table thead th").first).to_have_text("标签")
        await expect_row(page, "加急", conversations="1", first_response="4:00", satisfaction="2（1 条）",
                         reopen="100%")
        await expect(unanswered_list).to_be_hidden()
        await page.screenshot(path=artifacts / "report-by-tag.png", full_page=True)

        # 30 days take in the conversation of ten days ago
        await page.locator("#report-periods [data-period=month]").click()
        await expect_row(page, SHIPPING, conversations="3", bot_containment="66.7%")
        await expect(days).to_have_count(30)
        # nobody put a conversation in a group: an empty breakdown says so
        await page.locator("#report-by").select_option("group")
        await expect(page.locator("#report-table tbody td.empty")).to_have_text("暂无数据")
        await page.locator("#lang").select_option("en")
        await expect(page.locator("#report-table tbody td.empty")).to_have_text("No data yet")
        await expect(page.locator("#reports-title")).to_have_text("Reports")
        await page.keyboard.press("Escape")
        await expect(page.locator(".panes")).to_be_visible()
        await expect(page.locator("#reports")).to_be_hidden()

        # an agent: no report entry, and the API refuses them too
        agent_page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
        await sign_in(agent_page, gw.url, amy_token)
        await expect(agent_page.locator("#canned-manage")).to_be_hidden()
        await expect(agent_page.locator("#reports-open")).to_be_hidden()
        refused = await AgentClient(session, gw.url, amy_token).call("GET", "/reports?by=category", expect=403)
        assert refused["error"]["code"] == "forbidden"
