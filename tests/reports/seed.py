"""A small store with hand-computed service figures (see the numbers in test_service_report)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from csgw.gateway.models import Agent, Conversation, ConversationTag, Message

T = datetime(2026, 1, 10, tzinfo=UTC)
M = timedelta(minutes=1)
H = timedelta(hours=1)


async def message(conversation: Conversation, sender: str, at: datetime, agent: Agent | None = None) -> None:
    await Message.create(conversation_id=conversation.id, channel=conversation.channel, account=conversation.account,
                         direction="in" if sender == "customer" else "out", sender=sender,
                         agent_id=agent.id if agent else None, text=f"{sender} at {at:%H:%M}", created_at=at,
                         external_id=f"{conversation.id}-{at.timestamp()}" if sender == "customer" else None)


async def conversation(customer: int, channel: str, account: str, opened: datetime, **values) -> Conversation:
    record = await Conversation.create(customer_id=customer, channel=channel, account=account, opened_at=opened,
                                       last_message_at=opened, **values)
    await message(record, "customer", opened)
    return record


async def seed() -> dict[str, Agent]:
    alice = await Agent.create(name="alice")
    bob = await Agent.create(name="bob")
    # 1: the bot answers, nobody else needed; rated 5.
    c1 = await conversation(1, "webchat", "default", T, group="sales", state="closed", closed_at=T + 10 * M,
                            satisfaction=5)
    await message(c1, "bot", T + 0.1 * M)
    # 2: bot, then handed over at +1m, alice assigned +2m, answers +3m (120 s), closes +13m (660 s);
    #    the customer comes back within the hour (3), so not resolved. Rated 4.
    c2 = await conversation(2, "webchat", "default", T, group="sales", state="closed", agent_id=alice.id,
                            waiting_since=T + M, assigned_at=T + 2 * M, first_response_at=T + 3 * M,
                            closed_at=T + 13 * M, satisfaction=4)
    await message(c2, "bot", T + 0.1 * M)
    await message(c2, "agent", T + 3 * M, alice)
    # 3: the same customer again; bob answers after 600 s (SLA missed), closes after 3540 s.
    c3 = await conversation(2, "webchat", "default", T + H, group="support", state="closed", agent_id=bob.id,
                            waiting_since=T + H, assigned_at=T + H + M, first_response_at=T + H + 10 * M,
                            closed_at=T + 2 * H)
    await message(c3, "agent", T + H + 10 * M, bob)
    # 4: waiting for a person, never answered (SLA missed), still open.
    await conversation(3, "fake", "a", T + 2 * H, state="queued", waiting_since=T + 2 * H)
    # 5: opened before the range: not counted, though alice's reply in the range counts as her message.
    c5 = await conversation(4, "fake", "a", T - 2 * 24 * H, state="assigned", agent_id=alice.id,
                            assigned_at=T - 2 * 24 * H)
    await message(c5, "agent", T + 5 * H, alice)
    # 6: alice takes it straight away; answers after 30 s, closes after 300 s. Rated 2.
    c6 = await conversation(5, "fake", "a", T + 3 * H, state="closed", agent_id=alice.id, assigned_at=T + 3 * H,
                            first_response_at=T + 3 * H + 0.5 * M, closed_at=T + 3 * H + 5 * M, satisfaction=2)
    await message(c6, "agent", T + 3 * H + 0.5 * M, alice)
    return {"alice": alice, "bob": bob}


async def tag(conversation_id: int, name: str, source: str = "reply") -> None:
    await ConversationTag.create(conversation_id=conversation_id, tag=name, source=source, created_at=T)


async def unanswered(conversation: Conversation, question: str, at: datetime, source: str = "none",
                     category: str | None = None) -> None:
    """A customer's question and the bot's reply that did not answer it."""
    asked = await Message.create(conversation_id=conversation.id, channel=conversation.channel,
                                 account=conversation.account, direction="in", sender="customer", text=question,
                                 created_at=at, external_id=f"q-{conversation.id}-{at.timestamp()}")
    payload = {"source": source, **({"category": category} if category else {})}
    await Message.create(conversation_id=conversation.id, channel=conversation.channel, account=conversation.account,
                         direction="out", sender="bot", text="没找到答案", payload=payload, reply_to_id=asked.id,
                         created_at=at + 0.1 * M)


async def seed_question_types() -> dict[str, Conversation]:
    """The store of `seed`, with the categories and tags the bot and agents put on it, questions the
    bot left unanswered, comments on two ratings, and a seventh conversation opened at 16:30 UTC
    (00:30 the next day in Shanghai). The figures are worked out in test_question_types."""
    await seed()
    c1, c2, c3, c4, c6 = await Conversation.filter(opened_at__gte=T).order_by("id")
    for talk, names in ((c1, ["物流"]), (c2, ["物流", "退款"]), (c3, ["退款"])):
        for name in names:
            await tag(talk.id, name)
    await tag(c2.id, "急", "agent")
    await tag(c6.id, "投诉", "classifier")
    await Conversation.filter(id=c2.id).update(satisfaction_comment="回复很快，谢谢", rated_at=T + 14 * M)
    await Conversation.filter(id=c6.id).update(satisfaction_comment="等太久了", rated_at=T + 3 * H + 6 * M)
    await unanswered(c1, "运费怎么算？", T + 0.2 * M, "clarify", "物流")
    await unanswered(c2, "运费 怎么算", T + 0.5 * M, "clarify", "物流")
    await unanswered(c2, "能开发票吗", T + 0.6 * M)
    await unanswered(c4, "能开发票吗？", T + 2 * H + M)
    await unanswered(c4, "能开发票吗", T + 2 * H + 2 * M)
    await unanswered(c4, "2", T + 2 * H + 3 * M)  # a menu choice, never a question
    await unanswered(c3, "退款多久到账", T + H + M, "none", "退款")
    await unanswered(c3, "运费险怎么赔", T + H + 2 * M, "none", "物流")
    await unanswered(c3, "answered long ago", T - 3 * 24 * H, "none", "物流")  # before the range
    c7 = await conversation(6, "webchat", "default", T + 16 * H + 30 * M, state="bot")
    await message(c7, "bot", T + 16 * H + 31 * M)
    await tag(c7.id, "物流")
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c6": c6, "c7": c7}
