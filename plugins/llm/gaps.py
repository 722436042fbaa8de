"""`csgw kb gaps` named and grouped by the model, with a draft knowledge-base entry per topic.

The input is `csgw kb gaps --json` (clusters of near-identical unanswered questions); the model
groups the clusters that ask the same thing, names each topic and drafts an entry whose answer
marks every fact the shop must supply. Drafts are written to a YAML file for review and
`csgw kb import`: nothing here touches the live knowledge base.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml

from csgw.gateway.personal_data import mask_personal_data

from . import prompts
from .client import LlmError
from .model import LanguageModel

MAX_GAPS = 100  # clusters sent to the model (the most asked first)
MAX_EXAMPLES = 5
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class GapsInputError(ValueError):
    """The input is not `csgw kb gaps --json` output."""


@dataclass(frozen=True, slots=True)
class Gap:
    text: str
    count: int
    examples: tuple[str, ...] = ()


@dataclass
class Topic:
    name: str
    gaps: list[Gap]
    question: str
    answer: str
    examples: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(gap.count for gap in self.gaps)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "count": self.count, "questions": [gap.text for gap in self.gaps],
                "draft": {"question": self.question, "similar": self.examples, "answer": self.answer}}


def read_gaps(text: str) -> list[Gap]:
    try:
        items = json.loads(text)
    except ValueError:
        raise GapsInputError("the input is not JSON: pipe `csgw kb gaps --json` into this command") from None
    if not isinstance(items, list):
        raise GapsInputError("the input is not a list: pipe `csgw kb gaps --json` into this command")
    gaps = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not isinstance(item.get("count"), int):
            raise GapsInputError(f"item {number} has no text and count: is it `csgw kb gaps --json` output?")
        examples = tuple(str(example) for example in item.get("examples") or () if isinstance(example, str))
        gaps.append(Gap(item["text"], item["count"], examples[:MAX_EXAMPLES]))
    return sorted(gaps, key=lambda gap: -gap.count)[:MAX_GAPS]


async def name_topics(model: LanguageModel, gaps: list[Gap], language: str) -> tuple[list[Topic], list[Gap]]:
    """Topics, most asked first, and the gaps the model left out of every topic."""
    questions = [(model.outgoing(gap.text), gap.count) for gap in gaps]
    completion = await model.ask("gaps", prompts.gaps(questions, language),
                                 timeout=model.config.assist_timeout_seconds, max_tokens=4096)
    topics = parse_topics(completion.text, gaps)
    grouped = {id(gap) for topic in topics for gap in topic.gaps}
    return sorted(topics, key=lambda topic: -topic.count), [gap for gap in gaps if id(gap) not in grouped]


def parse_topics(text: str, gaps: list[Gap]) -> list[Topic]:
    """The model's JSON (fenced or not); each question number used once, unknown ones ignored."""
    found = _JSON_OBJECT.search(text)
    try:
        document = json.loads(found.group(0)) if found else None
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("topics"), list):
        raise LlmError("bad_response", "the model did not answer with the topics as JSON")
    used: set[int] = set()
    topics = []
    for item in document["topics"]:
        if not isinstance(item, dict):
            continue
        numbers = [n for n in item.get("questions") or [] if isinstance(n, int) and 1 <= n <= len(gaps) and n not in used]
        name, question, answer = (str(item.get(key) or "").strip() for key in ("name", "question", "answer"))
        if not numbers or not name or not question:
            continue
        used.update(numbers)
        members = [gaps[n - 1] for n in numbers]
        examples = list(dict.fromkeys(text for gap in members for text in (gap.text, *gap.examples) if text != question))
        topics.append(Topic(name, members, question, answer or "【待填写】", examples[:10]))
    return topics


def drafts_yaml(topics: list[Topic], model_name: str) -> str:
    """A knowledge-base YAML file of the drafts, to review and then `csgw kb import`; customers'
    personal data never goes into it."""
    entries = [{"id": f"draft-{number}", "question": topic.question,
                "similar": list(dict.fromkeys(mask_personal_data(text) for text in topic.examples)),
                "answer": topic.answer} for number, topic in enumerate(topics, 1)]
    head = (f"# Draft knowledge-base entries from `csgw llm gaps` ({model_name}, "
            f"{datetime.now(UTC):%Y-%m-%d}).\n"
            "# Not live: review each one (fill in every 【待填写：…】, give it a real id and category),\n"
            "# delete what you do not want, then `csgw kb import` this file.\n")
    return head + yaml.safe_dump({"entries": entries}, allow_unicode=True, sort_keys=False, width=100)
