"""Where to reach a gateway from this machine."""

from __future__ import annotations


def base_url(host: str, port: int) -> str:
    """Where to open a gateway listening on host:port from this machine (a wildcard host: loopback)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
