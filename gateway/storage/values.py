"""What the stores can hold: ids within their BIGINT, text that UTF-8 can encode. Checked where
values come in (the API, the widget's frames, history imports) before they reach SQL."""

from __future__ import annotations

MAX_ID = 2**63 - 1  # the stores' BIGINT: a larger number names nothing and must not reach SQL


def parse_id(raw: str | None) -> int | None:
    """The one reader of ids from paths, queries and cursors: ASCII digits only ("²" and a
    trailing newline are not digits here), within the stores' integer range; None otherwise."""
    if not raw or not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if value <= MAX_ID else None


def is_storable(text: str) -> bool:
    """Whether the stores can hold the text: UTF-8 has no lone surrogate ("\\ud800")."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
