"""The method's moves, read once from knowledge/moves.toml: the only place their names are spelled."""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach.errors import KnowledgeError
from coach.paths import knowledge_dir

MoveKind = Literal["good", "fault", "aid"]


class MoveSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z_]+$")
    kind: MoveKind
    checklist: dict[str, str]
    instruction: str = Field(min_length=1)
    phrasing: dict[str, str] = Field(default_factory=dict)

    def label(self, lang: str) -> str:
        return self.checklist.get(lang) or self.checklist["en"]


class MoveFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    move: list[MoveSpec] = Field(min_length=1)


@cache
def all_moves() -> tuple[MoveSpec, ...]:
    path = knowledge_dir() / "moves.toml"
    try:
        data = MoveFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise KnowledgeError(f"{path}: {exc}") from None
    names = [m.name for m in data.move]
    if len(set(names)) != len(names):
        raise KnowledgeError(f"{path}: a move is named twice")
    return tuple(data.move)


def move(name: str) -> MoveSpec:
    for m in all_moves():
        if m.name == name:
            return m
    raise KeyError(name)


def names(kind: MoveKind | None = None) -> tuple[str, ...]:
    return tuple(m.name for m in all_moves() if kind is None or m.kind == kind)


# The six reported moves (good ones first, then the faults), as the spec's JSON names them.
GOOD_MOVES: tuple[str, ...] = names("good")
FAULT_MOVES: tuple[str, ...] = names("fault")
MOVE_NAMES: tuple[str, ...] = GOOD_MOVES + FAULT_MOVES
AID_MOVES: tuple[str, ...] = names("aid")
