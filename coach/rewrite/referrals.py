"""The help that fits the client's trouble (knowledge/lang/<lang>/referrals.yaml).

Each trouble has trigger patterns for the client's mail, the adviser to name, and topics: what the client
wrote about ("die offenen Vorauszahlungen beim Finanzamt", "the unpaid VAT"), each with its own trigger, so
the sentence names only what the client mentioned and the adviser, never a document the client did not
mention. The sentence is built from the file's frames (per address, a short one for chats and drafts of a
few lines, and a pair frame for two troubles with different advisers); a trouble may bring its own sentences
instead (a client already filing for insolvency is acknowledged, not told where to go first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from coach.errors import KnowledgeError
from coach.patterns import Pattern
from coach.rewrite.lang_yaml import load_lang_yaml

_SLOT = re.compile(r"\{(\w+)\}")
MAX_MAIL = 8000  # characters of the client's mail the triggers read (its first lines say what the trouble is)


class ReferralExamples(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: list[str] = Field(min_length=1)
    no_match: list[str] = Field(default_factory=list)
    settled: list[str] = Field(default_factory=list)  # client sentences that say the help is already there
    own_field: list[str] = Field(default_factory=list)  # client sentences that cancel this very help


class Topic(BaseModel):
    """What the client wrote about, in the case the frames need (German: accusative after "für")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: Pattern
    text: str
    example: str  # a client sentence that names this topic (a test runs it)


class OwnAdviser(BaseModel):
    """The client's own adviser, named only when the client mentions one ("mein Steuerberater")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: Pattern
    text: dict[str, str]  # address -> "Ihr Steuerberater" / "dein Steuerberater" / "your accountant"
    example: str


class Already(BaseModel):
    """The client already has this help: acknowledge it instead of pointing to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: Pattern
    texts: dict[str, list[str]]
    short: dict[str, list[str]] = Field(default_factory=dict)
    example: str


class Referral(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    help: str  # the adviser's name in the change's reason
    pattern: Pattern
    also: Pattern | None = None  # must match as well (e.g. a business, not a private household)
    unless: Pattern | None = None  # must not match (e.g. it is the client's customer who went bust)
    even_in_shock: bool = False  # the client's own insolvency or eviction needs this help even as a sudden shock
    adviser: str = ""  # with its indefinite article: "eine Steuerberaterin oder ein Steuerberater", "a tax adviser"
    short_adviser: str = ""  # the same in fewer words, for chats and drafts of a few lines ("eine Steuerberatung")
    own: list[OwnAdviser] = Field(default_factory=list)
    # the client already has this help ("a provisional administrator has been appointed"): one or more kinds, the
    # first that matches is acknowledged
    already: list[Already] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    topic: str = ""  # when no topic matches
    aspect: str = ""  # what the adviser covers ("die rechtliche Seite"), when the topic would repeat the event named
    settled: Pattern = ""  # the client already is where this help leads ("we will be filing next week"): no referral
    # the service the client is cancelling is this very help ("das Sanierungscoaching", "the GST advisory retainer"):
    # the consultant does not send the client to their own field as if someone else helped more
    own_field: Pattern = ""
    pairs_with: list[str] = Field(default_factory=list)  # troubles named beside this one in a letter (other advisers)
    texts: dict[str, list[str]] = Field(default_factory=dict)  # address -> own sentences instead of the frames
    short: dict[str, list[str]] = Field(default_factory=dict)  # the same, one short line each
    examples: ReferralExamples

    @field_validator("already", mode="before")
    @classmethod
    def _one_or_more(cls, v: object) -> object:
        return [v] if isinstance(v, dict) else (v or [])

    def already_for(self, text: str) -> Already | None:
        """The kind of help the client says they already have, if any."""
        return next((a for a in self.already if re.search(a.pattern, text)), None)

    @model_validator(mode="after")
    def _says_something(self) -> Referral:
        if not self.texts and not (self.adviser and self.topic):
            raise ValueError(f"{self.id}: needs either texts or an adviser and a topic for the frames")
        return self

    def matches(self, text: str) -> bool:
        if not re.search(self.pattern, text):
            return False
        if self.also and not re.search(self.also, text):
            return False
        return not (self.unless and re.search(self.unless, text))

    def is_settled(self, text: str) -> bool:
        return bool((self.settled and re.search(self.settled, text)) or self.is_own_field(text))

    def is_own_field(self, text: str) -> bool:
        """The client's mail names the consultant's service as this help's own field."""
        return bool(self.own_field and re.search(self.own_field, text))

    def topic_for(self, text: str) -> str:
        return next((t.text for t in self.topics if re.search(t.pattern, text)), self.topic)

    def adviser_for(self, text: str, address: str, short: bool = False) -> str:
        for o in self.own:
            if re.search(o.pattern, text):
                return o.text.get(address) or o.text.get("n/a") or self.adviser
        return (self.short_adviser or self.adviser) if short else self.adviser


class Frames(BaseModel):
    """Sentence frames with {topic} and {adviser} ({Adviser}: capitalised); pair: also {topic2}, {adviser2}."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    texts: dict[str, list[str]]
    short: dict[str, list[str]]
    pair: dict[str, list[str]] = Field(default_factory=dict)
    after_plan: dict[str, list[str]] = Field(default_factory=dict)  # right after the plan offer: adds to it
    short_after_plan: dict[str, list[str]] = Field(default_factory=dict)
    pair_after_plan: dict[str, list[str]] = Field(default_factory=dict)


class ReferralFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    helpers: list[str] = Field(default_factory=list)  # lower-case words that name outside help ("tax practitioner")
    frames: Frames
    referrals: list[Referral]


@dataclass(frozen=True)
class ReferralText:
    id: str  # the source of the added sentence, e.g. "de.referral.tax.2"
    text: str
    help: str
    even_in_shock: bool


@cache
def _file(lang: str) -> ReferralFile | None:
    f = load_lang_yaml(lang, "referrals.yaml", ReferralFile, lambda f: [r.id for r in f.referrals])
    if f is None:
        return None
    for group in (f.frames.texts, f.frames.short, f.frames.pair, f.frames.after_plan, f.frames.pair_after_plan,
                  f.frames.short_after_plan):
        for frames in group.values():
            for fr in frames:
                bad = set(_SLOT.findall(fr)) - {"topic", "adviser", "Adviser", "topic2", "adviser2"}
                if bad:
                    raise KnowledgeError(f"lang/{lang}/referrals.yaml: frame {fr!r} uses unknown slot(s) {sorted(bad)}")
    return f


def referrals(lang: str) -> tuple[Referral, ...]:
    f = _file(lang)
    return tuple(f.referrals) if f else ()


def frames(lang: str) -> Frames | None:
    f = _file(lang)
    return f.frames if f else None


def names_help(text: str, lang: str) -> bool:
    """The text already points to outside help ("a registered tax practitioner", "eine Schuldner- und
    Insolvenzberatungsstelle"): a referral added beside it would stack a second adviser on a fitting one."""
    f = _file(lang)
    if f is None:
        return False
    low = text.lower()
    return any(h in low for h in f.helpers) or any(
        a and a.lower().split(" ", 1)[-1] in low for r in f.referrals for a in (r.adviser, r.short_adviser))


def referral_for(client_message: str | None, lang: str) -> Referral | None:
    """The first referral whose triggers match the client's message."""
    found = matching(client_message, lang)
    return found[0] if found else None


def matching(client_message: str | None, lang: str) -> list[Referral]:
    """Every referral whose triggers match, most specific first."""
    if not client_message:
        return []
    text = client_message[:MAX_MAIL]
    return [r for r in referrals(lang) if r.matches(text)]


def _pick(options: dict[str, list[str]], address: str) -> list[str]:
    return options.get(address) or options.get("n/a") or next(iter(options.values()), [])


def _fill(frame: str, **slots: str) -> str:
    adviser = slots.get("adviser", "")
    slots["Adviser"] = adviser[:1].upper() + adviser[1:]
    return _SLOT.sub(lambda m: slots.get(m.group(1), m.group()), frame)


def _repeats(topic: str, named: str | None) -> bool:
    """The topic names what the letter has just named ("the eviction" after "sorry about the eviction")."""
    if not named:
        return False
    long_words = {w for w in re.findall(r"\w+", named.lower()) if len(w) >= 5}
    return any(w in long_words for w in re.findall(r"\w+", topic.lower()) if len(w) >= 5)


def referral_text(client_message: str | None, lang: str, address: str, seed: int, *, short: bool = False,
                  avoid_openings: frozenset[str] = frozenset(), named: str | None = None,
                  after_plan: bool = False) -> ReferralText | None:
    """The referral sentence for the client's trouble (None when nothing in the mail calls for one).

    Two troubles with different advisers (the tax office and a called-in credit line) are named in one
    sentence, except in a short draft. ``avoid_openings``: first words the sentence should not start with;
    ``named``: the event the letter already names (then the trouble's `aspect` stands in for a topic that
    would repeat it); ``after_plan``: the sentence follows the plan offer and adds to it ("Parallel dazu …").
    A trouble the client has already in hand (`settled`) gets none.
    """
    found = matching(client_message, lang)
    fr = frames(lang)
    if not found or fr is None or client_message is None:
        return None
    client_message = client_message[:MAX_MAIL]
    first = found[0]
    if first.is_settled(client_message):
        return None
    got = first.already_for(client_message)
    if got is not None:
        options = _pick(got.short, address) if short and got.short else _pick(got.texts, address)
        texts = [(f"{first.id}.already.{k + 1}", t) for k, t in enumerate(options)]
    elif first.texts:
        options = _pick(first.short, address) if short and first.short else _pick(first.texts, address)
        texts = [(f"{first.id}.{k + 1}", t) for k, t in enumerate(options)]
    else:
        topic, adviser = first.topic_for(client_message), first.adviser_for(client_message, address, short)
        if first.aspect and _repeats(topic, named):
            topic = first.aspect
        taken = _spans(first.pattern, client_message)
        second = next((r for r in found[1:] if r.id in first.pairs_with and not r.texts and r.adviser != first.adviser
                       and not _overlaps(_spans(r.pattern, client_message), taken)
                       and not _repeats(r.topic_for(client_message), topic)),
                      None)  # a second trouble elsewhere in the mail, not the same words read twice
        if second is not None and not short and _pick(fr.pair, address):
            options = (after_plan and _pick(fr.pair_after_plan, address)) or _pick(fr.pair, address)
            extra = {"topic2": second.topic_for(client_message),
                     "adviser2": second.adviser_for(client_message, address)}
            texts = [(f"{first.id}+{second.id.rsplit('.', 1)[-1]}.{k + 1}",
                      _fill(t, topic=topic, adviser=adviser, **extra)) for k, t in enumerate(options)]
            help_ = f"{first.help}, {second.help}"
            return _choose(texts, seed, avoid_openings, help_, first.even_in_shock)
        if short:
            options = (after_plan and _pick(fr.short_after_plan, address)) or _pick(fr.short, address)
        else:
            options = (after_plan and _pick(fr.after_plan, address)) or _pick(fr.texts, address)
        texts = [(f"{first.id}.{k + 1}", _fill(t, topic=topic, adviser=adviser)) for k, t in enumerate(options)]
    return _choose(texts, seed, avoid_openings, first.help, first.even_in_shock)


def _spans(pattern: str, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(pattern, text)]


def _overlaps(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(s < e2 and s2 < e for s, e in a for s2, e2 in b)


def _choose(texts: list[tuple[str, str]], seed: int, avoid: frozenset[str], help_: str,
            even_in_shock: bool) -> ReferralText | None:
    if not texts:
        return None
    fresh = [t for t in texts if (re.findall(r"\w+", t[1].lower())[:1] or [""])[0] not in avoid] or texts
    rid, text = fresh[seed % len(fresh)]
    return ReferralText(id=rid, text=text[:1].upper() + text[1:], help=help_, even_in_shock=even_in_shock)


def all_texts(lang: str) -> list[tuple[str, str]]:
    """The sentences the file can give (for the tests): every frame, each trouble in the first frame of each
    kind, each topic, aspect and own adviser, every pair frame and every trouble's own sentences."""
    fr = frames(lang)
    out: list[tuple[str, str]] = []
    if fr is None:
        return out
    for r in referrals(lang):
        for got in r.already:
            out += [(r.id, t) for ts in list(got.texts.values()) + list(got.short.values()) for t in ts]
        if r.texts:
            out += [(r.id, t) for ts in list(r.texts.values()) + list(r.short.values()) for t in ts]
            continue
        for group, adviser in ((fr.texts, r.adviser), (fr.short, r.short_adviser or r.adviser),
                               (fr.after_plan, r.adviser), (fr.short_after_plan, r.short_adviser or r.adviser)):
            for address, frames_ in group.items():  # each trouble in the first frame; each frame once below
                out += [(r.id, _fill(frames_[0], topic=r.topic, adviser=adviser))]
        for address, frames_ in fr.texts.items():
            out += [(r.id, _fill(frames_[0], topic=t.text, adviser=r.adviser)) for t in r.topics]
            out += [(r.id, _fill(frames_[0], topic=r.aspect, adviser=r.adviser))] if r.aspect else []
            out += [(r.id, _fill(frames_[0], topic=r.topic, adviser=o.text.get(address) or r.adviser))
                    for o in r.own]
    framed = [r for r in referrals(lang) if not r.texts]
    for k, (group, short) in enumerate(((fr.texts, False), (fr.short, True), (fr.after_plan, False),
                                        (fr.short_after_plan, True))):
        for address, frames_ in group.items():
            for j, f in enumerate(frames_):  # every frame once, with a different trouble each time
                r = framed[(j + k) % len(framed)]
                adviser = (r.short_adviser or r.adviser) if short else r.adviser
                out.append((r.id, _fill(f, topic=r.topic, adviser=adviser)))
    for r, r2 in zip(framed, framed[1:]):  # every pair frame, with two neighbouring troubles
        for group in (fr.pair, fr.pair_after_plan):
            for frames_ in group.values():
                out += [(f"{r.id}+{r2.id}", _fill(f, topic=r.topic, adviser=r.adviser, topic2=r2.topic,
                                                  adviser2=r2.adviser)) for f in frames_]
    return out
