"""Reading `csgw.toml`: TOML parse, `${ENV}` substitution, validation, path resolution.

Two stages: `load_settings` validates the core sections and sets plugins' tables aside;
`validate_plugin_sections` checks those once the plugins are loaded (`plugin_sections.py`)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, RootModel, ValidationError

from csgw.config.errors import ConfigError
from csgw.config.hours import HoursSettings
from csgw.config.interpolate import interpolate
from csgw.config.plugin_sections import unclaimed_problem
from csgw.config.schema import Settings
from csgw.config.texts import LANGUAGES, check_text_overrides

DEFAULT_CONFIG = "csgw.toml"
SectionModel = TypeVar("SectionModel", bound=BaseModel)
# The top-level names csgw itself owns (`[server]`, `[[channels]]`, …); plugins declare others
CORE_SECTIONS = frozenset(name for name, field in Settings.model_fields.items() if not field.exclude)


def default_config_path() -> Path:
    return Path(os.environ.get("CSGW_CONFIG", DEFAULT_CONFIG))


SECRET_FIELD_PARTS = ("secret", "token", "password", "passwd", "aes_key", "api_key")


def is_secret_field(name: str) -> bool:
    """Config keys whose values are credentials: app_secret, token, encoding_aes_key, …"""
    return any(part in name.lower() for part in SECRET_FIELD_PARTS)


def describe_errors(error: ValidationError, prefix: str = "") -> list[str]:
    """One line per pydantic error: `key.path: what is wrong (expected …)`."""
    lines = []
    for item in error.errors():
        parts = [f"[{p}]" if isinstance(p, int) else str(p) for p in item["loc"]]
        key = "".join(p if p.startswith("[") else f".{p}" for p in parts).lstrip(".")
        key = f"{prefix}{'.' if prefix and key and not key.startswith('[') else ''}{key}" or "(top level)"
        kind = item["type"]
        if kind == "missing":
            message = "required key is missing"
        elif kind == "extra_forbidden":
            message = "unknown key"
        else:
            message = item["msg"]
            # only a plain value is shown back: a table, a list or a model may hold a secret
            if "input" in item and kind != "extra_forbidden" and isinstance(item["input"], str | int | float):
                field = str(item["loc"][-1]) if item["loc"] else ""
                if is_secret_field(field):  # an AES key or password is never printed back
                    message += f" (got a value of {len(str(item['input']))} characters, not shown)"
                else:
                    message += f" (got {item['input']!r})"
        lines.append(f"{key}: {message}")
    return lines


def validate_section(model: type[SectionModel], data: dict[str, Any] | list[Any], path: str,
                     prefix: str) -> SectionModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(path, describe_errors(error, prefix)) from None


def load_settings(path: str | Path | None = None, *, env: dict[str, str] | None = None) -> Settings:
    """Load and validate a config file; raise ConfigError listing every mistake."""
    config_path = Path(path) if path else default_config_path()
    shown = str(config_path)
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(shown, ["file not found (run `csgw init` to write one)"]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(shown, [f"not valid TOML: {error}"]) from None
    return settings_from_dict(raw, shown, base_dir=config_path.resolve().parent, env=env)


def settings_from_dict(
    raw: dict[str, Any], shown: str = DEFAULT_CONFIG, *, base_dir: Path | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """Stage one: the core sections validated, every other table kept raw for its plugin."""
    problems: list[str] = []
    data = interpolate(raw, problems, env=env)
    core, tables = _set_plugin_tables_aside(data, problems)
    try:
        settings = Settings.model_validate(core)
    except ValidationError as error:
        problems.extend(describe_errors(error))
        raise ConfigError(shown, problems) from None
    settings.plugin_sections = tables
    problems.extend(_channel_shape_problems(settings.channels))
    problems.extend(_channel_hours_problems(settings.channels))
    if problems:
        raise ConfigError(shown, problems)
    base = base_dir or Path.cwd()
    settings.source_path = shown
    settings.base_dir = str(base)
    settings.server.data_dir = str(resolve_path(base, settings.server.data_dir))
    settings.database.url = resolve_sqlite_url(base, settings.database.url)
    return settings


def _set_plugin_tables_aside(data: Any, problems: list[str]) -> tuple[Any, dict[str, Any]]:
    """(the core sections, the other tables and arrays of tables); any other top-level key is an
    unknown key."""
    if not isinstance(data, dict):  # TOML's top level is a table; a hand-built dict may not be
        return data, {}
    core = {key: value for key, value in data.items() if key in CORE_SECTIONS}
    tables = {key: value for key, value in data.items() if key not in core and _is_table(value)}
    problems.extend(f"{key}: unknown key" for key in data if key not in core and key not in tables)
    return core, tables


def _is_table(value: Any) -> bool:
    """A TOML table (`[name]`) or array of tables (`[[name]]`)."""
    return isinstance(value, dict) or (isinstance(value, list) and all(isinstance(v, dict) for v in value))


def _absent(model: type[BaseModel]) -> dict[str, Any] | list[Any]:
    """What a section missing from the file is validated as: a table without keys, or, for a
    `RootModel` (an array of tables, `[[name]]`), no entries."""
    return [] if issubclass(model, RootModel) else {}


def validate_plugin_sections(settings: Settings, models: Mapping[str, type[BaseModel]],
                             texts: Mapping[str, Mapping[str, str]] | None = None) -> None:
    """Stage two, once the plugins are loaded: validate each declared section (an absent table as
    `{}`, an absent array of tables as `[]`) and refuse every table no model claims; all mistakes
    in one ConfigError.

    Given `texts`, every built-in text (key -> language -> template), the `[texts.*]` overrides
    are checked against them too, and kept (`settings.text_overrides`)."""
    problems: list[str] = []
    validated: dict[str, BaseModel] = {}
    for name, model in models.items():
        try:
            validated[name] = validate_section(model, settings.plugin_sections.get(name, _absent(model)),
                                               settings.source_path, name)
        except ConfigError as error:
            problems.extend(error.problems)
    known = CORE_SECTIONS | set(models)
    problems.extend(unclaimed_problem(name, known) for name in settings.plugin_sections if name not in models)
    overrides, text_problems = check_text_overrides(settings.texts, texts) if texts is not None else ({}, [])
    problems.extend(text_problems)
    if problems:
        raise ConfigError(settings.source_path, problems)
    settings.store_sections(validated)
    if texts is not None:
        settings.store_text_overrides(overrides)


def _channel_shape_problems(channels: list[dict[str, Any]]) -> list[str]:
    problems, seen = [], set()
    for index, entry in enumerate(channels):
        for key in ("plugin", "account"):
            if not isinstance(entry.get(key), str) or not entry.get(key):
                problems.append(f"channels[{index}].{key}: required key is missing (expected a name)")
        if entry.get("language") is not None and entry["language"] not in LANGUAGES:
            problems.append(f"channels[{index}].language: {entry['language']!r} is not a language "
                            f"(one of {', '.join(LANGUAGES)})")
        ident = (entry.get("plugin"), entry.get("account"))
        if ident in seen:
            problems.append(f"channels[{index}].account: {ident[1]!r} is configured twice for {ident[0]}")
        seen.add(ident)
    return problems


def _channel_hours_problems(channels: list[dict[str, Any]]) -> list[str]:
    """A `[[channels]]` entry's `hours` is checked with the core's sections, whatever its plugin."""
    problems = []
    for index, entry in enumerate(channels):
        if entry.get("hours") is not None:
            try:
                HoursSettings.model_validate(entry["hours"])
            except ValidationError as error:
                problems.extend(describe_errors(error, f"channels[{index}].hours"))
    return problems


def resolve_path(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def resolve_sqlite_url(base: Path, url: str) -> str:
    """Make a relative `sqlite://` path absolute against the config file's folder."""
    prefix = "sqlite://"
    if not url.startswith(prefix):
        return url
    rest = url[len(prefix):]
    if rest.startswith(":memory:") or rest.startswith("/"):
        return url
    path_part, sep, query = rest.partition("?")
    return f"{prefix}{resolve_path(base, path_part)}{sep}{query}"
