"""A client of the OpenAI-compatible chat-completions API (DeepSeek, Qwen/DashScope, Ollama, vLLM,
…): one request, streamed as server-sent events or answered as one JSON document, within a
deadline. Every failure is an `LlmError` whose `kind` says what the caller can do about it; none
carries the api_key (error bodies are cut, redacted, and the key itself replaced)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from csgw.gateway.redact import MASK, redact

from .config import LlmConfig

ERROR_TEXT = 300  # characters of a server's error message kept
SessionSource = Callable[[], "aiohttp.ClientSession | None"]


class LlmError(Exception):
    """The model gave no usable completion. `kind`: timeout, rate_limited (`retry_after` seconds
    if the server said), unavailable (5xx, connection), refused (4xx: key, model name, request),
    bad_response (not the protocol)."""

    def __init__(self, kind: str, message: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model: str
    milliseconds: int
    finish_reason: str | None = None


class ChatClient:
    """Posts chat completions to `[llm] base_url`. `session` gives the gateway's shared HTTP session
    (None: one is opened for the call, as the CLI does)."""

    def __init__(self, config: LlmConfig, session: SessionSource = lambda: None) -> None:
        self.config = config
        self.session = session

    async def complete(self, messages: list[dict[str, str]], *, timeout: float,
                       max_tokens: int | None = None) -> Completion:
        """The model's answer to `messages`, within `timeout` seconds in all."""
        started = time.monotonic()
        body: dict[str, Any] = {"model": self.config.model, "messages": messages,
                                "max_tokens": max_tokens or self.config.max_tokens,
                                "temperature": self.config.temperature, "stream": self.config.stream}
        try:
            async with asyncio.timeout(timeout):
                text, model, finish = await self._post(body)
        except TimeoutError:
            raise LlmError("timeout", f"no answer within {timeout:g} s") from None
        except aiohttp.ClientError as error:
            raise LlmError("unavailable", self._clean(f"{type(error).__name__}: {error}")) from None
        return Completion(text, model or str(self.config.model), round((time.monotonic() - started) * 1000),
                          finish)

    async def _post(self, body: dict[str, Any]) -> tuple[str, str | None, str | None]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream" if body["stream"] else "application/json"}
        if self.config.api_key is not None:
            headers["Authorization"] = f"Bearer {self.config.api_key.get_secret_value()}"
        shared = self.session()
        session = shared or aiohttp.ClientSession()
        try:
            async with session.post(self.config.endpoint, json=body, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=None)) as response:
                if response.status >= 400:
                    raise await self._refusal(response)
                if body["stream"] and response.content_type == "text/event-stream":
                    return await self._read_stream(response)
                return self._read_document(await self._json(response))
        finally:
            if shared is None:
                await session.close()

    async def _json(self, response: aiohttp.ClientResponse) -> Any:
        try:
            return json.loads(await response.text())
        except (ValueError, UnicodeDecodeError):
            raise LlmError("bad_response", "the answer is not JSON") from None

    def _read_document(self, document: Any) -> tuple[str, str | None, str | None]:
        try:
            choice = document["choices"][0]
            content = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise LlmError("bad_response", "the answer has no choices[0].message") from None
        return str(content), document.get("model"), choice.get("finish_reason")

    async def _read_stream(self, response: aiohttp.ClientResponse) -> tuple[str, str | None, str | None]:
        parts: list[str] = []
        model = finish = None
        async for raw in response.content:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue  # blank separators, `: keep-alive` comments, event names
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except ValueError:
                raise LlmError("bad_response", "a streamed chunk is not JSON") from None
            if isinstance(chunk, dict) and "error" in chunk:
                raise LlmError("unavailable", self._clean(_message_of(chunk)))
            try:
                choice = chunk["choices"][0] if chunk["choices"] else {}
            except (KeyError, TypeError):
                raise LlmError("bad_response", "a streamed chunk has no choices") from None
            model = chunk.get("model") or model
            parts.append((choice.get("delta") or {}).get("content") or "")
            finish = choice.get("finish_reason") or finish
        return "".join(parts), model, finish

    async def _refusal(self, response: aiohttp.ClientResponse) -> LlmError:
        try:
            message = _message_of(json.loads(await response.text()))
        except (ValueError, UnicodeDecodeError):
            message = response.reason or ""
        message = self._clean(f"HTTP {response.status}: {message}")
        if response.status == 429:
            return LlmError("rate_limited", message, status=429,
                            retry_after=retry_after(response.headers.get("Retry-After")))
        if response.status >= 500 or response.status == 408:
            return LlmError("unavailable", message, status=response.status)
        return LlmError("refused", message, status=response.status)

    def _clean(self, message: str) -> str:
        """Short, and without the key even if a server echoes it."""
        message = redact(message[:ERROR_TEXT])
        key = self.config.api_key.get_secret_value() if self.config.api_key else ""
        return message.replace(key, MASK) if key else message


def _message_of(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "")
    return str(error or body)[:ERROR_TEXT]


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
