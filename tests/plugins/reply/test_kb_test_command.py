"""`csgw kb test` decides as the gateway does: the message's vector only when the decision uses it
(retrieval), and the same decision as with the vector computed for every line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import typer
from typer.testing import CliRunner

from csgw.cli.main import quiet_logs
from csgw.commands import settings_or_exit
from csgw.plugins.reply import cli as kb_cli
from csgw.plugins.reply.cli import kb_app
from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.kb import load_kb
from csgw.plugins.reply.plugin import engine_settings_for
from tests.cli.server_process import DEMO_KB, write_config
from tests.plugins.reply.fake_embedder import CharEmbedder

app = typer.Typer()
app.callback()(quiet_logs)
app.add_typer(kb_app, name="kb")

LINES = ["多久发货", "几天能发出来", "你好", "人工", "你们卖不卖自行车"]


class RecordingEmbedder(CharEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return super().embed(texts)


def test_kb_test_embeds_only_what_retrieval_reads_and_answers_as_before(tmp_path: Path, monkeypatch) -> None:
    config = write_config(tmp_path)  # the model on, as shipped
    embedder = RecordingEmbedder()
    monkeypatch.setattr(kb_cli, "default_embedder", lambda settings: embedder)
    (tmp_path / "lines.txt").write_text("\n".join(LINES), encoding="utf-8")

    result = CliRunner().invoke(app, ["kb", "test", "--file", str(tmp_path / "lines.txt"), "--json",
                                      "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0
    answers = [json.loads(line) for line in result.stdout.splitlines()]

    engine = ReplyEngine.from_kb(load_kb(DEMO_KB), engine_settings_for(settings_or_exit(config)), CharEmbedder())
    # before: every line's vector computed and given to the engine
    assert answers == [{"input": line, **engine.match(line, vector=engine.vector(line)).to_dict()}
                       for line in LINES]
    asked = {line for line in LINES if engine.query_text(line) in embedder.embedded}
    assert asked == {line for line in LINES if engine.needs_meaning(line)}
    assert "你们卖不卖自行车" in asked and "多久发货" not in asked and "人工" not in asked
