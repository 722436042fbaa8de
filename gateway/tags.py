"""Conversation tags: what a tag may be, and how tags are put on and taken off conversations.

Agents tag by hand through the API; the bot tags as it goes — the KB category of a question it
answered or offered answers for, and the escalation lane a message fell in (`Reply.tags`,
`Classification.tags`). Every change is announced as a `tags.updated` event.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import structlog
from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from csgw.gateway.bounded_cache import BoundedCache
from csgw.gateway.clock import now
from csgw.gateway.models import Conversation, ConversationTag
from csgw.gateway.storage.plans import ExecuteMany, Plan, Select
from csgw.gateway.views import iso

if TYPE_CHECKING:
    from csgw.gateway.ports import Events
    from csgw.gateway.storage.writer import GroupCommitWriter

log = structlog.get_logger(__name__)

MAX_TAG_LENGTH = 32
MAX_TAGS_PER_CONVERSATION = 50
TAGS_EVENT = "tags.updated"


class TagError(ValueError):
    """A tag an agent cannot have: the message says why, for the agent."""


def normalise_tag(raw: object) -> str:
    """The tag's one spelling: NFKC (full-width letters and digits, the ideographic space), runs
    of whitespace as one space, no space at the ends. Control and format characters (a
    right-to-left override, a zero-width space) are refused rather than silently dropped."""
    if not isinstance(raw, str):
        raise TagError("a tag is a string")
    tag = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not tag:
        raise TagError("a tag is not empty")
    if any(unicodedata.category(char).startswith("C") for char in tag):
        raise TagError("a tag has no control or invisible characters")
    if len(tag) > MAX_TAG_LENGTH:
        raise TagError(f"a tag is at most {MAX_TAG_LENGTH} characters")
    return tag


def tag_view(row: ConversationTag) -> dict[str, Any]:
    return {"tag": row.tag, "source": row.source, "agent_id": row.agent_id, "created_at": iso(row.created_at)}


async def tags_of(conversation_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Each conversation's tags, oldest first (conversations without any are left out)."""
    ids = list(set(conversation_ids))
    found: dict[int, list[dict[str, Any]]] = {}
    if not ids:
        return found
    for row in await ConversationTag.filter(conversation_id__in=ids).order_by("id"):
        found.setdefault(row.conversation_id, []).append(tag_view(row))
    return found


def add_tags_plan(conversation_id: int, tags: list[str], source: str, agent_id: int | None) -> Plan[None]:
    """Put `tags` on the conversation; those it has already keep their source and time."""
    at = now()
    yield ExecuteMany(
        'INSERT INTO "conversation_tag" ("conversation_id", "tag", "source", "agent_id", "created_at") '
        'VALUES (?, ?, ?, ?, ?) ON CONFLICT ("conversation_id", "tag") DO NOTHING',
        [[conversation_id, tag, source, agent_id, at] for tag in tags])


def remove_tag_plan(conversation_id: int, tag: str) -> Plan[bool]:
    """Take the tag off the conversation; False when it did not have it."""
    rows = yield Select('SELECT "id" FROM "conversation_tag" WHERE "conversation_id" = ? AND "tag" = ?',
                        [conversation_id, tag])
    if not rows:
        return False
    yield ExecuteMany('DELETE FROM "conversation_tag" WHERE "id" = ?', [[rows[0][0]]])
    return True


def tagged(query: QuerySet[Conversation], wanted: Iterable[str]) -> QuerySet[Conversation]:
    """The conversations of `query` carrying every one of `wanted` (spelt as agents type them)."""
    for raw in wanted:
        tag = normalise_tag(raw)
        query = query.filter(id__in=Subquery(ConversationTag.filter(tag=tag).values("conversation_id")))
    return query


async def announce_tags(events: Events, conversation_id: int) -> list[dict[str, Any]]:
    """Publish the conversation's tags as they now are; returns them."""
    tags = (await tags_of([conversation_id])).get(conversation_id, [])
    events.publish(TAGS_EVENT, {"conversation_id": conversation_id, "tags": tags})
    return tags


class AutoTags:
    """The bot's tags. What it put on a conversation is remembered, so a customer asking about
    the same category again costs no write; a tag it cannot have (too long) is skipped."""

    def __init__(self, writer: GroupCommitWriter, events: Events, cache_size: int = 100_000) -> None:
        self.writer = writer
        self.events = events
        self._written: BoundedCache = BoundedCache(cache_size)  # (conversation id, tag) -> True

    def fresh(self, conversation_id: int, tags: Iterable[str], source: str) -> list[str]:
        """The tags, normalised, that the conversation may not have yet."""
        fresh: list[str] = []
        for raw in tags:
            try:
                tag = normalise_tag(raw)
            except TagError as error:
                log.info("automatic tag skipped", conversation_id=conversation_id, tag=str(raw)[:80],
                         source=source, reason=str(error))
                continue
            if (conversation_id, tag) not in self._written and tag not in fresh:
                fresh.append(tag)
        return fresh

    def written(self, conversation_id: int, tags: Iterable[str]) -> None:
        """`tags` were put on the conversation by another write (`add_tags_plan` with an answer)."""
        for tag in tags:
            self._written.put((conversation_id, tag), True)

    async def add(self, conversation_id: int, tags: Iterable[str], source: str) -> None:
        """Put the tags on (best effort: a store failure is logged, not raised)."""
        fresh = self.fresh(conversation_id, tags, source)
        if not fresh:
            return
        try:
            await self.writer.run_plan(add_tags_plan, conversation_id, fresh, source, None)
            self.written(conversation_id, fresh)
            if self.events.listening:
                await announce_tags(self.events, conversation_id)
        except Exception as error:  # labels for agents: never worth failing the message they came with
            log.warning("automatic tags not written", conversation_id=conversation_id, tags=fresh,
                        source=source, error=repr(error))
