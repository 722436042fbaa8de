"""Personal data out of what leaves the machine: phone numbers, e-mails, ID-card numbers and
addresses masked; order numbers, prices and the words around them kept."""

from __future__ import annotations

import pytest

from csgw.gateway.personal_data import mask_personal_data

MASKED = [
    ("我的手机13812345678，麻烦改一下", "我的手机[PHONE]，麻烦改一下"),
    ("电话 +86 138-1234-5678 或 021-62345678", "电话 [PHONE] 或 [PHONE]"),
    ("打0086 13912345678找我", "打[PHONE]找我"),
    ("邮箱 wang.li+shop@example.com.cn 收发票", "邮箱 [EMAIL] 收发票"),
    ("身份证110101199003074518", "身份证[ID]"),
    ("地址是上海市浦东新区张江路123弄5号601室，谢谢", "地址是[ADDRESS]，谢谢"),
    ("地址填错了，应该寄到北京市朝阳区建国路88号院3号楼502室", "地址填错了，应该寄到[ADDRESS]"),
    ("收货地址：广东省深圳市南山区深南大道10000号", "收货地址：[ADDRESS]"),
    ("送到人民路5号", "送到[ADDRESS]"),
    ("I live at 42 Baker Street, Apt 3B, call me", "I live at [ADDRESS], call me"),
]
KEPT = [
    "订单号 20261126123456789 还没发货",  # order numbers are what customers ask about
    "订单E20261126还没到，退款99.5元",
    "充电器有20W、35W和65W三种",
    "我在杭州市西湖区，能发顺丰吗",  # a district alone finds no one
    "北京路那家店还开吗",
    "客服电话是多少",
]


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_personal_data_is_masked(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("text", KEPT)
def test_what_is_not_personal_data_is_kept(text):
    assert mask_personal_data(text) == text
