"""Agent presence beyond what agents set themselves: back online after an automatic away, and
whether an agent can be handed one more conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csgw.gateway.models import Agent

if TYPE_CHECKING:
    from csgw.gateway.services import GatewayServices


def transfer_refusal(agent: Agent, load: int) -> tuple[str, str] | None:
    """(code, message) when `agent` cannot take a transfer now; None when they can."""
    who = agent.display_name or agent.name
    hint = 'send "force": true to transfer anyway'
    if agent.status == "offline":
        return "agent_offline", f"{who} is offline; {hint}"
    if agent.status == "away":
        return "agent_away", f"{who} is away; {hint}"
    if load >= agent.max_concurrent:
        return "agent_full", f"{who} already has {load} of {agent.max_concurrent} conversations; {hint}"
    return None


async def back_if_active(services: GatewayServices, agent: Agent) -> bool:
    """An agent the gateway set away (inactive, offer lapsed) who used the API since is online again.

    An agent who chose away stays away. The mark is stored with the agent, so it outlives a restart.
    """
    since = agent.auto_away_since
    if since is None or agent.status != "away" or agent.last_seen_at is None or agent.last_seen_at <= since:
        return False
    await services.conversations.set_agent_status(agent, "online", reason="active again")
    return True


async def bring_back_active(services: GatewayServices) -> None:
    """Agents set away automatically who made any API call since (the timer's half of it)."""
    for agent in await Agent.filter(status="away", auto_away_since__isnull=False):
        await back_if_active(services, agent)
