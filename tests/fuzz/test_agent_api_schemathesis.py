"""Schemathesis against the running gateway's own OpenAPI document: no 500s, no slow answers."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from csgw.gateway.channel import InboundMessage
from csgw.testing import running_gateway
from tests.gateway.helpers import add_agent
from tests.reliability.soak import scaled

EXAMPLES = int(scaled(25, 200))
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


async def test_agent_api_never_answers_500(tmp_path):
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}]) as gw:
        _, token = await add_agent("fuzzer", status="online")
        # conversations in every state, so the stateful phase follows links to real ids
        for number, text in enumerate(["我要投诉", "你好", "人工客服", "发货时间"], start=1):
            await gw.services.accept(InboundMessage("fake", "a", f"customer-{number}", text, f"m{number}"))
        process = await asyncio.create_subprocess_exec(
            str(SCHEMATHESIS), "run", f"{gw.url}/api/v1/openapi.json", "--url", gw.url,
            "--checks", "not_a_server_error", "--max-examples", str(EXAMPLES), "--seed", "9",
            "--header", f"Authorization: Bearer {token}", "--request-timeout", "10",
            "--max-response-time", "5", "--phases", "examples,coverage,fuzzing,stateful", "--no-color",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "SCHEMATHESIS_HOOKS": ""}, cwd=tmp_path)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=scaled(240, 3000))
        text = output.decode(errors="replace")
        assert process.returncode == 0, text[-6000:]
        assert "passed" in text.lower()
