"""`csgw texts list`: every text a shop may reword, who registered it, its placeholders and its
built-in wording per language; only the plugins the config loads."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from csgw.cli.main import app
from csgw.gateway.texts import TEXTS

runner = CliRunner()


def listed(*args: str) -> list[dict]:
    result = runner.invoke(app, ["texts", "list", "--json", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_text_with_its_plugin_placeholders_and_wording(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no csgw.toml: every installed plugin
    rows = {row["key"]: row for row in listed()}
    assert set(TEXTS) <= set(rows)
    assert rows["handover.queued"] == {"key": "handover.queued", "plugin": "csgw", "placeholders": ["ahead", "minutes"],
                                       "texts": TEXTS["handover.queued"]}
    assert (rows["queue.position"]["plugin"], rows["queue.position"]["placeholders"]) == ("basic_assignment",
                                                                                         ["ahead", "minutes"])
    assert rows["menu.person_hint"]["plugin"] == "kb" and rows["menu.person_hint"]["placeholders"] == ["person"]
    assert rows["wechat_oa.greeting"]["texts"]["en"].startswith("Thanks for following")


def test_the_plain_listing_reads_as_key_then_one_line_per_language(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["texts", "list"], catch_exceptions=False)
    lines = result.stdout.splitlines()
    at = lines.index("handover.queued  (csgw; {ahead} {minutes})")
    assert lines[at + 1] == f"  zh-Hans  {TEXTS['handover.queued']['zh-Hans']}"
    assert lines[at + 3] == f"  en       {TEXTS['handover.queued']['en']}"
    assert '[texts.zh-Hans] "handover.queued" = "…"' in result.stderr


def test_a_plugin_the_config_disables_lists_no_texts(tmp_path):
    config = tmp_path / "csgw.toml"
    config.write_text('[plugins]\ndisabled = ["basic_assignment"]\n', encoding="utf-8")
    keys = {row["key"] for row in listed("--config", str(config))}
    assert "queue.position" not in keys and "handover.queued" in keys
