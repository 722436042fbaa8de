"""The knowledge base inside the gateway: seeded from config, edited by API and CLI, rebuilt live."""

from __future__ import annotations

import json
import subprocess
import sys

import aiohttp

from csgw.gateway.channel import InboundMessage
from csgw.plugins.reply import plugin as kb_plugin
from csgw.testing import running_gateway
from tests.cli.server_process import write_config
from tests.gateway.helpers import AgentClient, add_agent

FAKE = [{"plugin": "fake", "account": "shop"}]
NEW_ENTRY = {"category": "售前/活动", "question": "双十一有什么活动？", "similar": ["双11优惠"],
             "answer": "双十一全场满300减50！", "keywords": [{"any": ["双十一", "双11"]}], "priority": 20}


async def ask(gw, text: str, n: int) -> str:
    await gw.services.accept(InboundMessage("fake", "shop", f"user-{n}", text, f"m-{n}"))
    sent = await gw.fake("shop").wait_sent(len(gw.fake("shop").sent) + 1)
    return sent[-1].text


async def test_api_edits_are_answered_at_once_and_documented(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw, \
            aiohttp.ClientSession() as session:
        _, token = await add_agent("kb-admin")
        agent = AgentClient(session, gw.url, token)
        assert "满300减50" not in await ask(gw, "双十一有活动吗", 1)
        created = await agent.call("PUT", "/kb/double-11", NEW_ENTRY, expect=201)
        assert created["id"] == "double-11"
        assert await ask(gw, "双十一有活动吗", 2) == "双十一全场满300减50！"
        found = await agent.call("GET", "/kb?q=双十一", expect=200)
        assert [e["id"] for e in found["items"]] == ["double-11"]
        explained = await agent.call("POST", "/kb/test", {"text": "双11优惠多吗"}, expect=200)
        assert explained["answered"] and explained["entry_id"] == "double-11"
        await agent.call("PUT", "/kb/broken", {"question": "没有答案"}, expect=422)
        await agent.call("DELETE", "/kb/double-11", expect=200)
        await agent.call("DELETE", "/kb/double-11", expect=404)
        assert "满300减50" not in await ask(gw, "双十一有活动吗", 3)
        async with session.get(gw.url + "/api/v1/openapi.json") as response:
            paths = (await response.json())["paths"]
        assert {"/api/v1/kb", "/api/v1/kb/{key}", "/api/v1/kb/test"} <= set(paths)


async def test_changes_from_another_process_are_picked_up(tmp_path, monkeypatch):
    monkeypatch.setattr(kb_plugin, "CHECK_SECONDS", 0.0)
    async with running_gateway(tmp_path, channels=FAKE) as gw:
        from csgw.plugins.reply import kb_store
        from csgw.plugins.reply.kb import Entry, KnowledgeBase

        await kb_store.import_knowledge_base(KnowledgeBase(entries=[Entry.model_validate({"id": "x", **NEW_ENTRY})]))
        assert await ask(gw, "双十一有活动吗", 1) == "双十一全场满300减50！"


def csgw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "csgw", *args], capture_output=True, text=True, timeout=120)


def test_cli_import_export_test(tmp_path):
    config = str(write_config(tmp_path))
    source = tmp_path / "shop.yaml"
    source.write_text("entries:\n  - id: hours\n    question: 几点上班？\n    answer: 每天9点到21点。\n"
                      "    keywords:\n      - any: [几点上班, 营业时间]\n", encoding="utf-8")
    imported = csgw("kb", "import", str(source), "--config", config)
    assert imported.returncode == 0, imported.stderr
    assert "imported 1 entries (1 new, 0 updated)" in imported.stderr
    # the model indexed the entry's meaning for the gateway: stored, so serve embeds nothing
    assert "indexed the meaning of 1 new texts" in imported.stderr
    assert (tmp_path / "data" / kb_plugin.VECTORS_FILE).exists()
    exported = csgw("kb", "export", str(tmp_path / "out.csv"), "--config", config)
    assert exported.returncode == 0 and "每天9点到21点" in (tmp_path / "out.csv").read_text(encoding="utf-8")
    tested = csgw("kb", "test", "你们营业时间是几点", "--json", "--config", config)
    result = json.loads(tested.stdout)
    assert result["answered"] and result["entry_id"] == "hours" and result["answer"] == "每天9点到21点。"
    meant = json.loads(csgw("kb", "test", "你们早上几点开门营业", "--json", "--config", config).stdout)
    assert meant["semantic"] is True and meant["decision"]  # why, signal by signal
    assert {"semantic_lead", "tuned_lead", "lexical"} <= set(meant["candidates"][0]["signals"])
    lines = tmp_path / "questions.txt"
    lines.write_text("营业时间\n火星快递\n", encoding="utf-8")
    batch = [json.loads(line) for line in csgw("kb", "test", "--file", str(lines), "--json", "--config", config).stdout.splitlines()]
    assert [r["input"] for r in batch] == ["营业时间", "火星快递"] and [r["answered"] for r in batch] == [True, False]
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries:\n  - id: a\n    question: q\n", encoding="utf-8")
    refused = csgw("kb", "import", str(bad), "--config", config)
    assert refused.returncode == 2 and "answer" in refused.stderr and "Traceback" not in refused.stderr
