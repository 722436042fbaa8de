"""When a keyword hit answers, and when retrieval has to agree first (`keyword_support`)."""

from __future__ import annotations

import pytest

from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.kb import Entry, KeywordRule


def entry(entry_id: str, question: str, similar: list[str], rule: dict) -> Entry:
    return Entry(id=entry_id, question=question, answer=entry_id, similar=similar,
                 keywords=[KeywordRule(**rule)])


@pytest.fixture(scope="module")
def shop() -> ReplyEngine:
    return ReplyEngine.from_entries([
        entry("shipping-fee", "运费多少", ["运费怎么算", "包邮吗"], {"any": ["运费", "包邮"]}),
        entry("return-shipping", "退货运费谁出", ["有运费险吗", "退回的运费谁承担"],
              {"all": [["退货", "退回"], ["运费", "运费险"]], "priority": 5}),
        entry("damaged", "收到的东西碎了怎么办", ["商品破损了", "收到有划痕"],
              {"any": ["碎了", "破损"]}),
    ])


def test_a_keyword_with_its_question_answers(shop: ReplyEngine) -> None:
    for text, expected in (("运费多少", "shipping-fee"), ("收到的杯子碎了", "damaged"),
                           ("退回的运费谁出", "return-shipping")):
        result = shop.match(text)
        assert (result.answered, result.source, result.entry_id) == (True, "keyword", expected)


def test_a_bare_word_several_entries_share_asks_back(shop: ReplyEngine) -> None:
    result = shop.match("运费")
    assert not result.answered and result.source == "clarify"
    assert {c.entry_id for c in result.candidates} == {"shipping-fee", "return-shipping"}


def test_a_bare_word_of_one_entry_still_answers(shop: ReplyEngine) -> None:
    result = shop.match("包邮吗")
    assert (result.answered, result.source, result.entry_id) == (True, "keyword", "shipping-fee")


def test_a_rule_word_inside_a_longer_rule_word_does_not_answer(shop: ReplyEngine) -> None:
    result = shop.match("有运费险吗")  # 运费 is only part of 运费险
    assert (result.answered, result.entry_id) == (True, "return-shipping")


def test_a_message_about_something_else_needs_retrieval_to_agree(shop: ReplyEngine) -> None:
    result = shop.match("我手机屏幕碎了你们能修吗")
    assert not result.answered and result.source == "none"
