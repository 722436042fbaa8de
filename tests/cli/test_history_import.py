"""`csgw conversations import`: the whole file checked first, every problem with its line, then an
idempotent, resumable import that waits for a gateway writing to the same SQLite file."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import threading

import pytest
from typer.testing import CliRunner

from csgw.cli import history_import, history_records
from csgw.cli.main import app
from csgw.gateway.models import Conversation, Customer, Message
from csgw.gateway.storage.db import close_database, open_database
from tests.reports.seed import seed

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def config_for(tmp_path, name: str, url: str | None = None) -> str:
    url = url or f"sqlite://{tmp_path}/{name}.db"
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[server]\ndata_dir = "{tmp_path / name}"\n[database]\nurl = "{url}"\n', encoding="utf-8")
    return str(path)


def record(number: int, conversation: int = 1, **values) -> dict:
    """Line `number` of a hand-made export: conversations alternate customer and bot."""
    inbound = number % 2 == 1
    return {"id": number, "conversation_id": conversation, "channel": "webchat", "account": "default",
            "customer_id": conversation, "direction": "in" if inbound else "out",
            "sender": "customer" if inbound else "bot", "text": f"message {number}",
            "external_id": f"ext-{number}" if inbound else None,
            "created_at": f"2026-01-10T00:00:{number % 60:02d}+00:00", **values}


def write(path, records: list[dict | str]) -> None:
    lines = [item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


async def in_store(url: str, work):
    await open_database(url)
    try:
        return await work()
    finally:
        await close_database()


def counts(url: str) -> tuple[int, int, int]:
    async def work() -> tuple[int, int, int]:
        return await Message.all().count(), await Conversation.all().count(), await Customer.all().count()

    return asyncio.run(in_store(url, work))


def empty_store(tmp_path, name: str = "target") -> tuple[str, str]:
    url = f"sqlite://{tmp_path}/{name}.db"
    asyncio.run(in_store(url, lambda: asyncio.sleep(0)))
    return config_for(tmp_path, name, url), url


def test_a_bad_record_after_line_1000_writes_nothing_and_every_problem_is_listed(tmp_path):
    config, url = empty_store(tmp_path)
    lines = [record(n, conversation=n // 10 + 1) for n in range(1, 1501)]
    lines[1200] = record(1201, conversation=121, external_id="ext-1101")  # line 1,101 has it already
    lines[1299] = record(1300, conversation=131, text={"x": 1})
    dump = tmp_path / "dump.jsonl"
    write(dump, lines)

    result = run("conversations", "import", str(dump), "--config", config)
    assert result.exit_code == 2
    assert "line 1201: external_id 'ext-1101' on webchat/default is also on line 1101" in result.output
    assert "line 1300: text is an object, expected a string or null" in result.output
    assert "2 bad lines; nothing was imported" in result.output
    assert counts(url) == (0, 0, 0)


def test_a_duplicate_external_id_within_one_page_is_a_clear_error(tmp_path):
    config, url = empty_store(tmp_path)
    dump = tmp_path / "dump.jsonl"
    write(dump, [record(1, external_id="[b]dup"), record(2), record(3, external_id="[b]dup"), record(4, id=2)])
    result = run("conversations", "import", str(dump), "--config", config)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "line 3: external_id '[b]dup' on webchat/default is also on line 1" in result.output  # no rich markup
    assert "line 4: id 2 is also on line 2" in result.output
    assert counts(url) == (0, 0, 0)


def test_wrong_types_are_refused_each_with_its_line(tmp_path):
    config, url = empty_store(tmp_path)
    dump = tmp_path / "dump.jsonl"
    write(dump, [
        record(1),
        record(2, text={"x": 1}),
        record(3, text=["a"], conversation_id=True),
        record(4, direction="sideways", created_at="soon"),
        "[1, 2]",
        "{not json",
        json.dumps(record(7, text="\ud800")),  # a lone surrogate: no store can hold it
        record(8, id=None, external_id=None),
        record(9, id=2**64),
        record(10, channel="x" * 65),
        "",
        record(12, text=None),  # null text is allowed
    ])
    result = run("conversations", "import", str(dump), "--config", config)
    assert result.exit_code == 2
    expected = {
        2: "text is an object, expected a string or null",
        3: "conversation_id is true/false, expected a whole number or a string",
        4: "direction is 'sideways', expected one of in, out",
        5: "a list, not a JSON object",
        6: "not JSON",
        7: "text holds invalid Unicode",
        8: "no id and no external_id",
        9: "id is out of range",
        10: "channel is longer than 64 characters",
    }
    for number, problem in expected.items():
        assert f"line {number}: " in result.output and problem in result.output, (number, result.output)
    assert "created_at is 'soon', expected an ISO time" in result.output
    assert "line 1:" not in result.output and "line 12:" not in result.output and "line 11:" not in result.output
    assert "9 bad lines" in result.output and counts(url) == (0, 0, 0)


def test_only_the_first_problems_are_printed_with_a_count(tmp_path):
    config, _ = empty_store(tmp_path)
    dump = tmp_path / "dump.jsonl"
    write(dump, ["nope"] * 30)
    result = run("conversations", "import", str(dump), "--config", config)
    assert result.exit_code == 2 and "line 20: not JSON" in result.output and "line 21:" not in result.output
    assert "30 bad lines (the first 20 shown)" in result.output


def test_an_over_long_line_is_refused_without_being_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(history_records, "MAX_LINE_BYTES", 300)
    config, url = empty_store(tmp_path)
    base = json.dumps(record(1))
    at_limit = base[:-1] + ', "pad": "' + "x" * (300 - len(base) - 11) + '"}'
    assert len(at_limit.encode()) == 300
    over = at_limit[:-1] + ' }'  # one byte too many, still valid JSON
    dump = tmp_path / "dump.jsonl"
    write(dump, [at_limit, json.dumps(record(2)), over.replace('"id": 1', '"id": 3'), json.dumps(record(4))])
    result = run("conversations", "import", str(dump), "--config", config)
    assert result.exit_code == 2 and "line 3: longer than 300 bytes" in result.output
    assert "line 1:" not in result.output and "line 4:" not in result.output
    assert counts(url) == (0, 0, 0)


class ReadRecorder(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.largest = 0

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.largest = max(self.largest, len(line))
        return line


def test_a_long_line_is_skipped_in_bounded_reads(monkeypatch):
    monkeypatch.setattr(history_records, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(history_records, "SKIP_CHUNK", 64)
    stream = ReadRecorder(b"short\n" + b"y" * 10_000 + b"\nlast")
    assert list(history_records.bounded_lines(stream)) == [(1, b"short\n"), (2, None), (3, b"last")]
    assert stream.largest <= 101


def test_a_second_run_adds_nothing_outbound_messages_included(tmp_path):
    source_url = f"sqlite://{tmp_path}/source.db"
    asyncio.run(in_store(source_url, seed))
    dump = tmp_path / "plain.jsonl"
    assert run("conversations", "export", "-o", str(dump), "--config", config_for(tmp_path, "source", source_url)
               ).exit_code == 0
    original = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert all(isinstance(r["id"], int) for r in original)  # the plain export carries message ids
    assert any(r["direction"] == "out" and r["external_id"] is None for r in original)

    config, url = empty_store(tmp_path)
    first = run("conversations", "import", str(dump), "--config", config)
    assert first.exit_code == 0 and "imported 12 messages, skipped 0" in first.output
    after_first = counts(url)
    again = run("conversations", "import", str(dump), "--config", config)
    assert again.exit_code == 0 and "imported 0 messages, skipped 12" in again.output
    assert counts(url) == after_first == (12, 6, 5)


def test_export_then_import_into_a_fresh_store_keeps_the_messages(tmp_path):
    source_url = f"sqlite://{tmp_path}/source.db"

    async def seeded() -> None:
        await seed()
        conversation = await Conversation.get(id=1)
        await Message.create(conversation_id=1, channel=conversation.channel, account=conversation.account,
                             direction="in", sender="customer", text="😀 你好\x00 {\"x\": 1}",
                             created_at=conversation.opened_at, external_id="odd")

    asyncio.run(in_store(source_url, seeded))
    source = config_for(tmp_path, "source", source_url)
    dump = tmp_path / "dump.jsonl"
    assert run("conversations", "export", "-o", str(dump), "--config", source).exit_code == 0
    config, url = empty_store(tmp_path)
    assert run("conversations", "import", str(dump), "--config", config).exit_code == 0

    copied = tmp_path / "copied.jsonl"
    assert run("conversations", "export", "-o", str(copied), "--config", config).exit_code == 0
    lasting = ("channel", "account", "direction", "sender", "text", "created_at")
    before = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    after = [json.loads(line) for line in copied.read_text(encoding="utf-8").splitlines()]
    assert [{k: r[k] for k in lasting} for r in after] == [{k: r[k] for k in lasting} for r in before]
    assert [r["external_id"] or f"import:{r['id']}" for r in before] == [r["external_id"] for r in after]
    grouping = {(b["conversation_id"], a["conversation_id"]) for b, a in zip(before, after, strict=True)}
    assert len(grouping) == len({b["conversation_id"] for b in before}) == len({a for _, a in grouping})


def test_an_import_stopped_midway_is_finished_by_running_it_again(tmp_path, monkeypatch):
    monkeypatch.setattr(history_import, "PAGE", 4)
    config, url = empty_store(tmp_path)
    dump = tmp_path / "dump.jsonl"
    write(dump, [record(n, conversation=n % 5 + 1) for n in range(1, 21)])  # every page touches every conversation
    row_of = history_import.message_row

    def killed_on_line_10(conversation_id, item, agent_id):
        if item.line == 10:  # inside page 3, after its new rows were begun
            raise RuntimeError("killed")
        return row_of(conversation_id, item, agent_id)

    monkeypatch.setattr(history_import, "message_row", killed_on_line_10)
    with pytest.raises(RuntimeError, match="killed"):
        run("conversations", "import", str(dump), "--config", config)
    assert counts(url) == (8, 5, 5)  # pages 1 and 2; page 3 rolled back whole

    monkeypatch.setattr(history_import, "message_row", row_of)
    resumed = run("conversations", "import", str(dump), "--config", config)
    assert resumed.exit_code == 0 and "imported 12 messages, skipped 8" in resumed.output
    assert counts(url) == (20, 5, 5)

    async def per_conversation() -> dict[int, int]:
        found: dict[int, int] = {}
        for conversation_id in await Message.all().values_list("conversation_id", flat=True):
            found[conversation_id] = found.get(conversation_id, 0) + 1
        return found

    assert sorted(asyncio.run(in_store(url, per_conversation)).values()) == [4, 4, 4, 4, 4]
    again = run("conversations", "import", str(dump), "--config", config)
    assert "imported 0 messages, skipped 20" in again.output and counts(url) == (20, 5, 5)


def test_the_import_waits_for_a_gateway_holding_the_write_lock(tmp_path, monkeypatch):
    path = tmp_path / "shared.db"
    # A short busy timeout so the held lock surfaces as "database is locked" at once.
    url = f"sqlite://{path}?busy_timeout=50"
    asyncio.run(in_store(url, lambda: asyncio.sleep(0)))
    config = config_for(tmp_path, "shared", url)
    dump = tmp_path / "dump.jsonl"
    write(dump, [record(n) for n in range(1, 11)])

    held, release, committed = threading.Event(), threading.Event(), threading.Event()

    def gateway_writer() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                'INSERT INTO "message" ("conversation_id", "channel", "account", "direction", "sender", "kind", '
                '"text", "payload", "external_id", "processed", "created_at") '
                "VALUES (99, 'webchat', 'default', 'in', 'customer', 'text', 'live', '{}', 'live-1', 1, "
                "'2026-01-11 00:00:00+00:00')")
            held.set()
            release.wait(timeout=60)
            connection.execute("COMMIT")
        finally:
            connection.close()
            committed.set()

    waits: list[int] = []

    async def let_the_gateway_finish(self, attempt: int) -> None:
        waits.append(attempt)
        release.set()
        await asyncio.to_thread(committed.wait, 60)

    monkeypatch.setattr(history_import.Importer, "wait_before_retry", let_the_gateway_finish)
    holder = threading.Thread(target=gateway_writer)
    holder.start()
    try:
        assert held.wait(timeout=60)
        result = run("conversations", "import", str(dump), "--config", config)
    finally:
        release.set()
        holder.join()
    assert result.exit_code == 0 and "imported 10 messages, skipped 0" in result.output
    assert waits == [1]  # the first page met the lock once, then went through
    assert counts(url)[0] == 11  # the gateway's message and every imported one
