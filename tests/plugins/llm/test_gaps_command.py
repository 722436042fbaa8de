"""`csgw kb gaps --json | csgw llm gaps`: the model names and groups what the bot could not
answer and drafts entries for review, into a file the live knowledge base never reads; the
command's refusals are one line each."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
import typer
import yaml
from typer.testing import CliRunner

from csgw.cli.main import quiet_logs
from csgw.gateway.logging import configure_logging
from csgw.plugins.llm.cli import llm_app
from csgw.plugins.reply.kb import load_kb
from tests.cli.server_process import write_config
from tests.fakes.openai_server import FakeModel, say

runner = CliRunner()
app = typer.Typer()
app.callback()(quiet_logs)
app.add_typer(llm_app, name="llm")


@pytest.fixture(autouse=True)
def info_logs_after():
    """`csgw` commands log warnings only; later tests count info lines."""
    yield
    configure_logging("info", "console", sys.__stderr__)

GAPS = [{"text": "能开增值税专票吗", "count": 7, "examples": ["专票能开吗"], "last_seen": None},
        {"text": "增值税专票怎么开", "count": 3, "examples": [], "last_seen": None},
        {"text": "我手机13812345678，积分多久过期", "count": 2, "examples": [], "last_seen": None}]


def llm_config(tmp_path, model: FakeModel) -> str:
    return str(write_config(tmp_path, f'[llm]\nbase_url = "{model.base_url}"\nmodel = "fake-model"\n'))


async def invoke(*args: str, stdin: str | None = None):
    return await asyncio.to_thread(runner.invoke, app, list(args), input=stdin)


async def test_gaps_are_named_grouped_and_drafted_for_review(tmp_path):
    async with FakeModel() as model:
        config = llm_config(tmp_path, model)
        drafts = tmp_path / "drafts.yaml"
        result = await invoke("llm", "gaps", "--json", "--drafts", str(drafts), "--config", config,
                              stdin=json.dumps(GAPS, ensure_ascii=False))
        assert result.exit_code == 0, result.output
        topics = json.loads(result.stdout)["topics"]
        assert [(t["count"], t["questions"]) for t in topics] == [
            (10, ["能开增值税专票吗", "增值税专票怎么开"]), (2, ["我手机13812345678，积分多久过期"])]
        assert "13812345678" not in model.user_texts()[0]  # masked before it left the machine
        assert "13812345678" not in drafts.read_text(encoding="utf-8")  # and never into the KB
        kb = load_kb(drafts)  # a valid knowledge-base file, for review and `csgw kb import`
        assert [entry.id for entry in kb.entries] == ["draft-1", "draft-2"]
        assert kb.entries[0].similar == ["专票能开吗", "增值税专票怎么开"] and "【待填写" in kb.entries[0].answer
        assert drafts.read_text(encoding="utf-8").startswith("# Draft knowledge-base entries")

        model.script(say("这些问题我看不懂"))  # not the JSON asked for
        result = await invoke("llm", "gaps", "--config", config, stdin=json.dumps(GAPS))
        assert result.exit_code == 2 and "the model failed (bad_response)" in result.stderr
        again = await invoke("llm", "gaps", "--drafts", str(drafts), "--config", config, stdin="[]")
        assert again.exit_code == 2 and "drafts never overwrite a file" in again.stderr
        bad = await invoke("llm", "gaps", "--config", config, stdin='{"text": 1}')
        assert bad.exit_code == 2 and "csgw kb gaps --json" in bad.stderr
        assert len(model.requests) == 2 and yaml.safe_load(drafts.read_text(encoding="utf-8"))["entries"]


async def test_gaps_without_a_model_configured(tmp_path):
    result = await invoke("llm", "gaps", "--config", str(write_config(tmp_path)), stdin="[]")
    assert result.exit_code == 2 and "no language model is configured" in result.stderr
