"""Agent presence beyond what agents set themselves: away after `[assignment] away_after_seconds`
without a call, and back online after such an automatic away once they use the API again."""

from __future__ import annotations

from datetime import timedelta

from csgw.gateway.clock import now
from csgw.gateway.models import Agent
from csgw.gateway.ports import ConversationOps


async def mark_quiet_agents_away(conversations: ConversationOps, away_after_seconds: float) -> None:
    """No API call or heartbeat for `away_after_seconds`: the agent is away, their offers go back."""
    if not away_after_seconds:
        return
    cutoff = now() - timedelta(seconds=away_after_seconds)
    for agent in await Agent.filter(status="online", last_seen_at__lt=cutoff):
        await conversations.set_agent_status(agent, "away", reason="inactive")


async def back_if_active(conversations: ConversationOps, agent: Agent) -> bool:
    """An agent the gateway set away (inactive, offer lapsed) who used the API since is online again.

    An agent who chose away stays away. The mark is stored with the agent, so it outlives a restart.
    """
    since = agent.auto_away_since
    if since is None or agent.status != "away" or agent.last_seen_at is None or agent.last_seen_at <= since:
        return False
    await conversations.set_agent_status(agent, "online", reason="active again")
    return True


async def bring_back_active(conversations: ConversationOps) -> None:
    """Agents set away automatically who made any API call since (the timer's half of it)."""
    for agent in await Agent.filter(status="away", auto_away_since__isnull=False):
        await back_if_active(conversations, agent)
