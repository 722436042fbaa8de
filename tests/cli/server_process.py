"""Run `csgw serve` as a real child process for restart, signal and CLI tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from csgw.plugins.demo import DEMO_KB


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    def __init__(self, config: Path, port: int | None = None) -> None:
        self.config = config
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = config.parent / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> ServerProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "csgw", "serve", "--config", str(self.config), "--port", str(self.port)],
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"csgw serve exited {self.process.returncode}: {self.log.read_text()[-2000:]}")
            if self._listening():
                try:
                    with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                        return self
                except OSError:
                    pass
            time.sleep(0.05)  # readiness poll of a separate process, bounded by the deadline
        raise TimeoutError(f"csgw serve did not come up: {self.log.read_text()[-2000:]}")

    def _listening(self) -> bool:
        """Our own process holds the port (not another test's server that got it first)."""
        try:
            connections = psutil.Process(self.process.pid).net_connections(kind="tcp")
        except psutil.Error:
            return False
        return any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port for c in connections)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 30) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def write_config(directory: Path, extra: str = "", server: str = "") -> Path:
    path = directory / "csgw.toml"
    path.write_text(
        '[server]\ndata_dir = "./data"\n' + server + '[database]\nurl = "sqlite://./data/csgw.db"\n'
        '[logging]\nformat = "json"\n[[channels]]\nplugin = "webchat"\naccount = "default"\n'
        f'messages_per_minute = 10000\n[reply]\nknowledge_base = "{DEMO_KB}"\n' + extra,
        encoding="utf-8")
    return path
