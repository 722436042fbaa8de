"""The numbered menu ("question framework") as a pure state machine over the KB category tree.

The customer replies a number to descend, `0` to go back; a leaf answers and lists related
questions; one configurable number always means "talk to a person". The state is a small
JSON-able dict (`{"path": [...], "options": [...], "kind": ...}`) the gateway keeps on the
conversation, so numbers are read against the list the customer actually saw.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from csgw.config.texts import DEFAULT_LANGUAGE, LANGUAGES
from csgw.gateway.texts import Texts

from .kb import Entry

# What the menu says, registered with `csgw_texts` under "menu." (`[texts.en] "menu.intro" = …`)
TEXTS: dict[str, dict[str, str]] = {
    "menu.intro": {
        "zh-Hans": "请回复数字选择您要咨询的问题：",
        "zh-Hant": "請回覆數字選擇您要諮詢的問題：",
        "en": "Reply with a number to choose a topic:",
    },
    "menu.fallback": {
        "zh-Hans": "抱歉，我还没理解您的问题。",
        "zh-Hant": "抱歉，我還沒理解您的問題。",
        "en": "Sorry, I did not understand your question.",
    },
    "menu.clarify": {
        "zh-Hans": "您是想问：",
        "zh-Hant": "您是想問：",
        "en": "Did you mean:",
    },
    "menu.related": {
        "zh-Hans": "相关问题：",
        "zh-Hant": "相關問題：",
        "en": "Related questions:",
    },
    "menu.back_hint": {
        "zh-Hans": "回复 0 返回上一级",
        "zh-Hant": "回覆 0 返回上一級",
        "en": "reply 0 to go back",
    },
    "menu.person_hint": {
        "zh-Hans": "回复 {person} 转人工客服",
        "zh-Hant": "回覆 {person} 轉人工客服",
        "en": "reply {person} to talk to a person",
    },
    "menu.invalid": {
        "zh-Hans": "没有这个选项哦，请回复列表中的数字。",
        "zh-Hant": "沒有這個選項哦，請回覆列表中的數字。",
        "en": "That is not one of the options; please reply with a number from the list.",
    },
    "menu.handover": {
        "zh-Hans": "正在为您转接人工客服，请稍候～",
        "zh-Hant": "正在為您轉接人工客服，請稍候～",
        "en": "Connecting you with a person, please wait a moment.",
    },
    "menu.greeting": {
        "zh-Hans": "您好！很高兴为您服务～",
        "zh-Hant": "您好！很高興為您服務～",
        "en": "Hello! Happy to help.",
    },
    "menu.thanks": {
        "zh-Hans": "不客气～还有其他问题随时问我哦。",
        "zh-Hant": "不客氣～還有其他問題隨時問我哦。",
        "en": "You're welcome! Ask me anytime.",
    },
    "menu.separator": {
        "zh-Hans": "，",
        "zh-Hant": "，",
        "en": ", ",
    },
}

_CHINESE_DIGITS = {"零": "0", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5",
                   "六": "6", "七": "7", "八": "8", "九": "9", "十": "10"}
_NUMBER = re.compile(r"^\s*(\d{1,3})\s*$")


class MenuSettings(BaseModel):
    """How the menu reads and speaks. The shop words its texts in `[texts.LANGUAGE]` ("menu.intro",
    …); `texts` here is the older way (language -> key without "menu."), still read for a key
    `[texts.*]` leaves alone."""

    model_config = ConfigDict(extra="forbid")

    language: str = "zh-Hans"
    person_number: str = "9"
    texts: dict[str, dict[str, str]] = Field(default_factory=dict)  # language -> key -> text
    max_related: int = 5
    _shop_texts: Mapping[str, Mapping[str, str]] = PrivateAttr(default_factory=dict)

    @field_validator("person_number")
    @classmethod
    def _digits(cls, value: str) -> str:
        value = str(value).strip()
        if not value.isdigit() or value == "0":
            raise ValueError("person_number must be a number other than 0 (0 means back)")
        return value

    def use_shop_texts(self, overrides: Mapping[str, Mapping[str, str]]) -> None:
        """Speak with `[texts.*]` (`settings.text_overrides`), which wins over `texts`."""
        self._shop_texts = overrides

    def text(self, key: str, language: str | None = None) -> str:
        language = language or self.language
        if language not in LANGUAGES:
            language = self.language if self.language in LANGUAGES else DEFAULT_LANGUAGE
        older = self.texts.get(language, {}).get(key)
        if older and f"menu.{key}" not in self._shop_texts.get(language, {}):
            return older.replace("{person}", self.person_number)  # as the older setting always read
        return Texts(TEXTS, self._shop_texts).render(f"menu.{key}", language, person=self.person_number)


@dataclass(frozen=True, slots=True)
class MenuOption:
    number: str
    key: str  # "c:<category path>" or "e:<entry id>"
    title: str

    def to_dict(self) -> dict[str, str]:
        return {"number": self.number, "key": self.key, "title": self.title}


@dataclass(frozen=True, slots=True)
class MenuReply:
    """What the menu says: `kind` is menu, answer, clarify, invalid or handover."""

    kind: str
    text: str
    state: dict[str, Any] | None  # the menu's part of the bot state; None clears it
    options: tuple[MenuOption, ...] = ()
    entry_id: str | None = None
    path: tuple[str, ...] = ()

    @property
    def handover(self) -> bool:
        return self.kind == "handover"

    def payload(self) -> dict[str, Any]:
        if not self.options:
            return {}
        # `choices` are what chat widgets render as buttons; a button sends its key back
        return {"menu": {"options": [option.to_dict() for option in self.options],
                         "path": list(self.path)},
                "choices": [{"key": option.number, "label": option.title} for option in self.options]}


@dataclass
class _Node:
    path: tuple[str, ...]
    children: dict[str, _Node] = field(default_factory=dict)
    entries: list[str] = field(default_factory=list)


class Menu:
    """The category tree of a set of entries, and the transitions between its screens."""

    def __init__(self, entries: Sequence[Entry], settings: MenuSettings | None = None) -> None:
        self.settings = settings or MenuSettings()
        self._entries = {entry.id: entry for entry in entries}
        self._root = _Node(())
        self._nodes: dict[tuple[str, ...], _Node] = {(): self._root}
        for entry in entries:
            node = self._root
            for part in entry.category_path:
                child = node.children.get(part)
                if child is None:
                    child = node.children[part] = _Node((*node.path, part))
                    self._nodes[child.path] = child
                node = child
            node.entries.append(entry.id)
        self._visible: dict[tuple[tuple[str, ...], str | None], bool] = {}
        self._suggested: dict[tuple[str | None, int], list[str]] = {}

    @property
    def empty(self) -> bool:
        return not self._entries

    # ----- reading numbers -----

    def numbers(self, count: int) -> list[str]:
        """Option numbers 1, 2, … skipping the person number (and 0, which means back)."""
        numbers: list[str] = []
        candidate = 1
        while len(numbers) < count:
            if str(candidate) != self.settings.person_number:
                numbers.append(str(candidate))
            candidate += 1
        return numbers

    @staticmethod
    def read_number(normalized: str) -> str | None:
        """The number a message consists of ("2", "２", "二"), or None."""
        text = normalized.strip()
        if text in _CHINESE_DIGITS:
            return _CHINESE_DIGITS[text]
        match = _NUMBER.match(text)
        return str(int(match.group(1))) if match else None

    def is_person_number(self, normalized: str) -> bool:
        return self.read_number(normalized) == self.settings.person_number

    # ----- screens -----

    def _has_entries(self, node: _Node, channel: str | None) -> bool:
        key = (node.path, channel)
        if key not in self._visible:
            self._visible[key] = any(self._entries[e].serves(channel) for e in node.entries) or any(
                self._has_entries(child, channel) for child in node.children.values())
        return self._visible[key]

    def _items(self, node: _Node, channel: str | None) -> list[tuple[str, str]]:
        items = [("c:" + "/".join(child.path), name) for name, child in node.children.items()
                 if self._has_entries(child, channel)]
        items += [("e:" + entry_id, self._entries[entry_id].question) for entry_id in node.entries
                  if self._entries[entry_id].serves(channel)]
        return items

    def _lone_child(self, node: _Node, channel: str | None) -> _Node | None:
        """The only visible thing under `node`, when that is a category."""
        items = self._items(node, channel)
        if len(items) == 1 and items[0][0].startswith("c:"):
            return self._nodes[tuple(items[0][0][2:].split("/"))]
        return None

    def _descend(self, node: _Node, channel: str | None) -> _Node:
        """Skip categories whose only item is one subcategory: a one-line menu helps nobody."""
        while (child := self._lone_child(node, channel)) is not None:
            node = child
        return node

    def _parent(self, path: tuple[str, ...], channel: str | None) -> tuple[str, ...]:
        """The screen `0` goes back to: the parent, past the categories `_descend` skipped."""
        parent = path[:-1]
        while parent and self._lone_child(self._nodes[parent], channel) is not None:
            parent = parent[:-1]
        return parent

    def _options(self, items: Iterable[tuple[str, str]]) -> tuple[MenuOption, ...]:
        items = list(items)
        return tuple(MenuOption(number, key, title)
                     for number, (key, title) in zip(self.numbers(len(items)), items, strict=True))

    def _footer(self, at_root: bool, language: str | None) -> str:
        hints = [] if at_root else [self.settings.text("back_hint", language)]
        hints.append(self.settings.text("person_hint", language))
        return self.settings.text("separator", language).join(hints)

    def _render(self, head: Sequence[str], options: Sequence[MenuOption], at_root: bool,
                language: str | None) -> str:
        lines = [line for line in head if line]
        lines += [f"{option.number}. {option.title}" for option in options]
        lines.append(self._footer(at_root, language))
        return "\n".join(lines)

    def show(self, path: Sequence[str] = (), channel: str | None = None, language: str | None = None,
             prefix: str | None = None) -> MenuReply:
        """The list at `path` (the top-level categories for `()`); an unknown path shows the top."""
        node = self._nodes.get(tuple(path))
        if node is None or not self._has_entries(node, channel):
            node = self._root
        node = self._descend(node, channel)
        options = self._options(self._items(node, channel))
        text = self._render([prefix or "", self.settings.text("intro", language)], options,
                            not node.path, language)
        state = {"kind": "menu", "path": list(node.path), "options": [o.key for o in options]}
        return MenuReply("menu", text, state, options, path=node.path)

    def answer(self, entry_id: str, channel: str | None = None,
               language: str | None = None) -> MenuReply:
        """A leaf: the entry's answer, then the other questions of its category."""
        entry = self._entries[entry_id]
        node = self._nodes[entry.category_path]
        related = [(key, title) for key, title in self._items(node, channel) if key != "e:" + entry_id
                   and key.startswith("e:")][: self.settings.max_related]
        options = self._options(related)
        head = [entry.answer_for(channel)]
        if options:
            head.append("\n" + self.settings.text("related", language))
        text = self._render(head, options, False, language)
        state = {"kind": "related", "path": list(node.path), "options": [o.key for o in options]}
        return MenuReply("answer", text, state, options, entry_id=entry_id, path=node.path)

    def clarify(self, entry_ids: Sequence[str], channel: str | None = None,
                language: str | None = None) -> MenuReply:
        """Ask which of a few entries was meant: "您是想问：1. … 2. …"."""
        items = [("e:" + entry_id, self._entries[entry_id].question) for entry_id in entry_ids
                 if entry_id in self._entries]
        options = self._options(items)
        text = self._render([self.settings.text("clarify", language)], options, True, language)
        state = {"kind": "clarify", "path": [], "options": [o.key for o in options]}
        return MenuReply("clarify", text, state, options)

    def handover(self, language: str | None = None) -> MenuReply:
        return MenuReply("handover", self.settings.text("handover", language), None)

    def suggestions(self, channel: str | None = None, limit: int = 4) -> list[str]:
        """Questions to offer before the customer asks (the widget's welcome chips): the first
        question under each item of the top screen `channel` sees, then the second, …"""
        key = (channel, limit)
        if key not in self._suggested:  # asked as every visitor connects; the menu never changes
            top = self._descend(self._root, channel)
            columns = [list(islice(self._questions(item, channel), limit)) for item, _ in self._items(top, channel)]
            rows = (column[depth] for depth in range(max(map(len, columns), default=0))
                    for column in columns if depth < len(column))
            self._suggested[key] = list(dict.fromkeys(rows))[:limit]
        return list(self._suggested[key])

    def _questions(self, key: str, channel: str | None) -> Iterable[str]:
        """The questions under a menu item, in the order the menu lists them."""
        if key.startswith("e:"):
            yield self._entries[key[2:]].question
            return
        for child_key, _ in self._items(self._nodes[tuple(key[2:].split("/"))], channel):
            yield from self._questions(child_key, channel)

    # ----- transitions -----

    def handle(self, normalized: str, state: Mapping[str, Any] | None, channel: str | None = None,
               language: str | None = None) -> MenuReply | None:
        """The next screen for a number reply, or None when the message is not a number."""
        if not state and normalized.strip() in _CHINESE_DIGITS:
            return None  # a lone "一" outside a menu is more likely words than a choice
        number = self.read_number(normalized)
        if number is None:
            return None
        if number == self.settings.person_number:
            return self.handover(language)
        if not state:
            return self.show((), channel, language)
        path = tuple(state.get("path") or ())
        if number == "0":
            if state.get("kind") == "menu":
                return self.show(self._parent(path, channel) if path in self._nodes else (),
                                 channel, language)
            return self.show(path if state.get("kind") == "related" else (), channel, language)
        keys = list(state.get("options") or [])
        numbers = self.numbers(len(keys))
        if number not in numbers:
            current = self._replay(state, channel, language)
            return MenuReply("invalid", self.settings.text("invalid", language) + "\n" + current.text,
                             current.state, current.options, path=current.path)
        key = keys[numbers.index(number)]
        if key.startswith("e:") and key[2:] in self._entries:
            return self.answer(key[2:], channel, language)
        if key.startswith("c:"):
            return self.show(tuple(key[2:].split("/")), channel, language)
        return self.show((), channel, language)  # the KB changed under the customer: start over

    def _replay(self, state: Mapping[str, Any], channel: str | None, language: str | None) -> MenuReply:
        """The screen `state` describes, shown again after an invalid choice."""
        keys = [key for key in state.get("options") or [] if isinstance(key, str)]
        if state.get("kind") == "clarify":
            return self.clarify([key[2:] for key in keys if key.startswith("e:")], channel, language)
        if state.get("kind") == "related":
            titles = [(key, self._entries[key[2:]].question) for key in keys
                      if key.startswith("e:") and key[2:] in self._entries]
            options = self._options(titles)
            text = self._render([self.settings.text("related", language)], options, False, language)
            return MenuReply("menu", text, dict(state), options, path=tuple(state.get("path") or ()))
        return self.show(tuple(state.get("path") or ()), channel, language)
