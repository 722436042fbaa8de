"""Greetings, thanks and acknowledgements: chat that is neither a question nor a request."""

from __future__ import annotations

import re

GREETINGS = frozenset({"你好", "您好", "在吗", "在不在", "有人在吗", "哈喽", "嗨", "hello", "hi", "hey",
                       "你好呀", "您好呀", "你好在吗", "亲在吗", "亲", "在", "早", "早上好", "下午好", "晚上好"})
THANKS = frozenset({"谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "thanks", "thank you", "thx", "谢啦", "谢了",
                    "好的谢谢", "好的谢谢你", "ok谢谢", "明白了谢谢", "知道了谢谢", "辛苦了"})
ACKNOWLEDGEMENTS = frozenset({"好", "好的", "好滴", "好吧", "嗯", "嗯嗯", "哦", "哦哦", "噢", "ok", "okay",
                              "收到", "知道了", "明白", "明白了", "行", "可以", "好嘞", "了解", "懂了"})
_REPEATS = re.compile(r"(.)\1+$")


def kind_of(normalized: str) -> str | None:
    """"greeting", "thanks", "ack" or None for an already-normalised message."""
    text = normalized.strip()
    if not text:
        return None
    squeezed = _REPEATS.sub(r"\1", text)  # "好的的的" / "嗯嗯嗯" / "hiii"
    for candidate in (text, squeezed, text.removeprefix("亲").strip(), text.removesuffix("呀")):
        if candidate in THANKS:
            return "thanks"
        if candidate in GREETINGS:
            return "greeting"
        if candidate in ACKNOWLEDGEMENTS:
            return "ack"
    return None
