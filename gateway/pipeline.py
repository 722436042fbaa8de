"""The inbound pipeline, top to bottom.

  channel hands over an InboundMessage
  -> deduplicated by platform id and stored durably (customer and conversation resolved in the
     same transaction; a closed conversation is never reopened)      [accept]
  -> the channel may now acknowledge the platform
  -> escalation classifiers rate it                                   [process]
  -> reply plugins, highest priority first; the first answer wins; a reply override (an
     incident's broadcast) may put its own in its place
  -> nobody answered, the customer asked for a person, or a classifier says so: assignment
  -> replies stored with their outbox rows in one transaction, which also marks the inbound
     message processed (so a crash re-runs it, and never answers it twice)
  -> the outbox delivers through the channel's `send`, retried with back-off

A message whose answer the store could not write (disk full, locked) waits, still unprocessed:
answered as soon as the store writes again, without a restart [stalled messages].

A message of a conversation this process knows is answered first, from the conversation as last
committed, and stored with its answer in one commit [`_accept_answered`]: see
`storage/answered_plans.py` and docs/performance.md.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import structlog

from csgw.gateway.answers import Decision
from csgw.gateway.conversations import HandoverAsk
from csgw.gateway.first_answers import Answering, Decided, decide_first, hands_over, time_left
from csgw.gateway.handover_desk import Handover, HandoverDesk
from csgw.gateway.messages import Accepted, DraftReply, InboundMessage, OutboundMessage
from csgw.gateway.models import Conversation, Message
from csgw.gateway.notes import add_bot_note
from csgw.gateway.rating_comments import clean_comment
from csgw.gateway.ratings import is_comment, rated_values, rating_of
from csgw.gateway.reply import Reply, ReplyContext
from csgw.gateway.routing import Classification
from csgw.gateway.stalled_answers import StalledAnswers
from csgw.gateway.storage.answered_plans import PreparedAnswer, StoredWithAnswer, decided_alike
from csgw.gateway.storage.message_plans import AlsoWritten
from csgw.gateway.storage.records import ConversationRecord, ConversationState, StoredMessage
from csgw.gateway.storage.store import ConversationUpdate, StoredInbound
from csgw.gateway.storage.unavailable import STORE_UNAVAILABLE
from csgw.gateway.tags import AutoTags, add_tags_plan, announce_tags
from csgw.gateway.views import conversation_view, message_view, outbound_view, rating_view

if TYPE_CHECKING:
    from csgw.config.schema import Settings
    from csgw.gateway.answers import ReplyOverride
    from csgw.gateway.conversations import ConversationService
    from csgw.gateway.outbox import Outbox
    from csgw.gateway.plugin_host import PluginHost
    from csgw.gateway.ports import Events, Gateway
    from csgw.gateway.reply import ReplyHandler
    from csgw.gateway.routing import Classifier
    from csgw.gateway.storage.store import MessageStore
    from csgw.gateway.storage.writer import GroupCommitWriter

log = structlog.get_logger(__name__)


def _nothing() -> None:
    return None


class _AnswerDropped(Exception):
    """The conversation changed before the commit: the message was stored alone."""


def _tag_plans(conversation_id: int, tags: dict[str, list[str]]) -> AlsoWritten:
    return [(add_tags_plan, (conversation_id, fresh, source, None)) for source, fresh in tags.items()]


def _handover_ask(conversation: ConversationState, reply: Reply | None, verdict: Classification,
                  update: dict) -> HandoverAsk:
    return HandoverAsk(conversation, verdict.group, hint=reply.group if reply else None,
                       priority=max(verdict.priority, reply.priority if reply else 0, conversation.priority),
                       flags=update.get("flags"))


@dataclass
class InlineClaim:
    """Who delivers the bot's answer: the waiting HTTP response (inline) or the outbox.

    Decided once, synchronously, so a reply is never both returned inline and queued.
    """

    taken: bool = False
    expired: bool = False
    released: asyncio.Event = field(default_factory=asyncio.Event)  # the answer will be late

    def take(self) -> bool:
        if not self.expired:
            self.taken = True
        return self.taken

    def expire(self) -> bool:
        if not self.taken:
            self.expired = True
        return self.expired

    def release(self) -> None:
        """A reply handler is about to be slow (`ReplyContext.answer_later`): stop waiting now."""
        if self.expire():
            self.released.set()


class Pipeline:
    """Takes inbound messages from `accept` to their stored answers; `hooks` are told with `gateway`."""

    def __init__(
        self, settings: Settings, store: MessageStore, writer: GroupCommitWriter, events: Events,
        outbox: Outbox, conversations: ConversationService, *, replies: list[ReplyHandler],
        classifiers: list[Classifier], hooks: PluginHost, gateway: Gateway,
        overrides: list[ReplyOverride] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.events = events
        self.outbox = outbox
        self.conversations = conversations
        self.handovers = HandoverDesk(conversations)
        self.replies = replies
        self.classifiers = classifiers
        self.overrides = overrides or []
        self.hooks = hooks
        self.gateway = gateway
        self.writer = writer
        self.tags = AutoTags(writer, events)
        self.stopping = False  # a stop began: stalled messages wait for the next start
        self._tasks: set[asyncio.Task[list[OutboundMessage]]] = set()
        self._stalled = StalledAnswers(writer, lambda ids: self.recover(only=ids), lambda: self.stopping)
        self._answering = Answering()

    async def accept(self, inbound: InboundMessage, *, wait_reply: float | None = None) -> Accepted:
        """Store `inbound` durably; start answering it; optionally wait for inline replies."""
        known = self.store.known_conversation(inbound)
        if known is not None and known.id in self._answering:
            await self._answering.after_stored(known.id)  # an earlier message is decided before it is stored
        if known is not None and self._answers_first(inbound, known):
            return await self._accept_answered(inbound, known, wait_reply)
        return await self._accepted(await self.store.store_inbound(inbound), inbound, wait_reply)

    async def _accepted(self, stored: StoredInbound, inbound: InboundMessage, wait_reply: float | None,
                        claim: InlineClaim | None = None, decided: Decided | None = None) -> Accepted:
        """The message is stored: answer it (from `decided` when given), waiting up to `wait_reply`."""
        bound = log.bind(channel=inbound.channel, account=inbound.account,
                         conversation_id=stored.conversation_id, message_id=stored.message_id)
        if stored.duplicate:
            bound.info("duplicate inbound message", external_id=inbound.external_id)
            inline = await self.store.inline_replies_for(stored.message_id) if wait_reply else []
            return Accepted(stored.message_id, stored.conversation_id, True, inline)
        bound.info("inbound message stored", kind=inbound.kind)
        claim = claim or (InlineClaim() if wait_reply else None)
        task = self._spawn(stored, claim, announce=True, decided=decided)
        if claim is None:
            return Accepted(stored.message_id, stored.conversation_id, False)
        # asyncio.wait, not wait_for: on timeout the task must go on (its replies then use the outbox).
        released = asyncio.create_task(claim.released.wait())
        done, _ = await asyncio.wait({task, released}, timeout=wait_reply, return_when=asyncio.FIRST_COMPLETED)
        released.cancel()
        if task not in done and claim.expire():
            return Accepted(stored.message_id, stored.conversation_id, False)
        replies = await task
        return Accepted(stored.message_id, stored.conversation_id, False, replies if claim.taken else [])

    async def drain(self) -> None:
        """Wait for the messages being processed; in a shutdown, stalled ones wait for the next
        start."""
        if self.stopping:
            await self._stalled.stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def recover(self, only: Collection[int] | None = None) -> int:
        """Answer inbound messages stored but never processed: at start-up every one (a crash
        left them), later the stalled ones in `only`. One at a time, in order."""
        query = Message.filter(direction="in", processed=False)
        if only is not None:
            query = query.filter(id__in=list(only))
        pending = await query.order_by("id")
        for index, message in enumerate(pending):
            conversation = await Conversation.get(id=message.conversation_id)
            stored = StoredInbound(message.id, conversation.id, conversation.customer_id,
                                   False, False, message, conversation)
            await asyncio.shield(self._spawn(stored, None))  # a cancelled retry lets it finish
            if only is not None and message.id in self._stalled:  # the store failed again
                self._stalled.stall(*(later.id for later in pending[index + 1:]))
                break
        if pending:
            log.info("recovered unprocessed inbound messages", count=len(pending),
                     after="store failure" if only is not None else "start")
        return len(pending)

    def _answers_first(self, inbound: InboundMessage, known: ConversationRecord) -> bool:
        """Whether `inbound` is answered before it is stored: no other message of its conversation
        is being answered here (answers keep the conversation's order), and it is none of those
        `process` treats apart (a close word, the end of a platform's reply block)."""
        return (known.id not in self._answering and known.state in ("bot", "queued", "assigned")
                and not (known.flags or {}).get("reply_blocked_reason") and not self._asks_to_close(inbound.text))

    async def _accept_answered(self, inbound: InboundMessage, known: ConversationRecord,
                               wait_reply: float | None) -> Accepted:
        """Decide the answer from `known`, then store the message with it in one commit; a message
        for a person is stored processed, unanswered; a hand-over goes through the desk with its
        message (`_accept_handed_over`). A decision that takes longer than `FIRST_ANSWER_SECONDS`
        or is released by a slow handler goes on once the message is stored alone; an answer whose
        conversation changed before the commit is dropped and the message answered afresh."""
        started = time.monotonic()
        claim = InlineClaim() if wait_reply else None
        reply, verdict = None, Classification()
        tags: dict[str, list[str]] = {}
        self._answering.deciding(known.id)
        try:
            if known.state == "bot" and not (inbound.payload or {}).get("no_auto_reply"):
                decided = await decide_first(known, partial(self._decide_for, known, inbound), claim, wait_reply)
                answer = decided.in_time(claim)
                if answer is None:
                    stored = await self.store.store_inbound(inbound)
                    self._answering.stored(known.id)
                    if stored.duplicate:
                        decided.deciding.cancel()
                    return await self._accepted(stored, inbound, time_left(wait_reply, started), claim, decided)
                reply, verdict = answer
                if hands_over(reply, verdict):
                    return await self._accept_handed_over(inbound, known, reply, verdict, claim, wait_reply, started)
            drafts, update = self._bot_answer(reply, verdict, known)
            inline = bool(drafts) and claim is not None and claim.take()
            user_id = await self.store.platform_user_id(known)
            tags = self._fresh_tags(known.id, reply, verdict)
            result = await self.store.store_answered(
                inbound, PreparedAnswer(known, user_id, drafts, update, inline, _tag_plans(known.id, tags)))
        finally:
            self._answering.stored(known.id)
            self._answering.leave(known.id)
        stored = result.stored
        if result.outbound is None:  # a duplicate, or the conversation changed: as if stored alone
            return await self._accepted(stored, inbound, time_left(wait_reply, started))
        log.info("inbound message stored with its answer", channel=inbound.channel, account=inbound.account,
                 conversation_id=stored.conversation_id, message_id=stored.message_id, kind=inbound.kind)
        if result.outbound and not inline:
            self.outbox.wake()
        for fresh in tags.values():
            self.tags.written(known.id, fresh)
        task = asyncio.create_task(self._announce_answered(stored, reply, verdict, bool(update), result.outbound,
                                                           tagged=bool(tags)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return Accepted(stored.message_id, stored.conversation_id, False, result.outbound if inline else [])

    async def _accept_handed_over(self, inbound: InboundMessage, known: ConversationRecord, reply: Reply | None,
                                  verdict: Classification, claim: InlineClaim | None, wait_reply: float | None,
                                  started: float) -> Accepted:
        """Hand `known` over through the desk, the message stored in the hand-over's own commit. If
        the desk could not (the queue lock, a write that failed) or the conversation changed before
        the commit, the message is stored alone and answered afresh, as when an answer is dropped."""
        drafts, update = self._bot_answer(reply, verdict, known)
        user_id = await self.store.platform_user_id(known)
        kept: list[StoredWithAnswer] = []

        async def record(drafts: list[DraftReply], update: dict) -> list[OutboundMessage]:
            inline = bool(drafts) and claim is not None and claim.take()
            kept.append(await self.store.store_answered(inbound, PreparedAnswer(known, user_id, drafts, update, inline)))
            if kept[0].outbound is None:
                raise _AnswerDropped()  # the desk takes no more on a view that holds this decision
            return kept[0].outbound

        try:
            done = await self.handovers.hand_over(Handover(_handover_ask(known, reply, verdict, update), None,
                                                           drafts, update, record))
        except Exception as error:
            if not kept and isinstance(error, STORE_UNAVAILABLE):
                raise
            if not isinstance(error, _AnswerDropped):
                log.warning("hand-over with the message failed: stored alone", conversation_id=known.id,
                            error=repr(error))
            stored = kept[0].stored if kept else await self.store.store_inbound(inbound)
            self._answering.stored(known.id)
            return await self._accepted(stored, inbound, time_left(wait_reply, started))
        stored, inline = kept[0].stored, claim is not None and claim.taken
        log.info("inbound message stored with its hand-over", channel=inbound.channel, account=inbound.account,
                 conversation_id=stored.conversation_id, message_id=stored.message_id, kind=inbound.kind)
        if done.outbound and not inline:
            self.outbox.wake()
        task = asyncio.create_task(self._announce_answered(stored, reply, verdict, True, done.outbound,
                                                           tagged=False, handed=done.handed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return Accepted(stored.message_id, stored.conversation_id, False, done.outbound if inline else [])

    async def _announce_answered(self, stored: StoredInbound, reply: Reply | None, verdict: Classification,
                                 changed: bool, outbound: list[OutboundMessage], tagged: bool,
                                 handed: bool = False) -> list[OutboundMessage]:
        """After the acknowledgement, as `_process_safely` would: the message, then its answer."""
        assert stored.conversation is not None
        try:
            await self._announce_inbound(stored, outbound)
            if changed and self.events.listening:
                self.events.publish("conversation.updated", conversation_view(stored.conversation))
            if tagged and self.events.listening:
                await announce_tags(self.events, stored.conversation_id)
            if handed:
                await self.hooks.conversation_changed(self.gateway, conversation_view(stored.conversation),
                                                      "handed_over")
            await self._after_answer(stored.conversation, reply, verdict)
        except Exception:
            log.exception("announcing an answered message failed", conversation_id=stored.conversation_id,
                          message_id=stored.message_id)
        return outbound

    def _spawn(self, stored: StoredInbound, claim: InlineClaim | None, announce: bool = False,
               decided: Decided | None = None) -> asyncio.Task[list[OutboundMessage]]:
        task = asyncio.create_task(self._process_safely(stored, claim, announce, decided))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._answering.enter(stored.conversation_id)
        task.add_done_callback(partial(self._answering.leave, stored.conversation_id))
        return task

    async def _process_safely(self, stored: StoredInbound, claim: InlineClaim | None,
                              announce: bool, decided: Decided | None = None) -> list[OutboundMessage]:
        try:
            if announce:  # after the acknowledgement: observers never delay it
                await self._announce_inbound(stored)
            return await self.process(stored, claim, decided)
        except STORE_UNAVAILABLE as error:
            # Left unprocessed: answered when the store writes again (or at the next start).
            log.warning("answer waits for the store", conversation_id=stored.conversation_id,
                        message_id=stored.message_id, error=str(error))
            self._stalled.stall(stored.message_id)
            return []
        except Exception:
            # Left unprocessed: the next start (recover) tries again.
            log.exception("processing failed", conversation_id=stored.conversation_id,
                          message_id=stored.message_id)
            return []

    async def process(self, stored: StoredInbound, claim: InlineClaim | None = None,
                      decided: Decided | None = None) -> list[OutboundMessage]:
        conversation = stored.conversation or await Conversation.get(id=stored.conversation_id)
        message = stored.message or await Message.get(id=stored.message_id)
        if decided is not None and not (stored.conversation_id == decided.known.id
                                        and decided_alike(decided.known, conversation)):
            decided.deciding.cancel()  # made from a conversation that has changed since
            decided = None
        if (conversation.flags or {}).get("reply_blocked_reason"):
            # The customer wrote: the platform's reply window is open again.
            conversation.flags = {k: v for k, v in conversation.flags.items() if k != "reply_blocked_reason"}
            await self.store.store_replies(conversation, [], update=ConversationUpdate({"flags": conversation.flags}))
        if conversation.state == "closed":
            return await self._closed_meanwhile(conversation, message)
        if self._asks_to_close(message.text):
            await self.store.store_replies(conversation, [], answers=message.id)
            await self.conversations.close(conversation)
            return []
        if conversation.state in ("queued", "assigned") or (message.payload or {}).get("no_auto_reply"):
            # A person has this conversation, or the message is noise nobody should answer
            # (auto-replies, bounces, mailing lists): stored and visible, the bot stays quiet.
            await self.store.store_replies(conversation, [], answers=message.id)
            return []
        if decided is not None:
            reply, verdict = await decided.deciding
        else:
            reply, verdict = await self._decide(self._context(
                conversation, message, first=stored.new_conversation,
                new_customer=self.store.unchanged_new_customer(stored),
                answer_later=claim.release if claim is not None else _nothing))
        outbound = await self._answer(conversation, message, reply, verdict, claim)
        await self._after_answer(conversation, reply, verdict)
        return outbound

    def _context(self, conversation: ConversationState, message: StoredMessage | InboundMessage, *, first: bool,
                 new_customer: bool, answer_later: Callable[[], None]) -> ReplyContext:
        return ReplyContext(
            conversation_id=conversation.id, customer_id=conversation.customer_id,
            channel=conversation.channel, account=conversation.account, text=message.text,
            kind=message.kind, payload=message.payload or {}, bot_state=conversation.bot_state or {},
            language=self.settings.language_for(conversation.channel, conversation.account),
            is_first_message=first, is_new_customer=new_customer, answer_later=answer_later,
        )

    async def _decide_for(self, known: ConversationRecord, inbound: InboundMessage,
                          answer_later: Callable[[], None]) -> tuple[Reply | None, Classification]:
        return await self._decide(self._context(known, inbound, first=False, new_customer=False,
                                                answer_later=answer_later))

    async def _decide(self, context: ReplyContext) -> tuple[Reply | None, Classification]:
        verdict = await self._classify(context)
        reply = None if verdict.handover else await self.hooks.first_reply(self.replies, context)
        if self.overrides:
            reply = await self.hooks.override_reply(self.overrides, Decision(context, reply, verdict)) or reply
        return reply, verdict

    async def _after_answer(self, conversation: ConversationState, reply: Reply | None,
                            verdict: Classification) -> None:
        # Once the answer is stored: a tag or note that cannot be written costs the customer nothing.
        await self.tags.add(conversation.id, reply.tags if reply else (), "reply")
        await self.tags.add(conversation.id, verdict.tags, "classifier")
        if reply is not None and reply.note:
            await add_bot_note(self.writer, self.events, conversation, reply.note,
                               {"source": reply.source, **reply.payload})

    async def _answer(self, conversation: ConversationState, message: StoredMessage, reply: Reply | None,
                      verdict: Classification, claim: InlineClaim | None) -> list[OutboundMessage]:
        drafts, update = self._bot_answer(reply, verdict, conversation)
        if not hands_over(reply, verdict):  # the bot's new tags in the reply's commit, as `_accept_answered`'s
            tags = self._fresh_tags(conversation.id, reply, verdict)
            outbound = await self._record(conversation, message, drafts, update, claim, _tag_plans(conversation.id, tags))
            for fresh in tags.values():
                self.tags.written(conversation.id, fresh)
            if tags and self.events.listening:
                await announce_tags(self.events, conversation.id)
            return outbound
        done = await self.handovers.hand_over(Handover(
            _handover_ask(conversation, reply, verdict, update), message.id, drafts, update,
            partial(self._record, conversation, message, claim=claim)))
        if done.handed:  # not under the lock (the desk holds it, not this task): a hook may take it
            await self.hooks.conversation_changed(self.gateway, conversation_view(conversation), "handed_over")
        return done.outbound

    def _asks_to_close(self, text: str) -> bool:
        words = {w.lower() for w in self.settings.reply.close_keywords}
        return text.strip().lower() in words

    async def _closed_meanwhile(self, conversation: ConversationState, message: StoredMessage) -> list[OutboundMessage]:
        """A rating (stored into the closed conversation it rates) or its comment, or a message left
        unprocessed by a crash whose conversation was closed since: an agent has seen it there,
        nothing is sent."""
        if is_comment(message.payload):
            return await self._commented(conversation, message)
        score = rating_of(message.payload)
        if score is None:
            log.info("message left in a conversation closed since", conversation_id=conversation.id,
                     message_id=message.id)
            await self.store.store_replies(conversation, [], answers=message.id)
            return []
        language = self.settings.language_for(conversation.channel, conversation.account)
        thanks = DraftReply(self.conversations.texts.render("survey.thanks", language), "system")
        invite = self.store.comment_window > 0
        if invite:  # the thanks invites a comment too (`gateway/rating_comments.py`)
            thanks = DraftReply(thanks.text + self.conversations.texts.render("survey.comment_invite", language), "system")
        log.info("conversation rated", conversation_id=conversation.id, satisfaction=score)
        values = rated_values(conversation, score, invite=invite)
        outbound = await self._record(conversation, message, [thanks], values, None)
        self.events.publish("satisfaction.rated", rating_view(conversation, score, message.id))
        return outbound

    async def _commented(self, conversation: ConversationState, message: StoredMessage) -> list[OutboundMessage]:
        """The text a customer sent soon after rating: the conversation's comment (cleaned, at
        most `MAX_COMMENT` characters; two sent at once are joined), and thanks for it."""
        comment = clean_comment(message.text)
        [earlier] = await Conversation.filter(id=conversation.id).values_list("satisfaction_comment", flat=True)
        if earlier and comment:
            comment = clean_comment(f"{earlier}\n{comment}")
        if comment is None or conversation.satisfaction is None:
            await self.store.store_replies(conversation, [], answers=message.id)
            return []
        language = self.settings.language_for(conversation.channel, conversation.account)
        thanks = DraftReply(self.conversations.texts.render("survey.comment_thanks", language), "system")
        log.info("rating commented", conversation_id=conversation.id, satisfaction=conversation.satisfaction)
        outbound = await self._record(conversation, message, [thanks], {"satisfaction_comment": comment}, None)
        self.events.publish("satisfaction.rated",
                            rating_view(conversation, conversation.satisfaction, message.id, comment))
        return outbound

    async def _record(
        self, conversation: ConversationState, message: StoredMessage, drafts: list[DraftReply],
        update: dict, claim: InlineClaim | None, also: AlsoWritten | None = None,
    ) -> list[OutboundMessage]:
        inline = claim.take() if claim is not None else False
        outbound = await self.store.store_replies(
            conversation, drafts, answers=message.id, inline=inline, update=ConversationUpdate(update), also=also)
        if update and self.events.listening:
            self.events.publish("conversation.updated", conversation_view(conversation))
        self._announce_outbound(outbound)
        if outbound and not inline:
            self.outbox.wake()
        return outbound

    def _fresh_tags(self, conversation_id: int, reply: Reply | None, verdict: Classification) -> dict[str, list[str]]:
        """The bot's tags the conversation may not have yet, by source (reply, classifier)."""
        found = (("reply", reply.tags if reply else ()), ("classifier", verdict.tags))
        return {source: fresh for source, tags in found if (fresh := self.tags.fresh(conversation_id, tags, source))}

    @staticmethod
    def _bot_answer(reply: Reply | None, verdict: Classification, conversation: ConversationState
                    ) -> tuple[list[DraftReply], dict]:
        drafts: list[DraftReply] = []
        update: dict = {}
        priority = max(verdict.priority, reply.priority if reply else 0)
        if priority > conversation.priority:
            update["priority"] = priority
        if verdict.flags:
            update["flags"] = {**(conversation.flags or {}), **{flag: True for flag in verdict.flags}}
        if reply is not None:
            if reply.text:
                payload = dict(reply.payload)
                payload.setdefault("source", reply.source)
                if reply.entry_id:
                    payload.setdefault("entry_id", reply.entry_id)
                drafts.append(DraftReply(reply.text, "bot", payload))
            if reply.bot_state is not None:
                update["bot_state"] = reply.bot_state
        return drafts, update

    async def _classify(self, context: ReplyContext) -> Classification:
        verdicts = []
        for classifier in self.classifiers:
            try:
                verdict = await classifier.classify(context)
            except Exception:
                log.exception("classifier failed", classifier=classifier.name)
                continue
            if verdict is not None:
                verdicts.append(verdict)
        if not verdicts:
            return Classification()
        top = max(verdicts, key=lambda v: v.priority)
        flags = tuple(sorted({flag for v in verdicts for flag in v.flags}))
        return Classification(priority=top.priority, flags=flags,
                              handover=any(v.handover for v in verdicts),
                              group=next((v.group for v in verdicts if v.group), None),
                              tags=tuple(dict.fromkeys(tag for v in verdicts for tag in v.tags)))

    async def _announce_inbound(self, stored: StoredInbound, answer: Sequence[OutboundMessage] = ()) -> None:
        """The message's events, then `answer`'s (stored in its commit) before the hooks run: a
        hook that waits must not let a later message's events in between."""
        message = stored.message or await Message.get(id=stored.message_id)
        view = message_view(message)
        self.events.publish("message.created", view)
        if stored.new_conversation and self.events.listening:
            conversation = stored.conversation or await Conversation.get(id=stored.conversation_id)
            self.events.publish("conversation.updated", conversation_view(conversation, message))
        self._announce_outbound(answer)
        await self.hooks.message_received(self.gateway, view, stored.profile)

    def _announce_outbound(self, outbound: Sequence[OutboundMessage]) -> None:
        if not self.events.listening:
            return
        for message in outbound:
            self.events.publish("message.created", outbound_view(message))
