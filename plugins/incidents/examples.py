"""A customer's question as an incident shows it to agents and webhooks: phone numbers, e-mail
addresses, ID numbers and addresses masked (`gateway/personal_data.py`), credentials too
(`gateway/redact.py`), shortened."""

from __future__ import annotations

import re
from functools import lru_cache

from csgw.gateway.personal_data import mask_personal_data
from csgw.gateway.redact import redact

MAX_LENGTH = 120
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=4096)  # one per ask: customers repeat each other's questions word for word
def example_text(text: str) -> str:
    masked = _SPACES.sub(" ", mask_personal_data(redact(text))).strip()
    return masked if len(masked) <= MAX_LENGTH else masked[:MAX_LENGTH - 1] + "…"
