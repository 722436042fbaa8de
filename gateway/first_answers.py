"""Answering a message before it is stored, so that it is stored with its answer in one commit.

The pipeline decides from the conversation as this process last committed it (`Decided`), for
at most `FIRST_ANSWER_SECONDS`; a decision that takes longer (a slow handler) goes on once the
message is stored alone. `Answering` keeps one
conversation's messages in order: while one of them is being answered, the next is stored first.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from csgw.gateway.reply import Reply
from csgw.gateway.routing import Classification
from csgw.gateway.storage.records import ConversationRecord


class InlineClaim(Protocol):
    """The pipeline's claim on the inline answer, as far as deciding first uses it."""

    expired: bool

    def release(self) -> None: ...


# A decision taking longer than this (a slow reply handler) goes on after its message is stored.
FIRST_ANSWER_SECONDS = 0.5

Answer = tuple[Reply | None, Classification]


@dataclass(slots=True)
class Decided:
    """An answer being decided before its message was stored, from the conversation as `known`."""

    known: ConversationRecord
    deciding: asyncio.Task[Answer]

    def in_time(self, claim: InlineClaim | None) -> Answer | None:
        """The answer to store with the message (a hand-over's through the hand-over desk); None
        when it must go on after the message is stored alone: not decided yet, a handler said it
        will be slow, or it failed."""
        if not self.deciding.done() or (claim is not None and claim.expired) or self.deciding.exception():
            return None
        return self.deciding.result()


async def decide_first(known: ConversationRecord, decide: Callable[[Callable[[], None]], Coroutine[Any, Any, Answer]],
                       claim: InlineClaim | None, wait_reply: float | None) -> Decided:
    """Start `decide(answer_later)` and wait for it, at most `FIRST_ANSWER_SECONDS` (and never
    past `wait_reply`), or until a handler calls `answer_later`."""
    loop = asyncio.get_running_loop()
    settled = loop.create_future()
    deciding = asyncio.create_task(decide(partial(_answer_later, claim, settled)))
    deciding.add_done_callback(partial(_settle, settled))
    # a timer settling the future: cheaper per message than asyncio.wait's waiter and callbacks
    budget = loop.call_later(min(FIRST_ANSWER_SECONDS, wait_reply or FIRST_ANSWER_SECONDS), _settle, settled)
    try:
        await settled
    finally:
        budget.cancel()
    return Decided(known, deciding)


def hands_over(reply: Reply | None, verdict: Classification) -> bool:
    return reply is None or reply.handover or verdict.handover


def time_left(wait_reply: float | None, started: float) -> float | None:
    """What remains of a platform's wait for the inline answer."""
    return max(0.0, wait_reply - (time.monotonic() - started)) if wait_reply else None


def _settle(settled: asyncio.Future[None] | None, _: object = None) -> None:
    if settled is not None and not settled.done():
        settled.set_result(None)


def _answer_later(claim: InlineClaim | None, settled: asyncio.Future[None]) -> None:
    """A handler will be slow: the message is stored now, its answer follows."""
    if claim is not None:
        claim.release()
    _settle(settled)


class Answering:
    """The conversations with a message being answered in this process, and how many; and the
    message of each being decided before it is stored, which a later one waits for: messages are
    stored in the order they came."""

    def __init__(self) -> None:
        self._count: Counter[int] = Counter()
        self._storing: dict[int, asyncio.Future[None]] = {}

    def deciding(self, conversation_id: int) -> None:
        self.enter(conversation_id)
        self._storing[conversation_id] = asyncio.get_running_loop().create_future()

    def stored(self, conversation_id: int) -> None:
        _settle(self._storing.pop(conversation_id, None))

    async def after_stored(self, conversation_id: int) -> None:
        """Return once the message of the conversation being decided (if any) is stored."""
        waiter = self._storing.get(conversation_id)
        if waiter is not None:
            await asyncio.wait({waiter})  # a waiter cancelled leaves the future alone

    def __contains__(self, conversation_id: int) -> bool:
        return conversation_id in self._count

    def enter(self, conversation_id: int) -> None:
        self._count[conversation_id] += 1

    def leave(self, conversation_id: int, _: object = None) -> None:
        self._count[conversation_id] -= 1
        if self._count[conversation_id] <= 0:
            del self._count[conversation_id]
