"""Opposites on one object: 开通 vs 关闭, 提高 vs 降低, 能 vs 不能.

Embeddings and word overlap both rate "怎么开通花呗" close to "怎么关闭花呗": same object, same
question words. These two signals tell the fusion when a candidate says the opposite.
"""

from __future__ import annotations

from functools import lru_cache

# Each pair: words of one direction, words of the other. Written for shop and payment service
# questions; a word in both a message and a candidate cancels out.
OPPOSITES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("开通", "开启", "打开", "启用", "激活", "开了"), ("关闭", "关掉", "取消", "停用", "注销", "关了", "停掉")),
    (("提高", "提升", "增加", "升", "上调", "调高", "涨"), ("降低", "减少", "降", "下调", "调低", "减")),
    (("绑定", "绑卡", "添加"), ("解绑", "解除绑定", "删除", "移除")),
    (("冻结", "锁定"), ("解冻", "解锁", "解除冻结")),
    (("收款", "收钱", "到账"), ("付款", "付钱", "转出")),
    (("买", "购买", "下单"), ("卖", "退货")),
    (("提前还款", "提前还"), ("逾期", "延期还款", "晚还")),
    (("退款",), ("付款", "扣款")),
    (("登录", "登陆"), ("退出", "登出")),
    (("收到",), ("没收到", "未收到")),
)

NEGATIONS = ("不能", "不可以", "不了", "无法", "没法", "没办法", "不行", "失败", "不成功", "没有", "不到", "未")


@lru_cache(maxsize=8192)
def _directions(text: str) -> frozenset[tuple[int, int]]:
    """(pair, side) for every side of OPPOSITES the text speaks of; cached per text, as entry
    questions come back for message after message."""
    return frozenset((pair, side) for pair, words in enumerate(OPPOSITES)
                     for side in (0, 1) if any(word in text for word in words[side]))


def opposite(message: str, candidate: str) -> bool:
    """Whether the candidate speaks of the opposite direction of something the message asks."""
    mine, theirs = _directions(message), _directions(candidate)
    return any((pair, 1 - side) in theirs and (pair, 1 - side) not in mine and (pair, side) not in theirs
               for pair, side in mine)


@lru_cache(maxsize=8192)
def _negated(text: str) -> bool:
    return any(word in text for word in NEGATIONS)


def negation_differs(message: str, candidate: str) -> bool:
    """One of the two says something cannot or did not happen, the other does not."""
    return _negated(message) != _negated(candidate)
