from __future__ import annotations

import pytest

from csgw.plugins.reply.normalize import compact, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("什麼時候發貨", "什么时候发货"),  # traditional -> simplified
        ("ＶＩＰ有優惠嗎？", "vip有优惠吗"),  # full width, case, punctuation
        ("发货😀😀了吗👍🏻", "发货 了吗"),  # emoji (with skin tone) separate like spaces
        ("[微笑]请问包邮吗[玫瑰]", "请问包邮吗"),  # WeChat's bracketed emoji codes
        ("  订单   12345\n\t到了吗 ", "订单 12345 到了吗"),  # whitespace folded, digits kept
        ("１７０ｃｍ穿Ｍ码", "170cm穿m码"),
        ("Hello, World!!!", "hello world"),
        ("❤️\u200d🔥", ""),  # zero-width joiner and variation selector vanish
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_compact_drops_spaces() -> None:
    assert compact("发 货 了 吗？") == "发货了吗"


def test_normalize_is_idempotent() -> None:
    text = "請問ＸＬ碼😀，還有貨嗎？？"
    assert normalize(normalize(text)) == normalize(text)
