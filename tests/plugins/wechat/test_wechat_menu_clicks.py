"""Custom-menu buttons of an Official Account (`[[channels]] menu`): a click answers a KB entry,
lists a category or hands over, through the real gateway and the fake WeChat platform."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from csgw.gateway.models import Conversation
from csgw.plugins.wechat.oa_channel import WechatOAConfig
from tests.gateway.helpers import add_agent
from tests.plugins.wechat.wechat_testkit import messages, oa_gateway

MENU = {"M_SHIP": "entry:ship-time", "M_ORDERS": "category:订单/物流", "M_PERSON": "handover",
        "M_GONE": "entry:no-such-entry"}


async def click(platform, openid: str, key: str):
    platform.oa.user_event("wx1", openid)
    return await platform.oa.deliver(platform.oa.event("wx1", openid, "CLICK", event_key=key))


async def test_buttons_answer_an_entry_list_a_category_and_hand_over(tmp_path, platform, database_url):
    async with oa_gateway(tmp_path, platform, database_url, menu=MENU):
        shipped = await click(platform, "o1", "M_SHIP")
        assert "48小时内发货" in shipped.text

        listed = await click(platform, "o2", "M_ORDERS")
        assert "发什么快递" in listed.text and "包邮吗" in listed.text
        assert "1." in listed.text or "1、" in listed.text or "1 " in listed.text
        # the list is a real menu position: the customer's next number picks from it
        lines = [line for line in listed.text.splitlines() if "包邮吗" in line]
        number = lines[0].strip()[0]
        picked = await platform.oa.user_says("wx1", "o2", number)
        assert "全国包邮" in picked.text

        # an entry the KB no longer has: the top of the menu, not silence or a person
        gone = await click(platform, "o3", "M_GONE")
        assert "订单" in gone.text
        assert {c.state for c in await Conversation.all()} == {"bot"}

        _, _ = await add_agent("alice", status="online")
        person = await click(platform, "o4", "M_PERSON")
        assert "Alice" in person.text
        assert (await Conversation.get(state="assigned")).channel == "wechat_oa"

        clicks = [m.payload.get("menu_action") for m in await messages("wechat_oa", direction="in")
                  if m.kind == "event"]
        assert clicks == ["entry:ship-time", "category:订单/物流", "entry:no-such-entry", "handover"]


async def test_an_unmapped_button_is_recorded_without_an_answer(tmp_path, platform):
    async with oa_gateway(tmp_path, platform, menu=MENU):
        assert (await click(platform, "o1", "M_UNKNOWN")).body == "success"
        (event,) = await messages("wechat_oa", direction="in")
        assert event.payload["EventKey"] == "M_UNKNOWN" and "menu_action" not in event.payload
        assert await messages("wechat_oa", direction="out") == []
        assert [c.state for c in await Conversation.all()] == ["bot"]


async def test_two_buttons_in_one_second_are_two_clicks_and_a_retry_is_one(tmp_path, platform):
    async with oa_gateway(tmp_path, platform, menu=MENU):
        second_of_both = int(time.time())
        first = platform.oa.event("wx1", "o1", "CLICK", event_key="M_SHIP", timestamp=second_of_both)
        second = platform.oa.event("wx1", "o1", "CLICK", event_key="M_ORDERS", timestamp=second_of_both)
        platform.oa.user_event("wx1", "o1")
        answers = [await platform.oa.deliver(push) for push in (first, second, first)]
        assert "48小时内发货" in answers[0].text and "发什么快递" in answers[1].text
        assert answers[2].text == answers[0].text  # WeChat's retry gets the same answer, once stored
        assert len(await messages("wechat_oa", direction="in")) == 2


@pytest.mark.parametrize(("menu", "wrong"), [
    ({"K": "answer:ship-time"}, "is not entry:ID, category:NAME or handover"),
    ({"K": "entry:"}, "is not entry:ID"),
    ({"": "handover"}, "1 to 128 bytes"),
    ({"键" * 43: "handover"}, "1 to 128 bytes"),
])
def test_a_menu_that_cannot_work_is_refused_with_the_key(menu, wrong):
    with pytest.raises(ValidationError) as refused:
        WechatOAConfig(plugin="wechat_oa", account="shop", token="t", app_id="wx1", app_secret="s", menu=menu)
    assert wrong in str(refused.value)
