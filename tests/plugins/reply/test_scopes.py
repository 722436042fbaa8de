"""Entries scoped to one site: `channels: [webchat/shoes]` in YAML and CSV, matching, the menu and
its suggestions per site, and the decision cache kept apart per site."""

from __future__ import annotations

import pytest

from csgw.plugins.reply.engine import EngineSettings, ReplyEngine
from csgw.plugins.reply.kb import KBError, parse_yaml, render_yaml
from csgw.plugins.reply.kb_csv import parse_csv, render_csv
from csgw.plugins.reply.scopes import ScopeError, checked_scope, serves

SITES_KB = """
entries:
  - id: ship-time
    category: 物流
    question: 多久发货？
    answer: 付款后48小时内发货。
    keywords: [{any: [发货]}]
  - id: ship-fee
    category: 物流
    question: 运费怎么算？
    answer: 满99元包邮。
    answers: {webchat: 网页下单满99元包邮。, webchat/intl: Free shipping over 99 yuan.}
    keywords: [{any: [运费, 邮费]}]
  - id: shoe-size
    category: 鞋码
    question: 鞋码怎么选？
    answer: 鞋码偏大，建议选小一码。
    channels: [webchat/shoes]
    keywords: [{any: [鞋码, 尺码]}]
  - id: intl-shipping
    category: International
    question: Do you ship abroad?
    answer: We ship to 30 countries.
    channels: [webchat/intl]
    keywords: [{any: [abroad, overseas]}]
  - id: pickup
    category: 門市
    question: 可以門市自取嗎？
    answer: 可以，銅鑼灣門市自取。
    channels: [webchat/hk, wechat_oa]
    keywords: [{any: [自取]}]
"""


@pytest.fixture(scope="module")
def engine() -> ReplyEngine:
    return ReplyEngine.from_kb(parse_yaml(SITES_KB), EngineSettings(model="off"))


def test_scopes_read_and_refuse():
    assert checked_scope(" webchat/shoes ") == "webchat/shoes" and checked_scope("email") == "email"
    for bad in ("webchat/", "/x", "a/b/c", "web chat", "", "webchat/ shoes"):
        with pytest.raises(ScopeError, match="plugin/account"):
            checked_scope(bad)
    assert serves(["webchat"], "webchat/shoes") and serves(["webchat/shoes"], "webchat/shoes")
    assert not serves(["webchat/shoes"], "webchat/intl") and not serves(["webchat/shoes"], "webchat")
    assert serves(["webchat/shoes"], None) and serves(None, "email/support")


def test_yaml_and_csv_keep_scopes_and_per_site_answers():
    kb = parse_yaml(SITES_KB)
    fee = kb.get("ship-fee")
    assert kb.get("pickup").channels == ["webchat/hk", "wechat_oa"]
    assert fee.answer_for("webchat/intl") == "Free shipping over 99 yuan."
    assert fee.answer_for("webchat/shoes") == "网页下单满99元包邮。"  # the plugin's own answer
    assert fee.answer_for("email/support") == fee.answer_for(None) == "满99元包邮。"
    assert parse_yaml(render_yaml(kb)).entries == kb.entries
    text = render_csv(kb)
    assert "answer@webchat/intl" in text.splitlines()[0]
    assert parse_csv(text).entries == kb.entries


@pytest.mark.parametrize("bad", ["webchat/", "/x", "a/b/c"])
def test_a_malformed_channel_is_named_in_yaml_and_csv(bad):
    with pytest.raises(KBError) as yaml_error:
        parse_yaml(f"entries:\n  - {{id: e1, question: 问, answer: 答, channels: [email, '{bad}']}}\n")
    [problem] = yaml_error.value.problems
    assert problem.field == "channels" and repr(bad) in problem.message and problem.entry_id == "e1"
    with pytest.raises(KBError) as csv_error:
        parse_csv(f"id,question,answer,channels\ne1,问,答,\"email, {bad}\"\n")
    [problem] = csv_error.value.problems
    assert (problem.unit, problem.index, problem.field) == ("row", 2, "channels") and repr(bad) in problem.message
    with pytest.raises(KBError, match="answers"):
        parse_yaml(f"entries:\n  - {{id: e1, question: 问, answer: 答, answers: {{'{bad}': 另一个答案}}}}\n")


def test_a_scoped_entry_answers_on_its_site_only(engine: ReplyEngine):
    assert engine.match("鞋码怎么选", channel="webchat/shoes").entry_id == "shoe-size"
    for elsewhere in ("webchat/hk", "webchat/intl", "webchat", "wechat_oa/shop"):
        assert engine.match("鞋码怎么选", channel=elsewhere).entry_id != "shoe-size", elsewhere
    assert engine.match("可以门市自取吗", channel="wechat_oa/shop").entry_id == "pickup"  # the whole plugin
    assert engine.match("鞋码怎么选").entry_id == "shoe-size"  # kb test from anywhere
    # an unscoped entry answers on every site, in that site's own wording where it has one
    assert engine.match("运费怎么算", channel="webchat/intl").text == "Free shipping over 99 yuan."
    assert engine.match("运费怎么算", channel="webchat/hk").text == "网页下单满99元包邮。"


def test_the_decision_cache_keeps_sites_apart(engine: ReplyEngine):
    first = engine.match("鞋码怎么选呢", channel="webchat/shoes")
    again = engine.match("鞋码怎么选呢", channel="webchat/intl", language="en")
    assert first.entry_id == "shoe-size" and again.entry_id is None
    assert "reply 9 to talk to a person" in again.text


def test_each_site_sees_its_own_menu_and_suggestions(engine: ReplyEngine):
    def top(site: str, language: str) -> list[str]:
        reply = engine.match("你好", channel=site, language=language)
        return [choice["label"] for choice in reply.payload["choices"]]

    assert top("webchat/shoes", "zh-Hans") == ["物流", "鞋码"]
    assert top("webchat/intl", "en") == ["物流", "International"]
    assert top("webchat/hk", "zh-Hant") == ["物流", "門市"]
    assert engine.match("hello", channel="webchat/intl", language="en").text.startswith(
        "Hello! Happy to help.\nReply with a number to choose a topic:")
    # the first question of each top item, then the second: never another site's
    assert engine.suggestions("webchat/shoes") == ["多久发货？", "鞋码怎么选？", "运费怎么算？"]
    assert engine.suggestions("webchat/intl", limit=2) == ["多久发货？", "Do you ship abroad?"]
    assert engine.suggestions("email/support") == ["多久发货？", "运费怎么算？"]
