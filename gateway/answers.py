"""The answer the pipeline decided for one message, before it is stored, and the plugins that may
put another in its place (`csgw_reply_overrides`): an incident's broadcast, for instance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from csgw.gateway.reply import Reply, ReplyContext
from csgw.gateway.routing import Classification


@dataclass(frozen=True, slots=True)
class Decision:
    """One message's answer as decided: the reply handlers' (None when nobody answered or the
    classifiers handed the message over) and the classifiers' verdict."""

    context: ReplyContext
    reply: Reply | None
    verdict: Classification


class ReplyOverride(Protocol):
    """Sees every decision the bot makes; a `Reply` it returns is sent instead of the decided one
    (the hand-over the verdict or the reply asked for still happens)."""

    name: str

    async def override(self, decision: Decision) -> Reply | None: ...
