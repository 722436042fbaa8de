"""The matcher's derived tables (jieba's dictionary, pinyin per character) are built once and
read back from the data directory; a damaged or foreign file is rebuilt, an unwritable
directory only costs the rebuild."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys

import pytest
from pypinyin import lazy_pinyin

from csgw.plugins.reply import data_cache, dictionary, homophones


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


def test_a_path_that_cannot_be_a_directory_still_gives_the_table(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    data_cache.keep_in(blocker / "data")
    try:
        assert data_cache.cached("words", "v1", lambda: {"a": 1}, lambda t: isinstance(t, dict)) == {"a": 1}
    finally:
        data_cache._directory = None


def test_the_cached_dictionary_is_jiebas_own(cache_dir):
    freq, total = dictionary._build()
    assert data_cache.cached("jieba", "test", dictionary._build, dictionary._valid) == (freq, total)
    assert data_cache.cached("jieba", "test", lambda: ({}, 0), dictionary._valid) == (freq, total)
    assert freq["发货"] > 0 and total > 10_000_000


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
    runs = [subprocess.run([csgw, "kb", "test", "多久发货", "--json", "--config", str(tmp_path / "csgw.toml")],
                           capture_output=True, text=True, env=env, timeout=120) for _ in range(2)]
    assert [json.loads(r.stdout)["entry_id"] for r in runs] == ["ship-time", "ship-time"]
    names = sorted(p.name.split("-")[1] for p in (tmp_path / "data").glob("csgw-*.cache"))
    assert names == ["jieba", "pinyin"]
    assert list((tmp_path / "tmp").iterdir()) == []
