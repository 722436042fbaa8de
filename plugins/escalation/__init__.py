"""Builtin escalation plugin: keyword lanes (`[escalation] rules`) and waiting-time limits."""

from __future__ import annotations

from typing import Any

from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.routing import Ticker
from csgw.plugins.escalation.classifier import RuleClassifier
from csgw.plugins.escalation.limits import WaitingLimits


@hookimpl
def csgw_classifiers(settings: Any) -> list[RuleClassifier]:
    return [RuleClassifier(settings.escalation.rules)]


@hookimpl
def csgw_startup(services: Any) -> None:
    limits = WaitingLimits(services)
    Ticker.start_for(services, "escalation", limits.tick, services.settings.escalation.tick_seconds)


@hookimpl
def csgw_shutdown(services: Any) -> Any:
    return Ticker.stop_for(services, "escalation")
