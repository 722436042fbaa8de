"""Fixtures for the reply-engine tests: the demo shop knowledge base and an engine over it."""

from __future__ import annotations

import logging
from pathlib import Path

import jieba
import pytest

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
