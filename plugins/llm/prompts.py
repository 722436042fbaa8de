"""What the model is asked: the grounded answer, the agent's draft, the hand-over summary, naming
knowledge gaps. Entries are written as `[kb:ID]` blocks and an answer cites them the same way
(`grounding.py` checks it); a model that cannot answer from them says `NO_ANSWER`."""

from __future__ import annotations

from collections.abc import Sequence

from csgw.gateway.knowledge import KnowledgeEntry

NO_ANSWER = "NO_ANSWER"
LANGUAGES = {"zh-Hans": "Simplified Chinese", "zh-Hant": "Traditional Chinese", "en": "English"}
Messages = list[dict[str, str]]

_PLACEHOLDERS = ("Text in square brackets such as [PHONE], [EMAIL], [ID] or [ADDRESS] hides the "
                 "customer's personal data: never guess or fill it in.")

GROUNDED = f"""You are the customer-service assistant of an online shop. Answer the customer's \
question using ONLY the knowledge-base entries given.
Rules:
1. If an entry answers the question, reply briefly in {{language}} with only what the entries say, \
and end with the id of each entry you used, written as [kb:ID].
2. Never state a price, date, time, amount, phone number or promise that the entries do not state.
3. If no entry answers the question, reply exactly {NO_ANSWER} and nothing else.
4. {_PLACEHOLDERS}"""

DRAFT = f"""You help a customer-service agent of an online shop. Write the next reply to the \
customer, for the agent to edit and send. Use only facts from the knowledge-base entries and the \
conversation; where a fact is missing (an order's status, a date), write [?] instead of guessing. \
Write in the language the customer writes in, friendly and short, without a greeting if the \
conversation is under way. After the reply, add the id of each entry you used as [kb:ID]. \
{_PLACEHOLDERS}"""

SUMMARY = f"""You sum up a customer-service conversation for the agent taking it over. In \
{{language}}, at most three short lines: what the customer wants, what they were already told or \
tried, what is still open. No greeting, no advice to the agent. {_PLACEHOLDERS}"""

GAPS = f"""You help a shop owner grow the knowledge base of their customer-service bot. Below are \
questions customers asked that the bot could not answer, numbered, with how often each was asked. \
Group the questions that ask the same thing into topics and name each topic in a few words in \
{{language}}. For each topic draft one knowledge-base entry: a clear customer question, and an \
answer the owner will review, with 【待填写：…】 wherever a fact of the shop is needed (prices, \
times, policies): never invent one. Reply with JSON only: {{{{"topics": [{{{{"name": "...", \
"questions": [numbers], "question": "...", "answer": "..."}}}}]}}}}. {_PLACEHOLDERS}"""


def language_name(code: str) -> str:
    return LANGUAGES.get(code, LANGUAGES["zh-Hans"])


def entry_block(entry: KnowledgeEntry) -> str:
    return f"[kb:{entry.id}]\nQ: {entry.question}\nA: {entry.answer}"


def entries_text(entries: Sequence[KnowledgeEntry]) -> str:
    return "\n\n".join(entry_block(entry) for entry in entries) or "(none)"


def grounded(question: str, entries: Sequence[KnowledgeEntry], language: str,
             orders: Sequence[str] = ()) -> Messages:
    """A customer's question and the entries nearest to it; `orders`: the customer's own orders
    (one JSON object each), when the question is about one: facts the answer may state as well."""
    parts = [f"Knowledge-base entries:\n\n{entries_text(entries)}"]
    if orders:
        parts.append("The customer's orders (facts about them may be stated too):\n" + "\n".join(orders))
    parts.append(f"Customer's question: {question}")
    return [{"role": "system", "content": GROUNDED.format(language=language_name(language))},
            {"role": "user", "content": "\n\n".join(parts)}]


def draft(transcript: str, entries: Sequence[KnowledgeEntry]) -> Messages:
    return [{"role": "system", "content": DRAFT},
            {"role": "user", "content": f"Knowledge-base entries:\n\n{entries_text(entries)}\n\n"
                                        f"Conversation:\n{transcript}"}]


def summary(transcript: str, language: str) -> Messages:
    return [{"role": "system", "content": SUMMARY.format(language=language_name(language))},
            {"role": "user", "content": f"Conversation:\n{transcript}"}]


def gaps(questions: Sequence[tuple[str, int]], language: str) -> Messages:
    listed = "\n".join(f"{number}. {text} (×{count})" for number, (text, count) in enumerate(questions, 1))
    return [{"role": "system", "content": GAPS.format(language=language_name(language))},
            {"role": "user", "content": f"Unanswered questions:\n{listed}"}]
