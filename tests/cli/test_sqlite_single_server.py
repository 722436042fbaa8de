"""One `csgw serve` per SQLite file: a second refuses with one line and a non-zero exit while the
first keeps serving; the offline commands still run beside it; a killed server's lock is gone."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from csgw.plugins.demo import DEMO_KB
from tests.cli.server_process import ServerProcess, free_port, write_config


@pytest.fixture
def first(tmp_path):
    process = ServerProcess(write_config(tmp_path))
    yield process.start()
    process.stop()


def csgw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "csgw", *args], capture_output=True, text=True, timeout=120)


def healthy(server: ServerProcess) -> bool:
    with urllib.request.urlopen(server.url + "/healthz", timeout=10) as response:
        return response.status == 200


def test_a_second_serve_on_the_same_file_refuses_and_the_first_keeps_serving(first, tmp_path):
    second = csgw("serve", "--config", str(first.config), "--port", str(free_port()))
    assert second.returncode == 2
    database = tmp_path / "data" / "csgw.db"
    [line] = second.stderr.strip().splitlines()
    assert line.startswith("error:") and str(database) in line
    assert "single-process" in line and "PostgreSQL" in line
    assert first.process is not None and first.process.poll() is None
    assert healthy(first)


def test_offline_commands_run_beside_a_serving_gateway(first, tmp_path):
    config = str(first.config)
    assert csgw("agents", "add", "lin", "--config", config).returncode == 0
    assert [agent["name"] for agent in json.loads(csgw("agents", "list", "--json", "--config", config).stdout)] == ["lin"]
    imported = csgw("kb", "import", str(DEMO_KB), "--config", config)
    assert imported.returncode == 0, imported.stderr
    history = tmp_path / "history.jsonl"
    history.write_text(json.dumps({
        "id": 1, "conversation_id": 1, "channel": "webchat", "account": "default", "customer_id": 1,
        "direction": "in", "sender": "customer", "text": "旧消息", "external_id": "old-1",
        "created_at": "2026-01-10T00:00:00+00:00"}, ensure_ascii=False) + "\n", encoding="utf-8")
    restored = csgw("conversations", "import", str(history), "--config", config)
    assert restored.returncode == 0, restored.stderr
    assert healthy(first)


def test_a_killed_servers_file_can_be_served_again(first):
    first.kill()  # no clean exit: the kernel releases the lock with the process
    again = ServerProcess(Path(first.config), port=free_port())
    try:
        assert healthy(again.start())
    finally:
        again.stop()
