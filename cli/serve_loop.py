"""`csgw serve`'s process: listen, wait for SIGINT/SIGTERM, drain within the grace period, exit.

The first signal drains: no new connections, requests under way get most of
`shutdown_grace_seconds`, then the gateway stops (pipeline, channels, outbox, writer, database)
and the process exits 0. A second signal cuts the drain short. Either way the process is gone
within the grace period plus `CLOSE_SECONDS`: a drain that has not finished by then (a hung
channel, a database thread that no longer answers) is logged and the process ends with
`os._exit`, since the interpreter would otherwise wait for a non-daemon thread (aiosqlite's
worker) for good. Nothing acknowledged is lost that way: it is on disk, and the next start
answers it. A stop asked for by a signal exits 0 either way; the log says whether it was cut.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from typing import Any

import structlog
from aiohttp import web
from tortoise import Tortoise

from csgw.cli.addresses import base_url
from csgw.commands import err

log = structlog.get_logger("csgw.serve")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
REQUESTS_SHARE = 0.7  # of the grace period, for requests under way; the rest stops the gateway
CLOSE_SECONDS = 1.0  # a cut drain still tries to close the database this long
WATCHDOG_MARGIN_SECONDS = 2.0  # beyond grace + CLOSE_SECONDS: the interpreter's own exit hangs


def announce(host: str, addresses: list[Any]) -> None:
    """Tell the person who started `csgw serve` where to open it (a wildcard host: this machine)."""
    for address in addresses[:1]:
        base = base_url(host, address[1])
        err.print(f"csgw listening on {base}  console / 控制台: {base}/console/", highlight=False)


def serve_until_signalled(app: web.Application, host: str, port: int, grace: float) -> None:
    """Run `app` on host:port until a stop signal, then drain (see the module docstring).
    Returns after a finished drain; a cut one ends the process here."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        finished = loop.run_until_complete(_serve(app, host, port, grace))
    finally:
        asyncio.set_event_loop(None)
    if not finished:
        _exit_now(0)
    loop.close()


async def _serve(app: web.Application, host: str, port: int, grace: float) -> bool:
    loop = asyncio.get_running_loop()
    signals: asyncio.Queue[signal.Signals] = asyncio.Queue()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, signals.put_nowait, signum)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=grace * REQUESTS_SHARE)
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await asyncio.wait_for(runner.cleanup(), grace + CLOSE_SECONDS)
        raise
    log.info("listening", host=host, port=port)
    announce(host, runner.addresses)
    received = await signals.get()
    _start_watchdog(grace + CLOSE_SECONDS + WATCHDOG_MARGIN_SECONDS)
    log.info("stopping: draining work under way", signal=received.name, grace_seconds=grace)
    drain = asyncio.create_task(runner.cleanup(), name="csgw-drain")
    second = asyncio.create_task(signals.get())
    done, _ = await asyncio.wait({drain, second}, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
    if drain in done:
        second.cancel()
        if drain.exception() is not None:
            log.error("drain failed", error=repr(drain.exception()))
        return True
    if second in done:
        log.warning("drain cut short by a second signal", signal=second.result().name)
    else:
        second.cancel()
        log.warning("drain cut short: the grace period is over", grace_seconds=grace)
    drain.cancel()
    # Closing the database ends its thread, which would keep the interpreter alive; asyncio.wait,
    # not wait_for: a close stuck behind a wedged thread is abandoned, not awaited.
    closing = asyncio.create_task(Tortoise.close_connections())
    closed, _ = await asyncio.wait({closing}, timeout=CLOSE_SECONDS)
    if not closed or closing.exception() is not None:
        log.warning("database not closed before exit",
                    error=repr(closing.exception()) if closed else "timed out")
    return False


def _start_watchdog(seconds: float) -> None:
    """Last resort: whatever hangs after the drain (loop, interpreter shutdown joining threads),
    the process is gone `seconds` after the first signal."""
    timer = threading.Timer(seconds, _watchdog_fired, args=(seconds,))
    timer.daemon = True
    timer.start()


def _watchdog_fired(seconds: float) -> None:
    log.error("still running after the stop deadline, exiting", seconds=seconds)
    _exit_now(0)


def _exit_now(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
