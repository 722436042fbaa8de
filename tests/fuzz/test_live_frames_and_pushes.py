"""Hostile widget frames and WeChat pushes against a real `csgw serve`: every frame gets an answer
on a socket that stays usable, every push a 2xx or a 4xx, and the process logs no traceback."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto

from tests.cli.server_process import ServerProcess, write_config
from tests.fakes.wechat_oa import signature
from tests.fuzz.strategies import objects
from tests.fuzz.test_wechat_fuzz import xml_pushes
from tests.reliability.soak import scaled

LIVE = settings(max_examples=int(scaled(40, 2000)), deadline=timedelta(seconds=30),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
TOKEN, APP_ID = "fuzztoken", "wx0000fuzz"
AES_KEY = base64.b64encode(b"k" * 32).decode().rstrip("=")
ACCOUNTS = f"""
[[channels]]
plugin = "wechat_oa"
account = "plain"
token = "{TOKEN}"
app_id = "{APP_ID}"
app_secret = "fuzz-secret"
api_base = "http://127.0.0.1:9"
[[channels]]
plugin = "wechat_oa"
account = "safe"
token = "{TOKEN}"
app_id = "{APP_ID}"
app_secret = "fuzz-secret"
encoding_aes_key = "{AES_KEY}"
api_base = "http://127.0.0.1:9"
"""

# Lone surrogates, huge numbers, deep nesting and odd types where the widget expects ids and text.
surrogate_text = st.text(alphabet=st.characters(categories=["Cs"]) | st.characters(), max_size=20)
field_values = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**63 - 2, max_value=2**80)
                | st.floats(allow_nan=False, allow_infinity=False) | surrogate_text
                | st.lists(st.integers(), max_size=3) | st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
typed_frames = st.builds(lambda kind, fields: {"type": kind, **fields},
                         st.sampled_from(["message", "resume", "typing", "survey", "", "MESSAGE"]),
                         st.dictionaries(st.sampled_from(["client_id", "text", "after", "score", "comment"]), field_values))
raw_frames = (typed_frames.map(json.dumps) | objects(["type", "client_id", "text", "after"]).map(json.dumps)
              | st.text(max_size=80) | st.sampled_from(["[" * 30_000, '{"a":' * 10_000, "null", "1e999", "\x00"]))  # under the 64 KiB frame limit


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("live-fuzz")
    server = ServerProcess(write_config(directory, ACCOUNTS)).start()
    try:
        yield server
    finally:
        server.stop()
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback") - 500:][:4000]


async def widget_round(url: str, frames: list[str | bytes]) -> dict[str, Any]:
    """Send the hostile frames, then an ordinary message; return its ack (the socket survived)."""
    visitor = "fuzz" + secrets.token_hex(8)
    async with aiohttp.ClientSession() as session, session.ws_connect(
            f"{url}/widget/ws?site=default&visitor={visitor}") as socket:
        await socket.receive_json(timeout=10)  # hello
        for frame in frames:
            if isinstance(frame, bytes):
                await socket.send_bytes(frame)
            else:
                await socket.send_str(frame)
        await socket.send_json({"type": "message", "client_id": "probe", "text": "你好"})
        while True:
            message = await socket.receive(timeout=10)
            assert message.type == aiohttp.WSMsgType.TEXT, (message.type, message.data, message.extra)
            frame = json.loads(message.data)
            if frame.get("type") == "error":
                assert frame["code"] and frame["message"]
            if frame.get("type") == "ack" and frame.get("client_id") == "probe":
                return frame


@LIVE
@given(st.lists(raw_frames.map(lambda text: text.encode("utf-8", "surrogatepass")) | raw_frames
                .filter(lambda text: not any(0xD800 <= ord(c) <= 0xDFFF for c in text)), min_size=1, max_size=4))
def test_hostile_widget_frames_never_kill_the_socket(live: ServerProcess, frames: list[str | bytes]) -> None:
    ack = asyncio.run(widget_round(live.url, frames))
    assert isinstance(ack["id"], int)


async def post(url: str, query: dict[str, str], body: bytes, content_type: str = "text/xml") -> int:
    async with aiohttp.ClientSession() as session, session.post(
            url, params=query, data=body, headers={"Content-Type": content_type}) as response:
        await response.read()
        return response.status


def signed_query(**extra: str) -> dict[str, str]:
    ts, nonce = str(int(time.time())), secrets.token_hex(8)
    return {"signature": signature(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": "o-fuzz", **extra}


pushes = xml_pushes() | st.binary(max_size=200) | objects(["ToUserName", "FromUserName", "MsgType", "Content",
                                                           "MsgId", "CreateTime"]).map(lambda o: json.dumps(o).encode())


@LIVE
@given(pushes)
def test_signed_hostile_pushes_get_2xx_or_4xx(live: ServerProcess, body: bytes) -> None:
    status = asyncio.run(post(f"{live.url}/webhooks/wechat_oa/plain", signed_query(), body))
    assert status < 500


@LIVE
@given(pushes)
def test_encrypted_hostile_pushes_get_2xx_or_4xx(live: ServerProcess, body: bytes) -> None:
    query = signed_query(encrypt_type="aes")
    inner = body.decode("utf-8", "replace")
    envelope = WeChatCrypto(TOKEN, AES_KEY, APP_ID).encrypt_message(inner, query["nonce"], query["timestamp"])
    start, end = envelope.index("<Encrypt><![CDATA[") + 18, envelope.index("]]></Encrypt>")
    encrypted = envelope[start:end]
    query["msg_signature"] = signature(TOKEN, query["timestamp"], query["nonce"], encrypted)
    status = asyncio.run(post(f"{live.url}/webhooks/wechat_oa/safe", query,
                              f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()))
    assert status < 500


def test_a_frame_over_the_size_limit_closes_the_socket_as_too_big(live: ServerProcess) -> None:
    async def oversized() -> aiohttp.WSMessage:
        async with aiohttp.ClientSession() as session, session.ws_connect(
                f"{live.url}/widget/ws?site=default&visitor=fuzzbig0001") as socket:
            await socket.receive_json(timeout=10)
            await socket.send_str("[" * 70_000)
            return await socket.receive(timeout=10)

    closed = asyncio.run(oversized())
    assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 1009)


def test_plaintext_push_to_a_safe_mode_account_is_refused(live: ServerProcess) -> None:
    body = (b"<xml><ToUserName>gh</ToUserName><FromUserName>o-fuzz</FromUserName><CreateTime>1</CreateTime>"
            b"<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>")
    assert 400 <= asyncio.run(post(f"{live.url}/webhooks/wechat_oa/safe", signed_query(), body)) < 500
