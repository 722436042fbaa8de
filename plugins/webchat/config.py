"""Per-site settings of the chat widget: look, language, identity verification, limits."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from csgw.gateway.channel import ChannelConfig


class WebchatConfig(ChannelConfig):
    plugin: Literal["webchat"] = "webchat"
    title: str = "在线客服"
    color: str = Field("#1677ff", pattern=r"^#[0-9a-fA-F]{3,8}$")
    logo: str | None = None
    greeting: str = "您好！有什么可以帮您？"
    position: Literal["right", "left"] = "right"
    language: Literal["zh-Hans", "zh-Hant", "en"] = "zh-Hans"
    # With a secret, the site signs visitor ids: sig = HMAC-SHA256(secret, visitor) hex.
    identity_secret: str | None = None
    allowed_origins: list[str] = Field(default_factory=list)
    max_text_length: int = Field(4000, ge=1, le=20_000)
    messages_per_minute: int = Field(30, ge=1)

    def public(self) -> dict[str, object]:
        """What the widget may know about its site."""
        return {"title": self.title, "color": self.color, "logo": self.logo, "greeting": self.greeting,
                "position": self.position, "language": self.language}
