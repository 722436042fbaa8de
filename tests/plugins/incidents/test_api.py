"""`/api/v1/incidents`: every agent lists them, open first; only supervisors broadcast and close
(403 otherwise); bad input is a 400 with a code and a log line, never a 500."""

from __future__ import annotations

import pytest
import structlog

from csgw.plugins.incidents.models import Incident
from tests.plugins.incidents.shop import BROADCAST, incident_shop

SHIPPING = "下单后多久发货"


@pytest.mark.parametrize("body, code", [
    ({}, "bad_text"),
    ({"text": ""}, "bad_text"),
    ({"text": "   "}, "bad_text"),
    ({"text": 42}, "bad_text"),
    ({"text": "x" * 1001}, "bad_text"),
    ({"text": "bell\u0007"}, "bad_text"),
    ({"text": BROADCAST, "notify_waiting": "yes"}, "bad_notify_waiting"),
    ({"text": BROADCAST, "notify_waiting": None}, "bad_notify_waiting"),
    ({"text": BROADCAST, "notify": True}, "unknown_field"),
])
def test_bad_broadcast_bodies(body, code):
    from csgw.gateway.api.errors import ApiError
    from csgw.plugins.incidents.api import broadcast_text

    with pytest.raises(ApiError) as refused:
        broadcast_text(body)
    assert (refused.value.status, refused.value.code) == (400, code)


async def test_who_may_do_what_and_what_bad_input_gets(tmp_path):
    async with incident_shop(tmp_path) as shop:
        await shop.burst(SHIPPING, range(10))
        await shop.burst("包邮吗", range(10), prefix="postage")
        first, second = await Incident.filter(kind="entry").order_by("id")
        await shop.supervisor.call("POST", f"/incidents/{first.id}/close", expect=200)

        listed = await shop.agent.call("GET", "/incidents", expect=200)
        assert [(i["id"], i["state"]) for i in listed["items"]] == [(second.id, "open"), (first.id, "closed")]
        assert [i["id"] for i in (await shop.agent.call("GET", "/incidents?state=closed"))["items"]] == [first.id]
        assert [i["id"] for i in (await shop.agent.call("GET", "/incidents?state=open&limit=1"))["items"]] == [second.id]

        for path in (f"/incidents/{second.id}/broadcast", f"/incidents/{second.id}/close"):
            refused = await shop.agent.call("POST", path, {"text": BROADCAST}, expect=403)
            assert refused["error"]["code"] == "forbidden" and "supervisor" in refused["error"]["message"]
        async with shop.session.get(shop.gw.url + "/api/v1/incidents") as response:
            assert response.status == 401
        assert (await Incident.get(id=second.id)).broadcast is None

        with structlog.testing.capture_logs() as logs:
            for path, status, code in [
                ("/incidents?state=gone", 400, "bad_state"),
                ("/incidents?limit=0", 400, "bad_limit"),
                ("/incidents?limit=abc", 400, "bad_limit"),
                ("/incidents?page=2", 400, "unknown_parameter"),
            ]:
                assert (await shop.agent.call("GET", path, expect=status))["error"]["code"] == code
            for path, body, status, code in [
                ("/incidents/abc/broadcast", {"text": BROADCAST}, 404, "not_found"),
                ("/incidents/999999/close", None, 404, "not_found"),
                (f"/incidents/{second.id}/broadcast", {"text": ""}, 400, "bad_text"),
                (f"/incidents/{second.id}/broadcast", {"text": BROADCAST, "notify_waiting": 1}, 400,
                 "bad_notify_waiting"),
                (f"/incidents/{first.id}/broadcast", {"text": BROADCAST}, 409, "incident_closed"),
            ]:
                assert (await shop.supervisor.call("POST", path, body, expect=status))["error"]["code"] == code
            async with shop.session.post(f"{shop.gw.url}/api/v1/incidents/{second.id}/broadcast", data=b"{not json",
                                         headers={"Authorization": f"Bearer {shop.supervisor.token}"}) as response:
                assert response.status == 400 and (await response.json())["error"]["code"] == "bad_json"
        refusals = [line for line in logs if line["event"] == "api request refused"]
        assert len(refusals) == 10 and {line["status"] for line in refusals} == {400, 404, 409}
        assert (await Incident.get(id=second.id)).broadcast is None

        async with shop.session.get(shop.gw.url + "/api/v1/openapi.json") as response:
            paths = (await response.json())["paths"]
        assert {"/api/v1/incidents", "/api/v1/incidents/{id}/broadcast", "/api/v1/incidents/{id}/close"} <= set(paths)
