"""The assignment plugin's customer-facing texts (a hold for one's exclusive agent, its end, queue
updates), in the core's languages; registered with `csgw_texts`, so `[texts.*]` may reword them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csgw.gateway.texts import Texts

if TYPE_CHECKING:
    from csgw.config.schema import Settings

TEXTS: dict[str, dict[str, str]] = {
    "vip.waiting": {
        "zh-Hans": "您的专属客服 {agent} 暂时不在，正在为您联系，最多约 {minutes} 分钟，请稍候。",
        "zh-Hant": "您的專屬客服 {agent} 暫時不在，正在為您聯繫，最多約 {minutes} 分鐘，請稍候。",
        "en": "Your personal agent {agent} is away; we are reaching them, at most about {minutes} min.",
    },
    "vip.fallback": {
        "zh-Hans": "专属客服暂时无法接待，正在为您转接其他客服。",
        "zh-Hant": "專屬客服暫時無法接待，正在為您轉接其他客服。",
        "en": "Your personal agent cannot answer right now; connecting you to another agent.",
    },
    "queue.position": {
        "zh-Hans": "排队更新：您前面还有 {ahead} 位，预计等待约 {minutes} 分钟。",
        "zh-Hant": "排隊更新：您前面還有 {ahead} 位，預計等待約 {minutes} 分鐘。",
        "en": "Queue update: {ahead} ahead of you, about {minutes} min to wait.",
    },
}


def assignment_texts(settings: Settings | None = None) -> Texts:
    """The plugin's texts in the shop's wording (built-in only without settings)."""
    return Texts(TEXTS, settings.text_overrides if settings is not None else None)
