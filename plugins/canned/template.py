"""Canned texts and their variables: which ones exist, checking a text, and filling one in.

A variable is a name in braces, `{customer_name}` (full-width braces, as a Chinese keyboard types
them, are read the same and saved as ASCII ones). Any other brace is plain text. A name csgw does
not know is refused when the reply is saved, so a typo never reaches a customer. A value that is
not known for a conversation (a customer without a name, no order yet) is left empty, and
`render` names it, so the agent — who always edits before sending — sees what to fill in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

VARIABLES = ("customer_name", "agent_name", "order_no")
PLACEHOLDER = re.compile(r"[{\uff5b]([A-Za-z_][A-Za-z0-9_]*)[}\uff5d]")


class TemplateError(ValueError):
    """A text with a variable csgw does not know; the message names it."""


def checked_text(text: str) -> str:
    """The text as it is saved (variables in ASCII braces), or TemplateError."""
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in VARIABLES})
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in VARIABLES)
        names = ", ".join(f"{{{name}}}" for name in unknown)
        raise TemplateError(f"unknown variable {names} (known: {known})")
    return PLACEHOLDER.sub(lambda match: f"{{{match.group(1)}}}", text)


def variables_in(text: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    missing: tuple[str, ...]  # variables the text uses that had no value (rendered empty)


def render(text: str, values: Mapping[str, str | None]) -> Rendered:
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in VARIABLES:  # saved before csgw stopped knowing it: shown as written
            return match.group(0)
        value = (values.get(name) or "").strip()
        if not value and name not in missing:
            missing.append(name)
        return value

    return Rendered(PLACEHOLDER.sub(fill, text), tuple(missing))
