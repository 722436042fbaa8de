"""`[texts.LANGUAGE]`: both TOML spellings of a key read as one, checked against every registered
text once the plugins are loaded, every mistake on its own line and all of them at once."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from csgw.cli.main import app
from csgw.config.errors import ConfigError
from csgw.config.loader import load_settings, validate_plugin_sections
from csgw.config.schema import ServerSettings
from csgw.config.texts import LANGUAGES
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager, plugin_host_for
from csgw.testing import running_gateway


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the file is named as the user wrote it: csgw.toml


def write(tmp_path, text: str) -> str:
    (tmp_path / "csgw.toml").write_text(text, encoding="utf-8")
    return "csgw.toml"


def checked(path):
    settings = load_settings(path)  # stage one keeps [texts] as written
    host = plugin_host_for(settings)
    validate_plugin_sections(settings, host.config_sections(), host.texts())
    return settings


def refused(path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        checked(path)
    return caught.value.lines


def test_dotted_keys_and_nested_tables_are_one_spelling(tmp_path):
    settings = checked(write(tmp_path, """
[texts.zh-Hans]
"handover.queued" = "前面 {ahead} 位"
conversation.closed = "再见"

[texts.zh-Hans.handover]
assigned = "{agent} 为您服务"

[texts.en]
"menu.person_hint" = "press {person} for a person"
"""))
    assert settings.text_overrides == {
        "zh-Hans": {"handover.queued": "前面 {ahead} 位", "conversation.closed": "再见",
                    "handover.assigned": "{agent} 为您服务"},
        "en": {"menu.person_hint": "press {person} for a person"},
    }


def test_every_mistake_is_one_line_and_all_come_at_once(tmp_path):
    lines = refused(write(tmp_path, """
[loyalti]

[texts.zh-Hans]
"handover.assigned" = "{agnet} 为您服务"
"handover.quued" = "请稍候"
handover.offline = 3
"survey.thanks" = "谢谢 {"
"conversation.closed" = "再见 {0}"
"conversation.ended" = " "
menu = "请选择"
"queue.position" = "{minute} {place}"

[texts.zh-hans]
"handover.queued" = "稍等"
"""))
    assert lines == [
        "csgw.toml: loyalti: unknown section (neither csgw nor a loaded plugin declares it; see `csgw plugins list`)",
        "csgw.toml: texts.zh-Hans.handover.assigned: unknown placeholder {agnet}; did you mean {agent}? "
        "(this text has {agent})",
        "csgw.toml: texts.zh-Hans.handover.quued: unknown text (did you mean handover.queued?)",
        "csgw.toml: texts.zh-Hans.handover.offline: expected a string (got 3)",
        "csgw.toml: texts.zh-Hans.survey.thanks: a '{' or '}' without its pair (write {{ or }} for a brace itself)",
        "csgw.toml: texts.zh-Hans.conversation.closed: {0} is not a placeholder; placeholders are names in "
        "braces, like {agent}",
        "csgw.toml: texts.zh-Hans.conversation.ended: empty text (leave the key out to keep the built-in text)",
        "csgw.toml: texts.zh-Hans.menu: a group of texts, not one text: name one of menu.back_hint, "
        "menu.clarify, menu.fallback, menu.greeting, menu.handover, menu.intro, menu.invalid, "
        "menu.person_hint, menu.related, menu.separator, menu.thanks",
        "csgw.toml: texts.zh-Hans.queue.position: unknown placeholders {minute}, {place} "
        "(this text has {ahead}, {minutes})",
        "csgw.toml: texts.zh-hans: unknown language (did you mean zh-Hans? one of zh-Hans, zh-Hant, en)",
    ]


def test_a_key_set_twice_a_language_not_a_table_and_a_lone_key(tmp_path):
    lines = refused(write(tmp_path, """
texts.en = "hello"

[texts.zh-Hant]
"handover.queued" = "請稍候"
handover.queued = "請稍候"
nothing = "x"
"""))
    assert lines == [
        'csgw.toml: texts.en: expected a table of texts ([texts.en] with key = "text" lines)',
        "csgw.toml: texts.zh-Hant.handover.queued: set twice (once as a dotted key, once in a table); keep one",
        "csgw.toml: texts.zh-Hant.nothing: unknown text (`csgw texts list` shows every text)",
    ]


def test_a_disabled_plugins_texts_are_unknown(tmp_path):
    lines = refused(write(tmp_path, """
[plugins]
disabled = ["basic_assignment"]

[texts.zh-Hans]
"queue.position" = "前面 {ahead} 位"
"""))
    assert lines == ["csgw.toml: texts.zh-Hans.queue.position: unknown text (`csgw texts list` shows every text)"]


async def test_a_gateway_with_a_wrong_text_does_not_start(tmp_path):
    with pytest.raises(ConfigError) as caught:
        async with running_gateway(tmp_path, texts={"en": {"handover.assigned": "{name} is here"}}):
            pass
    assert caught.value.problems == ["texts.en.handover.assigned: unknown placeholder {name} (this text has {agent})"]


def test_a_command_refuses_a_wrong_text_like_any_config_mistake(tmp_path):
    path = write(tmp_path, '[texts.en]\n"handover.queued" = "{ahead"\n')
    result = CliRunner().invoke(app, ["agents", "list", "--config", path])
    assert result.exit_code == 2
    assert "config error: " in result.output and "texts.en.handover.queued: a '{' or '}' without its pair" in result.output


def test_without_the_check_no_override_is_used(tmp_path):
    settings = load_settings(write(tmp_path, '[texts.en]\n"handover.queued" = "wait"\n'))
    assert settings.texts == {"en": {"handover.queued": "wait"}} and settings.text_overrides == {}
    host = PluginHost(get_plugin_manager(load_entrypoints=False))
    validate_plugin_sections(settings, host.config_sections())  # a caller that does not pass the texts
    assert settings.text_overrides == {}


def test_the_languages_are_those_of_server_language():
    assert LANGUAGES == typing.get_args(ServerSettings.model_fields["language"].annotation)


def readme_section() -> str:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    return readme.split("### Customer-facing texts\n", 1)[1].split("\n### ", 1)[0]


def test_the_readme_example_loads_and_its_errors_are_what_csgw_says(tmp_path):
    [example] = re.findall(r"```toml\n(.*?)```", readme_section(), re.S)
    assert checked(write(tmp_path, example)).text_overrides["zh-Hans"]["menu.person_hint"] == "回复 {person} 找真人客服"
    [shown] = re.findall(r"```text\n(.*?)```", readme_section(), re.S)
    lines = refused(write(tmp_path, '[texts.zh-Hans]\n"handover.assigned" = "{agnet} 为您服务"\n'
                                    '"handover.quued" = "请稍候"\n[texts.zh-hans]\n"handover.queued" = "稍等"\n'))
    assert [f"config error: {line}" for line in lines] == shown.splitlines()
