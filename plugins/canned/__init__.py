"""Builtin canned-replies plugin: agents' ready answers (title, shortcut such as `/退款`, text with
`{customer_name}`-style variables), shared or per group, at `/api/v1/canned`; the console's
composer offers them on `/` and Ctrl+K."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csgw.gateway.hookspecs import hookimpl

if TYPE_CHECKING:
    from csgw.gateway.api.routes import ApiRoute
    from csgw.gateway.ports import Gateway


@hookimpl
def csgw_models() -> list[str]:
    return ["csgw.plugins.canned.models"]


@hookimpl
def csgw_routes(services: Gateway) -> list[ApiRoute]:
    from csgw.plugins.canned.api import routes

    return list(routes)
