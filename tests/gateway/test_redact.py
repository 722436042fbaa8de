"""Secrets never leave the process: not in an error text, a health page, or a log line."""

from __future__ import annotations

import io
import json

import aiohttp
import pytest
import structlog
from aiohttp import web

from csgw.gateway.channel import SendError
from csgw.gateway.connection_stats import ConnectionStats
from csgw.gateway.logging import configure_logging
from csgw.gateway.redact import redact
from csgw.plugins.wechat.token import AccessTokenCache, ApiError


@pytest.mark.parametrize(("text", "secret"), [
    ("https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=S3CR3Tz", "S3CR3Tz"),
    ("POST /cgi-bin/message/custom/send?access_token=AT.9-x_y HTTP/1.1", "AT.9-x_y"),
    ("https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=CORP-SECRET", "CORP-SECRET"),
    ("imaps://shop@example.com:hunter2@imap.example.com", "hunter2"),
    ("Authorization: Bearer csgw_0123456789abcdef", "csgw_0123456789abcdef"),
    ("url=https%3A%2F%2Fx%3Fsecret%3DURLENCODED", "URLENCODED"),
])
def test_credentials_are_masked(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked and "***" in masked


def test_plain_text_is_left_alone() -> None:
    for text in ("inbound message stored", "退款多久到账", "a == b", "2+2=4"):
        assert redact(text) == text


def test_errors_and_channel_health_carry_no_secret() -> None:
    url = "https://api.example/token?appid=wx1&secret=TOPSECRET"
    assert "TOPSECRET" not in str(SendError(f"unreachable: {url}"))
    assert "TOPSECRET" not in str(ApiError(f"token endpoint unreachable: {url}"))
    stats = ConnectionStats()
    stats.failure(f"pull failed: {url}")
    assert "TOPSECRET" not in stats.last_error


def test_log_lines_and_their_tracebacks_are_redacted() -> None:
    out = io.StringIO()
    configure_logging("info", "json", out)
    log = structlog.get_logger("test")
    try:
        raise RuntimeError("GET https://api.example/x?access_token=LEAKME failed")
    except RuntimeError:
        log.exception("platform call failed", url="https://api.example/x?access_token=LEAKME")
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert "LEAKME" not in out.getvalue() and "access_token=***" in line["url"]
    assert "access_token=***" in line["exception"]


async def test_a_token_endpoint_that_redirects_forever_leaks_no_secret() -> None:
    """aiohttp's TooManyRedirects names the URL, secret and all: the error text must not."""
    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound(str(request.url))

    app = web.Application()
    app.router.add_get("/cgi-bin/token", loop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as http:
            tokens = AccessTokenCache(http, f"http://127.0.0.1:{port}/cgi-bin/token",
                                {"grant_type": "client_credential", "appid": "wx1", "secret": "REDIRECTED"})
            with pytest.raises(ApiError) as raised:
                await tokens.get()
        assert "REDIRECTED" not in str(raised.value) and "secret=***" in str(raised.value)
    finally:
        await runner.cleanup()
