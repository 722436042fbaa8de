"""Plugins' own config sections: set aside when the file is read, validated by the model a loaded
plugin declared (`csgw_config_sections`), read typed; unclaimed tables and core typos refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import typer
from pydantic import BaseModel, Field

from csgw.api import ConfigSection, hookimpl, settings_or_exit
from csgw.config.errors import ConfigError
from csgw.config.loader import load_settings, validate_plugin_sections
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
from csgw.testing import running_gateway


class LoyaltyConfig(ConfigSection):
    points_per_yuan: int = Field(1, ge=0)
    tiers: list[str] = Field(default_factory=lambda: ["silver", "gold"])


class LoyaltyPlugin:
    @hookimpl
    def csgw_config_sections(self) -> dict[str, type[BaseModel]]:
        return {"loyalty": LoyaltyConfig}


class Unrelated(ConfigSection):
    points_per_yuan: int = 0


def host(*plugins: tuple[str, object]) -> PluginHost:
    return PluginHost(get_plugin_manager(load_entrypoints=False, extra=plugins))


def write(tmp_path, text: str):
    path = tmp_path / "csgw.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(path, plugins: PluginHost, env: dict[str, str] | None = None) -> list[str]:
    settings = load_settings(path, env=env or {})  # stage one takes any table
    with pytest.raises(ConfigError) as caught:
        validate_plugin_sections(settings, plugins.config_sections())
    return caught.value.lines


def test_a_declared_section_is_validated_and_read_typed(tmp_path):
    path = write(tmp_path, '[loyalty]\npoints_per_yuan = "${POINTS}"\ntiers = ["gold"]\n')
    settings = load_settings(path, env={"POINTS": "3"})
    assert settings.plugin_sections == {"loyalty": {"points_per_yuan": "3", "tiers": ["gold"]}}
    validate_plugin_sections(settings, host(("loyalty", LoyaltyPlugin())).config_sections())
    loyalty = settings.section("loyalty", LoyaltyConfig)
    assert (loyalty.points_per_yuan, loyalty.tiers) == (3, ["gold"])
    assert "loyalty" not in settings.model_dump()  # the core's view of the file is unchanged
    with pytest.raises(TypeError):
        settings.section("loyalty", Unrelated)
    with pytest.raises(LookupError):
        settings.section("weather", LoyaltyConfig)


def test_an_absent_section_gets_the_models_defaults(tmp_path):
    settings = load_settings(write(tmp_path, ""))
    validate_plugin_sections(settings, host(("loyalty", LoyaltyPlugin())).config_sections())
    assert settings.section("loyalty", LoyaltyConfig) == LoyaltyConfig()


def test_a_wrong_value_or_key_is_one_line_naming_file_and_key(tmp_path):
    path = write(tmp_path, '[loyalty]\npoints_per_yuan = -1\ncolour = "red"\n')
    lines = refused(path, host(("loyalty", LoyaltyPlugin())))
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}: loyalty.points_per_yuan: ") and "(got -1)" in lines[0]
    assert lines[1] == f"{path}: loyalty.colour: unknown key"


def test_a_table_no_loaded_plugin_claims_is_refused(tmp_path):
    path = write(tmp_path, '[weather]\ncity = "Hangzhou"\n[loyalty]\npoints_per_yuan = 2\n')
    [line] = refused(path, host(("loyalty", LoyaltyPlugin())))
    assert line.startswith(f"{path}: weather: unknown section (neither csgw nor a loaded plugin declares it")
    lines = refused(path, host())  # the loyalty plugin is not loaded (disabled, uninstalled)
    assert [line.split(": ")[1] for line in lines] == ["weather", "loyalty"]


def test_a_misspelt_section_is_refused_with_the_name_meant(tmp_path):
    path = write(tmp_path, "[replly]\ndisabled = []\n[loyality]\npoints_per_yuan = 2\n")
    assert refused(path, host(("loyalty", LoyaltyPlugin()))) == [
        f"{path}: replly: unknown section (did you mean [reply]?)",
        f"{path}: loyality: unknown section (did you mean [loyalty]?)",
    ]


def test_a_top_level_key_that_is_no_table_is_refused_when_read(tmp_path):
    path = write(tmp_path, 'colour = "red"\nsource_path = "elsewhere.toml"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.lines == [f"{path}: colour: unknown key", f"{path}: source_path: unknown key"]


def test_a_plugin_cannot_take_a_core_section_and_the_first_declaration_wins():
    class Greedy:
        @hookimpl
        def csgw_config_sections(self) -> dict[str, type[BaseModel]]:
            return {"reply": LoyaltyConfig, "loyalty": ConfigSection}

    plugins = host(("loyalty", LoyaltyPlugin()), ("greedy", Greedy()))
    assert plugins.config_sections() == {"loyalty": LoyaltyConfig}


PLUGIN_FILE = '''
from pydantic import Field

from csgw.api import ConfigSection, hookimpl


class LoyaltyConfig(ConfigSection):
    points_per_yuan: int = Field(1, ge=0)


@hookimpl
def csgw_config_sections():
    return {"loyalty": LoyaltyConfig}
'''


def local_plugin_config(tmp_path, name: str, section: str) -> str:
    """A config loading a plugin from a file of its own, as an operator would."""
    (tmp_path / f"{name}.py").write_text(PLUGIN_FILE, encoding="utf-8")
    return write(tmp_path, textwrap.dedent(f'''\
        [database]
        url = "sqlite://{tmp_path}/csgw.db"
        [plugins]
        paths = ["{tmp_path}/{name}.py"]
        {section}
        '''))


def test_commands_get_the_sections_of_the_plugins_serve_loads(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(tmp_path))
    good = local_plugin_config(tmp_path, "loyalty_cli_plugin", "[loyalty]\npoints_per_yuan = 4")
    settings = settings_or_exit(good)
    assert settings.section("loyalty", ConfigSection).model_dump() == {"points_per_yuan": 4}
    bad = local_plugin_config(tmp_path, "loyalty_cli_plugin", '[loyalty]\npoints_per_yuan = "many"')
    with pytest.raises(typer.Exit) as caught:
        settings_or_exit(bad)
    assert caught.value.exit_code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"config error: {bad}: loyalty.points_per_yuan: ")


def test_serve_refuses_a_bad_section_and_an_unclaimed_table(tmp_path):
    config = local_plugin_config(tmp_path, "loyalty_serve_plugin",
                                 "[loyalty]\npoints_per_yuan = -5\n[servre]\nport = 1")
    result = subprocess.run([sys.executable, "-m", "csgw", "serve", "--config", str(config)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("config error:")]
    assert len(errors) == 2, result.stderr
    assert errors[0].startswith(f"config error: {config}: loyalty.points_per_yuan: ")
    assert errors[1] == f"config error: {config}: servre: unknown section (did you mean [server]?)"
    assert "Traceback" not in result.stderr


async def test_the_harness_validates_sections_for_its_gateway(tmp_path):
    plugin = [("loyalty", LoyaltyPlugin())]
    async with running_gateway(tmp_path, extra_plugins=plugin, loyalty={"points_per_yuan": 7}) as gw:
        assert gw.services.settings.section("loyalty", LoyaltyConfig).points_per_yuan == 7
    with pytest.raises(ConfigError) as caught:
        async with running_gateway(tmp_path / "bad", extra_plugins=plugin, loyalty={"tiers": "gold"}):
            pass
    assert caught.value.lines[0].startswith("test.toml: loyalty.tiers: ")
