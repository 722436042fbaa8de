"""Reading a push body: whole however it was split in packets, refused past the limit."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from unittest import mock

import pytest
from aiohttp import StreamReader

from csgw.gateway.webhook_requests import PushRefused, read_body


def request_with(stream: StreamReader) -> SimpleNamespace:
    return SimpleNamespace(content_length=None, content=stream)


def stream() -> StreamReader:
    return StreamReader(mock.Mock(_reading_paused=False), limit=2**16, loop=asyncio.get_running_loop())


async def test_a_body_arriving_in_pieces_is_read_whole() -> None:
    body = stream()
    body.feed_data(b"<xml><Content>")  # the first packet
    reading = asyncio.create_task(read_body(request_with(body)))
    await asyncio.sleep(0)  # let the reader take what has arrived
    body.feed_data("你好</Content></xml>".encode())
    body.feed_eof()
    assert await reading == "<xml><Content>你好</Content></xml>".encode()


async def test_a_body_over_the_limit_in_pieces_is_refused() -> None:
    body = stream()
    reading = asyncio.create_task(read_body(request_with(body), limit=10))
    body.feed_data(b"123456")
    await asyncio.sleep(0)
    body.feed_data(b"7890ab")
    body.feed_eof()
    with pytest.raises(PushRefused) as refused:
        await reading
    assert refused.value.status == 413
