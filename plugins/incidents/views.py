"""An incident as the agent API, the event bus and webhooks show it."""

from __future__ import annotations

from typing import Any

from csgw.gateway.views import iso

from .models import Incident


def incident_view(row: Incident) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "key": row.key,
        "title": row.title,
        "state": "open" if row.closed_at is None else "closed",
        "customers": row.customers,
        "examples": list(row.examples or []),
        "opened_at": iso(row.opened_at),
        "last_asked_at": iso(row.last_asked_at),
        "closed_at": iso(row.closed_at),
        "close_reason": row.close_reason,
        "closed_by": row.closed_by,
        "broadcast": row.broadcast,
        "broadcast_at": iso(row.broadcast_at),
        "broadcast_by": row.broadcast_by,
    }
