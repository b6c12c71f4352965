"""Reads knowledge/lang/<code>/language.toml for every language folder; adding a language adds a folder.

A language also needs its rules (knowledge/rules/<code>.toml) and phrasings; the README says how.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from coach.errors import KnowledgeError
from coach.paths import knowledge_dir
from coach.patterns import Pattern


class AddressSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    forms: tuple[str, ...] = ()
    default: str = "n/a"
    informal_words: frozenset[str] = frozenset()
    informal_imperatives: frozenset[str] = frozenset()
    imperative_objects: frozenset[str] = frozenset()
    formal_pronouns: tuple[str, ...] = ()
    always_formal: tuple[str, ...] = ()
    greeting_formal: Pattern | None = None
    greeting_informal: Pattern | None = None

    @field_validator("informal_words", "informal_imperatives", "imperative_objects", mode="before")
    @classmethod
    def _words(cls, value: object) -> object:
        return frozenset(value.split()) if isinstance(value, str) else value

    @property
    def distinguishes(self) -> bool:
        """True when the language has more than one form of address to tell apart."""
        return len(self.forms) > 1


class LanguageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z]{2}$")
    name: str = Field(min_length=1)
    native_name: str = Field(min_length=1)
    quotes: tuple[str, str]
    slot_fill: str = Field(min_length=1)
    when_fill: str = Field(default="", description="fills a phrasing's {when} slot when no time is known")
    function_words: frozenset[str]
    address: AddressSpec = AddressSpec()
    redaction_labels: dict[str, tuple[str, str]] = Field(default_factory=dict)
    """What the "replaced before sending" notice calls each kind of redacted detail: (one, several)."""

    @field_validator("function_words", mode="before")
    @classmethod
    def _words(cls, value: object) -> object:
        return frozenset(value.split()) if isinstance(value, str) else value

    def quote(self, text: str) -> str:
        return f"{self.quotes[0]}{text}{self.quotes[1]}"


def load_languages(root: Path) -> dict[str, LanguageSpec]:
    out: dict[str, LanguageSpec] = {}
    for path in sorted(root.glob("*/language.toml")):
        try:
            spec = LanguageSpec.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise KnowledgeError(f"cannot read {path}: {exc}") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise KnowledgeError(f"{path}: {loc}: {first['msg']}") from None
        if spec.code != path.parent.name:
            raise KnowledgeError(f"{path}: code '{spec.code}' differs from its folder '{path.parent.name}'")
        out[spec.code] = spec
    if not out:
        raise KnowledgeError(f"no language folders found in {root}")
    return out


@cache
def languages() -> dict[str, LanguageSpec]:
    return load_languages(knowledge_dir() / "lang")


def language_codes() -> tuple[str, ...]:
    return tuple(languages())


def language(code: str) -> LanguageSpec:
    try:
        return languages()[code]
    except KeyError:
        raise KnowledgeError(f"unknown language '{code}'") from None
