"""The one writer: concurrent jobs share commits; a bad job fails alone."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.exceptions import IntegrityError

from csgw.gateway.clock import now
from csgw.gateway.models import Agent
from csgw.gateway.storage.db import close_database, open_database
from csgw.gateway.storage.plans import Insert, Plan, new_row
from csgw.gateway.storage.writer import GroupCommitWriter, WriterClosed


def new_agent(name: str) -> Plan[int]:
    columns, row = new_row(Agent, {"name": name}, now())
    [ident] = yield Insert("agent", columns, [row])
    return ident


@pytest.fixture
async def writer(database_url):
    await open_database(database_url)
    writer = GroupCommitWriter(max_batch=64)
    writer.start()
    yield writer
    await writer.close()
    await close_database()


async def test_concurrent_jobs_are_committed_in_groups(writer):
    ids = await asyncio.gather(*(writer.run_plan(new_agent, f"agent-{i}") for i in range(200)))
    assert len(set(ids)) == 200
    assert await Agent.all().count() == 200
    assert writer.jobs == 200 and writer.batches < 200


async def test_a_failing_job_does_not_take_its_batch_down(writer):
    await writer.run_plan(new_agent, "taken")

    async def add(name: str):
        return await writer.run_plan(new_agent, name)

    results = await asyncio.gather(add("a"), add("taken"), add("b"), return_exceptions=True)
    assert isinstance(results[1], IntegrityError)
    assert sorted(await Agent.all().values_list("name", flat=True)) == ["a", "b", "taken"]


async def test_closed_writer_refuses_and_queued_jobs_are_committed_first(writer):
    # gather starts its tasks in order: the five jobs are queued before close() begins.
    runs = [writer.run_plan(new_agent, f"q{i}") for i in range(5)]
    await asyncio.gather(*runs, writer.close())
    assert await Agent.all().count() == 5
    with pytest.raises(WriterClosed):
        await writer.run_plan(new_agent, "late")


async def test_the_store_coming_back_is_reported_once_per_outage(writer):
    from tortoise.exceptions import OperationalError

    recoveries: list[int] = []
    writer.on_recovered(lambda: recoveries.append(writer.jobs))

    def full() -> Plan[None]:
        raise OperationalError("database or disk is full")
        yield  # a plan: a generator

    async def add(name: str):
        return await writer.run_plan(new_agent, name)

    await add("before")
    for _ in range(2):
        with pytest.raises(OperationalError):
            await writer.run_plan(full)
    assert writer.failing and recoveries == []
    await add("back")
    await add("again")
    assert recoveries == [2] and not writer.failing
    with pytest.raises(IntegrityError):  # one bad job is no outage
        await add("back")
    await add("fine")
    assert recoveries == [2]
    with pytest.raises(OperationalError):
        await writer.run_plan(full)
    await add("second outage over")
    assert len(recoveries) == 2
