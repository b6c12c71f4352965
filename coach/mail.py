"""The parts of an e-mail draft: greeting, body, sign-off/signature, P.S., footer and quoted mail, as spans.

The quote headers follow what mail clients write and what mail-parser-reply and talon look for: Apple Mail
and Gmail "On … wrote:" / "Am … schrieb …:", Outlook's "From: … Sent: …" block (also with *bold* labels
from HTML mail), "-----Original Message-----" and long separator lines of underscores or dashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

Span = tuple[int, int]

_QUOTE_HEADERS = re.compile(
    r"""^[ ]*(?:
        On\b[^\n]{3,200}(?:\n[^\n]{1,200})?\bwrote:[ ]*$
      | Am\b[^\n]{3,200}(?:\n[^\n]{1,200})?\bschrieb\b[^\n]{0,200}:[ ]*$
      | Am\b[^\n]{3,200}\bschrieb\b[^\n]{0,200}\n[^\n]{1,200}:[ ]*$
      | Le\b[^\n]{3,200}\ba\s+[ée]crit\s*:[ ]*$
      | -{2,}[ ]*(?:Original\s+Message|Urspr(?:ü|ue)ngliche\s+Nachricht|Forwarded\s+message|Weitergeleitete\s+Nachricht|Begin\s+forwarded\s+message)[^\n]*$
      | (?:Begin\s+forwarded\s+message|Anfang\s+der\s+weitergeleiteten\s+Nachricht):[ ]*$
      | \*?(?:Von|From):\*?[ ][^\n]+\n(?:[^\n]*\n){0,3}?[ ]*\*?(?:Gesendet|Sent|Datum|Date):\*?[^\n]*$
      | _{8,}[ ]*$
      | (?:-{20,}|[–—]{20,})[ ]*$
    )""",
    re.MULTILINE | re.VERBOSE | re.IGNORECASE,
)
_QUOTED_LINE = re.compile(r"^[ ]*>[^\n]*$", re.MULTILINE)

_GREETING = re.compile(
    r"""\A\s*(?P<g>(?:
        Hallo|Hi|Hey|Hallöchen|Liebe[rs]?|Sehr\s+geehrte[rs]?|Guten\s+(?:Tag|Morgen|Abend)|Moin(?:\s+moin)?|Servus
      | Gr(?:ü|ue)(?:ß|ss)\s+(?:Gott|dich|Sie|euch)|Grüezi|Dear|Hello|Good\s+(?:morning|afternoon|evening)|Greetings
      | Hoi|Hej|Heya|Hiya|Salut|Ciao|Huhu
    )\b(?:[^\n,!:.]|(?<=\b(?:dr|mr|ms|st|hr|fr))\.(?=[ ]?\w)|(?<=\b(?:mrs|ing|mag|rev|hon|mme))\.(?=[ ]?\w)|(?<=\b(?:prof|dipl|dkfm|univ))\.(?=[ ]?[\w-])|(?<=\b[^\W\d_])\.(?=[ ]?\w))*(?:[,!:]|(?=\n)))""",
    re.VERBOSE | re.IGNORECASE,
)

_SIGNOFF = re.compile(
    r"""^[ ]*(?:
        (?:Viele|Liebe|Herzliche|Beste|Freundliche|Sch(?:ö|oe)ne|Sonnige|Kollegiale|Hoffnungsvolle)\s+Gr(?:ü|ue)(?:ß|ss)e(?:\s+\w+){0,3}
      | Mit\s+(?:freundlichen|besten|herzlichen|lieben|vielen)\s+Gr(?:ü|ue)(?:ß|ss)en(?:\s+\w+){0,3}
      | Gr(?:ü|ue)(?:ß|ss)e(?:\s+\w+){0,3} | (?:Herzlichst|Herzlich|Beste|Alles\s+Liebe|Alles\s+Gute|Gute\s+Besserung|Bis\s+(?:dann|morgen|später)|Liebe\s+Gr(?:ü|ue)(?:ß|ss)e|Bis\s+bald|Ciao|Tschüss|Servus|Gruß)
      | (?:LG|VG|MfG|BG|Cheers|Thx|xx?)(?:[ ,]+[^\W\d_][\w'.-]*){0,2}|Gru(?:ß|ss)(?:\s+\w+){0,2}
      | Best(?:\s+(?:regards|wishes))?|Kind(?:est)?\s+regards|Warm(?:est)?\s+(?:regards|wishes)|Regards|Cheers|Thanks|Many\s+thanks
      | Thank\s+you|Take\s+care|Sincerely(?:\s+yours)?|Yours(?:\s+(?:sincerely|truly))?|All\s+the\s+best|Talk\s+soon|Speak\s+soon
      | With\s+(?:best|kind|warm)\s+(?:regards|wishes)|Best\s+wishes|Warmly|Hugs|Cordially|Respectfully
      | Take\s+care(?:\s+of\s+yourself)?|Stay\s+(?:well|safe|strong)|Be\s+well|Love|Much\s+love|Talk\s+later
      | Dr(?:ü|ue)ck\s+dich|F(?:ü|ue)hl\s+dich\s+(?:gedr(?:ü|ue)ckt|umarmt)|Pfiat\s+di(?:\s+Gott)?|Bussi|Umarmung
      | (?:Ganz\s+)?(?:liebe|herzliche)\s+Gr(?:ü|ue)(?:ß|ss)e(?:\s+\w+){0,3}|LG\s+und\s+bis\s+bald|Bis\s+sp(?:ä|ae)ter
      | (?:Danke|Vielen\s+Dank|Thanks|Thank\s+you)\s*(?:und|&|and|,)\s*(?:viele\s+|liebe\s+|beste\s+)?(?:Gr(?:ü|ue)(?:ß|ss)e|LG|VG|regards|best)(?:\s+\w+){0,2}
    )[ ]*[,.!]?[ ]*$""",
    re.MULTILINE | re.VERBOSE | re.IGNORECASE,
)
# any short line of words that ends in a comma and stands right above the name: "Wishing you the very best,",
# "Mit herzlichem Gruß aus dem Allgäu," (the sign-offs nobody can list)
_COMMA_CLOSING = re.compile(r"^[ ]*[^\W\d_][\w'’-]*(?:[ ]+[\w'’-]+){0,6}[ ]*,[ ]*$", re.MULTILINE)
_SIGNATURE_DASHES = re.compile(r"^-- ?$", re.MULTILINE)
_NAME_GREETING = re.compile(
    r"\A\s*(?P<g>[A-ZÄÖÜ][\w'\-]+(?:[ ]+[A-ZÄÖÜ][\w'\-]+){0,2}[ ]*[,!](?=[ ]*\n)"
    r"|[A-ZÄÖÜ][\w'\-]+[ ]+[-–—](?=[ ]+\w))"  # "Steve," on its own line; "Kim - got it, …"
)
PS_MARK = re.compile(r"^[ ]*(?:P\.?[ ]?P\.?[ ]?S|P\.?[ ]?S)\.?:?(?=\s)", re.MULTILINE)
_FOOTER = re.compile(
    r"""^[ ]*(?:Sent\s+from\s+my\s+[^\n]{1,40}|Sent\s+from\s+(?:Outlook|Mail|Yahoo\s+Mail|Gmail)\b[^\n]{0,40}
      | Get\s+Outlook\s+for\s+[^\n]{1,20}|Von\s+meinem\s+[^\n]{1,40}\s+gesendet|Gesendet\s+von\s+[^\n]{1,40}
      | Von\s+unterwegs\s+gesendet|Outlook\s+f(?:ü|ue)r\s+[^\n]{1,20}\s+beziehen)[ ]*$""",
    re.MULTILINE | re.VERBOSE | re.IGNORECASE,
)
_MAX_SIGNATURE_LINES = 10


@dataclass(frozen=True)
class MailParts:
    """Spans of a (normalised) draft; offsets index the draft as given."""

    length: int
    greeting: Span | None = None
    signoff: Span | None = None
    quoted: list[Span] = field(default_factory=list)
    ps: Span | None = None  # a P.S. after the signature
    footer: Span | None = None  # "Sent from my iPhone"

    @property
    def body_end(self) -> int:
        """Where the letter's own text ends: at the sign-off, P.S. or footer, or at the first quoted part."""
        ends = [self.length]
        for span in (self.signoff, self.ps, self.footer):
            if span:
                ends.append(span[0])
        if self.quoted:
            ends.append(self.quoted[0][0])
        return min(ends)

    @property
    def body_start(self) -> int:
        return self.greeting[1] if self.greeting else 0

    def masked_spans(self) -> list[Span]:
        spans = list(self.quoted)
        if self.greeting:
            spans.append(self.greeting)
        if self.signoff:
            spans.append(self.signoff)
        if self.footer:
            spans.append(self.footer)
        return sorted(spans)


def split_mail(text: str) -> MailParts:
    """Find greeting, sign-off and quoted parts of a normalised draft."""
    n = len(text)
    quoted: list[Span] = []
    header = _QUOTE_HEADERS.search(text)
    while header and _answered_inline(text, header.end()):
        # "Am ... schrieb X:" followed by "> " lines and then the writer's own answer: an inline reply,
        # so only the header and the "> " lines are quoted
        quoted.append((header.start(), header.end()))
        header = _QUOTE_HEADERS.search(text, header.end())
    tail_start = header.start() if header else n
    for m in _QUOTED_LINE.finditer(text, 0, tail_start):
        quoted.append((m.start(), m.end()))
    if header:
        quoted.append((header.start(), n))
    quoted = _merge(quoted, text)

    # the own text ends before the first quoted block that is followed only by quotes or blank lines
    own_end = _own_text_end(text, quoted, tail_start)

    greeting = None
    g = _GREETING.match(text, 0, own_end) or _NAME_GREETING.match(text, 0, own_end)
    if g and text[g.end("g"):own_end].strip():
        greeting = (g.start("g"), g.end("g"))
    start = greeting[1] if greeting else 0

    limit = own_end
    footer = None
    for m in _FOOTER.finditer(text, start, own_end):
        if not text[m.end():own_end].strip() and text[start:m.start()].strip():
            footer = (m.start() + len(m.group()) - len(m.group().lstrip()), m.end())
            limit = m.start()
    ps = None
    m = PS_MARK.search(text, start, limit)
    if m and text[start:m.start()].strip() and not _SIGNOFF.search(text, m.start(), limit):
        stop = limit
        while stop > m.start() and text[stop - 1] in " \n":
            stop -= 1
        ps = (m.start() + len(m.group()) - len(m.group().lstrip()), stop)
        limit = m.start()
    signoff = _find_signoff(text, start, limit)
    return MailParts(length=n, greeting=greeting, signoff=signoff, quoted=quoted, ps=ps, footer=footer)


def _answered_inline(text: str, after: int) -> bool:
    """After a quote header: "> " lines, then a line of the writer's own (not quoted, not a header)."""
    lines = text[after:].split("\n")
    seen_quote = False
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(">"):
            seen_quote = True
            continue
        return seen_quote and not _QUOTE_HEADERS.match(line)
    return False


def _merge(spans: list[Span], text: str) -> list[Span]:
    spans.sort()
    merged: list[Span] = []
    for s, e in spans:
        if merged and not text[merged[-1][1]:s].strip():
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _own_text_end(text: str, quoted: list[Span], tail_start: int) -> int:
    end = tail_start
    for s, e in reversed(quoted):
        if not text[e:end].strip():
            end = s
    return end


def _find_signoff(text: str, start: int, end: int) -> Span | None:
    dashes = None
    for m in _SIGNATURE_DASHES.finditer(text, start, end):
        dashes = m
    candidates = list(_SIGNOFF.finditer(text, start, end))
    for m in reversed(candidates):
        after = text[m.end():end]
        if after.count("\n") <= _MAX_SIGNATURE_LINES and not _looks_like_prose(after):
            stop = end
            while stop > m.start() and text[stop - 1] in " \n":
                stop -= 1
            return (m.start(), stop)
    for m in reversed(list(_COMMA_CLOSING.finditer(text, start, end))):
        after = text[m.end():end]
        if (text[start:m.start()].strip() and after.startswith("\n") and after[1:2].strip()
                and after.count("\n") <= _MAX_SIGNATURE_LINES and not _looks_like_prose(after)
                and _NAME_LINE.match(after[1:].split("\n", 1)[0])):
            stop = end
            while stop > m.start() and text[stop - 1] in " \n":
                stop -= 1
            return (m.start(), stop)
    block = _contact_block(text, start, end)
    if block is not None:
        return block
    name = _trailing_name_line(text, start, end)
    if name is not None:
        return name
    if dashes is not None:
        stop = end
        while stop > dashes.start() and text[stop - 1] in " \n":
            stop -= 1
        return (dashes.start(), stop)
    return None


_NAME_LINE = re.compile(
    r"^[ ]*(?:[-–—~][ ]*)?(?:Dr\.\s|Prof\.\s)?[A-ZÄÖÜ][\w'.\-]*(?:[ ]+[A-ZÄÖÜ][\w'.\-]*){0,3}[ ]*$"
)


_CONTACT = re.compile(
    r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|(?:Tel|Telefon|Fon|Mobil|Mob|Handy|Phone|Fax|T|M|F)\.?:?\s*\+?\d[\d\s()/.-]{5,}"
    r"|^\s*\+?\(?\d[\d\s()/.-]{7,}\s*$"
    r"|\b(?:calendly\.com|cal\.com|linkedin\.com|xing\.com)/\S+|\b[\w-]+\.(?:com|de|at|ch|co\.uk|io|net|org|eu)\b(?:/\S*)?\s*$",
    re.IGNORECASE,
)


_WORD = re.compile(r"[^\W_][\w'’.-]*")


def _contact_block(text: str, start: int, end: int) -> Span | None:
    """A signature without a closing line: the last lines hold a name, a company and a phone, web or mail line."""
    stop = end
    while stop > start and text[stop - 1] in " \n":
        stop -= 1
    block_start = text.rfind("\n\n", start, stop)
    if block_start == -1:
        return None
    block_start += 2
    lines = text[block_start:stop].split("\n")
    if not 2 <= len(lines) <= _MAX_SIGNATURE_LINES or not text[start:block_start].strip():
        return None
    if not any(_CONTACT.search(line) for line in lines):
        return None
    if any(len(_WORD.findall(line)) > 8 or re.search(r"[.!?]\s*$", line) and not _CONTACT.search(line) for line in lines):
        return None  # a sentence: prose, not a signature ("Owner, Prewitt & Pine Creative | San Marcos, TX" is 7 words)
    return (block_start, stop)


def _trailing_name_line(text: str, start: int, end: int) -> Span | None:
    """A draft that ends in a bare name ("Sarah", "- Ben") has that line as its signature."""
    stop = end
    while stop > start and text[stop - 1] in " \n":
        stop -= 1
    line_start = text.rfind("\n", start, stop) + 1
    if line_start <= start or text[start:line_start].strip() == "":
        return None  # the name would be the whole letter
    line = text[line_start:stop]
    if len(line) <= 40 and _NAME_LINE.match(line):
        return (line_start, stop)
    return None


def is_closing_line(line: str) -> bool:
    """A sign-off line: one of the known ones, or a short line of words ending in a comma."""
    return bool(_SIGNOFF.fullmatch(line) or _COMMA_CLOSING.fullmatch(line))


def _looks_like_prose(tail: str) -> bool:
    """A signature holds names, titles, phones and links, not sentences of 8+ words."""
    for line in tail.split("\n"):
        if len(line.split()) >= 8 and re.search(r"[.!?]\s*$", line):
            return True
    return False
