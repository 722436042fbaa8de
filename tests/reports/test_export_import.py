"""`csgw conversations export` filters and `import` round trip, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import json

from typer.testing import CliRunner

from csgw.cli.main import app
from csgw.gateway.models import Conversation, Message
from csgw.gateway.storage.db import close_database, open_database
from tests.reports.seed import seed, seed_question_types

runner = CliRunner()
LASTING = ("channel", "account", "direction", "sender", "text", "created_at", "kind", "platform_ts")


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def config_for(tmp_path, name: str, url: str) -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[server]\ndata_dir = "{tmp_path / name}"\n[database]\nurl = "{url}"\n', encoding="utf-8")
    return str(path)


def exported(config: str, tmp_path, *args: str) -> list[dict]:
    target = tmp_path / "out.jsonl"
    result = run("conversations", "export", "-o", str(target), "--config", config, *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]


async def seeded(url: str) -> None:
    await open_database(url)
    try:
        await seed()
    finally:
        await close_database()


def test_export_filters(tmp_path, database_url):
    asyncio.run(seeded(database_url))
    config = config_for(tmp_path, "source", database_url)
    everything = exported(config, tmp_path)
    assert len(everything) == 12 and [r["created_at"] for r in everything][:1] == ["2026-01-10T00:00:00+00:00"]
    assert {r["channel"] for r in exported(config, tmp_path, "--channel", "fake")} == {"fake"}
    assert len(exported(config, tmp_path, "--channel", "webchat/default")) == 7
    by_alice = exported(config, tmp_path, "--agent", "alice")
    assert len(by_alice) == 7 and {r["conversation_id"] for r in by_alice} == {2, 5, 6}
    window = exported(config, tmp_path, "--since", "2026-01-10T01:00:00+00:00", "--until", "2026-01-10T03:00:00+00:00")
    assert [r["sender"] for r in window] == ["customer", "agent", "customer"]
    assert run("conversations", "export", "--agent", "nobody", "--config", config).exit_code == 2
    assert run("conversations", "export", "--until", "soon", "--config", config).exit_code == 2
    csv_file = tmp_path / "out.csv"
    assert run("conversations", "export", "--format", "csv", "--full", "-o", str(csv_file), "--config", config).exit_code == 0
    rows = list(csv.DictReader(csv_file.open(encoding="utf-8")))
    assert len(rows) == 12 and rows[0]["id"] == "1" and rows[0]["user_id"] == "" and rows[0]["kind"] == "text"


def test_import_round_trip_and_rerun(tmp_path, database_url):
    asyncio.run(seeded(database_url))
    source = config_for(tmp_path, "source", database_url)
    dump = tmp_path / "dump.jsonl"
    assert run("conversations", "export", "--full", "-o", str(dump), "--config", source).exit_code == 0
    original = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]

    target = config_for(tmp_path, "target", f"sqlite://{tmp_path}/target.db")
    first = run("conversations", "import", str(dump), "--config", target)
    assert first.exit_code == 0 and "imported 12 messages, skipped 0" in first.output
    again = run("conversations", "import", str(dump), "--config", target)
    assert again.exit_code == 0 and "imported 0 messages, skipped 12" in again.output

    copied = exported(target, tmp_path, "--full")
    assert [{k: r[k] for k in LASTING} for r in copied] == [{k: r[k] for k in LASTING} for r in original]
    # Conversations and customers keep their grouping, under new ids.
    pairs = {(o["conversation_id"], c["conversation_id"]) for o, c in zip(original, copied, strict=True)}
    assert len(pairs) == len({o["conversation_id"] for o in original}) == len({c for _, c in pairs})
    same_customer = {(o["customer_id"], c["customer_id"]) for o, c in zip(original, copied, strict=True)}
    assert len(same_customer) == len({o["customer_id"] for o in original})

    async def imported_state() -> tuple[set[str], int]:
        await open_database(f"sqlite://{tmp_path}/target.db")
        try:
            return (set(await Conversation.all().values_list("state", flat=True)),
                    await Message.filter(processed=False).count())
        finally:
            await close_database()

    assert asyncio.run(imported_state()) == ({"closed"}, 0)


def test_import_refuses_a_bad_file_before_writing(tmp_path):
    bad = tmp_path / "bad.jsonl"
    good = {"conversation_id": 1, "channel": "fake", "account": "a", "direction": "in", "sender": "customer",
            "text": "hi", "created_at": "2026-01-01T00:00:00+00:00"}
    bad.write_text(json.dumps(good) + "\n" + json.dumps({**good, "direction": "sideways"}) + "\n", encoding="utf-8")
    target = config_for(tmp_path, "target", f"sqlite://{tmp_path}/target.db")
    result = run("conversations", "import", str(bad), "--config", target)
    assert result.exit_code == 2 and "line 2" in result.output
    assert not (tmp_path / "target.db").exists()


def test_export_carries_each_conversation_s_rating_after_the_fields_it_always_had(tmp_path, database_url):
    async def seeded_with_comments() -> None:
        await open_database(database_url)
        try:
            await seed_question_types()
        finally:
            await close_database()

    asyncio.run(seeded_with_comments())
    config = config_for(tmp_path, "rated", database_url)
    records = exported(config, tmp_path)
    always = ["conversation_id", "channel", "account", "customer_id", "direction", "sender", "text", "external_id",
              "created_at", "id"]
    assert list(records[0]) == [*always, "satisfaction", "satisfaction_comment"]
    rated = {r["conversation_id"]: (r["satisfaction"], r["satisfaction_comment"]) for r in records}
    assert rated[2] == (4, "回复很快，谢谢") and rated[6] == (2, "等太久了") and rated[1] == (5, None)
    assert rated[4] == (None, None)
    assert all((r["satisfaction"], r["satisfaction_comment"]) == rated[r["conversation_id"]] for r in records)
    full = exported(config, tmp_path, "--full")
    assert list(full[0]) == [*always, "user_id", "agent_id", "kind", "platform_ts", "satisfaction",
                             "satisfaction_comment"]
    csv_file = tmp_path / "rated.csv"
    assert run("conversations", "export", "--format", "csv", "-o", str(csv_file), "--config", config).exit_code == 0
    header = csv_file.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header == ",".join([*always, "satisfaction", "satisfaction_comment"])
    shown = run("conversations", "show", "2", "--config", config)
    assert shown.exit_code == 0 and "rated / 评价 4/5: 回复很快，谢谢" in shown.stdout
