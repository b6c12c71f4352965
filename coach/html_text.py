"""Reducing an HTML mail to the text a reader sees (spans of a check then refer to that text)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_HTML_HINT = re.compile(r"<(?:html|body|div|p|br|span|table|blockquote|font|meta|head)\b[^>]*>", re.I)
_BLOCK = frozenset("p div li tr h1 h2 h3 h4 h5 h6 table ul ol section article header footer pre".split())
_SKIP = frozenset("script style head title".split())


def looks_like_html(text: str) -> bool:
    return len(_HTML_HINT.findall(text[:5000])) >= 2 or text.lstrip().lower().startswith(("<!doctype html", "<html"))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.quote = 0

    def _newline(self, n: int = 1) -> None:
        current = "".join(self.out[-3:])
        have = len(current) - len(current.rstrip("\n"))
        self.out.append("\n" * max(0, n - have))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "blockquote":
            self.quote += 1
            self._newline(1)
        elif tag in _BLOCK:
            self._newline(2 if tag == "p" else 1)
        elif tag == "li":
            self.out.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self._newline(1)
        elif tag in _BLOCK:
            self._newline(2 if tag == "p" else 1)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        data = re.sub(r"[ \t\r\n]+", " ", data)
        if self.quote:
            at_line_start = not self.out or "".join(self.out).endswith("\n")
            prefix = "> " * self.quote
            data = (prefix if at_line_start else "") + data.replace("\n", "\n" + prefix)
        self.out.append(data)


def html_to_text(markup: str) -> str:
    """The visible text of an HTML mail, with paragraphs, line breaks and quoted blocks ("> ") kept."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.out)
    text = html.unescape(text)
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"
