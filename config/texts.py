"""`[texts.LANGUAGE]` in `csgw.toml`: the shop's own wording of built-in customer-facing texts.

Loading keeps the tables as written (`Settings.texts`). Once the plugins are loaded, the loader
checks them against every built-in text the core and the plugins register (`csgw_texts`), all
mistakes together, and keeps them flattened to dotted keys in `settings.text_overrides`.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, PrivateAttr

LANGUAGES = ("zh-Hans", "zh-Hant", "en")  # the choices of `[server] language`
DEFAULT_LANGUAGE = "zh-Hans"

Overrides = dict[str, dict[str, str]]  # language -> dotted key -> the shop's template


class TextOverrides(BaseModel):
    """What `Settings` keeps of `[texts.*]` once checked with the plugins."""

    _text_overrides: Overrides = PrivateAttr(default_factory=dict)

    @property
    def text_overrides(self) -> Mapping[str, Mapping[str, str]]:
        """language -> dotted key -> the shop's template; empty until checked with the plugins."""
        return self._text_overrides

    def store_text_overrides(self, overrides: Overrides) -> None:
        """The check's result (the loader calls this; renderers read `text_overrides`)."""
        self._text_overrides = overrides


class TemplateError(ValueError):
    """A template `str.format` cannot fill in, or with a field other than a plain `{name}`."""


def placeholders(template: str) -> set[str]:
    """The `{name}` placeholders of a template."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)
                  if name is not None]
    except ValueError:
        raise TemplateError("a '{' or '}' without its pair (write {{ or }} for a brace itself)") from None
    for name, spec, conversion in fields:
        if not name.isidentifier() or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise TemplateError(f"{shown} is not a placeholder; placeholders are names in braces, like {{agent}}")
    return {name for name, _, _ in fields}


def check_text_overrides(raw: Mapping[str, Any], builtin: Mapping[str, Mapping[str, str]]) -> tuple[Overrides, list[str]]:
    """`[texts.*]` as written, against every built-in text (key -> language -> template): the
    overrides by language and dotted key, and one line per mistake."""
    overrides: Overrides = {}
    problems: list[str] = []
    for language, table in raw.items():
        where = f"texts.{language}"
        if language not in LANGUAGES:
            close = _closest(language, LANGUAGES)
            hint = f"did you mean {close}? " if close else ""
            problems.append(f"{where}: unknown language ({hint}one of {', '.join(LANGUAGES)})")
        elif not isinstance(table, dict):
            problems.append(f"{where}: expected a table of texts ([{where}] with key = \"text\" lines)")
        else:
            overrides[language] = _checked_table(where, table, builtin, problems)
    return overrides, problems


def _checked_table(where: str, table: dict[str, Any], builtin: Mapping[str, Mapping[str, str]],
                   problems: list[str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    seen: set[str] = set()
    for key, value in _flattened(table):
        line = f"{where}.{key}"
        if key in seen:  # `"a.b" = …` beside `[….a] b = …`: TOML keeps both
            problems.append(f"{line}: set twice (once as a dotted key, once in a table); keep one")
            continue
        seen.add(key)
        problem = _unknown_key(key, builtin) or _bad_value(value, builtin.get(key, {}))
        if problem:
            problems.append(f"{line}: {problem}")
        else:
            checked[key] = value
    return checked


def _flattened(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every leaf: `[texts.en.handover] queued = …` is "handover.queued"."""
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _flattened(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _unknown_key(key: str, builtin: Mapping[str, Mapping[str, str]]) -> str | None:
    if key in builtin:
        return None
    group = sorted(known for known in builtin if known.startswith(key + "."))
    if group:
        return f"a group of texts, not one text: name one of {', '.join(group)}"
    close = _closest(key, builtin)
    return f"unknown text (did you mean {close}?)" if close else "unknown text (`csgw texts list` shows every text)"


def _bad_value(value: Any, variants: Mapping[str, str]) -> str | None:
    if not isinstance(value, str):
        return f"expected a string (got {value!r})"
    if not value.strip():
        return "empty text (leave the key out to keep the built-in text)"
    try:
        used = placeholders(value)
    except TemplateError as error:
        return str(error)
    allowed = set().union(*(placeholders(template) for template in variants.values()))
    unknown = sorted(used - allowed)
    if not unknown:
        return None
    has = ", ".join(f"{{{name}}}" for name in sorted(allowed)) or "none"
    names = ", ".join(f"{{{name}}}" for name in unknown)
    close = _closest(unknown[0], allowed) if len(unknown) == 1 else None
    hint = f"; did you mean {{{close}}}?" if close else ""
    return f"unknown placeholder{'s' if len(unknown) > 1 else ''} {names}{hint} (this text has {has})"


def _closest(name: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return close[0] if close else None
