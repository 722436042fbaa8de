from __future__ import annotations

from pathlib import Path

import pytest

from csgw.plugins.reply.kb import (
    Entry,
    KBError,
    KnowledgeBase,
    load_kb,
    parse_yaml,
    render_yaml,
    save_kb,
)
from csgw.plugins.reply.kb_csv import parse_csv, parse_rules, render_csv

ISSUE_EXAMPLE = """
entries:
  - id: ship-time                 # stable, unique
    category: 售前/物流            # optional; '/' nests, feeds the menu
    question: 下单后多久发货?
    similar: [什么时候发货]         # optional paraphrases
    answer: 现货订单48小时内发货哦
    keywords:                     # optional rules; any rule that holds triggers
      - any: [发货, 发出]
      - all: [话费, 没到]
        none: [优惠]
    priority: 10                  # optional; higher wins among matches
    channels: [wechat_oa]         # optional; default all
"""


def test_issue_example_loads() -> None:
    kb = parse_yaml(ISSUE_EXAMPLE)
    (entry,) = kb.entries
    assert entry.id == "ship-time"
    assert entry.category_path == ("售前", "物流")
    assert entry.keywords[1].all == ["话费", "没到"] and entry.keywords[1].none == ["优惠"]
    assert entry.priority == 10 and entry.channels == ["wechat_oa"]
    assert entry.serves("wechat_oa") and not entry.serves("email") and entry.serves(None)


def test_per_channel_answers_links_images(shop_kb: KnowledgeBase) -> None:
    ship = shop_kb.get("ship-time")
    assert ship is not None
    assert ship.answer_for("email").startswith("您好")
    assert ship.answer_for("webchat") == ship.answer
    invoice = shop_kb.get("invoice")
    assert invoice is not None and invoice.links[0].title == "开票说明"
    stores = shop_kb.get("stores")
    assert stores is not None and stores.images == ["https://shop.example.com/img/stores.png"]


def test_yaml_round_trip(shop_kb: KnowledgeBase) -> None:
    again = parse_yaml(render_yaml(shop_kb))
    assert again == shop_kb
    assert render_yaml(again) == render_yaml(shop_kb)


def test_csv_round_trip(shop_kb: KnowledgeBase) -> None:
    text = render_csv(shop_kb)
    assert text.splitlines()[0].startswith("id,category,question,similar,answer,answer@email,keywords")
    again = parse_csv(text)
    assert again.entries == shop_kb.entries  # CSV carries entries; synonyms stay in YAML
    assert render_csv(again) == text


def test_files_round_trip_by_suffix(shop_kb: KnowledgeBase, tmp_path: Path) -> None:
    for name in ("kb.yaml", "kb.csv"):
        save_kb(shop_kb, tmp_path / name)
        assert load_kb(tmp_path / name).entries == shop_kb.entries


def test_csv_from_a_spreadsheet() -> None:
    text = (
        "\ufeffid,question,answer,similar,keywords,channels,links\n"
        'ship,多久发货,48小时内,什么时候发货|几天发出,"any: 发货，发出; all: 话费|电费, 没到 none: 优惠",'
        '"wechat_oa, webchat",[说明](https://x.example/a) https://x.example/b\n'
    )
    (entry,) = parse_csv(text).entries
    assert entry.similar == ["什么时候发货", "几天发出"]
    assert entry.keywords[0].any == ["发货", "发出"]
    assert entry.keywords[1].all == [["话费", "电费"], "没到"] and entry.keywords[1].none == ["优惠"]
    assert entry.channels == ["wechat_oa", "webchat"]
    assert [(link.title, link.url) for link in entry.links] == [
        ("说明", "https://x.example/a"), ("", "https://x.example/b")]


def test_rule_syntax_priority() -> None:
    assert parse_rules("all: 地址, 改|错 priority: 7") == [{"all": ["地址", ["改", "错"]], "priority": 7}]


def test_every_bad_entry_is_reported_once() -> None:
    text = """
entries:
  - {id: ok, question: 包邮吗, answer: 包邮}
  - {id: no-answer, question: 发货}
  - {id: bad-rule, question: 退货, answer: 可以, keywords: [{none: [优惠]}]}
  - {id: typo, question: 换货, answer: 可以, similiar: [换]}
  - {id: ok, question: 重复, answer: 重复}
  - {id: "has space", question: 问, answer: 答}
  - just a string
"""
    with pytest.raises(KBError) as caught:
        parse_yaml(text, source="shop.yaml")
    problems = caught.value.problems
    assert [(p.index, p.entry_id, p.field) for p in problems] == [
        (2, "no-answer", "answer"),
        (3, "bad-rule", "keywords.0"),
        (4, "typo", "similiar"),
        (5, "ok", "id"),
        (6, "has space", "id"),
        (7, None, None),
    ]
    message = str(caught.value)
    assert message.startswith("shop.yaml: 6 bad entries:")
    assert "entry 2 (id no-answer) field 'answer': is required" in message
    assert "needs words under `any` or `all`" in message
    assert "duplicate id, first used in entry 1" in message


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(KBError, match=r"line \d+: not valid YAML"):
        parse_yaml("entries:\n  - id: a\n    question: [unclosed\n")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("- 1\n- 2\n", "an entry must be a mapping"),
        ("entries: 5\n", "field 'entries': must be a list"),
        ("entry: []\n", "field 'entry': is not a known top-level key"),
        ("just text\n", "expected a mapping"),
    ],
)
def test_bad_file_shapes(text: str, fragment: str) -> None:
    with pytest.raises(KBError, match=fragment):
        parse_yaml(text)


def test_csv_errors_name_the_row() -> None:
    text = "id,question,answer,keywords,priority\na,问,答,ayn: x,\nb,问,,,\nc,问,答,,high\n"
    with pytest.raises(KBError) as caught:
        parse_csv(text)
    assert [(p.index, p.entry_id, p.field) for p in caught.value.problems] == [
        (2, "a", "keywords"), (3, "b", "answer"), (4, "c", "priority")]
    assert "row 3 (id b) field 'answer'" in str(caught.value)


def test_csv_needs_the_core_columns() -> None:
    with pytest.raises(KBError, match="field 'answer': column is missing"):
        parse_csv("id,question\na,b\n")


def test_punctuation_only_words_are_rejected() -> None:
    with pytest.raises(KBError, match="only punctuation"):
        parse_yaml("- {id: a, question: 问, answer: 答, keywords: [{any: ['？？']}]}")


def test_category_slashes_are_tidied() -> None:
    entry = Entry(id="a", question="问", answer="答", category=" 售前 / /物流/ ")
    assert entry.category == "售前/物流"


def test_round_trip_of_awkward_values() -> None:
    kb = KnowledgeBase(entries=[Entry(
        id="odd:1",
        question="yes",
        similar=["123", "a: b", "#不是注释", "- 不是列表"],
        answer='答案里有, 逗号; 分号 | 竖线 和 "引号"\n还有换行',
        answers={"wechat_oa": "no"},
        keywords=[{"any": ["12315", "on"], "none": ["null"]}, {"all": ["true", ["1", "2"]], "priority": -1}],
        priority=-3,
        channels=["wechat_oa", "email"],
        links=[{"url": "https://x.example/?a=1&b=2", "title": "说明 (新)"}],
        images=["https://x.example/a.png"],
    )])
    assert parse_yaml(render_yaml(kb)) == kb
    assert parse_csv(render_csv(kb)).entries == kb.entries
