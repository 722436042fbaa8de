"""A burst of 50 customers asking the same thing, through the real gateway on each store: one
incident, announced once on the agents' socket and to a webhook; a supervisor's broadcast answers
the next asker and reaches the waiting customers once each; closed by hand, the KB answers again."""

from __future__ import annotations

from csgw.gateway.models import Conversation
from csgw.plugins.incidents.models import Incident, IncidentAsk
from tests.plugins.incidents.shop import BROADCAST, incident_events_on, incident_shop

QUESTION = "下单后多久发货"
ANSWER = "现货订单48小时内发货哦，预售商品以详情页标注时间为准。"
INCIDENT_EVENTS = ["incident.opened", "incident.updated", "incident.closed"]


async def test_a_burst_becomes_one_incident_a_broadcast_answers_and_a_close_ends_it(tmp_path, database_url, receiver):
    webhook = receiver.endpoint(name="ops", events=INCIDENT_EVENTS)
    async with incident_shop(tmp_path, database_url=database_url, webhooks=[webhook]) as shop:
        token = shop.supervisor.token
        async with shop.session.ws_connect(f"{shop.gw.url}/api/v1/events?token={token}") as socket:
            conversations = await shop.burst(QUESTION, range(50))
            events = await incident_events_on(socket, shop)

        [incident] = await Incident.all()
        assert (incident.kind, incident.key, incident.customers, incident.closed_at) == ("entry", "ship-time", 50, None)
        assert incident.title == QUESTION and incident.examples == [QUESTION]
        assert await IncidentAsk.filter(incident_id=incident.id).count() == 50
        opened = [e["data"] for e in events if e["type"] == "incident.opened"]
        assert len(opened) == 1 and opened[0]["id"] == incident.id and opened[0]["customers"] >= 10
        counts = [e["data"]["customers"] for e in events]
        assert counts == sorted(counts) and counts[-1] == 50  # it only grows, to every customer counted
        await receiver.wait_for(lambda: receiver.accepted("incident.opened"))
        [delivered] = receiver.accepted("incident.opened")
        assert delivered.signed and delivered.data["id"] == incident.id and delivered.data["kind"] == "entry"
        await shop.wait_sent(lambda: all(shop.sent_to(f"c{n}") == [ANSWER] for n in range(50)))

        listed = await shop.agent.call("GET", "/incidents", expect=200)
        assert [(i["id"], i["state"], i["customers"]) for i in listed["items"]] == [(incident.id, "open", 50)]

        await shop.ask("c7", "结束")  # one of them has gone: not waiting any more
        await shop.settle()
        published = await shop.supervisor.call("POST", f"/incidents/{incident.id}/broadcast",
                                               {"text": BROADCAST, "notify_waiting": True}, expect=200)
        assert published["notified"] == 49 and published["incident"]["broadcast"] == BROADCAST
        await shop.wait_sent(lambda: all(BROADCAST in shop.sent_to(f"c{n}") for n in range(50) if n != 7))
        again = await shop.supervisor.call("POST", f"/incidents/{incident.id}/broadcast",
                                           {"text": BROADCAST, "notify_waiting": True}, expect=200)
        assert again["notified"] == 0  # the same text: nobody is told twice

        asker = await shop.ask("next", "请问下单后多久能发货呀")
        await shop.settle()
        reply = await shop.bot_reply(asker)
        assert reply.text == BROADCAST and reply.payload["source"] == "incident"
        assert reply.payload["incident_id"] == incident.id and reply.payload["entry_id"] == "ship-time"
        other = await shop.ask("other", "包邮吗")  # another question keeps its own answer
        await shop.settle()
        assert (await shop.bot_reply(other)).payload["source"] != "incident"

        fixed = "支付渠道已修复，可以正常下单了。"
        changed = await shop.supervisor.call("POST", f"/incidents/{incident.id}/broadcast",
                                             {"text": fixed, "notify_waiting": True}, expect=200)
        assert changed["notified"] == 50  # the 49 still waiting and the next asker, the new text once each
        await shop.wait_sent(lambda: all(fixed in shop.sent_to(f"c{n}") for n in range(50) if n != 7))
        await shop.wait_sent(lambda: fixed in shop.sent_to("next"))
        for customer in [f"c{n}" for n in range(50) if n != 7]:
            assert shop.sent_to(customer).count(BROADCAST) == 1 and shop.sent_to(customer).count(fixed) == 1
        assert BROADCAST not in shop.sent_to("c7") and shop.sent_to("next").count(BROADCAST) == 1
        closed_conversation = await Conversation.get(id=conversations[7])
        assert closed_conversation.state == "closed"

        ended = await shop.supervisor.call("POST", f"/incidents/{incident.id}/close", expect=200)
        assert (ended["state"], ended["close_reason"], ended["customers"]) == ("closed", "hand", 51)
        refused = await shop.supervisor.call("POST", f"/incidents/{incident.id}/close", expect=409)
        assert refused["error"]["code"] == "incident_closed"
        after = await shop.ask("later", QUESTION)
        await shop.settle()
        assert (await shop.bot_reply(after)).text == ANSWER  # the broadcast is gone with the incident
        await receiver.wait_for(lambda: receiver.accepted("incident.closed"))
        assert [e["type"] for e in shop.incident_events].count("incident.opened") == 1
        assert [e["type"] for e in shop.incident_events][-1] == "incident.closed"
        await receiver.wait_for(lambda: len(receiver.accepted()) == len(shop.incident_events))
        assert [r.event for r in receiver.accepted()] == [e["type"] for e in shop.incident_events]
