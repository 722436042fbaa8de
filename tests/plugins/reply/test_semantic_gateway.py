"""The model inside the gateway: a stuck model never holds up a reply, vectors survive a restart,
a large KB is answered on words while its meaning is indexed in the background."""

from __future__ import annotations

import threading

from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Message
from csgw.plugins.reply import plugin as kb_plugin
from csgw.testing import running_gateway
from tests.gateway.helpers import wait_for_condition
from tests.plugins.reply.fake_embedder import CharEmbedder

FAKE = [{"plugin": "fake", "account": "shop"}]
MODEL_ON = {"engine": {"model": "e5", "model_timeout_ms": 50, "model_queue": 2}}


def use(monkeypatch, embedder: CharEmbedder) -> None:
    monkeypatch.setattr(kb_plugin, "default_embedder", lambda settings: embedder)


def kb_handler(gw) -> kb_plugin.StoredKnowledgeBase:
    return next(h for h in gw.services.reply_handlers if isinstance(h, kb_plugin.StoredKnowledgeBase))


async def why(gw, text: str, n: int) -> dict:
    """Ask `text` as a new customer; the bot reply's explanation (`payload.why`)."""
    accepted = await gw.services.accept(InboundMessage("fake", "shop", f"user-{n}", text, f"m-{n}"))
    await gw.fake("shop").wait_sent(len(gw.fake("shop").sent) + 1)
    reply = await Message.filter(reply_to_id=accepted.message_id, sender="bot").first()
    return (reply.payload or {}).get("why") or {}


async def test_a_stuck_model_never_holds_up_a_reply(tmp_path, monkeypatch):
    embedder = CharEmbedder()
    use(monkeypatch, embedder)
    async with running_gateway(tmp_path, channels=FAKE, reply=MODEL_ON) as gw:
        handler = kb_handler(gw)
        assert handler.engine.semantic_ready
        assert (await why(gw, "可以开发票吗", 1))["semantic"] is True

        gate = threading.Event()
        embedder.gate = gate  # from here the model hangs, as on a starved core
        try:
            for n, text in enumerate(["有没有优惠券", "东西什么时候寄出", "尺码怎么选", "怎么退款"], 2):
                explained = await why(gw, text, n)  # answered all the same, on words
                assert explained["semantic"] is False and explained["decision"]
            assert handler.encoder.fallbacks >= 4 and handler.encoder.waiting <= 2
        finally:
            gate.set()
        embedder.gate = None

        async def drained() -> bool:
            return handler.encoder.waiting == 0

        await wait_for_condition(drained)
        assert (await why(gw, "哪家物流送", 9))["semantic"] is True


async def test_a_restart_reuses_the_stored_vectors(tmp_path, monkeypatch):
    first = CharEmbedder()
    use(monkeypatch, first)
    async with running_gateway(tmp_path, channels=FAKE, reply=MODEL_ON):
        pass
    assert first.texts > 100  # the demo KB's questions and paraphrases
    assert (tmp_path / "data" / kb_plugin.VECTORS_FILE).exists()

    again = CharEmbedder()
    use(monkeypatch, again)
    async with running_gateway(tmp_path, channels=FAKE, reply=MODEL_ON) as gw:
        assert kb_handler(gw).engine.semantic_ready and kb_handler(gw).engine.embedded == 0
        assert (await why(gw, "可以开发票吗", 1))["semantic"] is True
    assert again.texts == 1  # the customer's message, nothing of the KB


async def test_a_large_kb_answers_on_words_while_its_meaning_is_indexed(tmp_path, monkeypatch):
    monkeypatch.setattr(kb_plugin, "QUICK_EMBED", 0)  # every KB counts as large
    gate = threading.Event()
    embedder = CharEmbedder(gate)
    use(monkeypatch, embedder)
    try:
        async with running_gateway(tmp_path, channels=FAKE, reply=MODEL_ON) as gw:
            handler = kb_handler(gw)
            assert not handler.engine.semantic_ready  # started at once, on words
            assert (await why(gw, "可以开发票吗", 1))["semantic"] is False
            gate.set()
            await handler.ready()
            assert handler.engine.semantic_ready
            assert (await why(gw, "有没有优惠券", 2))["semantic"] is True
    finally:
        gate.set()


async def test_a_model_that_cannot_run_leaves_the_bot_on_words(tmp_path, monkeypatch):
    class Broken(CharEmbedder):
        def embed(self, texts):  # noqa: ANN001, ANN201
            raise OSError("libgomp.so.1: cannot open shared object file")

    use(monkeypatch, Broken())
    async with running_gateway(tmp_path, channels=FAKE, reply=MODEL_ON) as gw:
        handler = kb_handler(gw)
        assert not handler.engine.semantic_ready and handler.embedder is None
        explained = await why(gw, "可以开发票吗", 1)
        assert explained["semantic"] is False and explained["decision"] == "confident"


async def test_a_corrupt_vector_store_is_rebuilt_around(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / kb_plugin.VECTORS_FILE).write_bytes(b"not a database" * 100)
    embedder = CharEmbedder()
    use(monkeypatch, embedder)
    async with running_gateway(tmp_path, channels=FAKE, reply=MODEL_ON) as gw:
        assert kb_handler(gw).engine.semantic_ready and kb_handler(gw).cache is None
        assert (await why(gw, "可以开发票吗", 1))["semantic"] is True


def test_kb_cli_falls_back_to_words_when_the_model_cannot_run(tmp_path, monkeypatch):
    from csgw.plugins.reply import cli as kb_cli
    from csgw.plugins.reply.kb import Entry, KnowledgeBase
    from csgw.testing import make_settings

    class Broken(CharEmbedder):
        def embed(self, texts):  # noqa: ANN001, ANN201
            raise OSError("illegal instruction")

    monkeypatch.setattr(kb_cli, "default_embedder", lambda settings: Broken())
    kb = KnowledgeBase(entries=[Entry(id="invoice", question="可以开发票吗", answer="可以")])
    engine = kb_cli._index_meaning(make_settings(tmp_path), kb)
    assert not engine.semantic_ready and engine.match("可以开发票吗").entry_id == "invoice"
