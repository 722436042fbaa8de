"""Asks are gathered in memory and recorded together: while an incident is open, a burst of askers
costs the plugin one writer job per gathering, not one per ask, and the count stays exact."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from csgw.gateway.storage.writer import each_plan
from csgw.plugins.incidents.gathering import GatheredAsks
from csgw.plugins.incidents.models import Incident, IncidentAsk
from csgw.plugins.incidents.plans import Counting
from csgw.plugins.incidents.topics import Ask
from tests.plugins.incidents.shop import incident_shop

QUESTION = "下单后多久发货"
ASKERS = 30
GATHERING = 10


async def test_askers_of_an_open_incident_cost_one_writer_job_per_gathering(tmp_path, database_url):
    async with incident_shop(tmp_path, database_url=database_url) as shop:
        await shop.burst(QUESTION, range(10))  # ten customers: open
        [incident] = await Incident.all()
        writer = shop.gw.services.writer
        queue = writer.run_batched
        jobs: list[str] = []

        async def counted(handler: Any, item: Any) -> Any:
            plan = item[0] if handler is each_plan else handler
            if plan.__module__.startswith("csgw.plugins.incidents."):
                jobs.append(plan.__qualname__)
            return await queue(handler, item)

        shop.desk.asks.size, shop.desk.asks.seconds = GATHERING, 3600  # gathered by number only
        writer.run_batched = counted  # type: ignore[method-assign]
        try:
            await shop.burst(QUESTION, range(ASKERS), prefix="more")
        finally:
            writer.run_batched = queue  # type: ignore[method-assign]
        assert jobs == ["record_asks"] * (ASKERS // GATHERING)  # one ask one job before
        counted_in = await Incident.get(id=incident.id)
        assert counted_in.customers == 10 + ASKERS
        assert await IncidentAsk.filter(incident_id=incident.id).count() == 10 + ASKERS
        assert shop.incident_events[-1]["data"]["customers"] == 10 + ASKERS


class Recorder:
    """What a gathering records, with an event set at each recording."""

    def __init__(self) -> None:
        self.recorded: list[list[Counting]] = []
        self.done = asyncio.Event()

    async def record(self, items: list[Counting]) -> None:
        self.recorded.append(items)
        self.done.set()


def counting(customer: int) -> Counting:
    return Counting(Ask("entry", "ship-time", customer, customer, QUESTION), 10, 600.0,
                    datetime(2026, 1, 1, tzinfo=UTC))


async def test_gathered_asks_are_recorded_together_once_their_time_is_up():
    recorder = Recorder()
    gathered = GatheredAsks(recorder.record, seconds=0.0, size=100)
    asks = [counting(n) for n in range(3)]
    for ask in asks:
        gathered.add([ask])
    await asyncio.wait_for(recorder.done.wait(), 10)  # the timer recorded them: nobody drained
    assert recorder.recorded == [asks]


async def test_once_stopped_each_ask_is_recorded_at_once():
    recorder = Recorder()
    gathered = GatheredAsks(recorder.record, seconds=3600, size=100)
    waiting, late = counting(1), counting(2)
    gathered.add([waiting])
    await gathered.stop()
    assert recorder.recorded == [[waiting]]  # what was waiting: recorded by the stop
    recorder.done.clear()
    gathered.add([late])  # the answer of a message the stop's drain still answers
    await asyncio.wait_for(recorder.done.wait(), 10)  # recorded without waiting an hour, nobody drained
    assert recorder.recorded == [[waiting], [late]]
