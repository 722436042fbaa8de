"""What both sides of the fake WeChat platform share: the call record, errcode answers, pushes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from defusedxml.ElementTree import fromstring


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    json: Any = None
    form: dict[str, Any] = field(default_factory=dict)


CALL = web.RequestKey("call", Call)


def errcode(code: int, msg: str) -> web.Response:
    return web.json_response({"errcode": code, "errmsg": msg})


def call_of(request: web.Request) -> Call:
    return request[CALL]


def xml_fields(text: str) -> dict[str, str]:
    """The flat fields of a WeChat XML document."""
    return {child.tag: (child.text or "") for child in fromstring(text)}


@dataclass(frozen=True)
class Delivery:
    """The channel's answer to one push; `fields` is the passive reply, decrypted if need be."""

    status: int
    body: str
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str | None:
        return self.fields.get("Content")
