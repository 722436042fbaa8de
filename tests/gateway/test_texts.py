"""Customer-facing texts: `Texts` renders the shop's wording over the built-in one, and a plugin's
own texts (`csgw_texts`) are known to the config check and reach its rendering."""

from __future__ import annotations

from typing import Any

import pytest
from structlog.testing import capture_logs

from csgw.api import InboundMessage, Reply, ReplyContext, Texts, hookimpl
from csgw.config.errors import ConfigError
from csgw.config.texts import LANGUAGES, placeholders
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
from csgw.testing import running_gateway

BUILT_IN = {"shop.hours": {"zh-Hans": "营业时间 {hours}", "en": "Open {hours}"}}


def test_the_shops_wording_wins_in_its_language_only():
    texts = Texts(BUILT_IN, {"en": {"shop.hours": "We are open {hours}!"}})
    assert texts.render("shop.hours", "en", hours="9-21") == "We are open 9-21!"
    assert texts.render("shop.hours", "zh-Hans", hours="9-21") == "营业时间 9-21"


def test_a_language_the_text_lacks_reads_the_simplified_chinese_as_the_shop_words_it():
    assert Texts(BUILT_IN).render("shop.hours", "zh-Hant", hours="9-21") == "营业时间 9-21"
    shop = Texts(BUILT_IN, {"zh-Hans": {"shop.hours": "{hours} 营业"}, "zh-Hant": {"shop.hours": "{hours} 營業"}})
    assert shop.render("shop.hours", "zh-Hant", hours="9-21") == "9-21 營業"
    assert Texts(BUILT_IN, {"zh-Hans": {"shop.hours": "{hours} 营业"}}).render(
        "shop.hours", "zh-Hant", hours="9-21") == "9-21 营业"


def test_a_placeholder_left_out_is_simply_not_used():
    assert Texts(BUILT_IN, {"en": {"shop.hours": "Open daily"}}).render("shop.hours", "en", hours="9-21") == "Open daily"


class OpeningHours:
    """A third-party plugin with a text of its own."""

    name = "opening_hours"
    priority = 500

    def __init__(self, settings: Any) -> None:
        self.texts = Texts(BUILT_IN, settings.text_overrides)

    async def reply(self, context: ReplyContext) -> Reply | None:
        if "营业" in context.text:
            return Reply(self.texts.render("shop.hours", context.language, hours="9:00-21:00"), source=self.name)
        return None


class OpeningHoursPlugin:
    @hookimpl
    def csgw_texts(self) -> dict[str, dict[str, str]]:
        return BUILT_IN

    @hookimpl
    def csgw_reply_handlers(self, settings: Any) -> list[OpeningHours]:
        return [OpeningHours(settings)]


async def test_a_plugins_text_is_checked_and_reworded_like_the_cores(tmp_path):
    plugin = ("opening_hours", OpeningHoursPlugin())
    wording = {"zh-Hans": {"shop": {"hours": "每天 {hours} 都在"}}}
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}], extra_plugins=[plugin],
                               texts=wording) as gw:
        await gw.services.accept(InboundMessage("fake", "a", "user-1", "几点营业？", "m1"))
        [sent] = await gw.fake("a").wait_sent(1)
        assert sent.text == "每天 9:00-21:00 都在"
    with pytest.raises(ConfigError) as caught:  # without the plugin its text is unknown
        async with running_gateway(tmp_path / "without", texts=wording):
            pass
    assert caught.value.problems == ["texts.zh-Hans.shop.hours: unknown text (`csgw texts list` shows every text)"]


def test_a_malformed_or_repeated_text_is_left_out_and_logged():
    class Careless:
        @hookimpl
        def csgw_texts(self) -> dict[str, Any]:
            return {"handover.queued": {"zh-Hans": "mine"}, "shop.a": {"en": "no zh-Hans"},
                    "shop.b": {"zh-Hans": "{oops"}, "shop.c": {"fr": "non"}, "shop.d": {"zh-Hans": "fine"}}

    host = PluginHost(get_plugin_manager(load_entrypoints=False, extra=[("careless", Careless())]))
    with capture_logs() as logs:
        tables = host.text_tables()
    assert tables["careless"] == {"shop.d": {"zh-Hans": "fine"}}
    assert host.texts()["handover.queued"]["zh-Hans"].startswith("正在为您转接")  # the core's stays
    assert sorted((entry["event"], entry["text"]) for entry in logs) == [
        ("plugin text left out", "shop.a"), ("plugin text left out", "shop.b"),
        ("plugin text left out", "shop.c"), ("text registered twice; first wins", "handover.queued")]


def test_every_builtin_text_speaks_every_language_with_the_same_placeholders():
    for key, variants in PluginHost(get_plugin_manager(only_distribution="csgw")).texts().items():
        assert tuple(variants) == LANGUAGES, key
        assert len({frozenset(placeholders(template)) for template in variants.values()}) == 1, key
