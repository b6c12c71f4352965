"""Sentence spans of a text, aware of German and English abbreviations and e-mail line breaks."""

from __future__ import annotations

import re

Span = tuple[int, int]

_BOUNDARY = re.compile(r"[.!?…]+[\"')\]]*(?=\s)|\n[ ]*\n|\n")
_ABBREVIATIONS = frozenset(
    """dr prof mr mrs ms st nr no ca bzw z.b zb d.h u.a usw etc vs inkl ggf evtl sog vgl hr fr jan feb mär apr jun jul aug
    sep sept okt oct nov dez dec e.g i.e approx incl mio mrd tel fax abs str co ltd inc corp zzgl abzgl""".split()
)
_MONTH_OR_LOWER = re.compile(
    r"\s+(?:[a-zäöüß]|Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember)"
)
_SOFT_LINE = 50


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Non-empty sentence spans within text[start:end], trimmed of white space."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    cur = start
    for m in _BOUNDARY.finditer(text, start, end):
        tok = m.group()
        if tok == "\n":
            line_start = text.rfind("\n", 0, m.start()) + 1
            prev_line = text[max(line_start, cur):m.start()].rstrip()
            nxt = text[m.end():m.end() + 1]
            if len(text[line_start:m.start()].rstrip()) >= _SOFT_LINE and prev_line and not prev_line.endswith(
                (".", "!", "?", ":", ";")
            ) and nxt and not nxt.isspace() and nxt not in "-*•>":
                continue  # a hard-wrapped line: the sentence goes on
            cut = m.start()
        elif tok[0] in ".":
            if _is_abbreviation(text, m.start(), cur) or _is_ordinal(text, m.start(), m.end()):
                continue
            cut = m.end()
        else:
            cut = m.end() if tok[0] != "\n" else m.start()
        _add(text, cur, cut, spans)
        cur = m.end()
    _add(text, cur, end, spans)
    return spans


def _add(text: str, s: int, e: int, spans: list[Span]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        spans.append((s, e))


def _is_abbreviation(text: str, dot: int, floor: int) -> bool:
    i = dot
    while i > floor and (text[i - 1].isalpha() or text[i - 1] == "."):
        i -= 1
    word = text[i:dot].lower()
    if not word:
        return False
    if word in _ABBREVIATIONS:
        return True
    return len(word) == 1 and word.isalpha() and dot + 1 < len(text) and text[dot + 1] == " " and (
        dot + 2 < len(text) and text[dot + 2].isalpha() and text[dot + 3:dot + 4] == "."
    )


# "bis zum 15. Bescheid geben", "am 3. Mai": a day after a German preposition is an ordinal, whatever follows
_DAY_AFTER_PREPOSITION = re.compile(r"(?:^|\s)(?:bis\s+)?(?:zum|am|vom|ab\s+dem|ab\s+den|seit\s+dem|bis\s+zum)\s+\d{1,2}$", re.I)


_OPENER = re.compile(r"\s*(?:Danach|Dann|Da|Ich|Wir|Du|Sie|Er|Es|Ihr|Das|Die|Der|Dies\w*|Bitte|Und|Aber|Also|Leider|"
                     r"Vielen|Danke|Viele|Liebe|Beste|Gr\u00fc\u00dfe|Mit|Ab|Bis|Seit|Am|Wenn|Falls|Sobald)\b")


def _is_ordinal(text: str, dot: int, after: int) -> bool:
    if dot <= 0 or not text[dot - 1].isdigit():
        return False
    if _MONTH_OR_LOWER.match(text, after):
        return True
    return bool(_DAY_AFTER_PREPOSITION.search(text, max(0, dot - 20), dot)) and not _OPENER.match(text, after)
