"""The builtin agent console: static pages at `/console/` over the agent API."""

from __future__ import annotations

from csgw.plugins.console.routes import csgw_routes

__all__ = ["csgw_routes"]
