"""Builtin assignment plugin: routing rules (`[assignment]`), the VIP lane and the assignment timer."""

from __future__ import annotations

from typing import Any

from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.routing import Ticker
from csgw.plugins.assignment.assigner import RoutingAssigner
from csgw.plugins.assignment.timers import AssignmentTimer
from csgw.plugins.assignment.vip_lane import VipClassifier


@hookimpl
def csgw_assigners(settings: Any) -> list[RoutingAssigner]:
    return [RoutingAssigner(settings.assignment)]


@hookimpl
def csgw_classifiers(settings: Any) -> list[VipClassifier]:
    return [VipClassifier(settings.assignment)]


@hookimpl
def csgw_startup(services: Any) -> None:
    timer = AssignmentTimer(services)
    Ticker.start_for(services, "assignment", timer.tick, services.settings.assignment.tick_seconds)


@hookimpl
def csgw_shutdown(services: Any) -> Any:
    return Ticker.stop_for(services, "assignment")
