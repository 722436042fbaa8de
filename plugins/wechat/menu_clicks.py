"""Custom-menu buttons of an Official Account: `[[channels]] menu = { KEY = ACTION }` says what a
CLICK on the button with that key does. ACTION is `entry:ID` (that knowledge-base answer),
`category:NAME` (that category's numbered list; `A/B` for a sub-category) or `handover` (a person).

The channel tags the click's event with its action (`menu_action` in the payload); the knowledge
base answers entries and categories, `EventReplies` hands over."""

from __future__ import annotations

import re

MAX_KEY_BYTES = 128  # WeChat's limit for a CLICK button's key
_ACTION = re.compile(r"^(entry:\S.*|category:\S.*|handover)$")


def checked_menu(menu: dict[str, str]) -> dict[str, str]:
    """The menu setting, or ValueError naming the first key or action that cannot work."""
    for key, action in menu.items():
        if not key or len(key.encode()) > MAX_KEY_BYTES:
            raise ValueError(f"menu key {key!r}: 1 to {MAX_KEY_BYTES} bytes, as WeChat allows")
        if not isinstance(action, str) or not _ACTION.match(action.strip()):
            raise ValueError(f"menu key {key!r}: {action!r} is not entry:ID, category:NAME or handover")
    return {key: action.strip() for key, action in menu.items()}

