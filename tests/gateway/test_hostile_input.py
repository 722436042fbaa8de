"""Input the store cannot hold gets a clear 4xx, never a 500 or a dead socket: Unicode digits,
numbers beyond 64 bits, lone surrogates, bodies nested 100,000 deep, ids with a trailing newline."""

from __future__ import annotations

import aiohttp
import pytest

from csgw.gateway.api.errors import parse_id
from csgw.gateway.channel import InboundMessage
from csgw.plugins.webchat.frames import CLIENT_ID, FrameError, parse_frame
from csgw.plugins.webchat.identity import VISITOR_ID, sign_visitor, signature_valid
from csgw.testing import running_gateway
from tests.gateway.helpers import add_agent

FAKE = [{"plugin": "fake", "account": "shop"}]
HUGE = "9" * 23


@pytest.mark.parametrize("raw", ["²", "١٢", "12\n", " 12", "+12", "-1", "", HUGE, str(2**63)])
def test_only_plain_ids_in_range_are_ids(raw: str) -> None:
    assert parse_id(raw) is None


def test_plain_ids_are() -> None:
    assert parse_id("0") == 0 and parse_id("42") == 42 and parse_id(str(2**63 - 1)) == 2**63 - 1


async def test_the_api_answers_hostile_ids_and_bodies_with_4xx(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("mallory")
        accepted = await gw.services.accept(InboundMessage("fake", "shop", "u1", "你好", "m-1"))
        conversation = f"/api/v1/conversations/{accepted.conversation_id}"
        headers = {"Authorization": f"Bearer {token}"}

        async def status(method: str, path: str, data: str | None = None) -> int:
            async with session.request(method, gw.url + path, data=data, headers={
                    **headers, "Content-Type": "application/json"}) as response:
                body = await response.json()
                assert "error" in body or response.status < 400, body
                return response.status

        assert await status("GET", "/api/v1/conversations/²") == 404
        assert await status("GET", f"/api/v1/conversations/{HUGE}") == 404
        assert await status("GET", "/api/v1/conversations?agent=²") == 400
        assert await status("GET", "/api/v1/conversations?limit=²") == 400
        assert await status("GET", f"{conversation}/messages?after=²") == 400
        assert await status("GET", f"{conversation}/messages?after={HUGE}") == 400
        assert await status("GET", "/api/v1/customers/²") == 404
        assert await status("PATCH", f"/api/v1/agents/{HUGE}", "{}") == 404
        assert await status("POST", f"{conversation}/messages", '{"text": "\\ud800"}') == 400
        assert await status("POST", f"{conversation}/messages", "[" * 100_000 + "]" * 100_000) == 400
        deep = '{"text": "x", "a": ' + "[" * 40 + "]" * 40 + "}"
        assert await status("POST", f"{conversation}/messages", deep) == 400
        assert await status("POST", f"{conversation}/transfer", f'{{"agent_id": {HUGE}}}') == 422
        assert await status("POST", "/api/v1/customers/1/merge", f'{{"customer_id": {HUGE}}}') in (404, 422)
        # and the gateway still serves
        assert await status("GET", conversation) == 200


def test_widget_frames_refuse_what_the_store_cannot_hold() -> None:
    with pytest.raises(FrameError) as lone:
        parse_frame('{"type": "message", "client_id": "c1", "text": "hi \\ud800"}', 2000)
    assert lone.value.code == "bad_text"
    with pytest.raises(FrameError) as huge:
        parse_frame(f'{{"type": "resume", "after": {HUGE}}}', 2000)
    assert huge.value.code == "bad_after"
    with pytest.raises(FrameError):
        parse_frame("[" * 100_000, 2000)


def test_ids_with_a_trailing_newline_are_refused() -> None:
    assert CLIENT_ID.match("c1") and not CLIENT_ID.match("c1\n")
    assert VISITOR_ID.match("visitor-1") and not VISITOR_ID.match("visitor-1\n")


def test_a_non_ascii_widget_signature_is_just_wrong() -> None:
    assert signature_valid("s3", "visitor-1", sign_visitor("s3", "visitor-1"))
    assert not signature_valid("s3", "visitor-1", "签名" * 20)
    assert not signature_valid("s3", "visitor-1", "")
