"""WeChat events in the reply chain: following the Official Account, or entering a kf session
with a welcome code, greets the customer; a custom-menu button hands over or is left to the
knowledge base (`menu_clicks`); every other event is recorded without an answer.

Events carry no text, so without this handler the pipeline would take them as questions the
bot cannot answer and hand them over to a person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from csgw.gateway.reply import Reply, ReplyContext
from csgw.gateway.texts import Texts

if TYPE_CHECKING:
    from csgw.config.schema import Settings

GREETING_EVENT = {"wechat_oa": "subscribe", "wecom_kf": "enter_session"}

DEFAULT_GREETINGS: dict[str, dict[str, str]] = {
    "wechat_oa": {
        "zh-Hans": "感谢关注！有任何问题直接发消息给我们，回复“人工”可转接人工客服。",
        "zh-Hant": "感謝關注！有任何問題直接發訊息給我們，回覆「人工」可轉接人工客服。",
        "en": "Thanks for following! Send us a message any time; reply \"human\" to reach a person.",
    },
    "wecom_kf": {
        "zh-Hans": "您好，欢迎咨询！请问有什么可以帮您？回复“人工”可转接人工客服。",
        "zh-Hant": "您好，歡迎諮詢！請問有什麼可以幫您？回覆「人工」可轉接人工客服。",
        "en": "Hello and welcome! How can we help? Reply \"human\" to reach a person.",
    },
}


def greeting_texts(plugin: str) -> dict[str, dict[str, str]]:
    """The channel type's default greeting as a text it registers (`csgw_texts`), so that
    `[texts.*] "wechat_oa.greeting"` rewords it for every account of the type."""
    return {f"{plugin}.greeting": DEFAULT_GREETINGS[plugin]}


def greeting_for(settings: Settings, plugin: str, account: str, language: str) -> str:
    """The account's `greeting` from the config; absent: the channel type's default in the
    account's language (`language`), as `[texts.*]` words it; an empty string turns greeting off."""
    for entry in settings.channels:
        if entry.get("plugin") == plugin and entry.get("account") == account:
            if entry.get("greeting") is not None:
                return str(entry["greeting"])
    return Texts(greeting_texts(plugin), settings.text_overrides).render(f"{plugin}.greeting", language)


class EventReplies:
    """Answers (or deliberately leaves unanswered) one channel type's events."""

    priority = 1000  # before any knowledge base: there is no text to match

    def __init__(self, plugin: str, settings: Settings) -> None:
        self.plugin = plugin
        self.name = f"{plugin}_events"
        self.settings = settings

    async def reply(self, context: ReplyContext) -> Reply | None:
        if context.channel != self.plugin or context.kind != "event":
            return None
        event = context.payload.get("event")
        action = context.payload.get("menu_action")
        if action == "handover":
            return Reply(None, handover=True, source=f"{self.name}:menu")
        if action:
            return None  # entry:ID or category:NAME: the knowledge base answers the button
        welcome_code = context.payload.get("welcome_code")
        # kf: the platform only lets an account greet with the event's welcome code
        wanted = event == GREETING_EVENT[self.plugin] and (self.plugin != "wecom_kf" or welcome_code)
        text = greeting_for(self.settings, self.plugin, context.account, context.language) if wanted else ""
        if not text:
            return Reply(None, source=f"{self.name}:recorded")
        payload = {"welcome_code": welcome_code} if welcome_code else {}
        return Reply(text, source=f"{self.name}:greeting", payload=payload)
