"""Top-level `csgw.toml` tables that plugins own, like `[loyalty]` (or arrays of tables, like
`[[webhooks]]`, declared with a pydantic `RootModel` of a list).

Reading the config takes two stages. Loading (`loader.settings_from_dict`) validates the core
sections and sets every other table aside, raw, in `Settings.plugin_sections`. Once the plugins
are loaded, `loader.validate_plugin_sections` checks each table with the model its plugin declared
(`csgw_config_sections`) and refuses the tables no loaded plugin claims. A plugin then reads its
section, validated and typed, with `settings.section(name, Model)`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

SectionModel = TypeVar("SectionModel", bound=BaseModel)


class ConfigSection(BaseModel):
    """A base for a plugin's section model: unknown keys are refused, as in the core's sections."""

    model_config = ConfigDict(extra="forbid")


class PluginSections(BaseModel):
    """What `Settings` holds of the plugins' tables: raw after loading, validated after stage two."""

    # name -> the table (or array of tables) as written, after `${ENV}` substitution; not part of
    # a dump of the settings
    plugin_sections: dict[str, dict[str, Any] | list[dict[str, Any]]] = Field(default_factory=dict, exclude=True)
    _validated: dict[str, BaseModel] = PrivateAttr(default_factory=dict)

    def section(self, name: str, model: type[SectionModel]) -> SectionModel:
        """The `[name]` table as `model` validated it when the plugins were loaded (its defaults
        when the file has no such table)."""
        try:
            value = self._validated[name]
        except KeyError:
            raise LookupError(f"[{name}] is not a validated plugin config section: no loaded plugin "
                              "declares it with csgw_config_sections") from None
        if not isinstance(value, model):
            raise TypeError(f"[{name}] was validated as {type(value).__name__}, not {model.__name__}")
        return value

    def store_sections(self, validated: Mapping[str, BaseModel]) -> None:
        """Stage two's result (the loader calls this; plugins read through `section`)."""
        self._validated = dict(validated)


def unclaimed_problem(name: str, known: Iterable[str]) -> str:
    """The line for a table neither the core nor a loaded plugin owns, with the likely intended name."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    if close:
        return f"{name}: unknown section (did you mean [{close[0]}]?)"
    return (f"{name}: unknown section (neither csgw nor a loaded plugin declares it; "
            "see `csgw plugins list`)")
