"""Fast by default (`make test`); `CSGW_SOAK=1` (`make soak`) stretches outages and load to minutes."""

from __future__ import annotations

import os

SOAK = os.environ.get("CSGW_SOAK", "") not in ("", "0")


def scaled(fast: float, soak: float) -> float:
    """The fast figure in `make test`, the soak figure under `make soak`."""
    return soak if SOAK else fast
