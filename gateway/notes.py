"""Internal notes: what agents write on a conversation for each other, never for the customer.

A note is a message with direction "note", so it keeps its place among the conversation's
messages (listed by the API, exported) — but it gets no outbox row, and every way to the
customer reads only `CUSTOMER_DIRECTIONS`: the widget's history, the outbox (which refuses
anything else it might be handed), waiting-time limits and reports. It is announced as a
`note.created` event, never as `message.created`, so nothing listening for the customer's
messages (a channel, a shop's webhook) takes it for one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from csgw.gateway.clock import now
from csgw.gateway.models import Agent, Message
from csgw.gateway.storage.message_plans import MESSAGE_COLUMNS
from csgw.gateway.storage.plans import Insert, Plan
from csgw.gateway.storage.records import ConversationState
from csgw.gateway.storage.writer import GroupCommitWriter
from csgw.gateway.views import message_view

if TYPE_CHECKING:
    from csgw.gateway.ports import Events, Writes

log = structlog.get_logger(__name__)

NOTE_DIRECTION = "note"
NOTE_EVENT = "note.created"
MAX_NOTE_LENGTH = 8000


def add_note_plan(conversation: ConversationState, agent_id: int | None, payload: dict[str, Any], text: str,
                  sender: str = "agent") -> Plan[int]:
    """The note as a processed message with no delivery; its id. The conversation's activity time
    is left alone: a note is not a word with the customer."""
    row = [conversation.id, conversation.channel, conversation.account, NOTE_DIRECTION, sender, agent_id,
           "text", text, payload, None, True, None, None, now(), None]
    [ident] = yield Insert("message", MESSAGE_COLUMNS, [row])
    return int(ident)


async def add_note(writer: GroupCommitWriter, conversation: ConversationState, agent: Agent, text: str) -> Message:
    payload = {"agent_name": agent.display_name or agent.name}
    ident = await writer.run_plan(add_note_plan, conversation, agent.id, payload, text)
    return await Message.get(id=ident)


async def add_bot_note(writer: Writes, events: Events, conversation: ConversationState, text: str,
                       payload: dict[str, Any]) -> None:
    """A note the bot leaves for the agents (a reply's `note`), announced like an agent's; best
    effort: a store failure is logged, never raised into the answer it came with."""
    try:
        ident = await writer.run_plan(add_note_plan, conversation, None, payload, text[:MAX_NOTE_LENGTH], "bot")
        events.publish(NOTE_EVENT, message_view(await Message.get(id=ident)))
    except Exception as error:
        log.warning("bot note not written", conversation_id=conversation.id, error=repr(error))
