"""A plugin may own an array of tables (`[[name]]`), declared with a pydantic `RootModel` of a
list: validated entry by entry, none when absent, and a mistake names the entry and key."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, RootModel

from csgw.api import ConfigSection, hookimpl
from csgw.config.errors import ConfigError
from csgw.config.loader import load_settings, validate_plugin_sections
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager


class Feed(ConfigSection):
    url: str
    every_seconds: float = Field(60, gt=0)
    token: str = ""


class Feeds(RootModel[list[Feed]]):
    root: list[Feed] = Field(default_factory=list)


class FeedsPlugin:
    @hookimpl
    def csgw_config_sections(self) -> dict[str, type[BaseModel]]:
        return {"feeds": Feeds}


def validated(tmp_path, text: str) -> Feeds:
    path = tmp_path / "csgw.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path, env={})
    validate_plugin_sections(settings, PluginHost(get_plugin_manager(
        load_entrypoints=False, extra=[("feeds", FeedsPlugin())])).config_sections())
    return settings.section("feeds", Feeds)


def test_an_array_of_tables_is_read_entry_by_entry(tmp_path):
    feeds = validated(tmp_path, '[[feeds]]\nurl = "a"\n\n[[feeds]]\nurl = "b"\nevery_seconds = 5\n')
    assert [(f.url, f.every_seconds) for f in feeds.root] == [("a", 60), ("b", 5)]


def test_an_absent_array_is_no_entries(tmp_path):
    assert validated(tmp_path, "").root == []


def test_a_mistake_names_the_entry_and_never_prints_a_table_back(tmp_path):
    with pytest.raises(ConfigError) as caught:
        validated(tmp_path, '[[feeds]]\nurl = "a"\n\n[[feeds]]\nevery_seconds = -1\ntoken = "hunter2"\n')
    assert [line.split(": ", 1)[1] for line in caught.value.lines] == [
        "feeds[1].url: required key is missing",
        "feeds[1].every_seconds: Input should be greater than 0 (got -1)",
    ]
    with pytest.raises(ConfigError) as caught:  # a table where an array is expected
        validated(tmp_path, '[feeds]\nurl = "a"\ntoken = "hunter2"\n')
    assert "hunter2" not in "\n".join(caught.value.lines)
