"""The `csgw` command: every subcommand, plus those plugins add through `csgw_cli`."""

from __future__ import annotations

import gc

import typer

from csgw.cli import agents_cmd, conversations_cmd, plugins_cmd, texts_cmd
from csgw.cli.health_cmd import health
from csgw.cli.init_cmd import init
from csgw.cli.report_cmd import report
from csgw.cli.serve import serve
from csgw.commands import collector_paused
from csgw.gateway.logging import configure_logging
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager

app = typer.Typer(help="csgw — self-hosted customer-service gateway / 自托管客服网关", no_args_is_help=True,
                  pretty_exceptions_enable=False)


def print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version  # 34 ms: only when asked

        typer.echo(f"csgw {version('csgw')}")
        raise typer.Exit()


@app.callback()
def quiet_logs(
    _: bool = typer.Option(False, "--version", callback=print_version, is_eager=True,
                           help="print the version and exit / 显示版本"),
) -> None:
    """Commands other than `serve` log only warnings, and to stderr: stdout is for their output."""
    configure_logging("warning", "console")


app.command()(init)
app.command()(serve)
app.command()(health)
app.command()(report)
app.add_typer(plugins_cmd.app, name="plugins")
app.add_typer(agents_cmd.app, name="agents")
app.add_typer(conversations_cmd.app, name="conversations")
app.add_typer(texts_cmd.app, name="texts")


def main() -> None:
    with collector_paused():
        PluginHost(get_plugin_manager()).add_cli(app)
        gc.freeze()  # what loading made lives as long as the command: later collections skip it
    app()
