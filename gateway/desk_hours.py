"""Which business hours apply to a conversation: its group's own (`[assignment.groups.NAME]
hours`), else its channel account's (`[[channels]] hours`), else `[hours]`; with none of them
the desk never closes, as before hours existed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from csgw.config.hours import HoursSettings
from csgw.gateway.hours import Schedule

if TYPE_CHECKING:
    from csgw.config.schema import Settings


class DeskHours:
    def __init__(self, settings: Settings) -> None:
        shop = settings.hours
        # a channel's or a group's hours without a zone are in the zone of `[hours]`
        zone = (shop.timezone if shop else "") or settings.server.timezone
        self.shop = Schedule.from_settings(shop, settings.server.timezone) if shop else None
        self.channels = {(str(entry["plugin"]), str(entry["account"])):
                         Schedule.from_settings(HoursSettings.model_validate(entry["hours"]), zone)
                         for entry in settings.channels if entry.get("hours") is not None}
        self.groups = {name: Schedule.from_settings(group.hours, zone)
                       for name, group in settings.assignment.groups.items() if group.hours is not None}

    @property
    def configured(self) -> bool:
        """Whether any hours are set at all."""
        return self.shop is not None or bool(self.channels) or bool(self.groups)

    def schedule_for(self, group: str | None, channel: str, account: str) -> Schedule | None:
        """The hours a conversation in `group` from (channel, account) keeps; None: always open."""
        if group is not None and group in self.groups:
            return self.groups[group]
        return self.channels.get((channel, account), self.shop)

    def closed(self, group: str | None, channel: str, account: str, at: datetime) -> bool:
        schedule = self.schedule_for(group, channel, account)
        return schedule is not None and not schedule.is_open(at)

    def agent_off_shift(self, groups: list[str], at: datetime) -> bool:
        """An agent is off shift when every group they are in keeps its own hours, and all of
        those are closed; an agent in no such group keeps the conversation's hours."""
        own = [self.groups[name] for name in groups if name in self.groups]
        return bool(own) and len(own) == len(groups) and not any(s.is_open(at) for s in own)

    def schedules(self) -> Iterator[Schedule]:
        """Every schedule set, `[hours]` first."""
        if self.shop is not None:
            yield self.shop
        yield from self.channels.values()
        yield from self.groups.values()
