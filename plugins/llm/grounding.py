"""Checking a model's answer before a customer reads it: it must cite an entry it was given, and
every number in it (a price, a date, a duration, a phone number) must be written in those entries
or in the customer's own message. Anything else is dropped, and the knowledge base's own
clarification or hand-over goes out instead."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from csgw.gateway.knowledge import KnowledgeEntry

from .prompts import NO_ANSWER

CITATION = re.compile(r"\[\s*kb\s*:\s*([\w.:-]+)\s*\]", re.IGNORECASE)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_HAN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
# a Chinese numeral counts as a number in an answer only before a unit: "七天", not "一下"
_HAN_QUANTITY = re.compile(r"([零〇一二两三四五六七八九十百千万]+)(?=[个天日号周月年次件分秒元块角折倍小时钟瓦克斤米%％])")
_HAN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
               "八": 8, "九": 9}
_HAN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True, slots=True)
class Verdict:
    """`text` for the customer (citations taken out) when `ok`; else why it was dropped:
    unknown (the model said it does not know), empty, no_citation, unknown_citation,
    invented_number."""

    ok: bool
    reason: str
    text: str = ""
    cited: tuple[str, ...] = ()
    detail: str = ""


def check(answer: str, entries: Sequence[KnowledgeEntry], question: str, also: Sequence[str] = ()) -> Verdict:
    """`also`: more text whose numbers the answer may state (the customer's own orders)."""
    stripped = answer.strip()
    if NO_ANSWER in stripped:
        return Verdict(False, "unknown")
    cited = tuple(dict.fromkeys(CITATION.findall(stripped)))
    text = without_citations(stripped)
    if not text:
        return Verdict(False, "empty")
    if not cited:
        return Verdict(False, "no_citation")
    given = {entry.id for entry in entries}
    strangers = [entry_id for entry_id in cited if entry_id not in given]
    if strangers:
        return Verdict(False, "unknown_citation", detail=", ".join(strangers))
    sources = [entry.question + "\n" + entry.answer for entry in entries if entry.id in cited]
    invented = sorted(numbers_in(text, strict=True) - numbers_in([*sources, question, *also]))
    if invented:
        return Verdict(False, "invented_number", detail=", ".join(_shown(n) for n in invented))
    return Verdict(True, "grounded", text, cited)


def without_citations(text: str) -> str:
    """`text` without its [kb:ID] markers and the blanks they leave."""
    lines = [_SPACES.sub(" ", CITATION.sub("", line)).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def numbers_in(texts: str | Iterable[str], strict: bool = False) -> set[float]:
    """Every number written in `texts`, in digits or Chinese numerals (`strict`: Chinese numerals
    only where a unit follows, since 一 is also a word)."""
    found: set[float] = set()
    for text in [texts] if isinstance(texts, str) else texts:
        for match in _DIGITS.findall(text):
            found.add(_digits_value(match))
        numerals = _HAN_QUANTITY.findall(text) if strict else _HAN_NUMBER.findall(text)
        found.update(value for value in map(han_value, numerals) if value is not None)
    return found


def _digits_value(match: str) -> float:
    if "," in match and re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", match):
        match = match.replace(",", "")
    try:
        return float(match.replace(",", "."))
    except ValueError:
        return float(re.sub(r"\D", "", match) or 0)


def han_value(numeral: str) -> float | None:
    """二十五 -> 25, 两千 -> 2000, 七 -> 7; None for what is not a number (a lone 万)."""
    total, section, digit = 0, 0, None
    for char in numeral:
        if char in _HAN_DIGITS:
            digit = _HAN_DIGITS[char]
        elif char == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            section += (1 if digit is None else digit) * _HAN_UNITS[char]
            digit = None
    value = total + section + (digit or 0)
    return float(value) if value or "零" in numeral or "〇" in numeral else None


def _shown(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)
