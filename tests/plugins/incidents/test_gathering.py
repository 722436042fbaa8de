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


async def test_gathered_asks_are_recorded_together_once_their_time_is_up():
    recorded: list[list[Counting]] = []
    done = asyncio.Event()

    async def record(items: list[Counting]) -> None:
        recorded.append(items)
        done.set()

    gathered = GatheredAsks(record, seconds=0.0, size=100)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    asks = [Counting(Ask("entry", "ship-time", n, n, QUESTION), 10, 600.0, at) for n in range(3)]
    for ask in asks:
        gathered.add([ask])
    await asyncio.wait_for(done.wait(), 10)  # the timer recorded them: nobody drained
    assert recorded == [asks]
