"""Types of the reply family: what a reply handler is given and what it may answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

# A bot reply whose `payload.source` is one of these left the question unanswered: no match, or
# a question back offering several answers (the knowledge-base reply plugin's sources). Its
# `payload.category` is the nearest KB category, when there was one.
UNANSWERED_SOURCES = ("none", "clarify")


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """One inbound message in its conversation, as reply handlers see it."""

    conversation_id: int
    customer_id: int
    channel: str
    account: str
    text: str
    kind: str
    payload: dict[str, Any]
    bot_state: dict[str, Any]  # the conversation's bot memory (menu position, …)
    language: str = "zh-Hans"  # the customer's: the account's `[[channels]] language`, else `[server]`'s
    is_first_message: bool = False
    # The customer record was created for this message and is untouched: no tags, orders or VIP yet.
    is_new_customer: bool = False
    # A handler about to be slow (a language model, a remote look-up) calls this first: a platform
    # waiting for the answer in its webhook's response (WeChat's 5 s) is acknowledged at once, and
    # the answer goes out later through the channel's send API. Elsewhere it does nothing.
    answer_later: Callable[[], None] = field(default=lambda: None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's answer. `handover` asks for a person (the text, if any, is sent first)."""

    text: str | None
    handover: bool = False
    source: str = ""  # which handler/rule answered, for `kb test` and the record
    entry_id: str | None = None
    score: float | None = None
    payload: dict[str, Any] = field(default_factory=dict)  # menu choices, links, images
    bot_state: dict[str, Any] | None = None  # replaces the conversation's bot memory if set
    group: str | None = None  # a hand-over hint (menu branch, KB category): taken while an agent in it is online
    # Raises the conversation's priority to at least this (a hand-over's place in the queue).
    priority: int = 0
    # An internal note for the agents (`gateway/notes.py`), written once the answer is stored:
    # what the bot found out, such as the order behind a hand-over. Never sent to the customer.
    note: str | None = None
    # Tags for the conversation (the KB category of the question answered or nearly answered),
    # normalised as agents' are (`gateway/tags.py`); one it cannot have is skipped.
    tags: tuple[str, ...] = ()


class ReplyHandler(Protocol):
    """A reply plugin's object: higher `priority` is asked first; first non-None answer wins."""

    name: str
    priority: int

    async def reply(self, context: ReplyContext) -> Reply | None: ...
