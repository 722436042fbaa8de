from __future__ import annotations

import json
import threading

import pytest

from csgw.plugins.reply.engine import EngineSettings, ReplyEngine
from csgw.plugins.reply.kb import Entry, KnowledgeBase
from csgw.plugins.reply.menu import MenuSettings


def test_keyword_answer(engine: ReplyEngine) -> None:
    result = engine.match("退货运费要我自己出吗")
    assert (result.answered, result.source, result.entry_id) == (True, "keyword", "return-shipping-fee")
    assert result.text == result.answer and result.score == 1.0
    assert result.group == "售后/退换"


def test_retrieval_answer(engine: ReplyEngine) -> None:
    result = engine.match("面料是啥呀")  # the material entry has no keyword rules
    assert (result.answered, result.source, result.entry_id) == (True, "retrieval", "material")
    assert 0.0 < result.score <= 1.0


def test_per_channel_answer_and_payload(engine: ReplyEngine) -> None:
    assert engine.match("什么时候发货", channel="email").text.startswith("您好，现货订单")
    invoice = engine.match("能开发票吗")
    assert invoice.entry_id == "invoice"
    assert invoice.payload["links"] == [{"url": "https://shop.example.com/help/invoice", "title": "开票说明"}]


def test_equal_priority_rules_of_two_entries_ask_back(engine: ReplyEngine) -> None:
    # both "下错…码" (change-order) and "还没发货" (ship-time) rules hold: ask, don't guess
    result = engine.match("尺码下错了能改吗还没发货")
    assert not result.answered and result.source == "clarify"
    assert {c.entry_id for c in result.candidates} == {"change-order", "ship-time"}


def test_clarify_then_number_answers(engine: ReplyEngine) -> None:
    asked = engine.match("发票", bot_state={})
    assert asked.source == "clarify" and asked.text.startswith("您是想问：")
    picked = engine.match("2", bot_state=asked.bot_state)
    assert picked.answered and picked.source == "menu"
    offered = [c.entry_id for c in asked.candidates]
    assert picked.entry_id == offered[1]


def test_unknown_offers_menu_then_hands_over(engine: ReplyEngine) -> None:
    first = engine.match("今天天气怎么样", bot_state={})
    assert (first.answered, first.source, first.handover) == (False, "none", False)
    assert first.text.startswith("抱歉，我还没理解您的问题。\n请回复数字")
    second = engine.match("股票明天会涨吗", bot_state=first.bot_state)
    assert second.handover and second.reason == "no_match" and second.source == "none"
    assert "转接人工客服" in second.text


def test_an_answer_resets_the_miss_count(engine: ReplyEngine) -> None:
    miss = engine.match("今天天气怎么样", bot_state={})
    answered = engine.match("包邮吗", bot_state=miss.bot_state)
    assert answered.answered and "kb" not in answered.bot_state
    assert not engine.match("股票明天会涨吗", bot_state=answered.bot_state).handover


def test_no_match_can_hand_over_at_once(shop_kb: KnowledgeBase) -> None:
    engine = ReplyEngine.from_kb(shop_kb, EngineSettings(no_match="handover"))
    result = engine.match("今天天气怎么样")
    assert result.handover and not result.answered


@pytest.mark.parametrize("text", ["转人工", "我要人工客服！！", "人工", "客服", "找真人", "I want a human",
                                  "talk to an agent please", "轉人工"])
def test_person_requests_hand_over(engine: ReplyEngine, text: str) -> None:
    result = engine.match(text)
    assert result.handover and result.source == "handover" and result.reason == "person"


def test_complaints_hand_over(engine: ReplyEngine) -> None:
    result = engine.match("发货这么慢我要投诉")
    assert result.handover and result.reason == "complaint"


@pytest.mark.parametrize("text", ["客服几点上班", "有真人图吗", "真人试穿效果怎么样"])
def test_questions_that_mention_people_are_not_handover(engine: ReplyEngine, text: str) -> None:
    assert not engine.match(text).handover


def test_smalltalk(engine: ReplyEngine) -> None:
    greeting = engine.match("您好")
    assert greeting.source == "smalltalk" and "1. 售前" in greeting.text
    assert engine.match("谢谢").text.startswith("不客气")
    state = {"kb": {"menu": {"kind": "menu", "path": ["订单"], "options": ["c:订单/物流"]}}}
    ack = engine.match("好的", bot_state=state)
    assert ack.text is None and not ack.handover and ack.bot_state == state


def test_emoji_only_changes_nothing(engine: ReplyEngine) -> None:
    result = engine.match("👍👍", bot_state={"x": 1})
    assert result.text is None and not result.handover and result.bot_state == {"x": 1}


def test_menu_walk_through_the_engine(engine: ReplyEngine) -> None:
    state: dict = {"other_plugin": "kept"}
    for message, expected_source in [("你好", "smalltalk"), ("4", "menu"), ("2", "menu")]:
        result = engine.match(message, bot_state=state)
        assert result.source == expected_source
        state = result.bot_state
    assert result.answered and result.entry_id == "installment"  # 支付/发票 -> 可以分期付款吗？
    assert state["other_plugin"] == "kept"
    json.dumps(state)
    assert engine.match("9", bot_state=state).handover


def test_language_per_conversation(engine: ReplyEngine) -> None:
    assert engine.match("1", language="en").text.startswith("Reply with a number")
    assert engine.match("轉人工", language="zh-Hant").text.startswith("正在為您轉接")


def test_menu_settings_through_from_entries(shop_kb: KnowledgeBase) -> None:
    engine = ReplyEngine.from_entries(shop_kb.entries, MenuSettings(person_number="8"))
    assert engine.match("8").handover
    assert not engine.match("9").handover


def test_channel_only_entries(shop_kb: KnowledgeBase) -> None:
    entries = [*shop_kb.entries,
               Entry(id="wx-menu", question="公众号菜单在哪", answer="底部菜单", channels=["wechat_oa"])]
    engine = ReplyEngine.from_entries(entries)
    assert engine.match("公众号菜单在哪", channel="wechat_oa").entry_id == "wx-menu"
    assert not engine.match("公众号菜单在哪", channel="email").answered


def test_to_dict_explains_the_decision(engine: ReplyEngine) -> None:
    data = engine.match("运费")
    encoded = json.loads(json.dumps(data.to_dict(), ensure_ascii=False))
    assert set(encoded) >= {"answered", "entry_id", "answer", "source", "score", "candidates"}
    assert encoded["source"] == "clarify" and len(encoded["candidates"]) >= 2


def test_rebuild_swaps_atomically(shop_kb: KnowledgeBase) -> None:
    engine = ReplyEngine.from_kb(shop_kb)
    assert engine.match("奶茶包邮吗").entry_id == "free-shipping"
    new_entries = [Entry(id="tea", question="奶茶多少钱一杯", answer="15元", keywords=[{"any": ["奶茶"]}])]
    seen: set[str | None] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.add(engine.match("奶茶包邮吗").entry_id)
            except BaseException as error:  # a half-swapped index would fail here
                errors.append(error)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    for _ in range(3):
        engine.rebuild(new_entries)
        engine.rebuild(shop_kb.entries, shop_kb.synonyms)
    engine.rebuild(new_entries)
    stop.set()
    thread.join()
    assert not errors
    assert seen <= {"free-shipping", "tea"}  # the old KB's answer or the new one's, nothing else
    assert engine.match("奶茶多少钱").entry_id == "tea"
    assert not engine.match("包邮吗").answered
    assert set(engine.entries) == {"tea"}


def test_remembered_decisions_keep_each_conversations_state(shop_kb: KnowledgeBase) -> None:
    engine = ReplyEngine.from_kb(shop_kb)
    first = engine.match("今天天气怎么样", bot_state={"other_plugin": 1})
    assert first.source == "none" and first.bot_state["other_plugin"] == 1 and first.bot_state["kb"]["misses"] == 1
    again = engine.match("今天天气怎么样", bot_state={})
    assert again.text == first.text and again.bot_state == {"kb": first.bot_state["kb"]}
    again.payload["scribble"] = True  # a caller's change never reaches the next answer
    assert "scribble" not in engine.match("今天天气怎么样").payload
    # With a miss already counted the same text is decided afresh: this time a person takes over.
    assert engine.match("今天天气怎么样", bot_state=first.bot_state).handover


def test_a_rebuild_forgets_remembered_decisions(shop_kb: KnowledgeBase) -> None:
    engine = ReplyEngine.from_kb(shop_kb)
    assert engine.match("奶茶包邮吗").entry_id == "free-shipping"
    engine.rebuild([Entry(id="tea", question="奶茶包邮吗", answer="包邮", keywords=[{"any": ["奶茶"]}])])
    assert engine.match("奶茶包邮吗").entry_id == "tea"


def test_an_unsure_guess_counts_as_a_miss(engine: ReplyEngine) -> None:
    """Offering the nearest entries back is a miss too: the second one reaches a person."""
    guess = engine.match("你们支持比特币付款吗", bot_state={})
    assert guess.source == "clarify" and guess.decision == "unsure" and guess.bot_state["kb"]["misses"] == 1
    again = engine.match("你们老板是哪里人", bot_state=guess.bot_state)
    assert again.handover and again.reason == "no_match"


def test_the_category_of_a_question_answered_or_nearly_answered(engine: ReplyEngine) -> None:
    answered = engine.match("退货运费要我自己出吗")
    assert answered.category == "售后/退换"
    asked_back = engine.match("尺码下错了能改吗还没发货")  # two entries offered: the first one's category
    offered = engine.entries[asked_back.candidates[0].entry_id]
    assert asked_back.source == "clarify" and asked_back.category == offered.category
    assert engine.match("今天天气怎么样", bot_state={}).category is None  # nothing near: no category
    picked = engine.match("2", bot_state=engine.match("发票", bot_state={}).bot_state)
    assert picked.source == "menu" and picked.category == engine.entries[picked.entry_id].category
