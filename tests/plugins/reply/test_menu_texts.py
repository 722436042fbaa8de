"""The menu's texts under `[texts.*]` ("menu.intro", …): they win over the older `[reply.engine.menu]
texts`, which still reads as before for the keys `[texts.*]` leaves alone."""

from __future__ import annotations

from pathlib import Path

from csgw.gateway.channel import InboundMessage
from csgw.plugins.reply.kb import Entry
from csgw.plugins.reply.menu import Menu, MenuSettings
from csgw.testing import running_gateway

SHOP_KB = Path(__file__).parents[2] / "data" / "shop_kb.yaml"


def test_the_shops_wording_wins_and_the_older_setting_still_reads_as_before() -> None:
    settings = MenuSettings(person_number="8", texts={"zh-Hans": {"intro": "请选择 {编号}：", "related": "旧的"}})
    settings.use_shop_texts({"zh-Hans": {"menu.related": "看看这些：", "menu.person_hint": "按 {person} 找真人"}})
    top = Menu([Entry(id="a", question="问", answer="答", category="甲")], settings).show()
    assert top.text.startswith("请选择 {编号}：")  # the older setting: no placeholders but {person}
    assert top.text.endswith("按 8 找真人")
    assert settings.text("related") == "看看这些：" and settings.text("related", "en") == "Related questions:"


async def test_a_gateway_greets_with_the_shops_menu_wording(tmp_path) -> None:
    texts = {"zh-Hans": {"menu.greeting": "欢迎光临本店～", "menu": {"person_hint": "回复 {person} 找真人"}}}
    engine = {"model": "off", "menu": {"texts": {"zh-Hans": {"greeting": "旧的问候", "intro": "旧的介绍"}}}}
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "shop"}], texts=texts,
                               reply={"knowledge_base": str(SHOP_KB), "engine": engine}) as gw:
        await gw.services.accept(InboundMessage("fake", "shop", "u-1", "你好", "m-1"))
        [sent] = await gw.fake("shop").wait_sent(1)
    lines = sent.text.splitlines()
    assert (lines[0], lines[1], lines[-1]) == ("欢迎光临本店～", "旧的介绍", "回复 9 找真人")
