"""`csgw serve` warns (log line and stderr) when it listens beyond loopback without TLS in front."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from csgw.cli import serve_loop
from csgw.cli.main import app
from csgw.gateway.logging import configure_logging


@pytest.fixture(autouse=True)
def logging_to_real_stderr():
    yield  # the runner closes its stream; later tests log to the real stderr again
    configure_logging("info", "console", sys.__stderr__)


@pytest.mark.parametrize(("host", "behind_proxy", "warned"), [
    ("0.0.0.0", False, True), ("192.0.2.10", False, True), ("shop.example", False, True),
    ("::", False, True), ("127.0.0.1", False, False), ("::1", False, False), ("localhost", False, False),
    ("0.0.0.0", True, False)])
def test_public_plain_http_is_warned_about(tmp_path, monkeypatch, host, behind_proxy, warned):
    config = tmp_path / "csgw.toml"
    config.write_text(f'[server]\ndata_dir = "./data"\nbehind_tls_proxy = {str(behind_proxy).lower()}\n'
                      '[logging]\nformat = "json"\n', encoding="utf-8")
    listened = []
    monkeypatch.setattr(serve_loop, "serve_until_signalled", lambda app, host, *args: listened.append(host))
    result = CliRunner().invoke(app, ["serve", "--config", str(config), "--host", host])
    assert result.exit_code == 0 and listened == [host]
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert ('"event": "plain HTTP on a public address"' in output) is warned
    assert ("warning: listening on" in output and "behind_tls_proxy = true" in output) is warned
