from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from csgw.plugins.reply.kb import Entry, KnowledgeBase
from csgw.plugins.reply.menu import Menu, MenuSettings


@pytest.fixture(scope="module")
def menu(shop_kb: KnowledgeBase) -> Menu:
    return Menu(shop_kb.entries)


def titles(reply) -> list[str]:
    return [option.title for option in reply.options]


def test_top_level_lists_categories(menu: Menu) -> None:
    top = menu.show()
    assert titles(top) == ["售前", "订单", "售后", "支付", "其他"]
    assert top.text.splitlines()[1:3] == ["1. 售前", "2. 订单"]
    assert top.text.endswith("回复 9 转人工客服") and "返回上一级" not in top.text
    json.dumps(top.state)  # the state is stored on the conversation as JSON


def test_descend_and_go_back(menu: Menu) -> None:
    state = menu.show().state
    orders = menu.handle("2", state)
    assert orders is not None and titles(orders) == ["物流", "修改"]
    assert "回复 0 返回上一级" in orders.text
    shipping = menu.handle("1", orders.state)
    assert shipping is not None and shipping.path == ("订单", "物流")
    assert titles(shipping)[0] == "下单后多久发货？"
    back = menu.handle("0", shipping.state)
    assert back is not None and back.path == ("订单",)
    top = menu.handle("0", back.state)
    assert top is not None and top.path == ()
    assert menu.handle("0", top.state).path == ()  # 0 at the top stays at the top


def test_single_subcategory_is_skipped_both_ways(menu: Menu) -> None:
    after_sales = menu.handle("3", menu.show().state)  # 售后 holds only 售后/退换
    assert after_sales is not None and after_sales.path == ("售后", "退换")
    assert menu.handle("0", after_sales.state).path == ()  # back does not bounce into it again


def test_leaf_answers_and_lists_related(menu: Menu) -> None:
    shipping = menu.show(("订单", "物流"))
    leaf = menu.handle("3", shipping.state)  # 包邮吗？
    assert leaf is not None and leaf.kind == "answer" and leaf.entry_id == "free-shipping"
    assert leaf.text.startswith("全国包邮")
    assert "相关问题：" in leaf.text and "包邮吗？" not in titles(leaf)
    assert titles(leaf)[0] == "下单后多久发货？"
    related = menu.handle("1", leaf.state)
    assert related is not None and related.entry_id == "ship-time"
    assert menu.handle("0", related.state).path == ("订单", "物流")  # back to the category list


def test_person_number_always_hands_over(menu: Menu) -> None:
    assert menu.handle("9", None).handover
    assert menu.handle("9", menu.show(("订单", "物流")).state).handover
    assert menu.handle("９", menu.show().state).handover  # full-width digit


def test_invalid_number_repeats_the_list(menu: Menu) -> None:
    state = menu.show().state
    invalid = menu.handle("42", state)
    assert invalid is not None and invalid.kind == "invalid"
    assert invalid.text.startswith("没有这个选项") and invalid.state == state


def test_words_are_not_menu_choices(menu: Menu) -> None:
    assert menu.handle("包邮吗", menu.show().state) is None
    assert menu.handle("一", None) is None  # a lone Chinese numeral outside a menu is a word
    assert menu.handle("二", menu.show().state).path == ("订单",)  # inside one it is a choice


def test_a_number_without_a_menu_opens_it(menu: Menu) -> None:
    reply = menu.handle("1", None)
    assert reply is not None and reply.path == () and reply.kind == "menu"


def test_person_number_is_skipped_in_numbering() -> None:
    entries = [Entry(id=f"e{n}", question=f"问题{n}", answer="答", category="全部") for n in range(11)]
    menu = Menu(entries, MenuSettings(person_number="9"))
    numbers = [option.number for option in menu.show(("全部",)).options]
    assert numbers == ["1", "2", "3", "4", "5", "6", "7", "8", "10", "11", "12"]
    assert menu.handle("10", menu.show(("全部",)).state).entry_id == "e8"


def test_configurable_person_number_and_texts() -> None:
    entries = [Entry(id="a", question="问", answer="答", category="甲")]
    settings = MenuSettings(person_number="8", texts={"zh-Hans": {"intro": "请选择："}})
    menu = Menu(entries, settings)
    top = menu.show()
    assert top.text.startswith("请选择：") and top.text.endswith("回复 8 转人工客服")
    assert menu.handle("8", top.state).handover
    with pytest.raises(ValidationError):
        MenuSettings(person_number="0")


def test_languages(menu: Menu) -> None:
    assert menu.show(language="zh-Hant").text.startswith("請回覆數字")
    english = menu.show(language="en")
    assert english.text.startswith("Reply with a number") and "reply 9 to talk to a person" in english.text
    assert menu.show(language="xx").text.startswith("请回复数字")  # unknown: the default language


def test_uncategorised_entries_sit_at_the_top() -> None:
    menu = Menu([Entry(id="a", question="营业时间", answer="9点"), Entry(id="b", question="退货", answer="可以",
                                                                       category="售后")])
    assert [option.key for option in menu.show().options] == ["c:售后", "e:a"]


def test_channels_hide_entries_and_empty_categories() -> None:
    entries = [Entry(id="a", question="公众号菜单", answer="a", category="微信", channels=["wechat_oa"]),
               Entry(id="b", question="退货", answer="b", category="售后")]
    menu = Menu(entries)
    email = menu.show(channel="email")  # only 售后 is left, so the menu opens it at once
    assert email.path == ("售后",) and titles(email) == ["退货"]
    assert titles(menu.show(channel="wechat_oa")) == ["微信", "售后"]


def test_clarify_then_pick(menu: Menu) -> None:
    ask = menu.clarify(["invoice", "invoice-change"])
    assert ask.text.startswith("您是想问：\n1. 怎么开发票？\n2. 发票抬头开错了能改吗？")
    picked = menu.handle("2", ask.state)
    assert picked is not None and picked.entry_id == "invoice-change"
    assert menu.handle("0", ask.state).path == ()


def test_stale_state_after_a_kb_change_starts_over(menu: Menu) -> None:
    stale = {"kind": "menu", "path": ["已删除"], "options": ["e:gone", "c:已删除/子类"]}
    assert menu.handle("1", stale).path == ()
    assert menu.handle("2", stale).path == ()
    assert menu.handle("0", stale).path == ()
