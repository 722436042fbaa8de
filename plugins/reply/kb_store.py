"""The knowledge base in the database: entries as rows, synonyms as one small state row."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from tortoise.transactions import in_transaction

from csgw.gateway.models import ChannelCursor

from .kb import Entry, KnowledgeBase, build_entries
from .models import KnowledgeEntry


class CursorKey(TypedDict):
    channel: str
    account: str
    key: str


SYNONYMS: CursorKey = {"channel": "kb", "account": "", "key": "synonyms"}


def entry_row(entry: Entry) -> dict[str, Any]:
    data = entry.model_dump(mode="json", exclude_defaults=True)
    return {
        "category": entry.category or "", "question": entry.question, "similar": entry.similar,
        "answer": entry.answer, "answers": entry.answers, "priority": entry.priority,
        "keywords": data.get("keywords", []), "channels": entry.channels or [],
        "extra": {k: data[k] for k in ("links", "images") if k in data},
    }


ENTRY_COLUMNS = ("key", "category", "question", "similar", "answer", "answers", "keywords", "priority",
                 "channels", "extra")


def row_entry(row: KnowledgeEntry) -> dict[str, Any]:
    return column_entry({column: getattr(row, column) for column in ENTRY_COLUMNS})


def column_entry(row: dict[str, Any]) -> dict[str, Any]:
    """An entry's raw fields from its row's `ENTRY_COLUMNS`."""
    raw = {"id": row["key"], "question": row["question"], "answer": row["answer"], "similar": row["similar"] or [],
           "answers": row["answers"] or {}, "keywords": row["keywords"] or [], "priority": row["priority"],
           **(row["extra"] or {})}
    if row["category"]:
        raw["category"] = row["category"]
    if row["channels"]:
        raw["channels"] = row["channels"]
    return raw


async def load_knowledge_base() -> KnowledgeBase:
    # the columns, not model instances: a start or a `kb` command reads every entry
    rows = await KnowledgeEntry.all().order_by("id").values(*ENTRY_COLUMNS)
    synonyms = await ChannelCursor.get_or_none(**SYNONYMS)
    return KnowledgeBase(entries=build_entries([column_entry(row) for row in rows], "database"),
                         synonyms=json.loads(synonyms.value) if synonyms else [])


async def version() -> tuple[int, str]:
    """Changes whenever an entry is added, changed or removed."""
    count = await KnowledgeEntry.all().count()
    newest = await KnowledgeEntry.all().order_by("-updated_at").first()
    synonyms = await ChannelCursor.get_or_none(**SYNONYMS)
    return count, f"{newest.updated_at.isoformat() if newest else ''}|{synonyms.updated_at if synonyms else ''}"


async def save_entry(entry: Entry) -> bool:
    """Insert or replace one entry; True when it is new."""
    _, created = await KnowledgeEntry.update_or_create(key=entry.id, defaults=entry_row(entry))
    return created


async def import_knowledge_base(kb: KnowledgeBase, *, replace: bool = False, progress=None) -> tuple[int, int]:
    """Upsert every entry (and the synonyms); with `replace`, entries not in `kb` are removed.

    One transaction: a gateway reloading meanwhile sees the old knowledge base or the new one."""
    async with in_transaction():
        return await _import(kb, replace, progress)


async def _import(kb: KnowledgeBase, replace: bool, progress) -> tuple[int, int]:
    created = updated = 0
    for entry in kb.entries:
        if await save_entry(entry):
            created += 1
        else:
            updated += 1
        if progress:
            progress()
    if replace:
        await KnowledgeEntry.exclude(key__in=[e.id for e in kb.entries]).delete()
    if kb.synonyms or replace:
        await ChannelCursor.update_or_create(defaults={"value": json.dumps(kb.synonyms, ensure_ascii=False)},
                                             **SYNONYMS)
    return created, updated


async def delete_entry(key: str) -> bool:
    return await KnowledgeEntry.filter(key=key).delete() > 0
