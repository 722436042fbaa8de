"""The matcher's derived tables (jieba's dictionary, pinyin per character, the knowledge base's
retrieval index) are built once and read back from the data directory; a damaged or foreign file
is rebuilt, an unwritable directory only costs the rebuild."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys

import pytest
from pypinyin import lazy_pinyin

from csgw.plugins.reply import data_cache, dictionary, homophones
from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.kb import Entry, KnowledgeBase
from csgw.plugins.reply.retrieval import Retriever


@pytest.fixture
def cache_dir(tmp_path):
    data_cache.keep_in(tmp_path)
    yield tmp_path
    data_cache._directory = None


def test_a_table_is_built_once_then_read_from_its_file(cache_dir):
    builds = []

    def build():
        builds.append(1)
        return {"发货": 3}

    first = data_cache.cached("words", "v1", build, lambda t: isinstance(t, dict))
    again = data_cache.cached("words", "v1", build, lambda t: isinstance(t, dict))
    assert first == again == {"发货": 3} and builds == [1]
    (file,) = cache_dir.glob("csgw-words-*.cache")
    assert marshal.loads(file.read_bytes()) == {"发货": 3}
    # built from something else (a library upgrade): a file of its own
    data_cache.cached("words", "v2", build, lambda t: isinstance(t, dict))
    assert builds == [1, 1] and len(list(cache_dir.glob("csgw-words-*.cache"))) == 2


@pytest.mark.parametrize("content", [b"", b"\x00garbage", marshal.dumps(["not", "a", "dict"])])
def test_a_damaged_or_foreign_file_is_rebuilt_and_rewritten(cache_dir, content):
    data_cache.cached("words", "v1", lambda: {"a": 1}, lambda t: isinstance(t, dict))
    (file,) = cache_dir.glob("csgw-words-*.cache")
    file.write_bytes(content)
    assert data_cache.cached("words", "v1", lambda: {"b": 2}, lambda t: isinstance(t, dict)) == {"b": 2}
    assert marshal.loads(file.read_bytes()) == {"b": 2}


def test_newest_only_keeps_one_file_per_table(cache_dir):
    data_cache.cached("index", "kb v1", lambda: {"a": 1}, lambda t: isinstance(t, dict), newest_only=True)
    data_cache.cached("words", "v1", lambda: {"a": 1}, lambda t: isinstance(t, dict))
    assert data_cache.cached("index", "kb v2", lambda: {"b": 2}, lambda t: isinstance(t, dict),
                             newest_only=True) == {"b": 2}
    (index,) = cache_dir.glob("csgw-index-*.cache")
    assert marshal.loads(index.read_bytes()) == {"b": 2}
    assert len(list(cache_dir.glob("csgw-words-*.cache"))) == 1  # another table's file stays


@pytest.fixture
def index_builds(monkeypatch):
    """How many times a retrieval index was built rather than read back."""
    builds = []
    build = Retriever._index

    def counted(self, *args):
        builds.append(1)
        return build(self, *args)

    monkeypatch.setattr(Retriever, "_index", counted)
    return builds


def test_the_retrieval_index_is_read_back_until_the_knowledge_base_changes(cache_dir, shop_kb, index_builds):
    ReplyEngine.from_kb(shop_kb)
    (first,) = cache_dir.glob("csgw-retrieval-*.cache")
    ReplyEngine.from_kb(KnowledgeBase())  # the engine a gateway starts with, before its KB is read
    again = ReplyEngine.from_kb(shop_kb)
    assert len(index_builds) == 2 and list(cache_dir.glob("csgw-retrieval-*.cache")) == [first]
    assert again.match("几天能发出来").entry_id == "ship-time"

    gift = Entry(id="gift-wrap", question="可以帮忙包装成礼物吗", answer="可以，下单备注礼盒包装即可。")
    changed = ReplyEngine.from_kb(KnowledgeBase(entries=[*shop_kb.entries, gift], synonyms=shop_kb.synonyms))
    assert len(index_builds) == 3
    assert changed.match("能包装成礼物吗").entry_id == "gift-wrap"
    (newest,) = cache_dir.glob("csgw-retrieval-*.cache")  # the old KB's index is removed
    assert newest != first


def test_an_index_read_back_decides_as_a_built_one(cache_dir, shop_kb, index_builds):
    texts = [text for entry in shop_kb.entries for text in entry.texts()]
    texts += ["什麼時候發貨", "快递三天没动了", "你好", "人工", "我要投诉", "asdf", "1"]
    data_cache._directory = None  # no data directory: built in memory, nothing kept
    built = ReplyEngine.from_kb(shop_kb)
    data_cache.keep_in(cache_dir)
    ReplyEngine.from_kb(shop_kb)
    read_back = ReplyEngine.from_kb(shop_kb)
    assert len(index_builds) == 2 and len(list(cache_dir.glob("csgw-retrieval-*.cache"))) == 1
    for text in texts:
        assert read_back.match(text).to_dict() == built.match(text).to_dict(), text


def test_a_path_that_cannot_be_a_directory_still_gives_the_table(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    data_cache.keep_in(blocker / "data")
    try:
        assert data_cache.cached("words", "v1", lambda: {"a": 1}, lambda t: isinstance(t, dict)) == {"a": 1}
    finally:
        data_cache._directory = None


def test_the_cached_dictionary_is_jiebas_own(cache_dir):
    built = dictionary._build()
    assert data_cache.cached("jieba", "test", dictionary._build, dictionary._valid) == built
    assert data_cache.cached("jieba", "test", lambda: ({}, 0), dictionary._valid) == built
    freq, total = dictionary.whole()
    words = dictionary.Words()
    assert words.total == total > 10_000_000
    words.cover("发")
    assert words.freq["发货"] == freq["发货"] > 0
    assert {word for word in words.freq if word[0] != "发"} == set()  # only what was covered
    words.cover("".join({word[0] for word in freq}))
    assert words.freq == freq


def test_the_cached_pinyin_reads_each_character_as_pypinyin_does(cache_dir):
    table = homophones._read_syllables()
    assert homophones._complete(table)
    for char in "发货或还没重庆行银退款鿿一":
        assert table[char] == lazy_pinyin(char)[0]


def test_kb_test_in_a_fresh_process_keeps_its_tables_in_the_data_directory(tmp_path):
    """The derived tables go where the config's data lives, and a second run reads them back."""
    csgw = os.path.join(os.path.dirname(sys.executable), "csgw")
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp")}  # nothing may land in the temp folder
    (tmp_path / "tmp").mkdir()
    subprocess.run([csgw, "init", "--dir", str(tmp_path)], check=True, capture_output=True, env=env)
    config = tmp_path / "csgw.toml"  # words only: the meaning model's first indexing is not what is timed here
    config.write_text(config.read_text(encoding="utf-8").replace("[reply.engine]\n", '[reply.engine]\nmodel = "off"\n', 1),
                      encoding="utf-8")

    def kb_test(text: str) -> str | None:
        run = subprocess.run([csgw, "kb", "test", text, "--json", "--config", str(config)],
                             capture_output=True, text=True, env=env, timeout=120)
        return json.loads(run.stdout)["entry_id"]

    def kept() -> dict[str, int]:
        return {p.name: p.stat().st_mtime_ns for p in (tmp_path / "data").glob("csgw-*.cache")}

    assert kb_test("多久发货") == "ship-time"
    first = kept()
    assert sorted(name.split("-")[1] for name in first) == ["jieba", "pinyin", "retrieval"]
    assert kb_test("多久发货") == "ship-time"
    assert kept() == first  # read back, none written again
    assert list((tmp_path / "tmp").iterdir()) == []

    kb_file = tmp_path / "kb" / "demo.yaml"  # the store is empty: kb test reads the file
    kb_file.write_text(kb_file.read_text(encoding="utf-8").replace("entries:\n", """entries:
  - id: gift-wrap
    question: 可以帮忙包装成礼物吗
    answer: 可以，下单备注礼盒包装即可。
""", 1), encoding="utf-8")
    assert kb_test("能包装成礼物吗") == "gift-wrap"
    changed = kept()
    (old_index,) = [name for name in first if name.startswith("csgw-retrieval-")]
    (new_index,) = [name for name in changed if name.startswith("csgw-retrieval-")]
    assert new_index != old_index and len(changed) == 3


def test_the_whole_dictionary_kept_before_the_shards_is_removed(cache_dir):
    old = cache_dir / "csgw-jieba-0123456789abcdef.cache"
    old.write_bytes(b"the whole dictionary")
    data_cache.cached("jieba-shards", "v1", lambda: ({"a": b""}, 1), dictionary._valid)
    shards = list(cache_dir.glob("csgw-jieba-shards-*.cache"))
    data_cache.forget("jieba")
    assert not old.exists() and shards and all(path.exists() for path in shards)
