"""Agent presence beyond what agents set themselves: back online after an automatic away, and
whether an agent can be handed one more conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csgw.gateway.models import Agent

if TYPE_CHECKING:
    from csgw.gateway.services import GatewayServices


async def back_if_active(services: GatewayServices, agent: Agent) -> bool:
    """An agent the gateway set away (inactive, offer lapsed) who used the API since is online again.

    An agent who chose away stays away. The mark is stored with the agent, so it outlives a restart.
    """
    since = agent.auto_away_since
    if since is None or agent.status != "away" or agent.last_seen_at is None or agent.last_seen_at <= since:
        return False
    await services.conversations.set_agent_status(agent, "online", reason="active again")
    return True
