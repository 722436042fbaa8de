"""Turn an HTML mail body into readable plain text (paragraphs, line breaks, list items, links)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "head", "title", "template", "noscript"}
_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "table",
    "tr",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "hr",
    "blockquote",
    "center",
    "dl",
    "dt",
    "dd",
}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip_depth = 0
        self._quote_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip_depth += 1
        elif tag == "br":
            self._newline()
        elif tag == "li":
            self._newline()
            self._emit("- ")
        elif tag in ("td", "th"):
            self._emit(" ")
        elif tag in _BLOCK:
            self._newline()
            if tag == "blockquote":
                self._quote_depth += 1
            elif tag == "pre":
                self._pre_depth += 1
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self._emit(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK or tag == "li":
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)
            elif tag == "pre":
                self._pre_depth = max(0, self._pre_depth - 1)
            self._newline()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if not self._pre_depth:
            data = re.sub(r"\s+", " ", data)
        self._emit(data)

    def _emit(self, text: str) -> None:
        if self._quote_depth and (not self.out or self.out[-1].endswith("\n")):
            text = "> " * self._quote_depth + text.lstrip()
        self.out.append(text)

    def _newline(self) -> None:
        self.out.append("\n")


def html_to_text(html: str) -> str:
    """Readable text of an HTML body; blockquotes become `>` lines so reply trimming sees them."""
    parser = _TextCollector()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.out).replace("\xa0", " ").splitlines()]
    return "\n".join(line for line in lines if line)
