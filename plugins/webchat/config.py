"""Per-site settings of the chat widget: look, greeting and welcome questions, identity
verification, limits. Its language is every `[[channels]]` entry's `language`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from csgw.gateway.channel import ChannelConfig

MAX_WELCOME = 8


class WebchatConfig(ChannelConfig):
    plugin: Literal["webchat"] = "webchat"
    title: str | None = None  # None: "webchat.title" in the site's language
    color: str = Field("#1677ff", pattern=r"^#[0-9a-fA-F]{3,8}$")
    logo: str | None = None
    greeting: str | None = None  # None: "webchat.greeting" in the site's language; "": none
    # Suggested questions shown as buttons when the widget opens; None: the top questions of the
    # site's numbered menu; []: none
    welcome: list[str] | None = Field(None, max_length=MAX_WELCOME)
    position: Literal["right", "left"] = "right"
    # With a secret, the site signs visitor ids: sig = HMAC-SHA256(secret, visitor) hex.
    identity_secret: str | None = None
    allowed_origins: list[str] = Field(default_factory=list)
    max_text_length: int = Field(4000, ge=1, le=20_000)
    messages_per_minute: int = Field(30, ge=1)

    @field_validator("welcome")
    @classmethod
    def _questions(cls, questions: list[str] | None) -> list[str] | None:
        if questions is None:
            return None
        cleaned = [question.strip() for question in questions]
        for question in cleaned:
            if not question or len(question) > 200:
                raise ValueError("each welcome question is 1-200 characters")
        return cleaned
