"""The parts of a letter. Every part keeps its exact text and the white space after it (`trail`), so the
parts laid end to end are the draft; paragraphs and P.S. hold sentences that edits work on."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Literal

from coach.mail import MailParts

PartKind = Literal[
    "space",      # white space before anything else
    "greeting",   # "Hallo Frau Roth,", "Steve,", "Hoi Andrea"
    "paragraph",  # the writer's own text, sentence by sentence
    "quote",      # "> " lines or a quote header inside the body (an inline reply)
    "closing",    # "Mit freundlichen Grüßen", "Take care of yourself,", "LG"
    "signature",  # name, title, phone, web, booking link, "--" separator
    "ps",         # "P.S. ..." after the signature
    "footer",     # "Sent from my iPhone"
    "quoted",     # the quoted mail below the letter, with its header line
]
SENTENCE_KINDS = frozenset({"paragraph", "ps"})
SentenceState = Literal["kept", "removed", "added", "edited"]


@dataclass
class Sentence:
    """One sentence; `start`/`end` index the draft (-1 for an added sentence), `sep` is the white space after it."""

    id: str
    text: str
    start: int = -1
    end: int = -1
    sep: str = " "
    orig: str | None = None  # the draft's text (None for an added sentence)
    state: SentenceState = "kept"
    why: str = ""
    sources: list[str] = field(default_factory=list)
    move: str | None = None  # the move an added sentence makes

    @property
    def live(self) -> bool:
        return self.state != "removed"


@dataclass
class Part:
    kind: PartKind
    start: int
    raw: str
    trail: str = ""
    lead: str = ""  # sentence parts: text before the first sentence (white space, or a "P.S." mark)
    sentences: list[Sentence] = field(default_factory=list)
    added: bool = False  # a paragraph the rewrite made

    @property
    def has_sentences(self) -> bool:
        return self.kind in SENTENCE_KINDS

    def live_sentences(self) -> list[Sentence]:
        return [s for s in self.sentences if s.live]

    @property
    def end(self) -> int:
        return self.start + len(self.raw)


@dataclass
class Letter:
    source: str
    parts: list[Part] = field(default_factory=list)
    mail: MailParts | None = None  # the spans the checker masks (greeting, sign-off, quotes, footer)
    normalized: str = ""
    masked: str = ""  # the normalized text with the masked spans blanked
    spans: list[tuple[int, int]] = field(default_factory=list)  # every sentence span the checker reads

    def copy(self) -> Letter:
        return copy.deepcopy(self)

    # -------------------------------------------------------------- views

    def part(self, kind: str) -> Part | None:
        return next((p for p in self.parts if p.kind == kind), None)

    def sentences(self, *, live: bool = True) -> list[Sentence]:
        return [s for p in self.parts if p.has_sentences for s in p.sentences if s.live or not live]

    def body(self) -> list[Part]:
        """The paragraphs of the writer's own text before the closing (not the P.S.)."""
        return [p for p in self.parts if p.kind == "paragraph"]

    def find(self, sentence_id: str) -> tuple[Part, int] | None:
        for p in self.parts:
            for i, s in enumerate(p.sentences):
                if s.id == sentence_id:
                    return p, i
        return None

    @property
    def greeting(self) -> str:
        p = self.part("greeting")
        return p.raw if p else ""

    @property
    def closing(self) -> str:
        p = self.part("closing")
        return p.raw if p else ""


    # -------------------------------------------------------------- edits
    def remove(self, sentence_id: str, why: str = "") -> None:
        found = self.find(sentence_id)
        if found is None:
            raise KeyError(sentence_id)
        p, i = found
        s = p.sentences[i]
        if s.state == "added":
            del p.sentences[i]
            return
        s.state = "removed"
        s.why = why or s.why

    def edit(self, sentence_id: str, text: str, why: str = "") -> None:
        found = self.find(sentence_id)
        if found is None:
            raise KeyError(sentence_id)
        s = found[0].sentences[found[1]]
        if text == s.text:
            return
        s.text = text
        if s.state == "kept":
            s.state = "edited"
        s.why = why or s.why

    def split(self, sentence_id: str, at: int) -> Sentence:
        """Cut an unedited sentence in two at `at` (an index of its text); the white space between becomes the first
        one's `sep`, so the letter renders the same. Returns the second sentence."""
        found = self.find(sentence_id)
        if found is None:
            raise KeyError(sentence_id)
        p, i = found
        s = p.sentences[i]
        if s.state != "kept" or not 0 < at < len(s.text):
            raise ValueError(f"cannot split {sentence_id} at {at}")
        head, tail = s.text[:at].rstrip(), s.text[at:].lstrip()
        gap = s.text[len(head):len(s.text) - len(tail)]
        tail_start = s.start + len(s.text) - len(tail) if s.start >= 0 else -1
        second = Sentence(id=f"{s.id}t", text=tail, start=tail_start, end=s.end, sep=s.sep, orig=tail)
        s.text = s.orig = head
        s.end = s.start + len(head) if s.start >= 0 else -1
        s.sep = gap
        p.sentences.insert(i + 1, second)
        return second

    def insert(self, part: Part, index: int, text: str, *, why: str = "", sources: list[str] | None = None,
               move: str | None = None, sep: str | None = None) -> Sentence:
        """Add a sentence to a sentence part at `index` (of its sentence list)."""
        sid = f"a{sum(1 for s in self.sentences(live=False) if s.state == 'added') + 1}"
        while self.find(sid):
            sid += "x"
        s = Sentence(id=sid, text=text, sep=sep if sep is not None else _usual_sep(part), state="added", why=why,
                     sources=list(sources or []), move=move)
        part.sentences.insert(index, s)
        return s

    def new_paragraph(self, at: int) -> Part:
        """A new, empty paragraph at position `at` of the parts, separated like the letter's paragraphs."""
        prev = self.parts[at - 1] if at > 0 else None
        gap = next((p.trail for p in self.parts if p.kind == "paragraph" and "\n" in p.trail), "\n\n")
        p = Part(kind="paragraph", start=-1, raw="", trail=gap, added=True)
        if prev is not None and "\n" not in prev.trail:
            p.trail, prev.trail = prev.trail, gap  # the new paragraph now ends the text
        self.parts.insert(at, p)
        return p


def _usual_sep(part: Part) -> str:
    seps = [s.sep for s in part.sentences[:-1] if s.state != "added"]
    if seps and sum("\n" in x for x in seps) * 2 > len(seps):
        return "\n"
    return " "
