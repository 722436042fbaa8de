"""`csgw serve`: run the gateway until SIGINT/SIGTERM, then drain and exit 0 (`serve_loop`)."""

from __future__ import annotations

import gc
import ipaddress
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
import typer
from rich.markup import escape

from csgw.commands import ConfigOption, core_settings_or_exit, err, fail, fail_config
from csgw.config.errors import ConfigError
from csgw.config.schema import Settings
from csgw.gateway.logging import configure_logging
from csgw.gateway.plugin_host import plugin_host_for
from csgw.gateway.storage.sqlite_owner import StoreInUse, sole_sqlite_server

if TYPE_CHECKING:
    import pluggy
    from aiohttp import web

log = structlog.get_logger(__name__)


def exposed_without_tls(host: str, behind_tls_proxy: bool) -> bool:
    """True when `host` reaches beyond this machine and no TLS proxy is said to front it."""
    if behind_tls_proxy or host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return True  # a hostname or "" (every interface): assume it is reachable


async def settle_startup_heap(app: web.Application) -> None:
    """Move what start-up loaded (jieba's dictionary, the knowledge-base index: millions of
    objects that live as long as the process) out of the garbage collector's sight, so a full
    collection no longer walks them all and stalls every request for ~100 ms; then let the
    collector run again (`run_gateway` starts with it off)."""
    gc.collect()
    gc.freeze()
    gc.enable()
    log.debug("startup heap frozen", objects=gc.get_freeze_count())


def enabled_but_not_loaded(enabled: list[str], pm: pluggy.PluginManager) -> list[str]:
    """Names `[plugins] enabled` asks for that no loaded plugin has (uninstalled, misspelt, or
    also listed in `disabled`, which wins)."""
    loaded = {name for name, plugin in pm.list_name_plugin() if plugin is not None}
    return sorted(set(enabled) - loaded)


def serve(
    config: Path | None = ConfigOption,
    host: str | None = typer.Option(None, "--host", help="listen address (default from config)"),
    port: int | None = typer.Option(None, "--port", "-p", help="listen port (default from config)"),
) -> None:
    """Run the gateway in one asyncio process / 启动网关。"""
    settings = core_settings_or_exit(config)  # plugins' sections: validated by create_app
    configure_logging(settings.logging.level, settings.logging.format)
    with ExitStack() as held:
        try:  # a second gateway on one SQLite file refuses to start (offline commands do not ask)
            held.enter_context(sole_sqlite_server(settings.database.url))
        except StoreInUse as error:
            fail(escape(str(error)))
        run_gateway(settings, host, port)


def run_gateway(settings: Settings, host: str | None, port: int | None) -> None:
    """Load the plugins, build the app and serve it until a stop signal."""
    # Start-up makes those millions of objects and hardly any garbage: collecting while they
    # appear only walks them over and over (`collector_paused`). Off until `settle_startup_heap`.
    gc.disable()
    try:
        _run_gateway(settings, host, port)
    finally:
        gc.enable()


def _run_gateway(settings: Settings, host: str | None, port: int | None) -> None:
    # here, not at the top: every other command (`csgw kb test`, …) starts without the web stack
    from csgw.app import create_app
    from csgw.cli import serve_loop

    plugin_host = plugin_host_for(settings)
    pm = plugin_host.pm
    missing = enabled_but_not_loaded(settings.plugins.enabled, pm)
    if missing:
        log.warning("enabled plugins not loaded", plugins=missing)
        err.print(f"[yellow]warning:[/yellow] [plugins] enabled lists {', '.join(missing)}, but no such plugin is "
                  "loaded (see `csgw plugins list`)", highlight=False)
    try:
        app = create_app(settings, plugin_host)
    except ConfigError as error:
        fail_config(error)
    app.on_startup.append(settle_startup_heap)  # after the gateway's own start: everything is loaded
    listen = host or settings.server.host
    if exposed_without_tls(listen, settings.server.behind_tls_proxy):
        warning = (f"listening on {listen} over plain HTTP: put a TLS proxy in front (agent tokens and "
                   "customer messages travel in clear), then set [server] behind_tls_proxy = true")
        log.warning("plain HTTP on a public address", host=listen)
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    try:
        serve_loop.serve_until_signalled(app, listen, port if port is not None else settings.server.port,
                              settings.server.shutdown_grace_seconds)
    except ConfigError as error:  # a channel's start found its configuration wrong
        fail_config(error)
    except OSError as error:
        fail(f"cannot listen: {error}")
