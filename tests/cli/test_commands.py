"""The CLI: init, agents, conversations export, health exit codes, plugins enable/disable."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
import tomllib
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from typer.testing import CliRunner

from csgw.cli.main import app
from tests.cli.server_process import ServerProcess, free_port, write_config

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_init_writes_config_and_demo_kb_and_refuses_to_overwrite(tmp_path):
    result = run("init", "--dir", str(tmp_path))
    assert result.exit_code == 0
    config = tomllib.loads((tmp_path / "csgw.toml").read_text(encoding="utf-8"))
    # title, greeting and language come from the site's language unless set: commented out
    assert config["channels"][0] == {"plugin": "webchat", "account": "default", "color": "#1677ff"}
    assert config["reply"]["knowledge_base"] == "kb/demo.yaml" and (tmp_path / "kb" / "demo.yaml").exists()
    again = run("init", "--dir", str(tmp_path))
    assert again.exit_code == 2 and "already exists" in again.output
    bare = tmp_path / "bare"
    assert run("init", "--dir", str(bare), "--no-demo").exit_code == 0
    assert not (bare / "kb").exists()
    assert "knowledge_base" not in tomllib.loads((bare / "csgw.toml").read_text())["reply"]


def test_agents_add_token_list(tmp_path):
    config = str(write_config(tmp_path))
    added = run("agents", "add", "alice", "--skills", "鞋,售后", "--max", "3", "--config", config)
    token = added.output.strip().splitlines()[-1]
    assert added.exit_code == 0 and token.startswith("csgw_")
    assert run("agents", "add", "alice", "--config", config).exit_code == 2
    assert "added as supervisor" in added.output  # the desk's first agent may do everything
    assert "added as agent" in run("agents", "add", "bob", "--config", config).output
    assert run("agents", "add", "carol", "--role", "boss", "--config", config).exit_code == 2
    assert run("agents", "role", "bob", "supervisor", "--config", config).exit_code == 0
    listed = json.loads(run("agents", "list", "--json", "--config", config).output)
    assert listed[0]["skills"] == ["鞋", "售后"] and listed[0]["max"] == 3
    assert [(a["name"], a["role"]) for a in listed] == [("alice", "supervisor"), ("bob", "supervisor")]
    renewed = run("agents", "token", "alice", "--config", config).output.strip()
    assert renewed.startswith("csgw_") and renewed != token
    assert run("agents", "token", "nobody", "--config", config).exit_code == 2


@pytest.fixture
def served(tmp_path):
    server = ServerProcess(write_config(tmp_path, server='timezone = "Asia/Shanghai"\n')).start()
    yield server
    server.stop()


async def converse(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{url}/widget/ws", params={"site": "default", "visitor": "visitor-export"}) as ws:
            await ws.receive_json()
            await ws.send_json({"type": "message", "client_id": "1", "text": "你好"})
            while (await ws.receive_json())["type"] != "message":
                pass


def test_export_jsonl_and_csv_and_health(served, tmp_path):
    asyncio.run(converse(served.url))
    config = str(tmp_path / "csgw.toml")
    exported = run("conversations", "export", "--format", "jsonl", "--config", config)
    records = [json.loads(line) for line in exported.stdout.splitlines() if line.startswith("{")]
    assert [(r["direction"], r["sender"]) for r in records] == [("in", "customer"), ("out", "bot")]
    assert list(records[0]) == ["conversation_id", "channel", "account", "customer_id", "direction", "sender",
                                "text", "external_id", "created_at", "id", "satisfaction", "satisfaction_comment"]
    assert records[0]["external_id"] == "visitor-export:1" and records[0]["channel"] == "webchat"
    out_file = tmp_path / "history.csv"
    assert run("conversations", "export", "--format", "csv", "-o", str(out_file), "--config", config).exit_code == 0
    raw = out_file.read_text(encoding="utf-8")
    assert raw.startswith("\ufeffconversation_id,")  # Excel on Chinese Windows reads UTF-8 right
    table = list(csv.DictReader(io.StringIO(out_file.read_text(encoding="utf-8-sig"))))
    assert [row["text"] for row in table][0] == "你好"
    plain = run("conversations", "export", "--format", "csv", "--no-bom", "--config", config)
    assert plain.stdout.startswith("conversation_id,")
    future = run("conversations", "export", "--since", "2999-01-01", "--config", config)
    assert [line for line in future.stdout.splitlines() if line.startswith("{")] == []
    assert run("conversations", "export", "--since", "yesterday", "--config", config).exit_code == 2

    shown = json.loads(run("conversations", "show", str(records[0]["conversation_id"]), "--json", "--config", config).stdout)
    assert [m["text"] for m in shown["messages"]][0] == "你好"
    # times people read are the shop's (UTC+8 here), not the store's UTC
    stored = datetime.fromisoformat(records[0]["created_at"])
    local = stored.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")
    assert local in run("conversations", "show", str(records[0]["conversation_id"]), "--config", config).stdout
    listed = run("conversations", "list", "--state", "open", "--config", config)
    assert listed.exit_code == 0 and local[:16] in listed.stdout and "webchat" in listed.stdout
    refused = run("conversations", "list", "--state", "opened", "--config", config)
    assert refused.exit_code == 2 and "one of bot, queued, assigned, closed, open" in refused.output

    started = served.log.read_text(encoding="utf-8")
    assert f"csgw listening on {served.url}" in started
    assert "prefix dict" not in started  # jieba's banner stays out of the server's output

    healthy = run("health", "--url", served.url, "--json")
    report = json.loads(healthy.stdout)
    assert healthy.exit_code in (0, 1) and {"database", "outbox", "event_loop", "cpu", "memory", "disk",
                                           "channel:webchat/default"} <= {c["name"] for c in report["checks"]}
    assert healthy.exit_code == {"ok": 0, "degraded": 1}[report["status"]]
    assert run("health", "--url", served.url).exit_code == healthy.exit_code


async def test_health_watch_writes_each_report_as_it_comes_when_piped(served):
    watch = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "csgw", "health", "--url", served.url, "--watch", "0.2",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        seen = b""
        while seen.count(b"database") < 2:  # two reports through the pipe while it still runs
            line = await asyncio.wait_for(watch.stdout.readline(), 30)
            assert line, "health --watch ended"
            seen += line
        assert watch.returncode is None
    finally:
        watch.kill()
        await watch.wait()


def test_version():
    shown = run("--version")
    assert shown.exit_code == 0 and shown.output.startswith("csgw ") and shown.output.strip() != "csgw"


def test_health_of_an_unreachable_gateway_is_down():
    result = run("health", "--url", f"http://127.0.0.1:{free_port()}", "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["status"] == "down"


def test_plugins_enable_disable_edit_the_config_in_place(tmp_path):
    config = write_config(tmp_path, "# keep this comment\n[plugins]\ndisabled = []\n")
    assert run("plugins", "disable", "kb", "--config", str(config)).exit_code == 0
    text = config.read_text()
    assert "# keep this comment" in text and tomllib.loads(text)["plugins"]["disabled"] == ["kb"]
    listed = {p["name"]: p for p in json.loads(run("plugins", "list", "--json", "--config", str(config)).stdout)}
    assert listed["kb"]["enabled"] is False and listed["webchat"]["enabled"] is True
    assert run("plugins", "enable", "kb", "--config", str(config)).exit_code == 0
    assert tomllib.loads(config.read_text())["plugins"]["disabled"] == []
    assert run("plugins", "disable", "no_such_plugin", "--config", str(config)).exit_code == 2
    removed = run("plugins", "remove", "webchat", "--config", str(config))
    assert removed.exit_code == 2 and "builtin" in removed.output
