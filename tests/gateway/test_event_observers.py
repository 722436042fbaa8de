"""Event-bus observers: called in place for each event published on this instance, in order,
never for what another instance relays, never dropped; one that raises costs nothing else."""

from __future__ import annotations

from csgw.gateway.events import EventBus


async def test_an_observer_sees_local_events_in_order_and_not_relayed_ones():
    relayed: list[dict] = []
    bus = EventBus(relay=relayed.append)
    seen: list[str] = []
    bus.observe(lambda event: seen.append(event["data"]["n"]))
    assert bus.listening
    for n in range(3):
        bus.publish("message.created", {"n": n})
    await bus.deliver({"type": "message.created", "data": {"n": 99}})  # from another instance
    assert seen == [0, 1, 2] and len(relayed) == 3


async def test_an_observer_is_never_dropped_and_one_that_raises_harms_nothing():
    bus = EventBus(queue_size=1)
    seen: list[int] = []

    def broken(event: dict) -> None:
        raise RuntimeError("observer bug")

    bus.observe(broken)
    bus.observe(lambda event: seen.append(event["data"]["n"]))
    async with bus.subscribe() as queue:
        for n in range(5):  # the subscriber's queue holds one: it falls behind and is dropped
            bus.publish("message.created", {"n": n})
        assert queue.get_nowait()["data"] == {"n": 0}
    assert seen == [0, 1, 2, 3, 4]


def test_a_bus_without_subscribers_observers_or_relay_is_not_listening():
    assert not EventBus().listening
