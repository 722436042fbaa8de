"""Config: defaults, ${ENV} secrets, and one clear line per mistake naming the file and the key."""

from __future__ import annotations

import pytest

from csgw.config.errors import ConfigError
from csgw.config.loader import load_settings
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
from csgw.gateway.services import build_channels


def write(tmp_path, text: str):
    path = tmp_path / "csgw.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_relative_paths_resolve_against_the_config_folder(tmp_path):
    settings = load_settings(write(tmp_path, ""))
    assert settings.server.port == 8080
    assert settings.database.url == f"sqlite://{tmp_path}/data/csgw.db"
    assert settings.server.data_dir == str(tmp_path / "data")


def test_env_interpolation(tmp_path):
    path = write(tmp_path, '[[channels]]\nplugin = "webchat"\naccount = "a"\nidentity_secret = "${SITE_SECRET}"\n'
                           '[database]\nurl = "postgres://u:${DB_PASS}@db:5432/csgw"\n')
    settings = load_settings(path, env={"SITE_SECRET": "s3", "DB_PASS": "p@ss"})
    assert settings.channels[0]["identity_secret"] == "s3"
    assert settings.database.url == "postgres://u:p@ss@db:5432/csgw"


def test_every_mistake_is_one_line_with_file_and_key(tmp_path):
    path = write(tmp_path, '[server]\nport = "eighty"\ncolour = 1\n[reply]\nsurvey_window_seconds = -1\n'
                           '[[channels]]\nplugin = "webchat"\naccount = "${MISSING_VAR}"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    lines = caught.value.lines
    assert all(line.startswith(f"{path}: ") for line in lines)
    text = "\n".join(lines)
    assert "server.port:" in text and "server.colour: unknown key" in text
    assert "reply.survey_window_seconds:" in text
    assert "channels[0].account: environment variable MISSING_VAR is not set" in text


def test_toml_syntax_error_and_missing_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, "[server\nport=1"))
    assert "not valid TOML" in caught.value.lines[0]
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "nope.toml")
    assert "file not found" in caught.value.lines[0]


def test_channel_keys_are_checked_by_their_plugin(tmp_path):
    path = write(tmp_path, '[[channels]]\nplugin = "webchat"\naccount = "a"\ncolor = "blue"\ntitel = "x"\n'
                           '[[channels]]\nplugin = "telegraph"\naccount = "b"\n'
                           '[[channels]]\nplugin = "webchat"\naccount = "a"\n')
    with pytest.raises(ConfigError) as caught:
        settings = load_settings(path)
    assert "channels[2].account: 'a' is configured twice for webchat" in caught.value.lines[0]
    path = write(tmp_path, '[[channels]]\nplugin = "webchat"\naccount = "a"\ncolor = "blue"\ntitel = "x"\n'
                           '[[channels]]\nplugin = "telegraph"\naccount = "b"\n')
    settings = load_settings(path)
    with pytest.raises(ConfigError) as caught:
        build_channels(settings, PluginHost(get_plugin_manager()), services=_NoServices())
    text = "\n".join(caught.value.lines)
    assert "channels[0].color:" in text and "channels[0].titel: unknown key" in text
    assert "channels[1].plugin: unknown channel plugin 'telegraph'" in text


class _NoServices:
    log = __import__("structlog").get_logger()


def test_a_bad_secret_is_named_but_never_printed(tmp_path):
    """An AES key read from the environment with a trailing newline: the line says what is wrong
    and where, not the key."""
    path = write(tmp_path, '[[channels]]\nplugin = "wechat_oa"\naccount = "shop"\napp_id = "wx1"\n'
                           'app_secret = "${WX_SECRET}"\ntoken = "tok"\nencoding_aes_key = "${WX_AES}"\n')
    aes = "TopSecretAesKeyThatIsNotFortyThreeCharsLong\n"
    settings = load_settings(path, env={"WX_SECRET": "s3cr3t", "WX_AES": aes})
    with pytest.raises(ConfigError) as caught:
        build_channels(settings, PluginHost(get_plugin_manager()), services=_NoServices())
    text = "\n".join(caught.value.lines)
    assert "channels[0].encoding_aes_key:" in text and "not shown" in text
    assert "TopSecretAesKey" not in text
