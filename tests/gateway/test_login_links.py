"""One-time login links and console sessions through the real server: a link works once and not
after it expires, a session sits beside the API token (which stays as it was), sign-in goes
online unless the agent last chose away or offline, sign-out ends one session, sign-ins are
limited per address."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
from structlog.testing import capture_logs

from csgw.gateway.api import events
from csgw.gateway.clock import now
from csgw.gateway.models import Agent, AgentSession, LoginCode
from csgw.gateway.sessions import digest
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent

FAKE = [{"plugin": "fake", "account": "shop"}]


async def exchange(session: aiohttp.ClientSession, url: str, **body: str) -> tuple[int, dict]:
    async with session.post(url + "/api/v1/login", json=body) as response:
        return response.status, await response.json()


async def test_a_login_link_signs_in_once_and_the_api_token_stays(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE,
                               server={"timezone": "Asia/Shanghai"}) as gw, aiohttp.ClientSession() as session:
        _, boss_token = await add_agent("sue")
        amy, amy_token = await add_agent("amy", role="agent")
        boss = AgentClient(session, gw.url, boss_token)

        link = await boss.call("POST", f"/agents/{amy.id}/login-link", {}, expect=201)
        assert link["url"] == f"{gw.url}/console/#login={link['code']}"
        stored = await LoginCode.get(agent_id=amy.id)
        assert stored.code_hash == digest(link["code"]) and link["code"] not in stored.code_hash
        assert stored.created_by is not None and stored.expires_at - now() <= timedelta(minutes=15)

        status, signed = await exchange(session, gw.url, code=link["code"])
        assert status == 200, signed
        assert signed["token"].startswith("csgws_") and signed["agent"]["name"] == "amy"
        assert signed["agent"]["status"] == "online"  # a first sign-in goes online
        me = await AgentClient(session, gw.url, signed["token"]).call("GET", "/me", expect=200)
        assert (me["name"], me["timezone"]) == ("amy", "Asia/Shanghai")
        assert await AgentSession.filter(agent_id=amy.id, token_hash=digest(signed["token"])).count() == 1

        status, again = await exchange(session, gw.url, code=link["code"])
        assert (status, again["error"]["code"]) == (401, "code_used")
        # the API token was neither changed nor needed
        assert (await Agent.get(id=amy.id)).token_hash == amy.token_hash
        await AgentClient(session, gw.url, amy_token).call("GET", "/me", expect=200)


async def test_two_exchanges_of_one_code_at_once_sign_in_once(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw, \
            aiohttp.ClientSession() as session:
        _, boss_token = await add_agent("sue")
        amy, _ = await add_agent("amy", role="agent")
        link = await AgentClient(session, gw.url, boss_token).call("POST", f"/agents/{amy.id}/login-link", {},
                                                                   expect=201)
        results = await asyncio.gather(*(exchange(session, gw.url, code=link["code"]) for _ in range(4)))
        assert sorted(status for status, _ in results) == [200, 401, 401, 401]
        assert await AgentSession.filter(agent_id=amy.id).count() == 1


async def test_an_expired_or_wrong_code_is_refused_and_logged_without_the_code(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, boss_token = await add_agent("sue")
        amy, _ = await add_agent("amy", role="agent")
        boss = AgentClient(session, gw.url, boss_token)
        link = await boss.call("POST", f"/agents/{amy.id}/login-link", {"minutes": 1}, expect=201)
        await LoginCode.filter(code_hash=digest(link["code"])).update(expires_at=now() - timedelta(seconds=1))
        wrong = link["code"][:-4] + "AAAA"
        with capture_logs() as logs:
            expired = await exchange(session, gw.url, code=link["code"])
            refused = await exchange(session, gw.url, code=wrong)
        assert (expired[0], expired[1]["error"]["code"]) == (401, "code_expired")
        assert (refused[0], refused[1]["error"]["code"]) == (401, "bad_code")
        lines = [entry for entry in logs if entry["event"] == "sign-in with a login link refused"]
        assert [(entry["reason"], entry["log_level"]) for entry in lines] == [("code_expired", "warning"),
                                                                              ("bad_code", "warning")]
        assert link["code"] not in repr(logs) and wrong not in repr(logs)
        assert await AgentSession.all().count() == 0
        for body in ({}, {"code": ""}, {"code": "x", "token": "y"}, {"code": 5}, {"code": "x", "who": 1}):
            async with session.post(gw.url + "/api/v1/login", json=body) as response:
                assert response.status == 422, body


async def test_only_a_supervisor_makes_links_for_an_agent_that_exists(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        sue, boss_token = await add_agent("sue")
        amy, amy_token = await add_agent("amy", role="agent")
        boss, plain = AgentClient(session, gw.url, boss_token), AgentClient(session, gw.url, amy_token)
        assert (await plain.call("POST", f"/agents/{amy.id}/login-link", {}, expect=403))["error"]["code"] == "forbidden"
        await boss.call("POST", "/agents/999/login-link", {}, expect=404)
        for minutes in (0, 1441, "15"):
            await boss.call("POST", f"/agents/{amy.id}/login-link", {"minutes": minutes}, expect=422)
        link = await boss.call("POST", f"/agents/{sue.id}/login-link", {"minutes": 1440}, expect=201)
        assert timedelta(hours=23) < (await LoginCode.get(agent_id=sue.id)).expires_at - now() <= timedelta(days=1)
        assert link["agent_id"] == sue.id
        async with session.post(f"{gw.url}/api/v1/agents/{amy.id}/login-link") as response:
            assert response.status == 401  # no token


async def test_sign_in_goes_online_unless_the_agent_last_chose_away_or_offline(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        amy, token = await add_agent("amy", role="agent", status="away")
        # away by the gateway (quiet too long), having chosen online: a sign-in is back online
        await Agent.filter(id=amy.id).update(chosen_status="online", auto_away_since=now())
        assert (await exchange(session, gw.url, token=token))[1]["agent"]["status"] == "online"

        signed = (await exchange(session, gw.url, token=token))[1]
        await AgentClient(session, gw.url, signed["token"]).call("PUT", "/me/status", {"status": "away"}, expect=200)
        assert (await Agent.get(id=amy.id)).chosen_status == "away"
        status, again = await exchange(session, gw.url, token=token)  # a new tab, or tomorrow
        assert (status, again["agent"]["status"]) == (200, "away")
        stored = await Agent.get(id=amy.id)
        assert (stored.status, stored.auto_away_since) == ("away", None)  # a choice: not brought back by use

        await AgentClient(session, gw.url, again["token"]).call("PUT", "/me/status", {"status": "offline"}, expect=200)
        assert (await exchange(session, gw.url, token=token))[1]["agent"]["status"] == "offline"
        await AgentClient(session, gw.url, again["token"]).call("PUT", "/me/status", {"status": "online"}, expect=200)
        await Agent.filter(id=amy.id).update(status="offline")  # e.g. `csgw agents status amy offline`
        assert (await exchange(session, gw.url, token=token))[1]["agent"]["status"] == "online"
        assert (await exchange(session, gw.url, token="csgw_wrong"))[0] == 401


async def test_sign_out_ends_that_session_and_its_events_socket_only(tmp_path, monkeypatch):
    monkeypatch.setattr(events, "TOKEN_CHECK_SECONDS", 0.05)
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("amy", role="agent")
        first = (await exchange(session, gw.url, token=token))[1]["token"]
        second = (await exchange(session, gw.url, token=token))[1]["token"]
        async with session.ws_connect(f"{gw.url}/api/v1/events?token={first}") as socket:
            async with session.post(f"{gw.url}/api/v1/logout", headers={"Authorization": f"Bearer {first}"}) as out:
                assert out.status == 204
            closing = await socket.receive(timeout=10)
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4401
        assert (await AgentClient(session, gw.url, first).call("GET", "/me", expect=401))["error"]["code"] == "unauthorized"
        await AgentClient(session, gw.url, second).call("GET", "/me", expect=200)
        refused = await AgentClient(session, gw.url, token).call("POST", "/logout", expect=400)
        assert refused["error"]["code"] == "not_a_session"
        # a session past its end is refused like a wrong token
        await AgentSession.filter(token_hash=digest(second)).update(expires_at=now() - timedelta(seconds=1))
        await AgentClient(session, gw.url, second).call("GET", "/me", expect=401)


async def test_sign_ins_are_limited_per_address(tmp_path):
    rate_limits = {"login_per_minute": 2, "exempt_loopback": False}
    async with running_gateway(tmp_path, channels=FAKE, server={"rate_limits": rate_limits}) as gw, \
            aiohttp.ClientSession() as session:
        statuses = [(await exchange(session, gw.url, code=f"guess-{n}"))[0] for n in range(4)]
        assert statuses == [401, 401, 429, 429]
