"""Where a knowledge-base entry answers. Its `channels` name channel plugins (`webchat`: every site)
or single accounts (`webchat/shoes`: that site only); a message is matched as asked from its
`plugin/account`, and `kb test --channel` may ask as either."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from csgw.config.schema import Settings

_SCOPE = re.compile(r"^[^/\s]+(?:/[^/\s]+)?\Z")


class ScopeError(ValueError):
    """A `channels` value (or `--channel`) that is neither `plugin` nor `plugin/account`."""


def checked_scope(value: str) -> str:
    """`value` stripped, if it is `plugin` or `plugin/account`; else `ScopeError` saying so."""
    scope = str(value).strip()
    if not _SCOPE.match(scope):
        raise ScopeError(f"{value!r} is not a channel: write a plugin (webchat) or plugin/account "
                         f"(webchat/shoes), without spaces")
    return scope


def site_of(channel: str, account: str) -> str:
    """Where a message of one `[[channels]]` account is asked from."""
    return f"{channel}/{account}"


def plugin_of(where: str) -> str:
    return where.partition("/")[0]


def language_of(where: str, settings: Settings) -> str:
    """The language customers at `where` read (a bare plugin: the shop's default)."""
    plugin, _, account = where.partition("/")
    return settings.language_for(plugin, account)


def serves(scopes: Collection[str] | None, where: str | None) -> bool:
    """Whether an entry limited to `scopes` (None: everywhere) answers a message from `where`
    (None: from anywhere, as `kb test` asks by default). A plugin's scope covers all its accounts;
    asked as a bare plugin, only entries for the whole plugin (or everywhere) answer."""
    if where is None or scopes is None or where in scopes:
        return True
    plugin = plugin_of(where)
    return plugin != where and plugin in scopes


def most_specific(keys: Collection[str], where: str | None) -> str | None:
    """Of per-channel answers' `keys`, the one for `where`: its account's, else its plugin's."""
    if where is None:
        return None
    for key in (where, plugin_of(where)):
        if key in keys:
            return key
    return None
