"""Slow clients: a request head or body that does not arrive in time closes the connection."""

from __future__ import annotations

import asyncio

import pytest

from csgw.config.errors import ConfigError
from csgw.testing import make_settings, running_gateway
from tests.gateway.helpers import add_agent

QUICK = {"header_timeout_seconds": 0.5, "body_timeout_seconds": 0.5}
LIMIT = 20  # generous: only a connection left open for good fails


async def until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    return await asyncio.wait_for(reader.read(), LIMIT)


@pytest.mark.parametrize("partial", [
    b"", b"GET /livez HTTP/1.1\r\n", b"GET /livez HTTP/1.1\r\nHost: localhost\r\nX-Slow: "])
async def test_a_request_head_that_never_ends_is_cut_off(tmp_path, partial):
    async with running_gateway(tmp_path, server=QUICK) as gw:
        reader, writer = await asyncio.open_connection(gw.server.host, gw.server.port)
        writer.write(partial)
        await writer.drain()
        assert await until_closed(reader) == b""
        writer.close()


async def test_a_slow_head_after_a_served_request_is_cut_off_too(tmp_path):
    async with running_gateway(tmp_path, server=QUICK) as gw:
        reader, writer = await asyncio.open_connection(gw.server.host, gw.server.port)
        writer.write(b"GET /livez HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert (await asyncio.wait_for(reader.readline(), LIMIT)).startswith(b"HTTP/1.1 200")
        writer.write(b"GET /livez HTTP/1.1\r\nHo")
        await writer.drain()
        rest = await until_closed(reader)
        assert rest.count(b"HTTP/1.1") == 0  # the rest of the first response, then the close
        writer.close()


async def test_a_request_body_that_never_ends_gets_408_and_a_close(tmp_path):
    async with running_gateway(tmp_path, server=QUICK) as gw:
        _, token = await add_agent("boss")
        reader, writer = await asyncio.open_connection(gw.server.host, gw.server.port)
        writer.write(b"PUT /api/v1/me/status HTTP/1.1\r\nHost: localhost\r\n"
                     b"Authorization: Bearer " + token.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\": ")
        await writer.drain()
        answer = await until_closed(reader)
        assert answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer
        writer.close()


async def test_requests_that_arrive_in_time_are_served(tmp_path):
    async with running_gateway(tmp_path, server={"header_timeout_seconds": 30, "body_timeout_seconds": 30}) as gw:
        _, token = await add_agent("boss")
        reader, writer = await asyncio.open_connection(gw.server.host, gw.server.port)
        body = b'{"status": "online"}'
        writer.write(b"PUT /api/v1/me/status HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
                     + token.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body[:5])
        await writer.drain()
        await asyncio.sleep(0.2)  # a body in two pieces, the way a slow link delivers it
        writer.write(body[5:])
        answer = await until_closed(reader)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        writer.close()


def test_timeouts_must_be_positive(tmp_path):
    with pytest.raises(ConfigError) as error:
        make_settings(tmp_path, server={"header_timeout_seconds": 0})
    assert any("server.header_timeout_seconds" in line for line in error.value.lines)
