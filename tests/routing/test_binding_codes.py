"""A binding code binds once: a second use, later or at the same moment, on one instance or two,
is refused with a clear answer, and the store decides which use was first."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from csgw.gateway.binding import make_code, read_code
from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import now
from csgw.gateway.models import Conversation, Customer, Message
from csgw.gateway.storage.writer import GroupCommitWriter
from csgw.plugins.binding.codes import UsedBindingCode, use_code
from csgw.testing import running_gateway
from tests.conftest import POSTGRES_URL
from tests.gateway.helpers import AgentClient, add_agent, wait_for_condition
from tests.gateway.test_dedupe_race import HeldRunner, an_insert_waits_on_another_transaction
from tests.routing.conftest import SHOP, SLOW_TIMERS, ScriptedRepliesPlugin, shop
from tests.scratch_postgres import scratch_postgres

SECRET = "binding-secret"
BINDING = {"binding_secret": SECRET}
DONE, USED = "已绑定您的会员账号", "该绑定码已被使用过"


async def shop_user_of(conversation: Conversation) -> str | None:
    return (await Customer.get(id=conversation.customer_id)).shop_user_id


async def last_answer(conversation: Conversation) -> str:
    """The last text stored for the customer (delivery runs on its own)."""
    message = await Message.filter(conversation_id=conversation.id, direction="out").order_by("-id").first()
    assert message is not None
    return message.text


async def test_a_second_visitor_is_refused_the_code_the_first_used(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url, customers=BINDING) as s:
        _, token = await add_agent("a")
        minted = await AgentClient(s.session, s.gw.url, token).call(
            "POST", "/customers/binding-code", {"shop_user_id": "member-1"}, expect=201)
        first = await s.say("visitor-1", minted["message"])
        await s.wait_text("visitor-1", DONE)
        second = await s.say("visitor-2", minted["message"])
        await s.wait_text("visitor-2", USED)
        assert await shop_user_of(first) == "member-1" and await shop_user_of(second) is None
        assert await Customer.all().count() == 2  # the second visitor was not merged into the member

        again = await s.say("visitor-1", minted["message"])  # its own customer sends it again
        assert await last_answer(again) == f"{DONE}。" and await shop_user_of(again) == "member-1"


async def test_two_visitors_sending_one_code_at_once_bind_one(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url, customers=BINDING) as s:
        for round_ in range(5):
            message = "绑定 " + make_code(SECRET, f"member-{round_}", now() + timedelta(minutes=10))
            one, two = f"r{round_}-a", f"r{round_}-b"
            conversations = await s.say_all([(one, message), (two, message)])
            bound = [await shop_user_of(c) for c in conversations]
            assert sorted(bound, key=str) == [None, f"member-{round_}"], round_
            winner, loser = (one, two) if bound[0] else (two, one)
            await s.wait_text(winner, DONE)
            await s.wait_text(loser, USED)
            assert not any(DONE in t for t in s.texts_to(loser))


async def test_of_many_uses_at_once_through_the_writer_one_is_first(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, customers=BINDING,
                               assignment=SLOW_TIMERS) as gw:
        code = read_code(SECRET, make_code(SECRET, "member-9", now() + timedelta(minutes=10)), now())
        firsts = await asyncio.gather(*(gw.services.writer.run_plan(use_code, code, customer, now())
                                        for customer in range(1, 9)))
        assert firsts.count(True) == 1
        used = await UsedBindingCode.get(mac=code.mac)
        assert used.customer_id == firsts.index(True) + 1 and used.shop_user_id == "member-9"

        # a row outlives its code only until the next use of any code prunes it
        later = code.expires_at + timedelta(seconds=1)
        other = read_code(SECRET, make_code(SECRET, "member-10", later + timedelta(minutes=10)), later)
        assert await gw.services.writer.run_plan(use_code, other, 20, later)
        assert not await UsedBindingCode.exists(mac=code.mac)


@pytest.mark.skipif(not POSTGRES_URL, reason="needs CSGW_TEST_POSTGRES_URL")
async def test_an_instance_whose_use_commits_first_wins_over_another_instance(tmp_path):
    """Instance A's use is held uncommitted until instance B's insert is seen waiting on it; then
    A commits, and B's customer is told the code is used."""
    async with scratch_postgres("csgw_h17_binding") as url, running_gateway(
            tmp_path, database_url=url, channels=SHOP, extra_plugins=[("scripted_replies", ScriptedRepliesPlugin())],
            disabled=["kb"], customers=BINDING, assignment=SLOW_TIMERS) as b:
        runner = HeldRunner()
        writer_a = GroupCommitWriter()
        writer_a.start(runner)
        try:
            message = "绑定 " + make_code(SECRET, "member-7", now() + timedelta(minutes=10))
            code = read_code(SECRET, message.split()[1], now())
            runner.hold = True
            first = asyncio.create_task(writer_a.run_plan(use_code, code, 999, now()))
            await asyncio.wait_for(runner.holding.wait(), 10)
            accepted = asyncio.create_task(b.services.accept(InboundMessage("fake", "shop", "visitor-b", message, "b-1")))
            await wait_for_condition(an_insert_waits_on_another_transaction)
            runner.release.set()
            assert await first is True
            await b.services.pipeline.drain()
            conversation = await Conversation.get(id=(await accepted).conversation_id)
            assert USED in await last_answer(conversation) and await shop_user_of(conversation) is None
        finally:
            runner.release.set()
            await writer_a.close()
