"""The labeled sentence corpus under knowledge/lang/<xx>/corpus/, validated on load.

``part-*.jsonl`` rows label a sentence of a consultant's reply with the moves it makes (an empty
list: none); ``scenario*.jsonl`` rows label a sentence of a client's mail with its scenario.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from coach.errors import KnowledgeError
from coach.moves import MOVE_NAMES
from coach.paths import knowledge_dir

Register = Literal["letter", "mail", "chat"]


class MoveSentence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=1000)
    moves: list[str]
    lang: str = Field(pattern=r"^[a-z]{2,3}$")  # the folder it lives in
    address: Literal["Sie", "du", "n/a"]
    style: Register = Field(alias="register")  # letter, mail or chat ("register" is a pydantic name)
    note: str = Field(min_length=1)

    @field_validator("moves")
    @classmethod
    def _known_moves(cls, value: list[str]) -> list[str]:
        unknown = [m for m in value if m not in MOVE_NAMES]
        if unknown:
            raise ValueError(f"unknown move(s) {unknown}; expected some of {list(MOVE_NAMES)}")
        if len(set(value)) != len(value):
            raise ValueError("a move is named twice")
        return value


class ScenarioSentence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=1000)
    scenario: Literal["shock", "long_standing", "unclear"]
    lang: str = Field(pattern=r"^[a-z]{2,3}$")  # the folder it lives in
    style: Register = Field(alias="register")  # letter, mail or chat ("register" is a pydantic name)
    note: str = Field(min_length=1)


@dataclass(frozen=True)
class Corpus:
    moves: tuple[MoveSentence, ...]
    scenarios: tuple[ScenarioSentence, ...]
    files: tuple[Path, ...]

    @property
    def sha256(self) -> str:
        return corpus_sha256(self.files)


def corpus_root() -> Path:
    return knowledge_dir() / "lang"


def corpus_files(root: Path | None = None) -> list[Path]:
    root = root or corpus_root()
    return sorted(root.glob("*/corpus/*.jsonl"))


def corpus_sha256(files: Iterable[Path], root: Path | None = None) -> str:
    """A digest of the corpus files (names and bytes) that the shipped weights record."""
    root = root or corpus_root()
    h = hashlib.sha256()
    for f in sorted(files):
        try:
            rel = f.relative_to(root).as_posix()
        except ValueError:
            rel = f.name
        h.update(rel.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _rows(path: Path) -> Iterable[tuple[int, dict]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"cannot read corpus file {path}: {exc}") from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KnowledgeError(f"{path.name}, line {no}: not JSON ({exc.msg})") from None
        yield no, data


def load_corpus(root: Path | None = None) -> Corpus:
    root = root or corpus_root()
    files = corpus_files(root)
    if not files:
        raise KnowledgeError(f"no corpus files under {root}/*/corpus/")
    moves: list[MoveSentence] = []
    scenarios: list[ScenarioSentence] = []
    for path in files:
        lang = path.parent.parent.name
        model = ScenarioSentence if path.name.startswith("scenario") else MoveSentence
        for no, data in _rows(path):
            try:
                row = model.model_validate(data)
            except ValidationError as exc:
                err = exc.errors()[0]
                loc = ".".join(str(x) for x in err["loc"]) or "row"
                raise KnowledgeError(f"{path.parent.parent.name}/{path.name}, line {no}: {loc}: {err['msg']}") from None
            if row.lang != lang:
                raise KnowledgeError(f"{lang}/{path.name}, line {no}: a '{row.lang}' sentence in the '{lang}' folder")
            (scenarios if isinstance(row, ScenarioSentence) else moves).append(row)  # type: ignore[arg-type]
    return Corpus(tuple(moves), tuple(scenarios), tuple(files))
