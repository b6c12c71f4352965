"""Putting a letter back together: greeting, ordered paragraphs, the closing kept verbatim."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SLOTS = ("ack", "referral", "offer", "next")
_DE_LOWER_FIRST = frozenset(
    """ich das der die dem den des es wir zunächst zuerst gerne gern danke vielen herzlichen über wie bevor bitte
    natürlich oh was wenn mir mich dass auch lass lassen wollen sollen können könnten würde wäre ganz erst
    eine ein einen einem einer so dabei deshalb daher und aber damit""".split()
)


@dataclass
class Piece:
    text: str
    slot: str
    added: bool = False
    source_id: str | None = None


@dataclass
class Letter:
    greeting: str = ""
    pieces: list[Piece] = field(default_factory=list)
    closing: str = ""
    lang: str = "de"

    def render(self) -> str:
        paragraphs: list[str] = []
        first = True
        for slot in SLOTS:
            texts = []
            for p in (p for p in self.pieces if p.slot == slot):
                t = p.text.strip()
                if not t:
                    continue
                t = _first_word_case(t, first and self._greeting_ends_with_comma(), self.lang, p.added)
                first = False
                texts.append(t)
            if texts:
                paragraphs.append(" ".join(texts))
        body = "\n\n".join(paragraphs)
        parts = []
        if self.greeting.strip():
            parts.append(self.greeting.rstrip())
        if body:
            parts.append(body)
        if self.closing.strip():
            parts.append(self.closing.strip("\n"))
        return "\n\n".join(parts) + "\n"

    def _greeting_ends_with_comma(self) -> bool:
        return self.lang == "de" and self.greeting.rstrip().endswith(",")


def _first_word_case(text: str, after_comma_greeting: bool, lang: str, added: bool) -> str:
    m = re.match(r"\W*(\w+)", text)
    if not m:
        return text
    i = m.start(1)
    word = m.group(1)
    if after_comma_greeting:
        if word.lower() in _DE_LOWER_FIRST and word[0].isupper() and word not in ("Sie", "Ihnen", "Ihr", "Ihre"):
            return text[:i] + text[i].lower() + text[i + 1:]
        return text
    if text[i].islower():
        return text[:i] + text[i].upper() + text[i + 1:]
    return text
