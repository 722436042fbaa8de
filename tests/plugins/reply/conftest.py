"""Fixtures for the reply-engine tests: the demo shop knowledge base and an engine over it."""

from __future__ import annotations

import logging
from pathlib import Path

import jieba
import pytest

from csgw.plugins.reply.embeddings import E5Embedder, VectorCache
from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.kb import KnowledgeBase, load_kb

FIXTURES = Path(__file__).parent / "fixtures"

jieba.setLogLevel(logging.WARNING)


@pytest.fixture(scope="session")
def shop_kb() -> KnowledgeBase:
    return load_kb(FIXTURES / "shop_kb.yaml")


@pytest.fixture(scope="session")
def engine(shop_kb: KnowledgeBase) -> ReplyEngine:
    """Shared by read-only tests; a test that rebuilds builds its own."""
    return ReplyEngine.from_kb(shop_kb)


@pytest.fixture(scope="session")
def e5(tmp_path_factory: pytest.TempPathFactory) -> tuple[E5Embedder, VectorCache]:
    """The real bundled model and one vector store for the whole run (texts embed once)."""
    return E5Embedder(), VectorCache(tmp_path_factory.mktemp("vectors") / "vectors.sqlite")


@pytest.fixture(scope="session")
def semantic_engine(shop_kb: KnowledgeBase, e5: tuple[E5Embedder, VectorCache]) -> ReplyEngine:
    """The demo shop KB as the gateway runs it by default: words and meaning."""
    return ReplyEngine.from_kb(shop_kb, embedder=e5[0], cache=e5[1])
