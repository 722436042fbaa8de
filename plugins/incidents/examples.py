"""A customer's question as an incident shows it to agents and webhooks: credentials, phone
numbers, e-mail addresses and other long numbers (orders, cards, IDs) masked, shortened."""

from __future__ import annotations

import re

from csgw.gateway.redact import MASK, redact

MAX_LENGTH = 120
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# six digits or more, maybe grouped by spaces or dashes: "13800138000", "138-0013-8000"
_NUMBER = re.compile(r"\+?\d(?:[\s-]?\d){5,}")
_SPACES = re.compile(r"\s+")


def example_text(text: str) -> str:
    masked = _NUMBER.sub(MASK, _EMAIL.sub(MASK, redact(text)))
    masked = _SPACES.sub(" ", masked).strip()
    return masked if len(masked) <= MAX_LENGTH else masked[:MAX_LENGTH - 1] + "…"
