"""What the order bot says in each language, with the shop's status labels and wording, and the
`[orders]` mistakes that stop a start."""

from __future__ import annotations

import pytest

from csgw.config.errors import ConfigError
from csgw.config.loader import validate_plugin_sections
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
from csgw.gateway.testing import make_settings
from csgw.plugins import orders
from csgw.plugins.orders.answers import OrderAnswers
from csgw.plugins.orders.config import OrdersConfig
from csgw.plugins.orders.records import merged_orders, read_order
from csgw.plugins.orders.replies import picked_number


def loaded(tmp_path, **sections) -> tuple[OrderAnswers, OrdersConfig]:
    """Both config stages, as `csgw serve` runs them."""
    settings = make_settings(tmp_path, **sections)
    host = PluginHost(get_plugin_manager(load_entrypoints=False, extra=[("orders", orders)]))
    validate_plugin_sections(settings, host.config_sections(), host.texts())
    config = settings.section("orders", OrdersConfig)
    return OrderAnswers(settings, config), config


RECORD = {"order_no": "A20261101", "state": "in_transit", "product": "Wool scarf", "courier": "SF Express",
          "tracking_number": "SF1234567890", "expected_delivery": "2026-11-28T02:00:00Z"}


def test_an_order_in_english_and_traditional_chinese(tmp_path):
    answers, config = loaded(tmp_path, server={"timezone": "Asia/Shanghai"})
    order = read_order(RECORD, config.fields)
    assert order is not None
    assert answers.answer(order, "shipping", "en") == (
        "Order A20261101: in transit\nItem: Wool scarf\nShipped with SF Express, tracking number SF1234567890\n"
        "Expected: 2026-11-28 10:00")
    assert answers.answer(order, "refund", "zh-Hant").splitlines()[0] == "訂單 A20261101：運送中"
    assert answers.answer(order, "refund", "zh-Hant").endswith("如仍有問題，請回覆「人工」，客服馬上為您處理。")
    assert answers.choices([order, order], "en").startswith("You have 2 orders. Which one? Reply with its number:\n"
                                                            "1. A20261101 (in transit) Wool scarf")


def test_the_shops_labels_fields_and_wording(tmp_path):
    answers, config = loaded(
        tmp_path,
        orders={"status_labels": {"zh-Hans": {"in_transit": "在路上", "waiting_card": "等待发卡"}},
                "fields": {"order_no": ["tid"], "status": ["trade_status"], "eta": ["arrive"]}},
        texts={"zh-Hans": {"orders.order": "您的订单 {order_no} 目前{status}"}})
    order = read_order({"tid": "T1", "trade_status": "in_transit", "arrive": "周五前"}, config.fields)
    assert order is not None
    assert answers.answer(order, "shipping", "zh-Hans") == (
        "您的订单 T1 目前在路上\n暂时还没有快递单号，发货后就会有。\n预计送达：周五前")
    waiting = read_order({"tid": "T2", "trade_status": "waiting_card"}, config.fields)
    unknown = read_order({"tid": "T3", "trade_status": "on_the_moon"}, config.fields)
    assert waiting is not None and unknown is not None
    assert answers.status(waiting, "zh-Hans") == "等待发卡" and answers.status(unknown, "en") == "on_the_moon"
    assert read_order({"order_id": "no: not this field"}, config.fields) is None


def test_orders_from_several_sources_one_per_number_newest_first(tmp_path):
    _, config = loaded(tmp_path)
    profile = [{"order_id": "A-1", "status": "paid"}, {"order_id": "B2", "status": "paid"}, "not a record"]
    live = [{"order_id": "a1", "status": "shipped", "updated_at": "2026-11-02"},
            {"order_id": "C3", "status": "paid", "updated_at": "2026-11-05"}]
    merged = merged_orders([profile, live], config.fields)
    assert [(o.order_no, o.status) for o in merged] == [("C3", "paid"), ("a1", "shipped"), ("B2", "paid")]


@pytest.mark.parametrize(("text", "number"), [("2", 2), ("第二个", 2), ("２号", 2), ("No. 3", 3), ("2个吧", None),
                                              ("12", None), ("好的", None)])
def test_the_number_of_a_choice(text, number):
    assert picked_number(text) == number


@pytest.mark.parametrize(("section", "problem"), [
    ({"order_number_pattern": "(unclosed"}, "orders.order_number_pattern: Value error, not a regular expression"),
    ({"status_labels": {"zh-hans": {}}}, "orders.status_labels: Value error, unknown language 'zh-hans'"),
    ({"extra_phrases": {"delivery": ["x"]}}, "orders.extra_phrases: Value error, unknown intent 'delivery'"),
    ({"max_choices": 12}, "orders.max_choices: Input should be less than or equal to 9"),
    ({"handover_priority": "high"}, "orders.handover_priority: Input should be a valid integer"),
])
def test_mistakes_in_the_section_stop_the_start_with_one_line(tmp_path, section, problem):
    with pytest.raises(ConfigError) as caught:
        loaded(tmp_path, orders=section)
    [line] = caught.value.lines
    assert problem in line, line


def test_an_unknown_text_of_the_plugin_is_refused(tmp_path):
    with pytest.raises(ConfigError) as caught:
        loaded(tmp_path, texts={"en": {"orders.ordr": "x"}})
    assert "did you mean orders.order" in caught.value.lines[0]
