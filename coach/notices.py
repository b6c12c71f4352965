"""Notices: what coach tells the user beside a result, as objects with a code, a level and a text.

Code matches on `code`; `text` is for people, in the user's language. The catalogue is
knowledge/notices.toml.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach.errors import KnowledgeError
from coach.paths import knowledge_dir

Level = Literal["info", "warning", "error"]


class Notice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    level: Level
    text: str

    def __str__(self) -> str:
        return self.text


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Level
    de: str = Field(min_length=1)
    en: str = Field(min_length=1)


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@cache
def catalogue() -> dict[str, _Entry]:
    path = knowledge_dir() / "notices.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return {code: _Entry.model_validate(entry) for code, entry in raw.items()}
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise KnowledgeError(f"{path}: {exc}") from None


def notice(code: str, lang: str | None = "en", **params: object) -> Notice:
    """The notice `code` in `lang` (English when the language has no text), with `params` filled in."""
    entry = catalogue()[code]
    template = getattr(entry, lang or "en", None) or entry.en
    text = template.format_map(_SafeDict({k: str(v) for k, v in params.items()}))
    return Notice(code=code, level=entry.level, text=text)


def has(notices: list[Notice], code: str) -> bool:
    return any(n.code == code for n in notices)
