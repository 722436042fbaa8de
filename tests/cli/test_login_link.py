"""`csgw agents login-link`: a one-time link the console exchanges for a session; the agent's API
token stays, and `csgw agents token` (a new token) ends every session."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
from typer.testing import CliRunner

from csgw.cli.main import app
from csgw.testing import running_gateway
from tests.cli.server_process import write_config

runner = CliRunner()
LINK = re.compile(r"^(http://[^/]+)/console/#login=([A-Za-z0-9_-]{32})$")


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def status_of(tmp_path: Path, config: Path, token: str, **body: str) -> tuple[int, int]:
    """Through a gateway on the CLI's store: the sign-in's status, then the token's on GET /me."""
    async def check() -> tuple[int, int]:
        async with running_gateway(tmp_path, database_url=f"sqlite://{config.parent}/data/csgw.db") as gw, \
                aiohttp.ClientSession() as session:
            async with session.post(gw.url + "/api/v1/login", json=body) as signed:
                status = signed.status
            async with session.get(gw.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}) as me:
                return status, me.status

    return asyncio.run(check())


def sign_in(tmp_path: Path, config: Path, code: str) -> str:
    async def exchange() -> str:
        async with running_gateway(tmp_path, database_url=f"sqlite://{config.parent}/data/csgw.db") as gw, \
                aiohttp.ClientSession() as session:
            async with session.post(gw.url + "/api/v1/login", json={"code": code}) as signed:
                assert signed.status == 200, await signed.text()
                return (await signed.json())["token"]

    return asyncio.run(exchange())


def test_login_link_prints_a_one_time_link_and_leaves_the_token(tmp_path):
    config = write_config(tmp_path, server='host = "0.0.0.0"\nport = 8181\n')
    token = run("agents", "add", "amy", "--config", str(config)).output.strip().splitlines()[-1]
    made = run("agents", "login-link", "amy", "--config", str(config))
    assert made.exit_code == 0, made.output
    url = made.stdout.strip()
    match = LINK.match(url)
    assert match and match[1] == "http://127.0.0.1:8181", url  # a wildcard host: this machine
    assert "仅可使用一次" in made.stderr and "works once" in made.stderr

    session = sign_in(tmp_path, config, match[2])
    assert status_of(tmp_path, config, token, code=match[2]) == (401, 200)  # used; the API token still works
    assert status_of(tmp_path, config, session) == (422, 200)

    renewed = run("agents", "token", "amy", "--config", str(config))  # signs amy out everywhere
    assert renewed.exit_code == 0
    assert status_of(tmp_path, config, session) == (422, 401)

    there = run("agents", "login-link", "amy", "--minutes", "60", "--base-url", "https://kf.example.com/",
                "--config", str(config)).stdout.strip()
    assert re.fullmatch(r"https://kf\.example\.com/console/#login=[A-Za-z0-9_-]{32}", there), there


def test_login_link_refuses_what_it_cannot_do(tmp_path):
    config = str(write_config(tmp_path))
    run("agents", "add", "amy", "--config", config)
    missing = run("agents", "login-link", "bob", "--config", config)
    assert missing.exit_code == 2 and "no agent named 'bob'" in missing.stderr
    assert run("agents", "login-link", "amy", "--minutes", "0", "--config", config).exit_code == 2
    assert run("agents", "login-link", "amy", "--minutes", "1441", "--config", config).exit_code == 2
    bad = run("agents", "login-link", "amy", "--base-url", "kf.example.com", "--config", config)
    assert bad.exit_code == 2 and "--base-url" in bad.stderr
