"""Entries scoped to a site through the agent API and the store (SQLite and PostgreSQL), and
`csgw kb import / export / test --channel` with them."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
import typer
from structlog.testing import capture_logs
from typer.testing import CliRunner

from csgw.cli.main import quiet_logs
from csgw.plugins.reply.cli import kb_app
from csgw.testing import running_gateway
from tests.cli.server_process import write_config
from tests.gateway.helpers import AgentClient, Visitor, add_agent
from tests.plugins.reply.test_scopes import SITES_KB

SITES = [{"plugin": "webchat", "account": "shoes"}, {"plugin": "webchat", "account": "intl", "language": "en"}]
SIZE_CHART = {"category": "鞋码", "question": "鞋码怎么选？", "answer": "鞋码偏大，建议选小一码。",
             "keywords": [{"any": ["鞋码"]}], "channels": ["webchat/shoes"]}


runner = CliRunner()
app = typer.Typer()
app.callback()(quiet_logs)  # as `csgw`: logs to stderr, stdout for the output
app.add_typer(kb_app, name="kb")  # `csgw kb`, as the plugin adds it to the installed command


def bot_says(frame: dict) -> bool:
    return frame["type"] == "message" and frame["from"] == "bot"


async def test_a_scoped_entry_through_the_api_is_stored_and_answers_on_its_site(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=SITES) as gw, \
            aiohttp.ClientSession() as session:
        agent = AgentClient(session, gw.url, (await add_agent("kb-admin"))[1])
        with capture_logs() as logged:
            for bad in ("webchat/", "/x", "a/b/c"):
                refused = await agent.call("PUT", "/kb/size-chart", {**SIZE_CHART, "channels": [bad]}, expect=400)
                assert refused["error"]["code"] == "bad_channel" and repr(bad) in refused["error"]["message"]
            refused = await agent.call("POST", "/kb/test", {"text": "鞋码", "channel": "webchat/"}, expect=400)
            assert refused["error"]["code"] == "bad_channel"
        assert sum(event["event"] == "api request refused" and event["code"] == "bad_channel" for event in logged) == 4
        await agent.call("GET", "/kb/size-chart", expect=404)  # nothing stored by a refusal

        await agent.call("PUT", "/kb/size-chart", SIZE_CHART, expect=201)
        assert (await agent.call("GET", "/kb/size-chart", expect=200))["channels"] == ["webchat/shoes"]
        here = await agent.call("POST", "/kb/test", {"text": "鞋码怎么选", "channel": "webchat/shoes"}, expect=200)
        there = await agent.call("POST", "/kb/test", {"text": "鞋码怎么选", "channel": "webchat/intl"}, expect=200)
        assert here["entry_id"] == "size-chart" and there["entry_id"] != "size-chart"
        hello = await agent.call("POST", "/kb/test", {"text": "你好", "channel": "webchat/intl"}, expect=200)
        assert hello["text"].startswith("Hello! Happy to help.")  # asked as the English site

        shoes = await Visitor(session, gw.url, "visitor-kb-shoes", site="shoes").connect()
        intl = await Visitor(session, gw.url, "visitor-kb-intl", site="intl").connect()
        await shoes.say("s1", "鞋码怎么选")
        assert (await shoes.receive_until(bot_says))["text"] == "鞋码偏大，建议选小一码。"
        await intl.say("i1", "鞋码怎么选")
        assert "鞋码偏大" not in (await intl.receive_until(bot_says))["text"]
        assert intl.hello["config"]["welcome"] and "鞋码怎么选？" not in intl.hello["config"]["welcome"]
        for visitor in (shoes, intl):
            await visitor.close()


def test_cli_imports_exports_and_tests_as_a_site(tmp_path: Path):
    config = write_config(tmp_path, '[reply.engine]\nmodel = "off"\n[[channels]]\nplugin = "webchat"\n'
                                    'account = "intl"\nlanguage = "en"\n')
    (tmp_path / "sites.yaml").write_text(SITES_KB, encoding="utf-8")

    def csgw(*args: str):
        return runner.invoke(app, [*args, "--config", str(config)], catch_exceptions=False)

    assert csgw("kb", "import", str(tmp_path / "sites.yaml")).exit_code == 0
    assert csgw("kb", "export", str(tmp_path / "out.csv")).exit_code == 0
    exported = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert "answer@webchat/intl" in exported.splitlines()[0] and '"webchat/hk, wechat_oa"' in exported

    def tested(*channel: str) -> dict:
        result = csgw("kb", "test", "鞋码怎么选", "--json", *channel)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert tested("--channel", "webchat/shoes")["entry_id"] == "shoe-size"
    assert tested()["entry_id"] == "shoe-size"  # from anywhere
    english = tested("--channel", "webchat/intl")
    assert english["entry_id"] != "shoe-size" and english["text"].endswith("reply 9 to talk to a person")
    for bad in ("webchat/", "a/b/c"):
        refused = csgw("kb", "test", "鞋码", "--channel", bad)
        assert refused.exit_code == 2 and "is not a channel" in refused.output and "plugin/account" in refused.output


@pytest.mark.parametrize("suffix", [".yaml", ".csv"])
def test_cli_import_names_a_malformed_channel(tmp_path: Path, suffix: str):
    config = write_config(tmp_path, '[reply.engine]\nmodel = "off"\n')
    source = tmp_path / f"bad{suffix}"
    source.write_text("entries:\n  - {id: e1, question: 问, answer: 答, channels: [webchat/]}\n" if suffix == ".yaml"
                      else "id,question,answer,channels\ne1,问,答,webchat/\n", encoding="utf-8")
    result = runner.invoke(app, ["kb", "import", str(source), "--config", str(config)])
    assert result.exit_code == 2 and "field 'channels': 'webchat/' is not a channel" in result.output
