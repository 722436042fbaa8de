from __future__ import annotations

import threading

from csgw.plugins.reply.kb import Entry, KeywordRule
from csgw.plugins.reply.keywords import KeywordIndex, RuleSource


def entry(entry_id: str, *rules: dict, priority: int = 0, channels: list[str] | None = None) -> Entry:
    return Entry(id=entry_id, question=entry_id, answer=entry_id, priority=priority, channels=channels,
                 keywords=[KeywordRule(**rule) for rule in rules])


def ids(index: KeywordIndex, text: str, channel: str | None = None) -> list[str]:
    return [hit.entry_id for hit in index.match_text(text, channel)]


def test_any_all_none() -> None:
    index = KeywordIndex.from_entries([
        entry("bill-late", {"all": ["话费", "没到"], "none": ["优惠"]}),
        entry("bill-topup", {"all": ["话费", ["充值", "怎么充"]]}),
        entry("ship", {"any": ["发货", "发出"]}),
    ])
    assert ids(index, "话费怎么还没到") == ["bill-late"]
    assert ids(index, "话费没到，有优惠吗") == []  # `none` vetoes
    assert ids(index, "话费怎么充") == ["bill-topup"]  # a group in `all` is a set of alternatives
    assert ids(index, "话费") == []  # one word alone is ambiguous, so no rule claims it
    assert ids(index, "什么时候发出") == ["ship"]
    assert ids(index, "天气不错") == []


def test_rules_match_normalised_text() -> None:
    index = KeywordIndex.from_entries([entry("vip", {"any": ["VIP", "會員"]})])
    assert ids(index, "ｖｉｐ有折扣吗") == ["vip"]
    assert ids(index, "会员价多少") == ["vip"]  # traditional keyword, simplified message


def test_priority_then_specificity_then_order() -> None:
    index = KeywordIndex.from_entries([
        entry("generic", {"any": ["退"]}),
        entry("specific", {"all": ["退", "运费"]}),
        entry("urgent", {"any": ["运费"]}, priority=5),
    ])
    hits = index.match_text("退货运费谁出")
    assert [hit.entry_id for hit in hits] == ["urgent", "specific", "generic"]
    assert hits[1].matched == ("运费", "退") and hits[1].specificity == 3


def test_rule_priority_overrides_entry_priority() -> None:
    index = KeywordIndex.from_entries([
        entry("a", {"any": ["换"], "priority": 9}, priority=0),
        entry("b", {"any": ["换"]}, priority=3),
    ])
    assert ids(index, "换一下") == ["a", "b"]


def test_one_hit_per_entry_best_rule_wins() -> None:
    index = KeywordIndex.from_entries([entry("a", {"any": ["发"]}, {"all": ["发货", "多久"]})])
    (hit,) = index.match_text("多久发货")
    assert hit.rule_index == 1


def test_channels_limit_rules() -> None:
    index = KeywordIndex.from_entries([entry("wx", {"any": ["公众号"]}, channels=["wechat_oa"])])
    assert ids(index, "公众号", "wechat_oa") == ["wx"]
    assert ids(index, "公众号", "email") == []
    assert ids(index, "公众号") == ["wx"]  # no channel: `kb test` sees every rule


def test_empty_index() -> None:
    index = KeywordIndex([])
    assert len(index) == 0 and index.match_text("anything") == []


def test_many_rules_only_check_anchored_candidates() -> None:
    sources = [RuleSource(f"e{n}", 0, KeywordRule(all=[f"词{n}甲", f"词{n}乙"]), 0) for n in range(5_000)]
    index = KeywordIndex(sources)
    assert len(index) == 5_000
    assert [hit.entry_id for hit in index.match_text("我要词123甲和词123乙")] == ["e123"]
    assert index.match_text("只有词123甲") == []


def test_rebuild_is_a_new_object_and_old_one_keeps_working() -> None:
    old = KeywordIndex.from_entries([entry("a", {"any": ["旧词"]})])
    holder = {"index": old}
    results: list[list[str]] = []

    def reader() -> None:
        for _ in range(2000):
            current = holder["index"]  # one read of the reference per message
            results.append([hit.entry_id for hit in current.match_text("旧词新词")])

    thread = threading.Thread(target=reader)
    thread.start()
    holder["index"] = KeywordIndex.from_entries([entry("b", {"any": ["新词"]})])
    thread.join()
    assert {tuple(result) for result in results} <= {("a",), ("b",)}  # never a mix
    assert ids(old, "旧词") == ["a"] and ids(holder["index"], "新词") == ["b"]


def test_a_word_inside_a_longer_rule_word_names_the_longer_word() -> None:
    index = KeywordIndex.from_entries([
        entry("fee", {"any": ["运费"]}),
        entry("insurance", {"any": ["运费险"]}),
        entry("return-fee", {"all": ["退货", ["运费", "运费险"]]}),
        entry("no-insurance", {"any": ["邮费"], "none": ["运费"]}),
    ])
    assert ids(index, "有运费险吗") == ["insurance"]
    assert ids(index, "运费险和运费") == ["insurance", "fee"]  # once on its own, it counts
    # the longer word belongs to the same rule: the shorter one inside it is still that rule's
    assert ids(index, "退货有运费险吗") == ["return-fee", "insurance"]
    assert "no-insurance" in ids(index, "邮费多少")
    assert "no-insurance" not in ids(index, "邮费还是运费险")  # `none` vetoes inside a longer word
