"""Pydantic models for the knowledge files (passages, phrasings, situations) and indexable documents.

Every model forbids unknown keys, so a typo in a YAML file is an error, not a silently
ignored field. Cross-item checks (unique ids, the language of a file) live in the loader.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator, model_validator

from coach.lang.load import language, language_codes
from coach.moves import AID_MOVES, GOOD_MOVES

def _known_language(code: str) -> str:
    if code not in language_codes():
        raise ValueError(f"unknown language {code!r}: no folder knowledge/lang/{code}/")
    return code


Lang = Annotated[str, AfterValidator(_known_language)]  # a code with a folder under knowledge/lang/
PhrasingAddress = Literal["Sie", "du", "n/a"]
PhrasingScenario = Literal["any", "shock", "long_standing", "unclear"]
SituationScenario = Literal["shock", "long_standing", "unclear"]
# grief, health, care: see Situation.care; plain: for a client who gave no reason (no burden named), pause: the same
# for a pause or postponement; both / care_both: one sentence with the plan offer and the deferral
# when / when_both: a plan offer that takes up the time the draft had kept a session for ("{when}")
Tone = Literal["warm", "neutral", "formal", "grief", "health", "care", "plain", "pause", "both", "care_both", "when",
               "when_both", "plain_both"]
Register = Literal["letter", "mail", "chat"]
# what the client asks for (coach/rewrite/events.py `request_for`): move a date, pause, call off one session or
# workshop, end the work (a calm, decided ending), or an insolvency already filed
Request = Literal["postpone", "pause", "session", "end", "filed"]
Kind = Literal["passage", "phrasing"]

PHRASING_MOVES: tuple[str, ...] = GOOD_MOVES + AID_MOVES  # what a phrasing can do (knowledge/moves.toml)
ALLOWED_PLACEHOLDERS: frozenset[str] = frozenset({"situation", "when"})

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")


def _nonblank(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must not be empty")
    return value.strip()


def placeholders(text: str) -> list[str]:
    """The ``{name}`` fields of a template; raises ValueError on unbalanced braces."""
    names: list[str] = []
    for _literal, name, spec, conv in string.Formatter().parse(text):
        if name is None:
            continue
        if spec or conv:
            raise ValueError(f"placeholder {{{name}}} must not carry a format spec or conversion")
        names.append(name)
    return names


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class _Identified(_Strict):
    id: str

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        v = _nonblank(v, "id")
        if not _ID_RE.match(v):
            raise ValueError(f"id {v!r} may only use letters, digits and _.:-")
        return v


class Passage(_Identified):
    """A paragraph on the method, in the project's own words."""

    lang: Lang
    section: str = ""
    topic: str
    title: str
    text: str


    @field_validator("topic", "title", "text")
    @classmethod
    def _nonblank(cls, v: str, info) -> str:  # type: ignore[no-untyped-def]
        return _nonblank(v, info.field_name)

    @field_validator("text")
    @classmethod
    def _no_placeholder(cls, v: str) -> str:
        try:
            names = placeholders(v)
        except ValueError as exc:
            raise ValueError(f"text: {exc}") from None
        if names:
            raise ValueError("passage text must not contain {placeholders}")
        return v


class Phrasing(_Identified):
    """An approved sentence for one move of a good reply."""

    lang: Lang
    address: PhrasingAddress
    move: str
    scenario: PhrasingScenario
    tone: Tone
    text: str
    registers: tuple[Register, ...] = ("letter", "mail")  # the drafts whose voice it fits
    after_call: bool = False  # a plan offer that builds on a call or meeting the draft already proposes
    # only for a client who asks for one of these (empty: any request); a fitting one is preferred
    requests: tuple[Request, ...] = ()


    @field_validator("move")
    @classmethod
    def _move(cls, v: str) -> str:
        if v not in PHRASING_MOVES:
            raise ValueError(f"move must be one of {', '.join(PHRASING_MOVES)}")
        return v

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        v = _nonblank(v, "text")
        try:
            names = placeholders(v)
        except ValueError as exc:
            raise ValueError(f"text: {exc}") from None
        bad = sorted(set(names) - ALLOWED_PLACEHOLDERS)
        if bad:
            raise ValueError(f"text uses unknown placeholder(s) {bad}; only {{situation}} and {{when}} are allowed")
        return v

    @model_validator(mode="after")
    def _address_fits_language(self) -> Phrasing:
        forms = language(self.lang).address.forms or ("n/a",)
        if self.address not in forms:
            raise ValueError(f"a phrasing in {self.lang} needs address {' or '.join(forms)}, not {self.address!r}")
        return self


class Situation(_Strict):
    """A pattern recognising the client's event, with noun phrases that name it in a reply."""

    id: str
    pattern: str
    scenario: SituationScenario
    de_sie: str
    de_du: str
    en: str
    # "grief" (a death) or "health" (a serious illness, a burnout, a child in intensive care): the reply offers
    # condolence or care and time, not a plan; only phrasings of that tone (and "care" for the later talk) are used
    care: Literal["", "grief", "health"] = ""
    # a general signal ("plötzlich", "the economy"), not an event: it names the event but does not tell the
    # offline rewrite that a mail the checker reads as unclear is a shock
    catch_all: bool = False

    @field_validator("id", "de_sie", "de_du", "en")
    @classmethod
    def _nonblank(cls, v: str, info) -> str:  # type: ignore[no-untyped-def]
        return _nonblank(v, info.field_name)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        v = _nonblank(v, "pattern")
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc}") from None
        return v

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


MetaValue = str | int | float | bool


@dataclass(frozen=True)
class Document:
    """One indexable record: what Chroma stores, and the text its vector is computed from.

    ``text`` is returned to callers (a phrasing keeps its ``{situation}`` slot);
    ``embed_text`` is what the embedding model sees (title and move cue included, the slot
    filled with a neutral noun). ``metadata`` always carries ``hash``, a digest of all three,
    so an unchanged document is never embedded again.
    """

    id: str
    text: str
    embed_text: str
    metadata: Mapping[str, MetaValue] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        return str(self.metadata["hash"])

    @property
    def kind(self) -> str:
        return str(self.metadata.get("kind", "passage"))


METADATA_KEYS: tuple[str, ...] = (
    "kind",
    "lang",
    "title",
    "move",
    "address",
    "scenario",
    "tone",
    "section",
    "topic",
    "source",
)


def make_document(doc_id: str, text: str, embed_text: str, **meta: MetaValue | None) -> Document:
    """Build a Document with every metadata key present (Chroma stores no None) and its hash."""
    metadata: dict[str, MetaValue] = {key: "" for key in METADATA_KEYS}
    for key, value in meta.items():
        metadata[key] = "" if value is None else value
    payload = json.dumps(
        {"id": doc_id, "text": text, "embed": embed_text, "meta": metadata},
        sort_keys=True,
        ensure_ascii=False,
    )
    metadata["hash"] = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]
    return Document(id=doc_id, text=text, embed_text=embed_text, metadata=metadata)
