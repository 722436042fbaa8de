"""Two instances on one PostgreSQL, each answering half of a burst at the same time, count one
incident: exactly at the threshold (50 of 50, split 25/25) it opens, once, on one of them.

Instance A is a running gateway; instance B is a second pipeline with its own writer, message
store, event bus and incident desk on the same store (what another `csgw serve` has), as in
`tests/gateway/test_assignment_across_instances.py`. Counted on what was committed."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import now
from csgw.gateway.events import EventBus
from csgw.gateway.pipeline import Pipeline
from csgw.gateway.storage.db import plan_runner
from csgw.gateway.storage.store import MessageStore
from csgw.gateway.storage.writer import GroupCommitWriter
from csgw.gateway.testing import FakeClock
from csgw.plugins.incidents.desk import IncidentDesk
from csgw.plugins.incidents.models import Incident
from tests.plugins.incidents.shop import incident_shop

ROUNDS = 3
CUSTOMERS = 50


async def test_two_instances_raise_one_incident_exactly_at_the_threshold(tmp_path, shared_url):
    clock = FakeClock(now())
    async with incident_shop(tmp_path, database_url=shared_url, clock=clock,
                             incidents={"min_customers": CUSTOMERS}) as shop:
        a = shop.gw.services
        writer = GroupCommitWriter()
        writer.start(plan_runner(shared_url))
        events = EventBus()
        opened: list[int] = []
        for bus in (a.events, events):
            bus.observe(lambda e: opened.append(e["data"]["id"]) if e["type"] == "incident.opened" else None)
        b_services = SimpleNamespace(writer=writer, events=events, say=a.say)
        desk = IncidentDesk(b_services, shop.desk.config)  # type: ignore[arg-type]
        store = MessageStore(writer)
        b = Pipeline(a.settings, store, writer, events, a.outbox, a.conversations, replies=a.reply_handlers,
                     classifiers=a.classifiers, hooks=a.host, gateway=a, overrides=[desk])
        try:
            for round_ in range(ROUNDS):
                def asked(n: int, round_: int = round_) -> InboundMessage:
                    return InboundMessage("fake", "shop", f"r{round_}-c{n}", "下单后多久发货", f"r{round_}-m{n}")

                await asyncio.gather(*(a.accept(asked(n)) if n % 2 else b.accept(asked(n))
                                       for n in range(CUSTOMERS)))
                await asyncio.gather(a.pipeline.drain(), b.drain())
                await asyncio.gather(shop.desk.drain(), desk.drain())
                incidents = await Incident.all().order_by("id")
                assert len(incidents) == round_ + 1, [(i.id, i.customers) for i in incidents]
                assert incidents[-1].customers == CUSTOMERS and len(opened) == round_ + 1
                await shop.supervisor.call("POST", f"/incidents/{incidents[-1].id}/close", expect=200)
                clock.advance(minutes=11)  # the next round starts a fresh window
        finally:
            await writer.close()
        assert sorted(opened) == [i.id for i in await Incident.all().order_by("id")]
