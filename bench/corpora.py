"""Evaluation knowledge bases built the hard way from public, human-labelled question pairs.

A corpus such as AFQMC or LCQMC labels pairs of customers' questions as the same question (1) or
not (0). Questions joined by "same" labels form a group. An evaluation set takes some groups as
the knowledge base — one raw question per entry, no paraphrases, no keyword rules, exactly as a
shop's first KB is written — and asks with another question of the same group (in scope). Out of
scope are questions of groups not in the KB: half of them picked among questions the corpus
labels "not the same" as a KB question (same topic, different question: the hard case), the
rest at random. The corpora compare only some pairs, so two groups may still ask the same thing:
a group whose question shares most of its characters with a KB question is left out, as a shop
writes one entry per question.

Files: AFQMC's CSV (`sentence1,sentence2,label` with a header) or LCQMC's TSV (no header).
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from csgw.plugins.reply.kb import Entry

Pair = tuple[str, str, int]


def read_pairs(path: Path) -> list[Pair]:
    """Labelled pairs from an AFQMC-style CSV or an LCQMC-style TSV."""
    text = path.read_text(encoding="utf-8")
    pairs: list[Pair] = []
    if path.suffix == ".csv":
        for row in csv.DictReader(text.splitlines()):
            pairs.append((row["sentence1"].strip(), row["sentence2"].strip(), int(row["label"])))
    else:
        for line in text.splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[2].strip() in ("0", "1"):
                pairs.append((parts[0].strip(), parts[1].strip(), int(parts[2])))
    return [pair for pair in pairs if pair[0] and pair[1] and pair[0] != pair[1]]


def _near_duplicate(first: str, second: str, overlap: float = 0.6) -> bool:
    """Character overlap (Jaccard) this high: two ways of writing one question."""
    a, b = set(first), set(second)
    return len(a & b) / max(len(a | b), 1) >= overlap


def groups_of(pairs: Iterable[Pair]) -> list[list[str]]:
    """Questions joined by "same question" labels (union-find), in first-seen order."""
    parent: dict[str, str] = {}

    def root(question: str) -> str:
        parent.setdefault(question, question)
        while parent[question] != question:
            parent[question] = parent[parent[question]]
            question = parent[question]
        return question

    for first, second, label in pairs:
        root(first), root(second)
        if label == 1:
            parent[root(first)] = root(second)
    members: dict[str, list[str]] = {}
    for question in parent:
        members.setdefault(root(question), []).append(question)
    return list(members.values())


def halves(pairs: Sequence[Pair]) -> tuple[list[Pair], list[Pair]]:
    """Two disjoint halves of a split by group (a pair goes with its first question's group), so
    the adapter can learn on one half and the decision layer be calibrated on the other."""
    half: dict[str, int] = {}
    for group in groups_of(pairs):
        side = hashlib.blake2b(min(group).encode("utf-8"), digest_size=2).digest()[0] & 1
        half.update((question, side) for question in group)
    first = [pair for pair in pairs if half[pair[0]] == 0]
    second = [pair for pair in pairs if half[pair[0]] == 1]
    return first, second


@dataclass(frozen=True)
class EvaluationSet:
    """A knowledge base and the questions asked of it (`expect`: an entry id or "none")."""

    name: str
    entries: list[Entry]
    cases: list[dict[str, str]]


def build_set(pairs: Sequence[Pair], entries: int, seed: int, name: str = "corpus",
              out_of_scope: float = 0.25) -> EvaluationSet:
    """A KB of `entries` groups and its questions; `out_of_scope` is their share of all questions."""
    rng = random.Random(seed)
    groups = groups_of(pairs)
    multi = [group for group in groups if len(group) >= 2]
    rng.shuffle(multi)
    kb: list[Entry] = []
    cases: list[dict[str, str]] = []
    in_kb: set[str] = set()
    for group in multi:
        if len(kb) >= entries:
            break
        members = list(group)
        rng.shuffle(members)
        if any(_near_duplicate(members[0], entry.question) for entry in kb):
            continue  # the corpus never compared them, yet they ask the same: one entry per question
        number = len(kb) + 1
        entry_id = f"q{number:04d}"
        kb.append(Entry(id=entry_id, question=members[0], answer=f"answer {entry_id}"))
        in_kb.update(members)
        cases.append({"text": members[1], "expect": entry_id})
    kb_questions = {entry.question for entry in kb}
    hard = sorted({b if a in kb_questions else a for a, b, label in pairs
                   if label == 0 and (a in kb_questions) != (b in kb_questions)} - in_kb)
    rest = sorted({question for group in groups for question in group} - in_kb - set(hard))
    rng.shuffle(hard)
    rng.shuffle(rest)
    wanted = round(len(cases) * out_of_scope / (1 - out_of_scope))
    picked = hard[: wanted // 2]
    picked += rest[: wanted - len(picked)]
    cases.extend({"text": question, "expect": "none", "kind": "hard" if number < len(hard[: wanted // 2])
                  else "random"} for number, question in enumerate(picked))
    rng.shuffle(cases)
    return EvaluationSet(name, kb, cases)
