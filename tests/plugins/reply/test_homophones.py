"""Homophone repair: sound-alike typos become the KB's words; real words stay as typed."""

from __future__ import annotations

import pytest

from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.homophones import HomophoneCorrector, sound_key
from csgw.plugins.reply.kb import KnowledgeBase


@pytest.fixture(scope="module")
def corrector(engine: ReplyEngine) -> HomophoneCorrector:
    return engine._index.homophones


def test_sounds_fold_what_speakers_merge() -> None:
    assert sound_key("发或") == sound_key("发货")
    assert sound_key("正屏") == sound_key("正品")  # -ng/-n
    assert sound_key("是") == sound_key("四") == ("si",)  # sh/s
    assert sound_key("A1") == ("A", "1")


@pytest.mark.parametrize(("typed", "meant"), [
    ("什么时候发或", "什么时候发货"),
    ("退宽多久到", "退款多久到"),
    ("发漂怎么开", "发票怎么开"),
])
def test_sound_alike_becomes_the_kb_word(corrector: HomophoneCorrector, typed: str, meant: str) -> None:
    assert corrector.correct(typed) == meant


@pytest.mark.parametrize("text", ["黑色没货了还补吗", "重庆能发货吗", "发货了吗"])
def test_real_words_and_filler_stay(corrector: HomophoneCorrector, text: str) -> None:
    assert corrector.correct(text) == text


def test_typo_is_answered_end_to_end(engine: ReplyEngine) -> None:
    assert engine.match("多久发或").entry_id == engine.match("多久发货").entry_id is not None


def test_two_kb_words_of_one_sound_are_left_alone() -> None:
    corrector = HomophoneCorrector(["发货", "发火"], {"发货": 100, "发火": 100}.get)
    assert corrector.correct("发或") == "发或"  # 发或 sounds like both: no evidence for either
    assert HomophoneCorrector(["发货"], {}.get).correct("发或") == "发货"


def test_empty_kb_changes_nothing() -> None:
    assert ReplyEngine.from_kb(KnowledgeBase()).match("发或").answered is False
