"""The help that fits the client's trouble (knowledge/lang/<lang>/referrals.yaml): tax office → tax adviser,
winding-up petition → insolvency practitioner, eviction → tenant or legal advice, debts → debt advice."""

from __future__ import annotations

import re
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from coach.errors import KnowledgeError
from coach.paths import knowledge_dir


class ReferralExamples(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: list[str] = Field(min_length=1)
    no_match: list[str] = Field(default_factory=list)
    settled: list[str] = Field(default_factory=list)  # client sentences that say the help is already there


class Referral(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    help: str
    pattern: str
    texts: dict[str, list[str]]  # address (Sie, du, n/a) -> sentences
    short: dict[str, list[str]] = Field(default_factory=dict)  # one short line each, for a draft of a few lines
    even_in_shock: bool = False  # the client's own insolvency or eviction needs this help even as a sudden shock
    settled: str = ""  # the client already has this help ("we will be filing for insolvency next week"): no referral
    examples: ReferralExamples

    @field_validator("pattern", "settled")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"pattern does not compile: {exc}") from None
        return v

    def matches(self, text: str) -> bool:
        return bool(re.search(self.pattern, text))

    def is_settled(self, text: str) -> bool:
        return bool(self.settled and re.search(self.settled, text))


@cache
def referrals(lang: str) -> tuple[Referral, ...]:
    import yaml

    path = knowledge_dir() / "lang" / lang / "referrals.yaml"
    if not path.exists():
        return ()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        items = tuple(Referral.model_validate(d) for d in data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise KnowledgeError(f"lang/{lang}/referrals.yaml: {exc}") from None
    ids = [r.id for r in items]
    if len(set(ids)) != len(ids):
        raise KnowledgeError(f"lang/{lang}/referrals.yaml: an id occurs twice")
    return items


def referral_for(client_message: str | None, lang: str) -> Referral | None:
    """The first referral whose pattern matches the client's message."""
    if not client_message:
        return None
    for r in referrals(lang):
        if r.matches(client_message):
            return r
    return None
