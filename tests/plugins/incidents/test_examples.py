"""What agents and webhooks see of a customer's question in an incident, and which questions
count as one: personal data and credentials masked; forms and clusters as `csgw kb gaps` groups
them."""

from __future__ import annotations

from csgw.plugins.incidents.examples import example_text
from csgw.plugins.incidents.topics import clusterable, nearest, question_form


def test_phone_numbers_addresses_ids_and_credentials_are_masked():
    assert example_text("我的手机13800138000，付款失败") == "我的手机[PHONE]，付款失败"
    assert example_text("电话 138-0013-8000 或 +86 138 0013 8000") == "电话 [PHONE] 或 [PHONE]"
    assert example_text("邮箱 wang.li+shop@example.com 身份证110101199003071234") == "邮箱 [EMAIL] 身份证[ID]"
    assert example_text("寄到北京市朝阳区建国路88号还没收到") == "寄到[ADDRESS]还没收到"
    assert example_text("链接 https://pay.example/cb?token=abc123 打不开") == "链接 https://pay.example/cb?token=*** 打不开"
    assert example_text("订单 E20261127001 买了 2 件") == "订单 E20261127001 买了 2 件"  # what they ask about
    assert example_text("  太\n\n慢了  ") == "太 慢了"
    long = example_text("支付失败" * 100)
    assert len(long) == 120 and long.endswith("…")
    asked = "我的手机13800138000，付款失败"
    assert example_text(asked) is example_text(asked)  # masked once for every customer asking it


def test_question_forms_and_clusters():
    assert question_form("直播间 怎么进不去？！") == question_form("直播间怎么进不去") == "直播间怎么进不去"
    assert question_form("ＡＰＰ闪退") == "app闪退"
    assert not clusterable("1") and not clusterable("12") and not clusterable("好") and clusterable("闪退")
    clusters = ["直播间怎么进不去", "app闪退"]
    assert nearest("直播间为什么进不去了", clusters) == "直播间怎么进不去"
    assert nearest("你们卖不卖自行车", clusters) is None
