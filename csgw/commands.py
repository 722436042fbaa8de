"""What every command shares, csgw's own and those plugins add through `csgw_cli`: the `--config`
option, loading the config, opening the store, one-line errors (published in `csgw.api`)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from csgw.config.errors import ConfigError
from csgw.config.loader import default_config_path, load_settings, validate_plugin_sections
from csgw.config.schema import Settings
from csgw.gateway.plugin_host import PluginHost, plugin_host_for
from csgw.gateway.storage.db import close_database, open_database

T = TypeVar("T")
err = Console(stderr=True, soft_wrap=True)  # one error, one line, however long
out = Console()

ConfigOption = typer.Option(None, "--config", "-c", help="config file (default ./csgw.toml or $CSGW_CONFIG)")


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def fail_config(error: ConfigError) -> NoReturn:
    """Print each mistake of a wrong config as one line and exit 2."""
    for line in error.lines:
        err.print(f"[red]config error:[/red] {escape(line)}", highlight=False)  # "[reply]" is no markup
    raise typer.Exit(2) from None


def core_settings_or_exit(config: Path | None) -> Settings:
    """Stage one: the core sections validated, plugins' tables still raw (`csgw serve` validates
    those with the plugins it loads)."""
    try:
        return load_settings(config or default_config_path())
    except ConfigError as error:
        fail_config(error)


def settings_or_exit(config: Path | None, host: PluginHost | None = None) -> Settings:
    """The whole config, plugins' sections and `[texts.*]` validated with the plugins `csgw serve`
    would load (or `host`'s), so `settings.section(name, Model)` works; exit 2 on any mistake."""
    settings = core_settings_or_exit(config)
    plugins = host or plugin_host_for(settings)
    try:
        validate_plugin_sections(settings, plugins.config_sections(), plugins.texts())
    except ConfigError as error:
        fail_config(error)
    return settings


def with_store(settings: Settings, work: Callable[[], Awaitable[T]], *,
               models: Mapping[str, Sequence[str]] | None = None) -> T:
    """Run `work` with the database open (for commands that read or change state offline);
    a plugin's command names its own model app in `models` (plugin name -> modules)."""

    done: list[T] = []

    async def run() -> None:
        await open_database(settings.database.url, models)
        try:
            done.append(await work())
        finally:
            await close_database()

    # The result is handed out beside the task, not as its result: asyncio.run's SIGINT handling
    # formats the main task's repr (a ValueError message in `signal`), and with it the repr of a
    # result as large as a 1,000-entry knowledge base: 0.1 s of a `csgw kb test`.
    asyncio.run(run())
    return done[0]


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection while a command loads what it keeps until it exits (plugins, a
    knowledge base and its index: hundreds of thousands of objects, hardly any garbage):
    collections as they appear walk them over and over (about half of the ~0.2 s of CPU a
    `csgw kb test` spent collecting; the rest happens while `csgw.cli.main` is imported)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def dump_json(value: Any) -> None:
    import json

    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
