"""Builtin assignment plugin: routing rules (`[assignment]`), offers, the VIP lane and its waits,
queue-position notices, automatic away and back, and the assignment timer that drives them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.hookspecs import hookimpl
from csgw.plugins.assignment.assigner import RoutingAssigner
from csgw.plugins.assignment.presence import back_if_active
from csgw.plugins.assignment.texts import TEXTS, assignment_texts
from csgw.plugins.assignment.timers import AssignmentTimer
from csgw.plugins.assignment.vip_lane import VipClassifier

if TYPE_CHECKING:
    from csgw.config.schema import Settings
    from csgw.gateway.models import Agent
    from csgw.gateway.ports import Gateway


@hookimpl
def csgw_texts() -> dict[str, dict[str, str]]:
    return TEXTS


@hookimpl
def csgw_assigners(settings: Settings) -> list[RoutingAssigner]:
    return [RoutingAssigner(settings.assignment, settings.language_for, assignment_texts(settings),
                            hours=DeskHours(settings))]


@hookimpl
def csgw_classifiers(settings: Settings) -> list[VipClassifier]:
    return [VipClassifier(settings.assignment)]


@hookimpl
def csgw_startup(services: Gateway) -> None:
    rules = services.settings.assignment
    timer = AssignmentTimer(services.conversations, rules, assignment_texts(services.settings),
                            hours=DeskHours(services.settings))
    services.timers.every("assignment", timer.tick, rules.tick_seconds)


@hookimpl
async def csgw_agent_seen(services: Gateway, agent: Agent) -> None:
    await back_if_active(services.conversations, agent)
