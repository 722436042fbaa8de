"""Builtin escalation plugin: keyword lanes (`[escalation] rules`) and waiting-time limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.hookspecs import hookimpl
from csgw.plugins.escalation.classifier import RuleClassifier
from csgw.plugins.escalation.limits import WaitingLimits

if TYPE_CHECKING:
    from csgw.config.schema import Settings
    from csgw.gateway.ports import Gateway


@hookimpl
def csgw_classifiers(settings: Settings) -> list[RuleClassifier]:
    return [RuleClassifier(settings.escalation.rules)]


@hookimpl
def csgw_startup(services: Gateway) -> None:
    rules = services.settings.escalation
    limits = WaitingLimits(services.conversations, rules, services.http, DeskHours(services.settings))
    services.timers.every("escalation", limits.tick, rules.tick_seconds)
