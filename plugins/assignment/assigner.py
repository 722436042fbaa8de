"""The builtin assigner: VIP exclusive agent, the returning customer's agent (if in the group), then
least load or round robin among the group's free agents.

Three answers: assign to a free agent (an offer, when offers are on), hold for an exclusive agent
(up to the VIP limit), or queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from csgw.config.schema import AssignmentSettings
from csgw.config.texts import DEFAULT_LANGUAGE
from csgw.gateway.assignment_view import AssignmentView
from csgw.gateway.clock import now
from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.models import Agent
from csgw.gateway.routing import AssignmentDecision, AssignmentRequest
from csgw.gateway.texts import Texts
from csgw.plugins.assignment.offers import OFFER, offer_flags
from csgw.plugins.assignment.texts import assignment_texts
from csgw.plugins.assignment.vip import is_vip
from csgw.plugins.assignment.vip_waits import FALLBACK, WAIT_UNTIL, hold

NEVER = datetime.min.replace(tzinfo=UTC)


class RoutingAssigner:
    name = "basic_assignment"
    priority = 0
    handover_flags = (OFFER, WAIT_UNTIL)
    reads_view = True

    def __init__(self, rules: AssignmentSettings, language_for: Callable[[str, str], str] | None = None,
                 texts: Texts | None = None, hours: DeskHours | None = None) -> None:
        self.rules = rules
        self.language_for = language_for or (lambda channel, account: DEFAULT_LANGUAGE)
        self.texts = texts or assignment_texts()
        self.hours = hours

    async def decide(self, request: AssignmentRequest) -> AssignmentDecision:
        decision = await self.choose(request)
        if decision.action == "assign" and decision.agent_id is not None:
            flags = offer_flags(decision.agent_id, self.rules.offer_timeout_seconds)
            return AssignmentDecision("assign", decision.agent_id, decision.group, decision.reason, flags)
        return decision

    async def choose(self, request: AssignmentRequest) -> AssignmentDecision:
        view = request.view if request.view is not None else await AssignmentView.read()
        free = view.free()
        by_id = {a.id: a for a in free}
        exclusive = request.customer.get("exclusive_agent_id")
        if exclusive and is_vip(request.customer, self.rules) and not request.flags.get(FALLBACK):
            if exclusive in by_id:
                return AssignmentDecision("assign", agent_id=exclusive, group=request.group, reason="exclusive agent")
            agent = view.agents.get(exclusive) if self.rules.vip_wait_seconds > 0 else None
            if agent is not None:
                flags, note = hold(agent, request.flags, self.rules.vip_wait_seconds, self.texts,
                                   self.language_for(request.channel, request.account))
                return AssignmentDecision("wait", agent_id=exclusive, group=request.group,
                                          reason="exclusive agent busy or away", flags=flags, note=note)
        eligible = [a for a in free if (request.group is None or request.group in (a.skills or []))
                    and not self.off_shift(a)]
        previous = request.previous_agent_id
        if self.rules.prefer_previous_agent and previous in {a.id for a in eligible}:
            return AssignmentDecision("assign", agent_id=previous, group=request.group, reason="returning customer")
        if not eligible:
            return AssignmentDecision("queue", group=request.group, reason="no free agent")
        if self.rules.mode == "round_robin":
            best = min(eligible, key=lambda a: (a.last_assigned_at or NEVER, a.id))
        else:
            best = min(eligible, key=lambda a: (view.load(a.id), a.last_assigned_at or NEVER, a.id))
        return AssignmentDecision("assign", agent_id=best.id, group=request.group, reason=self.rules.mode)

    def off_shift(self, agent: Agent) -> bool:
        """Whether every group the agent is in keeps its own hours and is closed now."""
        return self.hours is not None and self.hours.agent_off_shift(agent.skills or [], now())
