"""Per channel account, a pause after sends failed for a reason that may pass (the platform is
down, busy or limiting us): the account's other replies wait with the one that failed, instead
of each trying on its own schedule. A dead platform with 100 replies queued for it then costs one
try per back-off step, not 100. When the pause ends one conversation is tried first; its success
lifts the pause for the rest. Failures of one message (the customer's window closed, a refused
recipient) say nothing about the account and do not pause it.

Kept in memory per instance: after a restart, or on another instance, the first send finds out
again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from csgw.gateway import clock

Account = tuple[str, str]  # (channel, account)


@dataclass(frozen=True, slots=True)
class _Pause:
    failures: int
    until: datetime


class AccountPauses:
    def __init__(self, delay: Callable[[int], float]) -> None:
        self._delay = delay  # seconds to pause after this many failures in a row
        self._pauses: dict[Account, _Pause] = {}

    def failed(self, account: Account) -> datetime:
        """A send of `account` failed and may succeed later: pause it (longer each time in a row)."""
        failures = self._pauses[account].failures + 1 if account in self._pauses else 1
        until = clock.now() + timedelta(seconds=self._delay(failures))
        self._pauses[account] = _Pause(failures, until)
        return until

    def succeeded(self, account: Account) -> None:
        self._pauses.pop(account, None)

    def paused(self, account: Account) -> bool:
        pause = self._pauses.get(account)
        return pause is not None and pause.until > clock.now()

    def probing(self, account: Account) -> bool:
        """The pause is over but nothing has got through since: try one conversation first."""
        return account in self._pauses and not self.paused(account)

    def paused_accounts(self) -> list[Account]:
        return [account for account in self._pauses if self.paused(account)]

    def next_end(self) -> datetime | None:
        """When the earliest pause still running ends."""
        at = clock.now()
        return min((pause.until for pause in self._pauses.values() if pause.until > at), default=None)
