"""Per-site keys of `[[channels]]`: `language` (what its customers read), `default_group` (its
older name `group`) and the widget's `welcome` questions."""

from __future__ import annotations

import pytest

from csgw.config.errors import ConfigError
from csgw.config.loader import settings_from_dict, validate_section
from csgw.plugins.webchat.config import WebchatConfig


def test_a_channel_language_and_welcome_questions_are_checked():
    with pytest.raises(ConfigError) as wrong:
        settings_from_dict({"channels": [{"plugin": "webchat", "account": "fr", "language": "fr"}]}, "csgw.toml")
    assert wrong.value.lines == ["csgw.toml: channels[0].language: 'fr' is not a language (one of zh-Hans, zh-Hant, en)"]
    with pytest.raises(ConfigError) as empty:
        validate_section(WebchatConfig, {"plugin": "webchat", "account": "a", "welcome": ["运费", " "]},
                         "csgw.toml", "channels[0]")
    assert "channels[0].welcome" in empty.value.lines[0] and "1-200 characters" in empty.value.lines[0]
    settings = settings_from_dict({"server": {"language": "zh-Hant"}, "channels": [
        {"plugin": "webchat", "account": "a", "language": "en", "group": "售前"},
        {"plugin": "email", "account": "b"}]}, "csgw.toml")
    assert settings.language_for("webchat", "a") == "en" and settings.language_for("email", "b") == "zh-Hant"
    older = validate_section(WebchatConfig, settings.channels[0], "csgw.toml", "channels[0]")
    assert older.default_group == "售前"  # `group`, the key's older name, still reads
