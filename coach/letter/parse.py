"""Parse a draft into a Letter once: the spans of coach.mail (greeting, sign-off, quotes, P.S., footer) laid
out as parts, the rest as paragraphs of sentences. Quote headers follow what mail clients write (Outlook's
"-----Ursprüngliche Nachricht-----" / "From: … Sent: …", Gmail's and Apple Mail's "On … wrote:" /
"Am … schrieb …:"), the approach of talon and mail-parser-reply: find the header line, everything below is
the quoted mail unless the writer answers inline between "> " lines."""

from __future__ import annotations

import re

from coach.letter.model import Letter, Part, PartKind, Sentence
from coach.mail import PS_MARK, MailParts, is_closing_line, split_mail
from coach.normalize import normalize
from coach.sentences import sentence_spans

Span = tuple[int, int]
_PARA_BREAK = re.compile(r"\n[ \t]*\n\s*")
_PS_ONLY = re.compile(r"^\s*(?:P\.?\s?P\.?\s?S|P\.?\s?S)\.?:?\s*$")
# a first line that is only the client's name, with no comma, on a line of its own ("Thandi\n\nNoted, …"): the
# greeting, not a sentence that new text could run into ("Thandi. Your bank …")
_BARE_NAME = re.compile(r"[ \t]*(?:(?:Dear|Liebe[rs]?|Hi|Hey|Hallo|Hello)[ \t]+)?([A-ZÄÖÜ][\w'-]+(?:[ \t]+[A-ZÄÖÜ][\w'-]+)?)[ \t]*\n[ \t]*\n")
# a first line in brackets that labels what follows ("[Voice note, transcribed - 1:12]", "[Sprachnachricht, 0:58]")
_BRACKET_HEAD = re.compile(r"[ \t\n]*(\[[^\]\n]{3,80}\])[ \t]*\n(?=[ \t\n]*\S)")
_NOT_A_NAME = frozenset({"thanks", "danke", "sorry", "okay", "ok", "noted", "understood", "verstanden", "schade", "klar",
                         "gern", "gerne", "sure", "right", "fine", "update", "wow", "oh", "ach", "puh", "hmm", "hm",
                         "alright", "cheers", "ja", "yes", "no", "nein", "hi", "hey", "hallo", "hello", "moin", "servus"})


def mask(text: str, spans: list[Span]) -> str:
    """Blank the spans (new lines stay), so offsets still index the text."""
    if not spans:
        return text
    chars = list(text)
    for s, e in spans:
        for i in range(s, e):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def parse_letter(text: str) -> Letter:
    norm = normalize(text)
    mp = split_mail(norm)
    masked = mask(norm, mp.masked_spans())
    spans = sentence_spans(masked)
    letter = Letter(source=text, mail=mp, normalized=norm, masked=masked, spans=spans)
    letter.parts = _parts(text, norm, mp)
    _fill_sentences(letter, text, masked, spans)
    return letter


def _labelled(norm: str, mp: MailParts) -> list[tuple[int, int, PartKind]]:
    out: list[tuple[int, int, PartKind]] = []
    if mp.greeting:
        out.append((mp.greeting[0], mp.greeting[1], "greeting"))
    else:
        head = _BRACKET_HEAD.match(norm)
        bare = _bare_name(norm) if head is None else None
        if head is not None:  # "[Sprachnachricht, 0:58, transkribiert]": stays the first line, like a greeting
            out.append((head.start(1), head.end(1), "greeting"))
        elif bare is not None:
            out.append((bare[0], bare[1], "greeting"))
    own_end = mp.body_end
    for s, e in mp.quoted:
        out.append((s, e, "quoted" if s >= own_end and not norm[e:].strip() else "quote"))
    if mp.signoff:
        s, e = mp.signoff
        nl = norm.find("\n", s, e)
        first = norm[s:nl if nl != -1 else e]
        if is_closing_line(first):
            out.append((s, s + len(first.rstrip()), "closing"))
            rest = nl + 1 if nl != -1 else e
            while rest < e and norm[rest] in " \n":
                rest += 1
            if rest < e:
                out.append((rest, e, "signature"))
        else:
            out.append((s, e, "signature"))
    if mp.ps:
        out.append((mp.ps[0], mp.ps[1], "ps"))
    if mp.footer:
        out.append((mp.footer[0], mp.footer[1], "footer"))
    out.sort()
    # overlapping spans cannot be laid end to end: keep the first
    clean: list[tuple[int, int, PartKind]] = []
    for s, e, k in out:
        if clean and s < clean[-1][1]:
            continue
        clean.append((s, e, k))
    return clean


def _bare_name(norm: str) -> Span | None:
    """The span of a first line that is only a name ("Thandi", "Zanele", "Dear Mr"), or None."""
    start = len(norm) - len(norm.lstrip(" \n"))
    m = _BARE_NAME.match(norm, start)
    if not m or any(w.lower() in _NOT_A_NAME for w in m.group(0).split()[-2:]):
        return None
    line_end = norm.index("\n", start)
    return (start, len(norm[:line_end].rstrip()))


def _parts(text: str, norm: str, mp: MailParts) -> list[Part]:
    parts: list[Part] = []

    def gap(a: int, b: int) -> None:
        """Text between labelled parts: leading white space ends the part before, the rest is paragraphs."""
        i = a
        while i < b and norm[i] in " \n":
            i += 1
        if i > a:
            if parts:
                parts[-1].trail += text[a:i]
            else:
                parts.append(Part(kind="space", start=a, raw=text[a:i]))
        pos = i
        while pos < b:
            m = _PARA_BREAK.search(norm, pos, b)
            end = m.start() if m else b
            stop = end
            while stop > pos and norm[stop - 1] in " \n":
                stop -= 1
            kind: PartKind = "ps" if PS_MARK.match(norm, pos) else "paragraph"
            parts.append(Part(kind=kind, start=pos, raw=text[pos:stop], trail=text[stop:m.end() if m else b]))
            pos = m.end() if m else b

    cur = 0
    for s, e, kind in _labelled(norm, mp):
        gap(cur, s)
        parts.append(Part(kind=kind, start=s, raw=text[s:e]))
        cur = e
    gap(cur, len(text))
    return parts


def _fill_sentences(letter: Letter, text: str, masked: str, spans: list[Span]) -> None:
    n = 0
    k = 0
    for p in letter.parts:
        if not p.has_sentences:
            continue
        ps, pe = p.start, p.end
        while k < len(spans) and spans[k][0] < ps:
            k += 1
        mine: list[Span] = []
        j = k
        while j < len(spans) and spans[j][0] < pe:
            mine.append(spans[j])
            j += 1
        if any(e > pe for _, e in mine) or not mine:
            mine = sentence_spans(masked, ps, pe) or [(ps, pe)]
        if p.kind == "ps" and len(mine) > 1 and _PS_ONLY.match(text[mine[0][0]:mine[0][1]]):
            mine = mine[1:]
        p.lead = text[ps:mine[0][0]]
        for i, (s, e) in enumerate(mine):
            n += 1
            nxt = mine[i + 1][0] if i + 1 < len(mine) else pe
            p.sentences.append(Sentence(id=f"s{n}", text=text[s:e], start=s, end=e, sep=text[e:nxt], orig=text[s:e]))
