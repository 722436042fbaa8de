"""Canned texts: known variables only, full-width braces read as ASCII ones, missing values named."""

from __future__ import annotations

import pytest

from csgw.plugins.canned.template import TemplateError, checked_text, render, variables_in
from csgw.plugins.canned.values import order_no


def test_known_variables_are_kept_and_full_width_braces_become_ascii():
    text = checked_text("｛customer_name｝您好，我是{agent_name}，订单 {order_no} 已发货。{不是变量} {1} {}")
    assert text == "{customer_name}您好，我是{agent_name}，订单 {order_no} 已发货。{不是变量} {1} {}"
    assert variables_in(text) == ["customer_name", "agent_name", "order_no"]


@pytest.mark.parametrize("text", ["{orderno}", "亲 {Customer_Name}", "{customer_name}{coupon}"])
def test_an_unknown_variable_is_refused_by_name(text):
    with pytest.raises(TemplateError, match=r"unknown variable \{") as caught:
        checked_text(text)
    assert "{customer_name}, {agent_name}, {order_no}" in str(caught.value)


def test_a_missing_value_renders_empty_and_is_named():
    rendered = render("{customer_name}您好，订单{order_no}已退款，{agent_name}为您服务",
                      {"customer_name": "", "agent_name": "小美", "order_no": None})
    assert rendered.text == "您好，订单已退款，小美为您服务"
    assert rendered.missing == ("customer_name", "order_no")


def test_the_latest_order_of_the_channel_first():
    orders = [{"order_id": "A1", "channel": "wechat_oa"}, {"order_id": "B2", "channel": "xiaohongshu"},
              {"no": " C3 ", "channel": "wechat_oa"}, "junk", {"status": "paid"}]
    assert order_no(orders, "wechat_oa") == "C3"
    assert order_no(orders, "webchat") == "C3"  # none from this channel: the latest anywhere
    assert order_no(orders, "xiaohongshu") == "B2"
    assert order_no([{"status": "paid"}], "webchat") is None
