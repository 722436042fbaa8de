"""The records of a history import file: read in bounded lines, each checked before anything is written.

`check_file` reads the whole file once and collects every problem with its line number (bad
JSON, wrong types, what the store cannot hold, duplicates within the file); `read_pages` hands
the import the same records, page by page. A line longer than `MAX_LINE_BYTES` is never held
whole: it is skipped in bounded chunks and reported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from tortoise.models import Model

from csgw.gateway.models import MESSAGE_DIRECTIONS, MESSAGE_SENDERS, CustomerIdentity, Message
from csgw.gateway.storage.timestamps import as_datetime
from csgw.gateway.storage.values import MAX_ID, is_storable

MAX_LINE_BYTES = 1 << 20  # 1 MiB: far above any message the gateway accepts
SKIP_CHUNK = 64 * 1024
KEPT_PROBLEMS = 1000  # all are counted; this many are kept to show
IMPORT_PREFIX = "import:"  # the external_id of a record that has none: `import:<its export id>`


def _max_length(model: type[Model], name: str) -> int:
    """A text column's length limit, from the model's public description."""
    [field] = [f for f in model.describe(serializable=False)["data_fields"] if f["name"] == name]
    limit = field["constraints"]["max_length"]
    assert isinstance(limit, int), name
    return limit


LENGTHS = {"channel": _max_length(Message, "channel"), "account": _max_length(Message, "account"),
           "kind": _max_length(Message, "kind"), "external_id": _max_length(Message, "external_id"),
           "user_id": _max_length(CustomerIdentity, "platform_user_id")}
MAX_ID_CHARS = 255  # an id given as a string (another system's export) is kept in JSON and external ids


class RecordError(ValueError):
    """A line of the import file is not an export record."""


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One checked line: a message and what it needs to rebuild its conversation and customer."""

    line: int
    id: int | str | None
    conversation_id: int | str  # the source store's id: groups the messages of one conversation
    channel: str
    account: str
    customer_id: int | str | None
    user_id: str | None
    direction: str
    sender: str
    agent_id: int | None
    kind: str
    text: str
    external_id: str  # the platform's id, else `import:<id>`: what makes a second run add nothing
    created_at: datetime
    platform_ts: datetime | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.channel, self.account, self.external_id)


@dataclass
class FileCheck:
    """What one pass over the file found: how many records, and every problem (line, what)."""

    records: int = 0
    problem_count: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    def add(self, line: int, problem: str) -> None:
        self.problem_count += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append((line, problem))


def bounded_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) per line; None for a line longer than `MAX_LINE_BYTES`, skipped in chunks."""
    limit = MAX_LINE_BYTES
    number = 0
    while raw := stream.readline(limit + 1):
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(SKIP_CHUNK)
            yield number, None
            continue
        yield number, raw


def parse_line(raw: bytes | None, number: int, *, allow_nul: bool) -> ImportRecord | list[str] | None:
    """The record on a line, or what is wrong with it; None for a blank line."""
    if raw is None:
        return [f"longer than {MAX_LINE_BYTES} bytes"]
    try:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
    except UnicodeDecodeError:
        return ["not UTF-8 text"]
    if not line:
        return None
    try:
        item = json.loads(line)
    except (ValueError, RecursionError):
        return ["not JSON"]
    if not isinstance(item, dict):
        return [f"{_kind_of(item)}, not a JSON object"]
    return _Fields(item, allow_nul).record(number)


def check_file(path: Path, *, allow_nul: bool, progress: Callable[[int], None] = lambda done: None) -> FileCheck:
    """Every line checked, and identities compared across the whole file; nothing is written."""
    found = FileCheck()
    ids: dict[bytes, int] = {}
    keys: dict[bytes, int] = {}
    with path.open("rb") as stream:
        for number, raw in bounded_lines(stream):
            parsed = parse_line(raw, number, allow_nul=allow_nul)
            if number % 1000 == 0:
                progress(stream.tell())
            if parsed is None:
                continue
            if isinstance(parsed, list):
                found.add(number, "; ".join(parsed))
                continue
            found.records += 1
            duplicate = _first_seen(ids, ("id", parsed.id), number) if parsed.id is not None else None
            if duplicate:
                found.add(number, f"id {_shown(parsed.id)} is also on line {duplicate}")
            elif duplicate := _first_seen(keys, parsed.key, number):
                found.add(number, f"external_id {_shown(parsed.external_id)} on {parsed.channel}/{parsed.account} "
                                  f"is also on line {duplicate}")
        progress(stream.tell())
    return found


def read_pages(path: Path, page_size: int, *, allow_nul: bool) -> Iterator[tuple[int, list[ImportRecord]]]:
    """Pages of records, each with the bytes read so far (for progress). The file was checked
    first; a problem now means it changed since, and stops the import."""
    page: list[ImportRecord] = []
    with path.open("rb") as stream:
        for number, raw in bounded_lines(stream):
            parsed = parse_line(raw, number, allow_nul=allow_nul)
            if isinstance(parsed, list):
                raise RecordError(f"line {number}: {'; '.join(parsed)} (the file changed after it was checked)")
            if parsed is not None:
                page.append(parsed)
            if len(page) >= page_size:
                yield stream.tell(), page
                page = []
        if page:
            yield stream.tell(), page


def _first_seen(seen: dict[bytes, int], key: tuple[Any, ...], number: int) -> int | None:
    # A digest, not the key itself: a file of millions of records stays a few dozen bytes each.
    digest = hashlib.blake2b(repr(key).encode("utf-8"), digest_size=16).digest()
    first = seen.setdefault(digest, number)
    return first if first != number else None


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


class _Fields:
    """The checks of one record's fields; each problem is noted, none stops the others."""

    def __init__(self, item: dict[str, Any], allow_nul: bool) -> None:
        self.item = item
        self.allow_nul = allow_nul
        self.problems: list[str] = []

    def record(self, number: int) -> ImportRecord | list[str]:
        record_id = self.ident("id", strings=True)
        external_id = self.text("external_id")
        conversation_id = self.ident("conversation_id", strings=True, required=True)
        values = {
            "channel": self.text("channel", required=True), "account": self.text("account", required=True),
            "customer_id": self.ident("customer_id", strings=True), "user_id": self.user_id(),
            "direction": self.choice("direction", MESSAGE_DIRECTIONS),
            "sender": self.choice("sender", MESSAGE_SENDERS), "agent_id": self.ident("agent_id"),
            "kind": self.text("kind") or "text", "text": self.text("text", limit=False) or "",
            "created_at": self.time("created_at", required=True), "platform_ts": self.time("platform_ts"),
        }
        if not external_id and record_id is not None:
            external_id = f"{IMPORT_PREFIX}{record_id}"
            if len(external_id) > LENGTHS["external_id"]:
                self.problems.append(f"id is longer than {LENGTHS['external_id'] - len(IMPORT_PREFIX)} characters")
        elif not external_id and self.item.get("id") in (None, "") and self.item.get("external_id") in (None, ""):
            self.problems.append("no id and no external_id: a second run could not tell it was imported "
                                 "(export again with this csgw, every record carries its id)")
        if self.problems:
            return self.problems
        assert external_id is not None  # without an id or an external_id a problem was recorded above
        return ImportRecord(line=number, id=record_id, conversation_id=conversation_id, external_id=external_id,
                            **values)

    def text(self, name: str, *, required: bool = False, limit: bool = True) -> str | None:
        value = self.item.get(name)
        if value is None or value == "":
            if required:
                self.problems.append(f"{name} is missing")
            return None
        if not isinstance(value, str):
            self.problems.append(f"{name} is {_kind_of(value)}, expected a string{'' if required else ' or null'}")
            return None
        self.storable(name, value)
        if limit and name in LENGTHS and len(value) > LENGTHS[name]:
            self.problems.append(f"{name} is longer than {LENGTHS[name]} characters")
        return value

    def storable(self, name: str, value: str) -> None:
        if not is_storable(value):
            self.problems.append(f"{name} holds invalid Unicode (a lone surrogate)")
        elif not self.allow_nul and "\x00" in value:
            self.problems.append(f"{name} holds a NUL character, which PostgreSQL cannot store")

    def ident(self, name: str, *, strings: bool = False, required: bool = False) -> Any:
        value = self.item.get(name)
        if value is None or value == "":
            if required:
                self.problems.append(f"{name} is missing")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 < value <= MAX_ID:
                self.problems.append(f"{name} is out of range (1 to {MAX_ID})")
            return value
        if strings and isinstance(value, str):
            self.storable(name, value)
            if len(value) > MAX_ID_CHARS:
                self.problems.append(f"{name} is longer than {MAX_ID_CHARS} characters")
            return value
        wanted = "a whole number or a string" if strings else "a whole number"
        self.problems.append(f"{name} is {_kind_of(value)}, expected {wanted}{'' if required else ' or null'}")
        return None

    def user_id(self) -> str | None:
        value = self.item.get("user_id")
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return self.text("user_id")

    def choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        value = self.item.get(name)
        if value not in allowed or not isinstance(value, str):
            self.problems.append(f"{name} is {_shown(value) if value is not None else 'missing'}, "
                                 f"expected one of {', '.join(allowed)}")
            return None
        return value

    def time(self, name: str, *, required: bool = False) -> datetime | None:
        value = self.item.get(name)
        if value is None or value == "":
            if required:
                self.problems.append(f"{name} is missing")
            return None
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return as_datetime(value)
        except ValueError:
            self.problems.append(f"{name} is {_shown(value)}, expected an ISO time like 2026-01-10T09:30:00+08:00")
            return None
