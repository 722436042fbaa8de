"""The knowledge base as CSV, one entry a row, for operators who edit it in a spreadsheet.

Columns: id, category, question, similar, answer, answer@CHANNEL (one per channel), keywords,
priority, channels, links, images. List cells separate items with `|` (or new lines).
A `keywords` cell holds rules separated by `;` (or new lines), each written as labelled
clauses: ``all: 话费|电费, 没到  none: 优惠; any: 发货, 发出``. In `all`, `a|b` means
"a or b"; `priority: 5` sets a rule's own priority. Links are `[title](url)` or bare urls.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from .kb import Entry, KBError, KBProblem, KeywordRule, KnowledgeBase, build_entries

BASE_COLUMNS = ["id", "category", "question", "similar", "answer"]
TAIL_COLUMNS = ["keywords", "priority", "channels", "links", "images"]
ANSWER_PREFIX = "answer@"

_ITEMS = re.compile(r"[|\n]")
_RULES = re.compile(r"[;；\n]")
_WORDS = re.compile(r"[,，、]")
_LABEL = re.compile(r"(?i)\b(any|all|none|priority)\s*[:：]")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)|(\S+)")


class _CellError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _items(cell: str) -> list[str]:
    return [item.strip() for item in _ITEMS.split(cell) if item.strip()]


def _words(text: str) -> list[str]:
    return [word.strip() for word in _WORDS.split(text) if word.strip()]


def parse_rules(cell: str) -> list[dict[str, Any]]:
    """The rules of one `keywords` cell, as mappings `KeywordRule` validates."""
    rules: list[dict[str, Any]] = []
    for text in _RULES.split(cell):
        text = text.strip()
        if not text:
            continue
        labels = list(_LABEL.finditer(text))
        if not labels or labels[0].start() != 0 and text[: labels[0].start()].strip():
            raise _CellError("keywords", f"rule {text!r} must start with any:, all: or none:")
        rule: dict[str, Any] = {}
        for number, label in enumerate(labels):
            end = labels[number + 1].start() if number + 1 < len(labels) else len(text)
            name, value = label.group(1).lower(), text[label.end():end].strip()
            if name in rule:
                raise _CellError("keywords", f"rule {text!r} has `{name}:` twice")
            if name == "priority":
                try:
                    rule[name] = int(value)
                except ValueError:
                    raise _CellError("keywords", f"priority {value!r} is not a whole number") from None
            elif name == "all":
                groups = [[alt.strip() for alt in word.split("|") if alt.strip()] for word in _words(value)]
                rule[name] = [group[0] if len(group) == 1 else group for group in groups if group]
            else:
                rule[name] = [alt.strip() for word in _words(value) for alt in word.split("|") if alt.strip()]
        rules.append(rule)
    return rules


def render_rules(rules: list[KeywordRule]) -> str:
    def clause(name: str, items: list[str | list[str]]) -> str:
        return f"{name}: " + ", ".join(item if isinstance(item, str) else "|".join(item) for item in items)

    parts = []
    for rule in rules:
        clauses = []
        if rule.all:
            clauses.append(clause("all", rule.all))
        if rule.any:
            clauses.append(clause("any", list(rule.any)))
        if rule.none:
            clauses.append(clause("none", list(rule.none)))
        if rule.priority is not None:
            clauses.append(f"priority: {rule.priority}")
        parts.append("  ".join(clauses))
    return "; ".join(parts)


def _links(cell: str) -> list[dict[str, str]]:
    links = []
    for match in _LINK.finditer(cell):
        title, url, bare = match.groups()
        links.append({"url": url, "title": title} if url else {"url": bare})
    return links


def _render_links(entry: Entry) -> str:
    return " ".join(f"[{link.title}]({link.url})" if link.title else link.url for link in entry.links)


def _row_to_raw(row: dict[str, str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for column, value in row.items():
        if column is None:
            raise _CellError("row", "has more cells than the header has columns")
        value = (value or "").strip()
        column = column.strip()
        if not value:
            continue
        if column in ("id", "category", "question", "answer"):
            raw[column] = value
        elif column.startswith(ANSWER_PREFIX):
            raw.setdefault("answers", {})[column[len(ANSWER_PREFIX):]] = value
        elif column == "similar":
            raw["similar"] = _items(value)
        elif column == "keywords":
            raw["keywords"] = parse_rules(value)
        elif column == "priority":
            try:
                raw["priority"] = int(value)
            except ValueError:
                raise _CellError("priority", f"{value!r} is not a whole number") from None
        elif column == "channels":
            raw["channels"] = [item for item in re.split(r"[|,\s]+", value) if item]
        elif column == "links":
            raw["links"] = _links(value)
        elif column == "images":
            raw["images"] = [item for item in re.split(r"[|\s]+", value) if item]
        else:
            raise _CellError(column, "is not a known column")
    return raw


def parse_csv(text: str, source: str | None = None) -> KnowledgeBase:
    """A knowledge base from CSV text (a header row, then one entry a row)."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in ("id", "question", "answer") if name not in header]
    if missing:
        raise KBError([KBProblem(field=missing[0], message="column is missing from the header row")],
                      source)
    raws: list[dict[str, Any]] = []
    rows: list[int] = []
    problems: list[KBProblem] = []
    for row_number, row in enumerate(reader, start=2):  # row 1 is the header
        if not any((value or "").strip() for key, value in row.items() if key is not None):
            continue
        try:
            raws.append(_row_to_raw(row))
            rows.append(row_number)
        except _CellError as error:
            problems.append(KBProblem(index=row_number, unit="row", field=error.field,
                                      entry_id=(row.get("id") or "").strip() or None,
                                      message=str(error)))
    entries = build_entries(raws, source, positions=rows, unit="row", problems=problems)
    return KnowledgeBase(entries=entries)


def render_csv(kb: KnowledgeBase) -> str:
    """The knowledge base as CSV that `parse_csv` reads back to equal entries."""
    channels = sorted({channel for entry in kb.entries for channel in entry.answers})
    columns = BASE_COLUMNS + [ANSWER_PREFIX + channel for channel in channels] + TAIL_COLUMNS
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for entry in kb.entries:
        row = {
            "id": entry.id,
            "category": entry.category or "",
            "question": entry.question,
            "similar": " | ".join(entry.similar),
            "answer": entry.answer,
            "keywords": render_rules(entry.keywords),
            "priority": str(entry.priority) if entry.priority else "",
            "channels": ", ".join(entry.channels or []),
            "links": _render_links(entry),
            "images": " ".join(entry.images),
        }
        for channel in channels:
            row[ANSWER_PREFIX + channel] = entry.answers.get(channel, "")
        writer.writerow(row)
    return out.getvalue()
