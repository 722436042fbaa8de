"""`csgw texts list`: every customer-facing text a shop may reword in `[texts.LANGUAGE]`, with its
built-in wording per language and its placeholders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from csgw.commands import ConfigOption, core_settings_or_exit, dump_json, err
from csgw.config.loader import default_config_path
from csgw.config.texts import LANGUAGES, placeholders
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager, plugin_host_for

app = typer.Typer(help="Customer-facing texts and how to reword them / 系统话术。", no_args_is_help=True)


def _host(config: Path | None) -> PluginHost:
    """The plugins the config loads; without a config file, every installed one."""
    path = config or default_config_path()
    if config is None and not path.exists():
        return PluginHost(get_plugin_manager())
    return plugin_host_for(core_settings_or_exit(path))


def text_rows(host: PluginHost) -> list[dict[str, Any]]:
    """One row per text: key, the plugin that registered it, placeholders, built-in wording."""
    return [{"key": key, "plugin": plugin,
             "placeholders": sorted(set().union(*(placeholders(t) for t in variants.values()))),
             "texts": {language: variants[language] for language in LANGUAGES if language in variants}}
            for plugin, table in host.text_tables().items() for key, variants in table.items()]


@app.command("list")
def list_texts(as_json: bool = typer.Option(False, "--json"), config: Path | None = ConfigOption) -> None:
    """Every text with its built-in wording and placeholders; reword one under [texts.LANGUAGE]."""
    rows = text_rows(_host(config))
    if as_json:
        dump_json(rows)
        return
    for row in rows:
        shown = " ".join(f"{{{name}}}" for name in row["placeholders"])
        typer.echo(f"{row['key']}  ({row['plugin']}{'; ' + shown if shown else ''})")
        for language, template in row["texts"].items():
            typer.echo(f"  {language:<9}{template}")
    err.print('Reword a text in csgw.toml, e.g. [texts.zh-Hans] "handover.queued" = "…"; leaving out '
              "a placeholder is fine, one the text does not have is refused.", highlight=False, markup=False)
