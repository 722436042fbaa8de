"""Once per cluster: one instance leads each role on a shared PostgreSQL (a session advisory lock on
a connection of its own), another takes over when the leader's session ends, a dropped session ends
every role at once; a timer runs on one instance only, a poller on a follower waits for the
leader to go. SQLite's one process leads every role."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from csgw.gateway.leadership import SoloLeadership, while_leading
from csgw.gateway.storage.pg_leadership import PostgresLeadership, role_key
from csgw.gateway.timers import Timers
from tests.conftest import POSTGRES_URL
from tests.gateway.helpers import wait_for_condition
from tests.gateway.instances import end_session

shared = pytest.mark.skipif(not POSTGRES_URL, reason="several instances share PostgreSQL only")


class Instance(PostgresLeadership):
    """The leadership of one gateway instance; each has its own session, as processes would."""

    async def refused_times(self, count: int, timeout: float = 10) -> None:
        start = self.refused

        async def refused() -> bool:
            return self.refused >= start + count

        await wait_for_condition(refused, timeout)


@pytest.fixture
async def instances():
    made: list[Instance] = []

    def make(retry_seconds: float = 0.05) -> Instance:
        assert POSTGRES_URL
        made.append(Instance(POSTGRES_URL, retry_seconds=retry_seconds, instance=f"test-{len(made)}"))
        return made[-1]

    yield make
    for leadership in made:
        await leadership.stop()


def test_a_role_has_one_key_in_every_process_and_version():
    assert role_key("timer:assignment") == -7583244680522020937
    assert role_key("poll:wecom_kf:kf") == 5701680697143465071


@shared
async def test_one_instance_leads_a_role_until_it_hands_it_back(instances):
    first, second = instances(), instances()
    assert await first.try_lead("timer:escalation")
    assert not await second.try_lead("timer:escalation")
    assert await second.try_lead("timer:assignment")  # roles are led independently
    assert await first.try_lead("timer:escalation")  # asked again: still its own, not locked twice
    assert (first.held(), second.held()) == (["timer:escalation"], ["timer:assignment"])
    await first.resign("timer:escalation")  # one unlock frees it: the lock was not stacked
    assert not first.leads("timer:escalation")
    assert await second.try_lead("timer:escalation")
    assert not await first.try_lead("timer:escalation")


@shared
async def test_when_the_leaders_session_ends_another_takes_over_at_its_next_try(instances):
    leader, follower = instances(), instances()
    assert await leader.try_lead("poll:email:shop")
    assert not await follower.try_lead("poll:email:shop")
    await end_session(leader)
    await asyncio.wait_for(leader.lost("poll:email:shop"), 5)  # the leader knows at once
    assert not leader.leads("poll:email:shop")
    assert await follower.try_lead("poll:email:shop")
    assert not await leader.try_lead("poll:email:shop")  # back on a new session, it follows


@shared
async def test_a_dropped_connection_ends_every_role_at_once(instances):
    leader = instances()
    roles = ["timer:assignment", "timer:escalation", "poll:wecom_kf:kf"]
    for role in roles:
        assert await leader.try_lead(role)
    await end_session(leader)
    await asyncio.wait_for(asyncio.gather(*(leader.lost(role) for role in roles)), 5)
    assert leader.held() == [] and not any(leader.leads(role) for role in roles)


@shared
async def test_a_timer_runs_on_one_instance_only_and_moves_when_that_one_dies(instances):
    first, second = instances(), instances()
    runs: Counter[str] = Counter()
    second_ran = asyncio.Event()

    def job(name: str):
        async def tick() -> None:
            runs[name] += 1
            if name == "second":
                second_ran.set()
        return tick

    async def first_ran() -> bool:
        return runs["first"] >= 1

    first_timers, second_timers = Timers(first), Timers(second)
    # Bounded as a whole: it once hung past pytest's 120 s in a full run, and that timeout's
    # traceback named no await; this one's names the step that hangs.
    async with asyncio.timeout(60):
        try:
            first_ticker = first_timers.every("sla", job("first"), 0.01)
            await wait_for_condition(first_ran)
            second_timers.every("sla", job("second"), 0.01)
            await second.refused_times(20)  # twenty ticks of the second instance: each found it led
            assert runs["second"] == 0 and runs["first"] >= 1
            # the first instance dies: its ticks stop, PostgreSQL ends its session
            assert first_ticker.task is not None
            first_ticker.task.cancel()
            await asyncio.gather(first_ticker.task, return_exceptions=True)
            await end_session(first)
            stopped_at = runs["first"]
            await asyncio.wait_for(second_ran.wait(), 5)
            assert runs["first"] == stopped_at
        finally:
            await first_timers.stop()
            await second_timers.stop()


async def test_alone_on_its_store_an_instance_runs_every_timer():
    ran = asyncio.Event()

    async def tick() -> None:
        ran.set()

    timers = Timers(SoloLeadership())
    timers.every("assignment", tick, 60)
    try:
        await asyncio.wait_for(ran.wait(), 5)
    finally:
        await timers.stop()


def poll_work(started: asyncio.Event, ended: asyncio.Event):
    async def work() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # polls until cancelled
        finally:
            ended.set()
    return work


@shared
async def test_a_poller_on_a_follower_waits_until_the_leader_is_gone(instances):
    # the dead leader would try again only after a minute: the follower's next try wins
    leader, follower = instances(retry_seconds=60), instances(retry_seconds=0.05)
    role = "poll:xiaohongshu:brand"
    events = {name: (asyncio.Event(), asyncio.Event()) for name in ("leader", "follower")}
    loops = [asyncio.create_task(while_leading(leader, role, poll_work(*events["leader"])))]
    try:
        await asyncio.wait_for(events["leader"][0].wait(), 5)
        loops.append(asyncio.create_task(while_leading(follower, role, poll_work(*events["follower"]))))
        await follower.refused_times(10)
        assert not events["follower"][0].is_set()
        await end_session(leader)
        await asyncio.wait_for(events["leader"][1].wait(), 5)  # the old leader's poll is cancelled
        await asyncio.wait_for(events["follower"][0].wait(), 5)  # and the follower polls
        assert follower.leads(role) and not leader.leads(role)
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
    assert events["follower"][1].is_set() and not follower.leads(role)  # stopping hands the role back


@shared
async def test_a_poller_that_stops_hands_its_role_to_the_next_instance(instances):
    leader, follower = instances(), instances()
    role = "poll:wecom_kf:kf"
    stopping = asyncio.Event()
    done = asyncio.Event()

    async def poll_until_stopped() -> None:
        await stopping.wait()
        done.set()

    async def leading() -> bool:
        return leader.leads(role)

    loop = asyncio.create_task(while_leading(leader, role, poll_until_stopped, stopping=stopping))
    await wait_for_condition(leading)
    stopping.set()
    await asyncio.wait_for(loop, 5)
    assert done.is_set() and not leader.leads(role)
    assert await follower.try_lead(role)


async def test_alone_on_its_store_a_poller_polls_at_once_and_stops_when_told():
    stopping = asyncio.Event()
    started = asyncio.Event()

    async def poll() -> None:
        started.set()
        await stopping.wait()

    loop = asyncio.create_task(while_leading(SoloLeadership(), "poll:email:shop", poll, stopping=stopping))
    await asyncio.wait_for(started.wait(), 5)
    stopping.set()
    await asyncio.wait_for(loop, 5)
