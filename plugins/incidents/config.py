"""`[incidents]`: how many distinct customers within how many minutes make an incident, per kind
of thing they ask about, and how long a quiet incident stays open."""

from __future__ import annotations

from pydantic import Field

from csgw.config.plugin_sections import ConfigSection

# what customers ask about: one knowledge-base entry answered, one cluster of questions the bot
# could not answer, one escalation lane (a classifier's tag: complaint, …)
KINDS = ("entry", "unanswered", "lane")


class KindThreshold(ConfigSection):
    """`[incidents.entry]`, `[incidents.unanswered]`, `[incidents.lane]`: overrides for one kind."""

    enabled: bool = True
    min_customers: int | None = Field(None, ge=2, le=1_000_000)
    window_minutes: float | None = Field(None, gt=0, le=1440)


class IncidentsConfig(ConfigSection):
    enabled: bool = True
    min_customers: int = Field(20, ge=2, le=1_000_000)  # distinct customers asking about one thing…
    window_minutes: float = Field(10, gt=0, le=1440)  # …within this many minutes raise an incident
    close_after_quiet_minutes: float = Field(30, gt=0, le=10_080)  # no new asker this long: closed
    check_seconds: float = Field(30, gt=0, le=3600)  # how often the leading instance looks for quiet ones
    entry: KindThreshold = Field(default_factory=KindThreshold)
    unanswered: KindThreshold = Field(default_factory=KindThreshold)
    lane: KindThreshold = Field(default_factory=KindThreshold)

    def watches(self, kind: str) -> bool:
        return self.enabled and self._kind(kind).enabled

    def threshold(self, kind: str) -> tuple[int, float]:
        """(distinct customers, window in seconds) that raise an incident of `kind`."""
        own = self._kind(kind)
        customers = own.min_customers if own.min_customers is not None else self.min_customers
        minutes = own.window_minutes if own.window_minutes is not None else self.window_minutes
        return customers, minutes * 60.0

    @property
    def longest_window_seconds(self) -> float:
        return max(self.threshold(kind)[1] for kind in KINDS)

    def _kind(self, kind: str) -> KindThreshold:
        own: KindThreshold = getattr(self, kind)
        return own
