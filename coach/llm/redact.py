"""Replacing personal data with placeholders before text leaves the machine, and putting it back after."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from coach.mail import split_mail
from coach.normalize import normalize

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_PHONE = re.compile(r"(?<![\w/])(?:\+|00)?\d[\d ()/.\-]{6,}\d(?![\w/])")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+")
_SALUTATION = re.compile(
    r"\b(?:Hallo|Hi|Hey|Liebe[rs]?|Sehr\s+geehrte[rs]?|Guten\s+(?:Tag|Morgen|Abend)|Moin|Servus|Dear|Hello|Herr|Frau|"
    r"Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Prof\.?|Good\s+(?:morning|afternoon|evening))\b",
    re.I,
)
_NAME_WORD = re.compile(r"\b[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)?\b")
_NOT_NAMES = frozenset(
    """Viele Liebe Herzliche Beste Freundliche Mit Grüße Grüßen Gruß Best Kind Regards Warm Thanks Cheers Sincerely Yours
    Take Care All The Alles Gute Tel Telefon Phone Mobil Mobile Fax Web Email Mail GmbH Inc Ltd Team Sie Ihr Ihre Ich Du
    Danke Vielen Dank Thank You Hallo Hi Hey Dear Hello Sehr Guten Tag Lieber Herr Frau Mr Mrs Ms Dr Prof Sent From
    Leider Schöne Many""".split()
)


@dataclass
class Redaction:
    """A mapping placeholder -> original, applied to several texts consistently."""

    mapping: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def _placeholder(self, kind: str, value: str) -> str:
        for ph, orig in self.mapping.items():
            if orig == value and ph.startswith(f"[{kind}_"):
                return ph
        self.counts[kind] = self.counts.get(kind, 0) + 1
        ph = f"[{kind}_{self.counts[kind]}]"
        self.mapping[ph] = value
        return ph

    def restore(self, text: str) -> str:
        for ph in sorted(self.mapping, key=len, reverse=True):
            text = text.replace(ph, self.mapping[ph])
        return text

    @property
    def placeholders(self) -> list[str]:
        return list(self.mapping)

    def summary(self) -> str:
        labels = {"EMAIL": "email address", "PHONE": "phone number", "IBAN": "IBAN", "NAME": "name", "URL": "link"}
        parts = [f"{n} {labels.get(k, k.lower())}{'es' if k == 'EMAIL' and n != 1 else 's' if n != 1 else ''}"
                 for k, n in sorted(self.counts.items())]
        return ", ".join(parts)


def _names_in(text: str) -> set[str]:
    """Names in the greeting and the signature of a mail."""
    norm = normalize(text)
    parts = split_mail(norm)
    names: set[str] = set()
    spans = []
    if parts.greeting:
        spans.append(parts.greeting)
    if parts.signoff:
        spans.append(parts.signoff)
    # a client message often ends in a bare name after a comma: "Sorry, Mark" / "Gruß, Eva Roth"
    tail = re.search(r"(?:,|\.|\n|-|\u2013)\s*((?:[A-ZÄÖÜ][a-zäöüß]+[ ]?){1,3})\s*$", norm)
    if tail:
        spans.append((tail.start(1), tail.end(1)))
    head = re.match(r"\s*(?:Hallo|Hi|Hey|Liebe[rs]?|Sehr geehrte[rs]?|Dear|Hello|Guten Tag|Servus|Moin)\s+"
                    r"((?:(?:Herr|Frau|Dr\.|Mr\.?|Ms\.?|Mrs\.?)\s+)*(?:[A-ZÄÖÜ][a-zäöüß]+[ ]?){1,3})", norm)
    if head:
        spans.append((head.start(1), head.end(1)))
    for s, e in spans:
        chunk = _SALUTATION.sub(" ", norm[s:e])
        for line in chunk.split("\n")[:3]:
            if _EMAIL.search(line) or _PHONE.search(line):
                continue
            for w in _NAME_WORD.findall(line):
                if w not in _NOT_NAMES and len(w) > 1:
                    names.add(w)
    return names


def redact(texts: list[str | None]) -> tuple[list[str | None], Redaction]:
    """Redact emails, IBANs, phone numbers, links and greeting/signature names in all texts consistently."""
    red = Redaction()
    names: set[str] = set()
    for t in texts:
        if t:
            names |= _names_in(t)
    out: list[str | None] = []
    for t in texts:
        if t is None:
            out.append(None)
            continue
        t = _EMAIL.sub(lambda m: red._placeholder("EMAIL", m.group()), t)
        t = _URL.sub(lambda m: red._placeholder("URL", m.group()), t)
        t = _IBAN.sub(lambda m: red._placeholder("IBAN", m.group()), t)
        t = _PHONE.sub(lambda m: _phone_or_keep(red, m.group()), t)
        for name in sorted(names, key=len, reverse=True):
            t = re.sub(rf"(?<![\w\[]){re.escape(name)}(?![\w\]])", lambda m: red._placeholder("NAME", m.group()), t)
        out.append(t)
    return out, red


def _phone_or_keep(red: Redaction, value: str) -> str:
    digits = sum(c.isdigit() for c in value)
    # dates, times and amounts are facts, not phone numbers
    if digits < 7 or re.fullmatch(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}", value.strip()):
        return value
    return red._placeholder("PHONE", value)
