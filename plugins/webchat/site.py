"""What the widget is told about its site in `hello`: look, language, title, greeting and the
welcome questions; title and greeting in the site's language unless its `[[channels]]` entry
words them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from csgw.gateway.texts import Texts

if TYPE_CHECKING:
    from csgw.gateway.ports import ChannelHost
    from csgw.plugins.webchat.config import WebchatConfig

# Registered with `csgw_texts`, so `[texts.en] "webchat.greeting"` rewords it for every site
TEXTS: dict[str, dict[str, str]] = {
    "webchat.title": {
        "zh-Hans": "在线客服",
        "zh-Hant": "線上客服",
        "en": "Chat with us",
    },
    "webchat.greeting": {
        "zh-Hans": "您好！有什么可以帮您？",
        "zh-Hant": "您好！有什麼可以幫您？",
        "en": "Hello! How can we help you?",
    },
}


def site_view(config: WebchatConfig, services: ChannelHost, *, asking: bool = False) -> dict[str, Any]:
    """The `config` of the `hello` frame: what the widget may know about its site. A visitor
    `asking` already (an open conversation) is offered no welcome questions."""
    language = services.language_for(config.plugin, config.account)
    texts = Texts(TEXTS, services.settings.text_overrides)
    title = texts.render("webchat.title", language) if config.title is None else config.title
    greeting = texts.render("webchat.greeting", language) if config.greeting is None else config.greeting
    welcome = [] if asking else config.welcome
    if welcome is None:
        welcome = services.suggested_questions(config.plugin, config.account)
    return {"title": title, "color": config.color, "logo": config.logo, "greeting": greeting,
            "position": config.position, "language": language, "welcome": welcome}
