"""`csgw_knowledge_search` answered by the knowledge base: the entries nearest to a message as
asked from one channel account, with their answers there, for plugins through `services.knowledge`."""

from __future__ import annotations

from structlog.testing import capture_logs

from csgw.gateway.hookspecs import hookimpl
from csgw.testing import running_gateway
from tests.plugins.reply.test_scopes import SITES_KB

SITES = [{"plugin": "webchat", "account": "shoes"}, {"plugin": "webchat", "account": "intl", "language": "en"}]


class BrokenSearch:
    @hookimpl
    def csgw_knowledge_search(self, text, limit):
        raise RuntimeError("search index gone")


async def test_the_nearest_entries_come_with_the_answer_for_the_asking_account(tmp_path):
    (tmp_path / "kb.yaml").write_text(SITES_KB, encoding="utf-8")
    async with running_gateway(tmp_path, channels=SITES, reply={"knowledge_base": "kb.yaml"},
                               extra_plugins=[("broken_search", BrokenSearch())]) as gw:
        knowledge = gw.services.knowledge
        with capture_logs() as logged:  # a broken plugin is asked first, logged and passed over
            (first, *others) = await knowledge("运费多少钱", "webchat", "intl", 3)
        assert [event["plugin"] for event in logged if event["event"] == "knowledge search failed"] == ["broken_search"]
        assert (first.id, first.question, first.answer) == ("ship-fee", "运费怎么算？", "Free shipping over 99 yuan.")
        assert first.category == "物流" and others and first.score >= max(entry.score for entry in others)
        assert len(await knowledge("运费多少钱", "webchat", "intl", 1)) == 1
        shoes = {entry.id for entry in await knowledge("鞋码怎么选", "webchat", "shoes", 5)}
        intl = {entry.id for entry in await knowledge("鞋码怎么选", "webchat", "intl", 5)}
        assert "shoe-size" in shoes and "shoe-size" not in intl  # scoped to the other site
        assert [entry.id for entry in await knowledge("ship abroad?", "webchat", "intl", 1)] == ["intl-shipping"]
        assert "intl-shipping" not in {entry.id for entry in await knowledge("ship abroad?", "webchat", "shoes", 5)}
