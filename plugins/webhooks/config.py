"""`[[webhooks]]`: the shop's own systems (CRM, ERP) that want events, which ones, and the secret
that signs each delivery to them."""

from __future__ import annotations

import difflib
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, RootModel, SecretStr, field_validator, model_validator

from csgw.config.plugin_sections import ConfigSection

EVENTS = ("message.created", "conversation.assigned", "conversation.closed", "customer.updated",
          "satisfaction.rated", "incident.opened", "incident.updated", "incident.closed")
MIN_SECRET_LENGTH = 16


def known_event(name: str) -> str:
    if name in EVENTS:
        return name
    close = difflib.get_close_matches(name, EVENTS, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"unknown event {name!r}{hint}; the events are {', '.join(EVENTS)}")


EventName = Annotated[str, AfterValidator(known_event)]


class Endpoint(ConfigSection):
    """One `[[webhooks]]` entry."""

    url: str
    events: list[EventName] = Field(min_length=1)
    secret: SecretStr  # never printed: repr, logs and error messages show "**********"
    # how the delivery log and health name it; by default the URL without its query (which may
    # carry a token). Deliveries are stored under this name: renaming orphans pending ones.
    name: str | None = Field(None, min_length=1, max_length=200)
    timeout_seconds: float = Field(10, gt=0, le=120)
    max_attempts: int = Field(15, ge=1, le=100)
    max_age_seconds: float = Field(86_400, gt=0)  # a delivery not through by then is failed
    retry_base_seconds: float = Field(2, gt=0)  # the first retry within this, the ceiling doubling
    retry_max_seconds: float = Field(600, gt=0)  # the back-off's ceiling
    backlog_degraded_seconds: float = Field(300, gt=0)  # health: a delivery pending this long

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return url

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`)")
        return secret

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        parts = urlsplit(self.url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


class WebhooksConfig(RootModel[list[Endpoint]]):
    """Every `[[webhooks]]` entry (none: no deliveries, nothing started)."""

    root: list[Endpoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct_names(self) -> WebhooksConfig:
        seen: set[str] = set()
        for index, endpoint in enumerate(self.root):
            if endpoint.label in seen:
                raise ValueError(f"webhooks[{index}] is named {endpoint.label!r} like an earlier entry: "
                                 "give each a distinct `name`")
            seen.add(endpoint.label)
        return self
