"""The knowledge base's entry model and its YAML form (CSV lives in `kb_csv`).

Every problem in a file is reported at once, one line per bad entry, naming the entry's
position, its id and the field, so an operator can fix a whole import in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .normalize import normalize
from .scopes import checked_scope, most_specific, serves

_ID = re.compile(r"^[\w.:-]+\Z")


class KBProblem(BaseModel):
    """One bad entry: where it is, which field, and what is wrong."""

    index: int | None = None  # 1-based position in the file, or the CSV row number
    unit: str = "entry"  # what `index` counts: "entry" or "row"
    entry_id: str | None = None
    field: str | None = None
    message: str

    def __str__(self) -> str:
        where = []
        if self.index is not None:
            where.append(f"{self.unit} {self.index}")
        if self.entry_id:
            where.append(f"(id {self.entry_id})")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = " ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class KBError(ValueError):
    """A knowledge-base file or entry list that cannot be used; `problems` lists each bad entry."""

    def __init__(self, problems: Iterable[KBProblem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        lines = [str(problem) for problem in self.problems]
        if len(lines) == 1:
            super().__init__(head + lines[0])
        else:
            super().__init__(head + f"{len(lines)} bad entries:\n" + "\n".join(f"  {ln}" for ln in lines))


def _words(values: list[str], field: str) -> list[str]:
    cleaned = [value.strip() for value in values if value and value.strip()]
    for value in cleaned:
        if not normalize(value):
            raise ValueError(f"{field} word {value!r} is only punctuation or emoji")
    return cleaned


class KeywordRule(BaseModel):
    """Holds when every `all` item (a word, or a list of alternatives) occurs, at least one
    `any` word occurs (if given), and no `none` word occurs."""

    model_config = ConfigDict(extra="forbid")

    any: list[str] = Field(default_factory=list)
    all: list[str | list[str]] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)
    priority: int | None = None  # overrides the entry's priority for this rule

    @field_validator("any", "none")
    @classmethod
    def _clean_words(cls, values: list[str], info: Any) -> list[str]:
        return _words(values, info.field_name)

    @field_validator("all")
    @classmethod
    def _clean_groups(cls, values: list[str | list[str]]) -> list[str | list[str]]:
        groups: list[str | list[str]] = []
        for value in values:
            if isinstance(value, str):
                groups.extend(_words([value], "all"))
            else:
                alternatives = _words(value, "all")
                if alternatives:
                    groups.append(alternatives[0] if len(alternatives) == 1 else alternatives)
        return groups

    @model_validator(mode="after")
    def _needs_a_positive_word(self) -> KeywordRule:
        if not self.any and not self.all:
            raise ValueError("a keyword rule needs words under `any` or `all`")
        return self

    def all_groups(self) -> list[list[str]]:
        """`all` with every item as a list of alternatives."""
        return [[item] if isinstance(item, str) else list(item) for item in self.all]


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    title: str = ""


class Entry(BaseModel):
    """One knowledge-base entry: a question, its paraphrases, the answer and its rules."""

    model_config = ConfigDict(extra="forbid")

    id: str
    category: str | None = None  # '/' nests: "售前/物流"
    question: str
    similar: list[str] = Field(default_factory=list)
    answer: str
    answers: dict[str, str] = Field(default_factory=dict)  # per channel or account: tone, emoji, length
    keywords: list[KeywordRule] = Field(default_factory=list)
    priority: int = 0
    channels: list[str] | None = None  # plugin or plugin/account (`webchat/shoes`); None: everywhere
    links: list[Link] = Field(default_factory=list)
    images: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        value = str(value).strip()
        if not _ID.match(value):
            raise ValueError("id must be letters, digits, '_', '-', '.' or ':' with no spaces")
        return value

    @field_validator("category")
    @classmethod
    def _check_category(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = [part.strip() for part in str(value).split("/") if part.strip()]
        return "/".join(parts) or None

    @field_validator("question", "answer")
    @classmethod
    def _not_blank(cls, value: str, info: Any) -> str:
        value = str(value).strip()
        if not value:
            raise ValueError(f"{info.field_name} must not be empty")
        if info.field_name == "question" and not normalize(value):
            raise ValueError("question is only punctuation or emoji")
        return value

    @field_validator("similar")
    @classmethod
    def _clean_similar(cls, values: list[str]) -> list[str]:
        return [str(value).strip() for value in values if str(value).strip()]

    @field_validator("links", mode="before")
    @classmethod
    def _links_from_urls(cls, values: Any) -> Any:
        if isinstance(values, list):
            return [{"url": value} if isinstance(value, str) else value for value in values]
        return values

    @field_validator("channels")
    @classmethod
    def _clean_channels(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        cleaned = [checked_scope(value) for value in values if value.strip()]
        return list(dict.fromkeys(cleaned)) or None

    @field_validator("answers")
    @classmethod
    def _check_answer_channels(cls, answers: dict[str, str]) -> dict[str, str]:
        return {checked_scope(key): text for key, text in answers.items()}

    @property
    def category_path(self) -> tuple[str, ...]:
        return tuple(self.category.split("/")) if self.category else ()

    def serves(self, channel: str | None) -> bool:
        """Whether this entry may answer a message from `channel`, a plugin or plugin/account
        (None: from anywhere, as `kb test` asks); see `scopes.serves`."""
        return serves(self.channels, channel)

    def answer_for(self, channel: str | None) -> str:
        """The answer for `channel`: its account's own, else its plugin's, else the common one."""
        key = most_specific(self.answers, channel)
        return self.answers[key] if key is not None else self.answer

    def texts(self) -> list[str]:
        """The question and its paraphrases: what retrieval compares a message against."""
        return [self.question, *self.similar]


class KnowledgeBase(BaseModel):
    """Entries plus optional synonym groups (each a list of interchangeable words)."""

    model_config = ConfigDict(extra="forbid")

    entries: list[Entry] = Field(default_factory=list)
    synonyms: list[list[str]] = Field(default_factory=list)

    def get(self, entry_id: str) -> Entry | None:
        return next((entry for entry in self.entries if entry.id == entry_id), None)


def _entry_problem(index: int, unit: str, raw: Any, error: ValidationError) -> KBProblem:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        message = "is required"
    elif first["type"] == "extra_forbidden":
        message = "is not a known field"
    entry_id = raw.get("id") if isinstance(raw, Mapping) else None
    return KBProblem(index=index, unit=unit, entry_id=str(entry_id) if entry_id is not None else None,
                     field=field, message=message)


def build_entries(raws: Iterable[Any], source: str | None = None, *,
                  positions: Iterable[int] | None = None, unit: str = "entry",
                  problems: list[KBProblem] | None = None) -> list[Entry]:
    """Validate raw mappings into entries; every bad entry is reported in one `KBError`.

    `positions` numbers the raws for messages (default 1, 2, …); `problems` already found by
    the caller (a CSV cell it could not parse) are reported together with these.
    """
    entries: list[Entry] = []
    problems = list(problems or [])
    seen: dict[str, int] = {}
    numbers = iter(positions) if positions is not None else None
    for count, raw in enumerate(raws, start=1):
        index = next(numbers) if numbers is not None else count
        if not isinstance(raw, Mapping):
            problems.append(KBProblem(index=index, unit=unit,
                                      message="an entry must be a mapping of fields"))
            continue
        try:
            entry = Entry.model_validate(dict(raw))
        except ValidationError as error:
            problems.append(_entry_problem(index, unit, raw, error))
            continue
        if entry.id in seen:
            problems.append(KBProblem(index=index, unit=unit, entry_id=entry.id, field="id",
                                      message=f"duplicate id, first used in {unit} {seen[entry.id]}"))
            continue
        seen[entry.id] = index
        entries.append(entry)
    if problems:
        problems.sort(key=lambda problem: problem.index or 0)
        raise KBError(problems, source)
    return entries


def _synonyms(raw: Any, source: str | None) -> list[list[str]]:
    if raw is None:
        return []
    ok = isinstance(raw, list) and all(
        isinstance(group, list) and all(isinstance(word, str) for word in group) for group in raw)
    if not ok:
        raise KBError([KBProblem(field="synonyms", message="must be a list of word lists")], source)
    return [[word.strip() for word in group if word.strip()] for group in raw]


def parse_yaml(text: str, source: str | None = None) -> KnowledgeBase:
    """A knowledge base from YAML: a mapping with `entries` (and `synonyms`), or a bare list."""
    import yaml  # here: commands that read the stored knowledge base never parse YAML (15 ms)

    # libyaml's safe loader reads a 1,000-entry file about ten times faster than the pure-Python one
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise KBError([KBProblem(message=f"{where}not valid YAML ({problem})")], source) from None
    if data is None:
        return KnowledgeBase()
    if isinstance(data, list):
        data = {"entries": data}
    if not isinstance(data, Mapping):
        raise KBError([KBProblem(message="expected a mapping with `entries:` or a list of entries")],
                      source)
    unknown = sorted(set(data) - {"entries", "synonyms"})
    if unknown:
        raise KBError([KBProblem(field=unknown[0], message="is not a known top-level key "
                                 "(expected `entries` and optionally `synonyms`)")], source)
    raws = data.get("entries") or []
    if not isinstance(raws, list):
        raise KBError([KBProblem(field="entries", message="must be a list")], source)
    return KnowledgeBase(entries=build_entries(raws, source),
                         synonyms=_synonyms(data.get("synonyms"), source))


def entry_to_data(entry: Entry) -> dict[str, Any]:
    """An entry as the plain mapping written to YAML: defaults left out, field order kept."""
    data = entry.model_dump(exclude_defaults=True)
    data["id"], data["question"], data["answer"] = entry.id, entry.question, entry.answer
    order = list(Entry.model_fields)
    if "links" in data:
        data["links"] = [link if link.get("title") else {"url": link["url"]} for link in data["links"]]
    if "keywords" in data:
        data["keywords"] = [rule.model_dump(exclude_defaults=True) for rule in entry.keywords]
    return {key: data[key] for key in order if key in data}


@cache
def _dumper() -> type:
    import yaml

    class Dumper(yaml.SafeDumper):
        """Writes word lists in flow style (`[发货, 发出]`), as people write them by hand."""

    def represent_list(dumper: yaml.SafeDumper, values: list[Any]) -> yaml.Node:
        words = all(isinstance(v, str) for v in values)
        # a short `all` with alternatives stays on one line; long nested lists (synonyms) do not
        groups = all(isinstance(v, str) or isinstance(v, list) and all(isinstance(w, str) for w in v)
                     for v in values) and len(str(values)) < 80
        return dumper.represent_sequence("tag:yaml.org,2002:seq", values,
                                         flow_style=bool(values) and (words or groups))

    Dumper.add_representer(list, represent_list)
    return Dumper


def render_yaml(kb: KnowledgeBase) -> str:
    """The knowledge base as YAML that `parse_yaml` reads back to an equal knowledge base."""
    data: dict[str, Any] = {}
    if kb.synonyms:
        data["synonyms"] = kb.synonyms
    data["entries"] = [entry_to_data(entry) for entry in kb.entries]
    import yaml

    return yaml.dump(data, Dumper=_dumper(), allow_unicode=True, sort_keys=False, width=100)


def load_kb(path: str | Path) -> KnowledgeBase:
    """Read a `.yaml`/`.yml` or `.csv` knowledge-base file."""
    from .kb_csv import parse_csv

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise KBError([KBProblem(message=f"cannot read the file ({error.strerror})")], str(path)) from None
    if path.suffix.lower() == ".csv":
        return parse_csv(text, source=str(path))
    return parse_yaml(text, source=str(path))


def save_kb(kb: KnowledgeBase, path: str | Path) -> None:
    """Write the knowledge base as YAML, or CSV when `path` ends in `.csv`."""
    from .kb_csv import render_csv

    path = Path(path)
    text = render_csv(kb) if path.suffix.lower() == ".csv" else render_yaml(kb)
    path.write_text(text, encoding="utf-8")
