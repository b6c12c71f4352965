"""Sentences that go with a removed fault (knowledge/rewrite.toml)."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach.errors import KnowledgeError
from coach.paths import knowledge_dir
from coach.rules.patterns import compile_any, lower_text
from coach.rules.schema import Examples


class Followup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    lang: Literal["de", "en"]
    patterns: list[str] = Field(min_length=1)
    examples: Examples


class FollowupFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    followup: list[Followup]


@cache
def followups() -> dict[str, tuple[Followup, re.Pattern[str]]]:
    path = knowledge_dir() / "rewrite.toml"
    try:
        data = FollowupFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise KnowledgeError(f"cannot load {path.name}: {exc}") from None
    out: dict[str, tuple[Followup, re.Pattern[str]]] = {}
    for f in data.followup:
        try:
            pattern = compile_any(f.patterns)
        except re.error as exc:
            raise KnowledgeError(f"{path.name}: {f.id}: invalid pattern: {exc}") from None
        assert pattern is not None
        out[f.lang] = (f, pattern)
    return out


def is_followup(sentence: str, lang: str) -> bool:
    entry = followups().get(lang)
    return bool(entry and entry[1].search(lower_text(sentence)))
