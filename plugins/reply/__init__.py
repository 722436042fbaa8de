"""The knowledge-base reply engine: keyword rules, retrieval, the numbered menu, hand-over words.

Pure library code: `ReplyEngine.from_kb(load_kb(path))` needs no database and no gateway;
`KnowledgeBaseReplies(engine)` plugs it into the gateway as a `ReplyHandler`.
"""

from __future__ import annotations

from . import jieba_import  # noqa: F401  # first: jieba without pkg_resources
from .engine import EngineSettings, MatchResult, ReplyEngine
from .handler import KnowledgeBaseReplies
from .kb import (
    Entry,
    KBError,
    KeywordRule,
    KnowledgeBase,
    load_kb,
    parse_yaml,
    render_yaml,
    save_kb,
)
from .kb_csv import parse_csv, render_csv
from .menu import MenuSettings
from .retrieval import RetrievalSettings

__all__ = [
    "EngineSettings",
    "Entry",
    "KBError",
    "KeywordRule",
    "KnowledgeBase",
    "KnowledgeBaseReplies",
    "MatchResult",
    "MenuSettings",
    "ReplyEngine",
    "RetrievalSettings",
    "load_kb",
    "parse_csv",
    "parse_yaml",
    "render_csv",
    "render_yaml",
    "save_kb",
]
