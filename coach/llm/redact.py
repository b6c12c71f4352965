"""Replacing personal data with placeholders before text leaves the machine, and putting it back after.

Covered: email addresses, links (also without a scheme), IBANs (any case, any spacing), tax and VAT
ids, dates of birth, street addresses and postcodes, company names with a legal form, phone
numbers, and names: after a title (Herr, Frau, Dr., Mr, Ms ...), after a relation ("mein Vater
Klaus Berger", "our CEO Jan-Hendrik Oßwald"), in greetings and signatures of the draft and of the
client's mail, and then every further mention of those names anywhere. Each value gets a
placeholder of its kind ([NAME_1], [ADDRESS_1] ...); `restore` puts back exactly what was there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from coach.mail import split_mail
from coach.normalize import normalize

_UP = "A-ZÄÖÜÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĢĪĮİĶĹĻĽŁŃŅŇŌŐŒŔŘŚŞŠŢŤŪŮŰŲŹŻŽ"
_NAME = rf"[{_UP}][\w'’]*(?:-[{_UP}][\w'’]*)*"
_PARTICLES = r"(?:(?:von|van|de|der|den|del|della|di|da|du|dos|la|le|ten|ter|zu|zum|zur|vom|al|el|bin|ibn|op)\s+){0,3}"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"')\]]+"
    r"|\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:com|net|org|info|biz|io|ai|app|dev|de|at|ch|eu|uk|us|co|me|"
    r"ly|to|gl|xyz|online|site|link|click|example|ru|cn|fr|nl|it|es|pl)\b(?:/[^\s<>\"')\]]*)?",
    re.IGNORECASE,
)
_IBAN_START = re.compile(r"\b[A-Za-z]{2}[ ]?\d{2}(?=[ ]?[A-Za-z0-9])")
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,4})?")
PHONE = re.compile(r"(?<![\w/])(?:\+|00)?\d[\d ()/.\-]{6,}\d(?![\w/])")
_DATE_LIKE = re.compile(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}")
_MONTHS = (r"(?:Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|"
           r"January|February|March|May|June|July|October|December)")
_DATE = (rf"(?:\d{{1,2}}\.\s?\d{{1,2}}\.\s?\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}"
         rf"|\d{{1,2}}(?:\.|st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\s+\d{{4}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})")
BIRTHDATE = re.compile(
    rf"\b(?:geb\.|geboren(?:\s+am)?|Geburtsdatum|Geburtstag|born(?:\s+on)?|date\s+of\s+birth|DOB|d\.o\.b\.)\s*:?\s*({_DATE})",
    re.IGNORECASE)
TAXID = re.compile(
    r"\b(?:USt\.?[- ]?Id(?:\.?[- ]?Nr)?\.?|Umsatzsteuer[- ]?(?:Identifikationsnummer|ID|Id\.?[- ]?Nr\.?)|"
    r"Steuer[- ]?(?:nummer|Nr\.?|ID|Identifikationsnummer)|St\.?[- ]?Nr\.?|Steuer-IdNr\.?|"
    r"VAT(?:\s+(?:ID|No\.?|number|reg(?:istration)?\.?\s+(?:no\.?|number)))?|Tax\s+(?:ID|number|no\.?)|TIN|EIN|UTR)"
    r"\s*[:.#]?\s*([A-Z]{0,3}[ ]?\d[\d /.-]{5,}\d[A-Z0-9]{0,3})"
    r"|\b(?:DE[ ]?\d{9}|ATU[ ]?\d{8}|GB[ ]?\d{9}(?:\d{3})?|FR[ ]?[0-9A-Z]{2}[ ]?\d{9}|NL\d{9}B\d{2}|CHE-?\d{3}\.\d{3}\.\d{3})\b",
    re.IGNORECASE)
_STREET_DE = (rf"[{_UP}][\w.-]*(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|pfad|markt|"
              r"graben|kai|hof)\s+\d{1,4}\s?[a-zA-Z]?(?:\s*[-/]\s*\d{1,4}[a-z]?)?(?!\w)")
_STREET_EN = (r"\b\d{1,5}[a-zA-Z]?\s+(?:[A-Z][\w'-]*\s+){1,3}(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Ln\.|Way|"
              r"Drive|Court|Ct\.|Place|Pl\.|Square|Sq\.|Boulevard|Blvd\.|Terrace|Close|Crescent|Gardens|Row|Mews)(?!\w)")
_POSTCODE = (rf"\b(?:D-)?\d{{5}}\s+(?!Euro\b|EUR\b|Dollar|Mitarbeit|Kunden|Menschen|Stück|Teilnehm|Nutzer|Follower)"
             rf"[{_UP}][\w-]+(?:\s+(?:am|an der|im|bei|in|ob der)\s+[{_UP}][\w-]+)?"
             r"|\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b")
ADDRESS = re.compile(f"{_STREET_DE}|{_STREET_EN}|{_POSTCODE}")
COMPANY = re.compile(
    rf"(?:[{_UP}0-9][\w&.'’+-]*\s+){{0,3}}[{_UP}0-9][\w&.'’+-]*\s*"
    r"(?:GmbH(?:\s*&\s*Co\.?\s*KG)?|gGmbH|AG|KGaA|KG|OHG|UG(?:\s*\(haftungsbeschränkt\))?|SE|GbR|PartG(?:mbB)?|e\.\s?V\.|eG|"
    r"mbH|Ltd\.?|Limited|Inc\.?|Incorporated|LLC|LLP|PLC|plc|Corp\.?|Corporation|S\.A\.|SARL|B\.V\.|N\.V\.|Pty\.?\s+Ltd\.?)"
    r"(?![\w])")
_COMPANY_LEAD = frozenset(
    """Die Der Das Den Dem Des Bei Von Vom Mit Für Fuer Zur Zum Unsere Unser Unserer Ihre Ihr Ihrer Eine Ein Einer Wir Ich
    The At With For From Our Your A An We I Bei In Im An Auf Als Wie Und Aber Da Dass Als Nach Seit""".split())
_TITLED = re.compile(
    r"\b(?:Herrn?|Frau|Hr\.|Fr\.|Dr\.|Prof\.|Mr\.?|Mrs\.?|Ms\.?|Miss|Mx\.?|Sir|Madam|Madame|Monsieur)"
    r"(?:\s+(?:Dr\.|Prof\.|med\.|rer\.\s?nat\.|Dipl\.-\w+\.?|Ing\.))*\s+"
    rf"({_PARTICLES}{_NAME}(?:\s+{_NAME})?)")
_RELATION = re.compile(
    r"\b(?:Vater|Mutter|Bruder|Schwester|Mann|Ehemann|Ehefrau|Frau|Sohn|Tochter|Partnerin|Partner|Kollegin|Kollege|"
    r"Geschäftsführerin|Geschäftsführer|Chefin|Chef|Inhaberin|Inhaber|Gründerin|Gründer|Mitgründerin|Mitgründer|"
    r"Vorständin|Vorstand|Prokuristin|Prokurist|Assistentin|Assistent|Oma|Opa|Großvater|Großmutter|"
    r"father|mother|brother|sister|husband|wife|son|daughter|partner|colleague|co-founder|cofounder|founder|CEO|CFO|"
    r"COO|boss|owner|manager|assistant|grandfather|grandmother|dad|mum|mom|uncle|aunt|Onkel|Tante)\s*,?\s+"
    rf"({_PARTICLES}{_NAME}(?:\s+{_NAME})?)")
_NAME_WORD = re.compile(_NAME)
# two capitalised words in the middle of a sentence ("mit Jan-Hendrik Oßwald gesprochen"): in German as in
# English that is almost always a proper name (or a place or firm, which is no loss to redact)
_PAIR = re.compile(rf"(?<=[a-zäöüß,;] )({_NAME} {_NAME})(?=[\s,.;:!?)]|$)")
_SALUTATION = re.compile(
    r"\b(?:Hallo|Hi|Hey|Liebe[rs]?|Sehr\s+geehrte[rs]?|Guten\s+(?:Tag|Morgen|Abend)|Moin|Servus|Dear|Hello|Herrn?|Frau|"
    r"Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Prof\.?|Good\s+(?:morning|afternoon|evening))\b",
    re.I,
)
_NOT_NAMES = frozenset(
    """Viele Liebe Herzliche Beste Freundliche Mit Grüße Grüßen Gruß Best Kind Regards Warm Thanks Cheers Sincerely Yours
    Take Care All The Alles Gute Tel Telefon Phone Mobil Mobile Fax Web Email Mail GmbH Inc Ltd Team Sie Ihr Ihre Ihnen Ich Du Dich Dir Dein Deine Euch
    Danke Vielen Dank Thank You Hallo Hi Hey Dear Hello Sehr Guten Tag Lieber Herr Herrn Frau Mr Mrs Ms Dr Prof Sent From
    Leider Schöne Many Wir Uns Und Der Die Das Ein Eine Es Er We Our My Mein Meine Unser Unsere Geschäftsführung
    Geschäftsführer Geschäftsführerin Inhaber Inhaberin Vorstand Beratung Berater Beraterin Coach Coaching Consulting
    Management Director Manager Founder CEO Assistant Büro Office Kanzlei Praxis Straße Anschrift Adresse Address Herzlich
    Bitte Please Gern Gerne Ja Nein Yes No Ok Okay Gestern Heute Morgen Today Yesterday Tomorrow Januar Februar März April
    Mai Juni Juli August September Oktober November Dezember January February March May June July October December
    Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    Besserung Wünsche Abend Woche Wochenende Sorry Entschuldigung Leid Schade Ist Sind War Hat Haben Ist Bin Am Im In An Auf Zu Bei Nach Von Für Als Wie So Da""".split()
)
KINDS = ("NAME", "EMAIL", "URL", "IBAN", "TAXID", "BIRTHDATE", "ADDRESS", "COMPANY", "PHONE")


@dataclass
class Redaction:
    """A mapping placeholder -> original, applied to several texts consistently."""

    mapping: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def placeholder(self, kind: str, value: str) -> str:
        for ph, orig in self.mapping.items():
            if orig == value and ph.startswith(f"[{kind}_"):
                return ph
        self.counts[kind] = self.counts.get(kind, 0) + 1
        ph = f"[{kind}_{self.counts[kind]}]"
        self.mapping[ph] = value
        return ph

    def restore(self, text: str) -> str:
        if not self.mapping:
            return text
        pattern = re.compile("|".join(re.escape(ph) for ph in sorted(self.mapping, key=len, reverse=True)))
        return pattern.sub(lambda m: self.mapping[m.group()], text)

    def summary(self, lang: str = "en") -> str:
        """What was replaced, counted per kind, in the draft's language (labels from language.toml)."""
        from coach.lang import language

        labels = language(lang).redaction_labels
        return ", ".join(f"{n} {labels.get(k, (k.lower(), k.lower()))[n != 1]}" for k, n in sorted(self.counts.items()))


def _name_words(chunk: str) -> set[str]:
    return {w for w in _NAME_WORD.findall(chunk) if w not in _NOT_NAMES and len(w) > 1}


def names_in(text: str) -> set[str]:
    """Names in a mail: after titles and relations, in the greeting and in the signature."""
    norm = normalize(text)
    names: set[str] = set()
    for pattern in (_TITLED, _RELATION):
        for m in pattern.finditer(norm):
            names |= _name_words(m.group(1))
    for m in _PAIR.finditer(norm):
        words = m.group(1).split(" ")
        if not any(w in _NOT_NAMES for w in words):
            names |= set(words)
    parts = split_mail(norm)
    spans = [s for s in (parts.greeting, parts.signoff) if s]
    # a client message often ends in a bare name after a comma: "Sorry, Mark" / "Gruß, Eva Roth"
    tail = re.search(rf"(?:,|\.|\n|-|\u2013)\s*((?:{_NAME}[ ]?){{1,3}})\s*$", norm)
    if tail:
        spans.append((tail.start(1), tail.end(1)))
    head = re.match(r"\s*(?:Hallo|Hi|Hey|Liebe[rs]?|Sehr geehrte[rs]?|Dear|Hello|Guten Tag|Servus|Moin)\s+"
                    rf"((?:(?:Herrn?|Frau|Dr\.|Mr\.?|Ms\.?|Mrs\.?)\s+)*{_PARTICLES}(?:{_NAME}[ ]?){{1,3}})", norm)
    if head:
        spans.append((head.start(1), head.end(1)))
    for s, e in spans:
        chunk = _SALUTATION.sub(" ", norm[s:e])
        for line in chunk.split("\n")[:4]:
            if EMAIL.search(line) or PHONE.search(line) or COMPANY.search(line) or ADDRESS.search(line):
                continue
            names |= _name_words(line)
    return names


def iban_spans(text: str) -> list[tuple[int, int]]:
    """IBANs in any case and spacing: the longest run that passes the mod-97 check, else the usual shape."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = _IBAN_START.search(text, pos)
        if not m:
            return spans
        tail = re.match(r"(?:[ ]?[A-Za-z0-9]){1,34}", text[m.end():])
        best = None
        if tail:
            run = text[m.start():m.end() + tail.end()]
            for end in range(len(run), 14, -1):
                if run[end - 1] != " " and iban_ok(run[:end]):
                    best = end
                    break
            if best is None:
                shape = _IBAN_SHAPE.match(run)
                best = shape.end() if shape else None
        if best:
            spans.append((m.start(), m.start() + best))
            pos = m.start() + best
        else:
            pos = m.end()


def iban_ok(value: str) -> bool:
    """Mod-97 check of an IBAN (any case, any spacing)."""
    s = re.sub(r"\s", "", value).upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit() or not s.isalnum():
        return False
    digits = "".join(str(int(c, 36)) for c in s[4:] + s[:4])
    return int(digits) % 97 == 1


def phone_like(value: str) -> bool:
    """Seven digits or more, and not a date: dates, times and amounts are facts, not phone numbers."""
    return sum(c.isdigit() for c in value) >= 7 and not _DATE_LIKE.fullmatch(value.strip())


def _sub_spans(text: str, spans: list[tuple[int, int]], repl: callable) -> str:  # type: ignore[valid-type]
    for s, e in sorted(spans, reverse=True):
        text = text[:s] + repl(text[s:e]) + text[e:]
    return text


def _company(red: Redaction, m: re.Match[str]) -> str:
    words = m.group().split(" ")
    lead = []
    while len(words) > 2 and words[0] in _COMPANY_LEAD:
        lead.append(words.pop(0))
    return " ".join([*lead, red.placeholder("COMPANY", " ".join(words))])


def redact_one(t: str, red: Redaction, names: set[str]) -> str:
    t = EMAIL.sub(lambda m: red.placeholder("EMAIL", m.group()), t)
    t = URL.sub(lambda m: red.placeholder("URL", m.group()), t)
    t = _sub_spans(t, iban_spans(t), lambda v: red.placeholder("IBAN", v))
    t = TAXID.sub(lambda m: _group_placeholder(red, "TAXID", m), t)
    t = BIRTHDATE.sub(lambda m: _group_placeholder(red, "BIRTHDATE", m), t)
    t = ADDRESS.sub(lambda m: red.placeholder("ADDRESS", m.group()), t)
    t = COMPANY.sub(lambda m: _company(red, m), t)
    t = PHONE.sub(lambda m: red.placeholder("PHONE", m.group()) if phone_like(m.group()) else m.group(), t)
    for name in sorted(names, key=len, reverse=True):
        t = re.sub(rf"(?<![\w\[-]){re.escape(name)}(?![\w\]])", lambda m: red.placeholder("NAME", m.group()), t)
    return t


def _group_placeholder(red: Redaction, kind: str, m: re.Match[str]) -> str:
    g = 1 if m.lastindex and m.group(1) else 0
    if g == 0:
        return red.placeholder(kind, m.group())
    s, e = m.span(1)
    whole = m.group()
    return whole[:s - m.start()] + red.placeholder(kind, m.group(1)) + whole[e - m.start():]


def redact(texts: list[str | None], red: Redaction | None = None) -> tuple[list[str | None], Redaction]:
    """Redact personal data in all texts consistently (one placeholder per value across the texts)."""
    red = red or Redaction()
    names: set[str] = set()
    for t in texts:
        if t:
            names |= names_in(t)
    return [None if t is None else redact_one(t, red, names) for t in texts], red


def redact_text(text: str) -> str:
    """One text redacted on its own (for remote embeddings: nothing is restored)."""
    return redact([text])[0][0] or ""
