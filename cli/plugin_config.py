"""Editing `[plugins]` in csgw.toml in place, keeping the operator's comments and layout."""

from __future__ import annotations

from pathlib import Path

import tomlkit


def _plugins_table(document: tomlkit.TOMLDocument) -> tomlkit.items.Table:
    if "plugins" not in document:
        document["plugins"] = tomlkit.table()
    table = document["plugins"]
    for key in ("enabled", "disabled"):
        if key not in table:
            table[key] = tomlkit.array()
    return table


def set_enabled(path: Path, name: str, enabled: bool) -> None:
    """Move `name` to `enabled` or `disabled` in the config file."""
    if not path.exists():
        return
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    table = _plugins_table(document)
    add, remove = ("enabled", "disabled") if enabled else ("disabled", "enabled")
    if name in table[remove]:
        table[remove].remove(name)
    if name not in table[add]:
        table[add].append(name)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")


def forget(path: Path, name: str) -> None:
    if not path.exists():
        return
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    table = _plugins_table(document)
    for key in ("enabled", "disabled"):
        if name in table[key]:
            table[key].remove(name)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
