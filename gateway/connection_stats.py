"""Success/failure/reconnect counters a channel keeps about its platform connection, for health."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from csgw.gateway.redact import redact

SUCCESS, FAILURE, RECONNECT = "success", "failure", "reconnect"


@dataclass
class ConnectionStats:
    window_seconds: float = 300.0
    connected: bool | None = None  # None: the channel has no persistent connection
    last_success: float | None = None
    last_error: str | None = None
    last_error_code: str | None = None
    last_error_at: float | None = None
    reconnects: int = 0  # since start; `window()` counts the recent ones
    clock: Callable[[], float] = time.time  # tests move time forward
    _events: deque[tuple[float, str]] = field(default_factory=deque)

    def success(self) -> None:
        now = self.clock()
        self.last_success = now
        self._record(now, SUCCESS)

    def failure(self, error: str, code: str | None = None) -> None:
        now = self.clock()
        self.last_error, self.last_error_code, self.last_error_at = redact(error), code, now
        self._record(now, FAILURE)

    def set_connected(self, connected: bool) -> None:
        """A persistent connection came up or went down; coming back up counts as a reconnect."""
        if connected and self.connected is False:
            self.reconnects += 1
            self._record(self.clock(), RECONNECT)
        self.connected = connected

    def _record(self, now: float, kind: str) -> None:
        self._events.append((now, kind))
        cutoff = now - self.window_seconds
        while self._events and self._events[0][0] < cutoff:
            self._events.popleft()

    def counts(self) -> dict[str, int]:
        """Successes, failures and reconnects within the window."""
        cutoff = self.clock() - self.window_seconds
        found = {SUCCESS: 0, FAILURE: 0, RECONNECT: 0}
        for at, kind in self._events:
            if at >= cutoff:
                found[kind] += 1
        return found

    def window(self) -> tuple[int, int]:
        """(successes, failures) within the window."""
        found = self.counts()
        return found[SUCCESS], found[FAILURE]

    def as_dict(self) -> dict[str, object]:
        found = self.counts()
        return {
            "connected": self.connected,
            "successes": found[SUCCESS],
            "failures": found[FAILURE],
            "reconnects": self.reconnects,
            "reconnects_recent": found[RECONNECT],
            "window_seconds": self.window_seconds,
            "last_success": self.last_success,
            "last_error": self.last_error,
            "last_error_code": self.last_error_code,
            "last_error_at": self.last_error_at,
        }
