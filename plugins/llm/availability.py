"""Whether the model is worth asking now, and the `llm` health check.

A 429 pauses every call for its Retry-After; three failures in a row (time-outs, 5xx, refused
connections) pause calls for `OUTAGE_PAUSE` seconds. While paused, customers get the knowledge
base's own answer at once instead of each waiting out the deadline. Health is degraded while paused or
after a failure within `[health] traffic_window_seconds`; never down: the bot works without the model.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from csgw.gateway.health_check import CheckResult

from .client import LlmError

OUTAGE_AFTER = 3  # failures in a row
OUTAGE_PAUSE = 30.0
RATE_LIMIT_PAUSE = 10.0  # a 429 without Retry-After
MAX_PAUSE = 600.0


class Availability:
    def __init__(self, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window_seconds
        self.clock = clock
        self.paused_until = 0.0
        self.in_a_row = 0
        self.calls = 0
        self.failures: deque[tuple[float, str]] = deque(maxlen=1000)
        self.fallbacks: dict[str, int] = {}  # why customers got the knowledge base's answer instead
        self.last_error: str | None = None
        self.last_ms: int | None = None

    def ready(self) -> bool:
        return self.clock() >= self.paused_until

    def succeeded(self, milliseconds: int) -> None:
        self.calls += 1
        self.in_a_row = 0
        self.last_ms = milliseconds

    def failed(self, error: LlmError) -> None:
        at = self.clock()
        self.calls += 1
        self.in_a_row += 1
        self.failures.append((at, error.kind))
        self.last_error = f"{error.kind}: {error}"
        if error.kind == "rate_limited":
            pause = error.retry_after if error.retry_after is not None else RATE_LIMIT_PAUSE
            self.paused_until = max(self.paused_until, at + min(pause, MAX_PAUSE))
        elif self.in_a_row >= OUTAGE_AFTER:
            self.paused_until = max(self.paused_until, at + OUTAGE_PAUSE)

    def fell_back(self, reason: str) -> None:
        self.fallbacks[reason] = self.fallbacks.get(reason, 0) + 1

    def check(self, name: str, model: str, host: str) -> CheckResult:
        at = self.clock()
        recent = [kind for when, kind in self.failures if at - when <= self.window]
        paused = max(0.0, self.paused_until - at)
        status = "degraded" if recent or paused else "ok"
        return CheckResult(name, status, len(recent), {"failures_in_window": 1, "window_seconds": self.window},
                           {"model": model, "endpoint": host, "calls": self.calls,
                            "failures_by_kind": {kind: recent.count(kind) for kind in sorted(set(recent))},
                            "paused_seconds": round(paused, 1), "last_error": self.last_error,
                            "last_answer_ms": self.last_ms, "fallbacks": dict(self.fallbacks)})
