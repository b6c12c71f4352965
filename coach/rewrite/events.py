"""The client's real event, named (knowledge/lang/<lang>/events.yaml): "der Schlaganfall Ihres Vaters",
"the flood at your warehouse in Passau", "losing Harlow Foods".

``event_for(client_message, lang, address)`` gives the noun phrases (German nominative and dative, English one
phrase) or None when the mail names no event the lexicon knows; then the reply stays neutral. Relatives, sites
and names come only from the sentence of the mail that names the event, in forms the lexicon writes; a name is
copied from the mail only as a few capitalised words (or a batch number) the lexicon's pattern allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from coach.errors import KnowledgeError
from coach.patterns import Pattern
from coach.rewrite.lang_yaml import load_lang_yaml

_SLOT = re.compile(r"\{(\w+)\}")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_DU = (("Ihres", "deines"), ("Ihrem", "deinem"), ("Ihrer", "deiner"), ("Ihren", "deinen"), ("Ihre", "deine"),
       ("Ihr", "dein"))
MAX_NAME = 40  # characters of a name copied from the mail
_FILLER = frozenset({"the", "your", "der", "die", "das", "dem", "den", "losing", "going", "under", "pulling", "out",
                     "leaving", "drohende", "angekündigte", "geplatzte", "verlorene"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Relation(_Strict):
    pattern: Pattern
    rel: str  # German: genitive ("Ihres Vaters"); English: "your {rel}"


class Site(_Strict):
    pattern: Pattern  # with a group "site"
    site: str  # German: dative with possessive ("Ihrem {Site}"); English: "your {site}"


class Forms(_Strict):
    nom: str | None = None
    dat: str | None = None
    np: str | None = None


class Example(_Strict):
    mail: str
    nom: str | None = Field(default=None)
    np: str | None = Field(default=None)
    plan: str | None = Field(default=None)  # the plan clause the event gives for this mail (Sie), when it has one


class PlanClause(_Strict):
    """What a plan for the time after the event is about, as a clause the plan phrasings carry ({plan}): "wie Sie den
    Umsatzausfall nach {event} auffangen", "how to make up for the revenue after {event}" ({event}: the dative
    phrase the mail gave). German has a Sie and a du form (verbs differ); English only `text`."""

    text: str
    du: str | None = None

    @field_validator("text", "du")
    @classmethod
    def _clause(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or set(_SLOT.findall(v)) - {"event"}):
            raise ValueError("a plan clause: not empty, only the slot {event}")
        return v


Weight = Literal["grave", "shock", "routine"]
"""How heavy the event is, which scales the wording: grave (a death, an illness, an accident), shock (a fire, a recall,
a key person leaving, a loan called in, a cyber attack), routine (a budget freeze, a reprioritisation, internal
reasons): a routine event gets calm words, never "trifft Sie hart" or "I'm so sorry about the spending freeze"."""


class Event(_Strict):
    id: str
    pattern: Pattern
    weight: Weight = "shock"
    # the plan offer may say "a plan for the weeks after {event}": by default only after a shock that is over (a fire,
    # losing a customer); not after an injury ("nach dem Schlüsselbeinbruch"), nor a routine cut, nor what goes on
    after: bool | None = None
    # false: the event sets the weight of the reply but is never named ("internal reasons" is no event to name)
    named_in_reply: bool = True
    name: Pattern | None = None  # a pattern with a group "name" (or "name2") that finds the event's name in the mail
    plain: Forms | None = None
    related: Forms | None = None
    sited: Forms | None = None
    named: Forms | None = None
    plan: PlanClause | None = None  # what a plan after this event is about (see PlanClause)
    examples: list[Example] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_forms(self) -> Event:
        if not any((self.plain, self.related, self.sited, self.named)):
            raise ValueError(f"{self.id}: needs at least one of plain, related, sited, named")
        if self.named is not None and self.name is None:
            raise ValueError(f"{self.id}: named forms need a name pattern")
        return self


class RequestExample(_Strict):
    mail: str
    kind: str | None  # the kind `request_for` must give, or null for none


class RequestRule(_Strict):
    """What the client asks for, recognised in the mail: "verschieben" -> postpone (not a pause), "den Workshop
    morgen absagen" -> session (one date, not the engagement), "wir möchten den Vertrag kündigen" -> end."""

    kind: Literal["postpone", "pause", "session", "end", "filed"]
    pattern: Pattern
    unless: Pattern | None = None  # the same mail says something that makes this kind wrong


class Proxy(_Strict):
    """Someone writes for the client ("this is Dana, Rob's wife", "ich schreibe im Namen meines Mannes"): the reply
    speaks to the writer and wishes the client well; it does not tell the writer to take all the time they need."""

    pattern: Pattern  # a group "client" may hold the client's first name


class ProxyExample(_Strict):
    mail: str
    client: str | None  # the name `proxy_for` must give ("" for a proxy without a name), or null for no proxy


class NameArticle(_Strict):
    """A copied name that needs its article in the reply ("der Verlust von der Haberkorn-Gruppe")."""

    pattern: Pattern  # matched against the copied name
    article: str  # the dative article after "von" ("der", "dem")
    example: str  # a name the pattern matches


class EventFile(_Strict):
    requests: list[RequestRule] = Field(default_factory=list)  # the first that matches wins
    request_examples: list[RequestExample] = Field(default_factory=list)
    relations: list[Relation] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)
    events: list[Event]
    not_names: list[str] = Field(default_factory=list)  # first words that make a copied "name" no name
    proxies: list[Proxy] = Field(default_factory=list)
    name_articles: list[NameArticle] = Field(default_factory=list)
    proxy_examples: list[ProxyExample] = Field(default_factory=list)
    phrasings: list[dict[str, Any]] = Field(default_factory=list)  # validated as EventPhrasing below


class EventText(str):
    """The event's words, carrying how heavy it is and who wrote for the client, so that the phrasing picker can
    scale the wording to them (`coach.rewrite.phrasings`)."""

    weight: str = "shock"
    proxy: str | None = None  # the client's name when someone else wrote for them ("" when the mail gives none)
    plan: str | None = None  # what a plan after the event is about ("wie Sie den Umsatzausfall … auffangen")

    def __new__(cls, text: str, weight: str = "shock", proxy: str | None = None,
                plan: str | None = None) -> EventText:
        obj = super().__new__(cls, text)
        obj.weight = weight
        obj.proxy = proxy
        obj.plan = plan
        return obj

    def __getnewargs__(self) -> tuple[str, str, str | None, str | None]:  # type: ignore[override]
        return (str(self), self.weight, self.proxy, self.plan)


def weight_of(text: object) -> str | None:
    """The weight an event's words carry (None for plain text, e.g. a situation phrase)."""
    return getattr(text, "weight", None) if isinstance(text, EventText) else None


def plan_of(text: object) -> str | None:
    """The plan clause an event's words carry, or None."""
    return text.plan if isinstance(text, EventText) else None


def proxy_of(text: object) -> str | None:
    """The client's name ("" without one) when the mail was written for the client by someone else, else None."""
    return text.proxy if isinstance(text, EventText) else None


@dataclass(frozen=True)
class EventPhrase:
    id: str
    _nom: str  # German nominative; English: the phrase
    _dat: str  # German dative; English: the phrase
    weight: str = "shock"
    after: bool | None = None
    proxy: str | None = None
    named_in_reply: bool = True
    plan: str | None = None  # the plan clause, its {event} filled with the dative phrase

    @property
    def plan_carrier(self) -> EventText | None:
        """The plan clause alone (an empty phrase, so no {event} line takes it), for a plan offer after an event that
        no "Plan für die Zeit nach …" fits (one that goes on, a gerund); None when the event has no plan clause."""
        return EventText("", self.weight, self.proxy, self.plan) if self.plan else None

    @property
    def nom(self) -> EventText:
        return EventText(self._nom, self.weight, self.proxy)

    @property
    def dat(self) -> EventText:
        return EventText(self._dat, self.weight, self.proxy, self.plan)

    @property
    def key_word(self) -> str:
        """The event's head noun in lower case ("schlaganfall", "fire"): the longest word of the phrase before any
        "in/at/of/von" that adds place, owner or name."""
        head = re.split(r"\s(?:in|at|of|von|bei|des|der|Ihres|Ihrer|deines|deiner)\s", self.nom, maxsplit=1)[0]
        words = [w for w in re.findall(r"\w+", head.lower()) if w not in _FILLER]
        return max(words, key=len) if words else ""

    @property
    def after_ok(self) -> bool:
        """The phrase reads after "after"/"nach": a noun phrase, not a clause-like gerund ("your investor pulling
        out"); English gerunds other than "losing …" are kept out of "a plan for the weeks after …"."""
        if self.after is not None:
            return self.after
        if self.weight != "shock":
            return False  # not "einen Plan für die Zeit nach dem Schlüsselbeinbruch", nor after a budget freeze
        return not re.search(r"\b\w+ing\b", self._dat) or self._dat.startswith("losing ")

    @property
    def subject(self) -> EventText:
        """The nominative at the start of a sentence."""
        return EventText(self._nom[:1].upper() + self._nom[1:], self.weight, self.proxy)


@cache
def lexicon(lang: str) -> EventFile | None:
    return load_lang_yaml(lang, "events.yaml", EventFile, lambda f: [e.id for e in f.events])


def event_phrasings() -> tuple[Any, ...]:
    """The approved phrasings that name the event ({event}, {situation}), for the offline picker."""
    return tuple(p for lang in ("de", "en") for p in _phrasings(lang))


@cache
def _phrasings(lang: str) -> tuple[Any, ...]:
    from coach.kb.schema import Phrasing

    class EventPhrasing(Phrasing):
        """A phrasing that may name the client's event: {event} (German dative) besides {situation}; `weights`: the
        events it fits (grave, shock, routine; default grave and shock); `proxy`: written for someone who wrote for
        the client ({client}: the client's name)."""

        weights: tuple[Weight, ...] = ()
        proxy: bool = False

        @field_validator("text")
        @classmethod
        def _text(cls, v: str) -> str:
            bad = set(_SLOT.findall(v)) - {"event", "situation", "client", "plan"}
            if not v.strip() or bad:
                raise ValueError(f"text: empty or unknown slot(s) {sorted(bad)}")
            return v

    f = lexicon(lang)
    if f is None:
        return ()
    try:
        items = tuple(EventPhrasing.model_validate(p) for p in f.phrasings)
    except ValidationError as exc:
        raise KnowledgeError(f"lang/{lang}/events.yaml: phrasings: {exc}") from None
    if any(p.lang != lang for p in items):
        raise KnowledgeError(f"lang/{lang}/events.yaml: a phrasing in another language")
    return items


def _cap(word: str) -> str:
    return "-".join(p[:1].upper() + p[1:] for p in word.split("-"))


def _groups(m: re.Match[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if m is None:
        return out
    for k, v in m.groupdict().items():
        if v:
            key = k[:-1] if k[-1].isdigit() else k  # "name2": a second spelling of "name"
            out.setdefault(key, v.strip())
    return out


def _fill(template: str, values: dict[str, str]) -> str | None:
    """The template with its slots filled ({x} as found, {X} capitalised, {XX} upper case); None if one lacks."""
    def one(m: re.Match[str]) -> str:
        key = m.group(1)
        low = key.lower()
        if low not in values:
            raise KeyError(key)
        v = values[low]
        if key.isupper() and len(key) > 1:
            return v.upper()
        return _cap(v) if key[0].isupper() else v

    try:
        return _SLOT.sub(one, template)
    except KeyError:
        return None


def _sentence_of(text: str, at: int) -> tuple[str, int]:
    """The sentence around position `at` and where it starts."""
    for m in _SENTENCE.finditer(text):
        if m.start() <= at < m.end():
            return m.group(), m.start()
    return text, 0


def _relation(f: EventFile, sentence: str, at: int) -> str | None:
    """The relative or partner nearest the event in its sentence ("meine Mutter ist gestorben, ich fahre zu
    meinem Vater": the mother), one named before the event first."""
    found: list[tuple[int, str]] = []
    for r in f.relations:
        for m in re.finditer(r.pattern, sentence):
            rel = _fill(r.rel, {k.lower(): v.lower() for k, v in _groups(m).items()})
            if rel:
                distance = at - m.end() if m.end() <= at else 1000 + m.start() - at
                found.append((distance, rel))
    return min(found)[1] if found else None


_PLACE = re.compile(r"\s+in\s+([A-ZÄÖÜ][\wäöüß-]{1,30})")


def _site(f: EventFile, sentence: str) -> tuple[str, str] | None:
    """The place in the event's sentence ("Ihrem Lager in Passau") and the preposition the mail used before it
    ("in" for "in our kitchen", else "at")."""
    for s in f.sites:
        m = re.search(s.pattern, sentence)
        if m:
            site = _fill(s.site, {k.lower(): v.lower() for k, v in _groups(m).items()})
            if site is None:
                continue
            place = _PLACE.match(sentence, m.end())
            prep = "in" if re.search(r"\b(in|im|inside)\s+$", sentence[:m.start()], re.I) else "at"
            return site + (f" in {place.group(1)}" if place else ""), prep
    return None


def _name(pattern: str, text: str, not_names: list[str]) -> str | None:
    m = re.search(pattern, text)
    name = _groups(m).get("name")
    if not name or len(name) > MAX_NAME or not re.fullmatch(r"[\w&.' -]+", name):
        return None
    if any(w.lower().rstrip(".") in not_names for w in name.split()):
        return None  # "Hi Ellen, our biggest customer …", "Guten Tag Herr Albrecht, …": a greeting, not a name
    return name


def _du(text: str) -> str:
    for formal, informal in _DU:
        text = re.sub(rf"\b{formal}\b", informal, text)
    return text


def _lexicon_and_mail(client_message: str | None, lang: str) -> tuple[EventFile, str] | None:
    """The language's lexicon and the (bounded) client mail, or None when there is no mail or no lexicon."""
    if not client_message:
        return None
    f = lexicon(lang)
    return None if f is None else (f, client_message[:4000])


def event_for(client_message: str | None, lang: str, address: str = "Sie") -> EventPhrase | None:
    """The client's event as a noun phrase, or None: no event the lexicon knows, or none it can name safely."""
    found = _event(client_message, lang, address)
    return found if found is not None and found.named_in_reply else None


def _event(client_message: str | None, lang: str, address: str = "Sie") -> EventPhrase | None:
    read = _lexicon_and_mail(client_message, lang)
    if read is None:
        return None
    f, text = read
    for e in f.events:
        m = re.search(e.pattern, text)
        if m is None:
            continue
        sentence, start = _sentence_of(text, m.start())
        values = {k.lower(): v.lower() for k, v in _groups(m).items()}  # {X} / {XX} in a form set the case
        forms: list[tuple[Forms | None, dict[str, str]]] = []
        if e.named is not None and e.name is not None and (name := _name(e.name, text, f.not_names)):
            article = next((a.article for a in f.name_articles if re.search(a.pattern, name)), None)
            forms.append((e.named, {**values, "name": f"{article} {name}" if article else name}))
        at = m.start() - start
        if e.related is not None and (rel := _relation(f, sentence, at)):
            forms.append((e.related, {**values, "rel": rel}))
        if e.sited is not None and (site := _site(f, sentence)):
            forms.append((e.sited, {**values, "site": site[0], "at": site[1]}))
        forms.append((e.plain, values))
        for form, vals in forms:
            phrase = _phrase(form, vals, lang, address, e.id)
            if phrase is not None:
                return EventPhrase(phrase.id, phrase._nom, phrase._dat, e.weight, e.after, _proxy(f, text),
                                   e.named_in_reply, _plan(e.plan, phrase._dat, lang, address))
        return None  # the event is there, but nothing the lexicon can say about it without guessing
    return None


def _plan(clause: PlanClause | None, dat: str, lang: str, address: str) -> str | None:
    """The event's plan clause in the reply's address, its {event} the dative phrase."""
    if clause is None:
        return None
    text = clause.du if lang == "de" and address == "du" and clause.du else clause.text
    if lang == "de" and address == "du" and not clause.du:
        return None  # a Sie clause has Sie verbs: no du reply gets it
    return text.replace("{event}", dat)


def _proxy(f: EventFile, text: str) -> str | None:
    for p in f.proxies:
        m = re.search(p.pattern, text)
        if m is not None:
            name = (m.groupdict().get("client") or "").strip()
            return name if len(name) <= MAX_NAME and re.fullmatch(r"[\w'-]*", name) else ""
    return None


def proxy_for(client_message: str | None, lang: str) -> str | None:
    """The client's first name when someone else writes for them ("this is Dana, Rob's wife" -> "Rob"); "" when the
    mail says so without a name; None when the client writes themselves."""
    read = _lexicon_and_mail(client_message, lang)
    return None if read is None else _proxy(read[0], read[1])


def request_for(client_message: str | None, lang: str) -> str | None:
    """What the client asks for: "postpone", "pause", "session" (one date or workshop called off), "end" (the
    work, decided) or "filed" (an insolvency filed or about to be); None when the mail does not say it clearly
    ("" when it does not, but the mail names a routine event or was written for the client: an `EventText` carrying
    that, see `weight_of` and `proxy_of`). Approved phrasings keyed to a request (`requests:`) are used only for it
    and preferred then."""
    read = _lexicon_and_mail(client_message, lang)
    if read is None:
        return None
    f, text = read
    kind = next((r.kind for r in f.requests
                 if re.search(r.pattern, text) and not (r.unless is not None and re.search(r.unless, text))), None)
    # the request carries how heavy the client's event is and who wrote, for every line the picker chooses (also after
    # the event was named once): a routine cut gets calm lines throughout, a writer for the client no "take your time"
    named = _event(client_message, lang)
    proxy = _proxy(f, text)
    if (named is not None and named.weight == "routine") or proxy is not None:
        return EventText(kind or "", named.weight if named is not None else "shock", proxy)
    return kind


def _phrase(form: Forms | None, values: dict[str, Any], lang: str, address: str, eid: str) -> EventPhrase | None:
    if form is None:
        return None
    if lang == "en" or form.np is not None:
        np = _fill(form.np or "", values)
        return EventPhrase(eid, np, np) if np else None
    if form.nom is None or form.dat is None:
        return None
    nom, dat = _fill(form.nom, values), _fill(form.dat, values)
    if nom is None or dat is None:
        return None
    if address == "du":
        nom, dat = _du(nom), _du(dat)
    return EventPhrase(eid, nom, dat)
