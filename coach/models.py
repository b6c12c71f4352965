"""Pydantic models at coach's boundaries; model_dump(mode="json") is the spec's JSON."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, create_model

from coach.moves import FAULT_MOVES, GOOD_MOVES, MOVE_NAMES
from coach.notices import Notice

__all__ = ["MOVE_NAMES", "GOOD_MOVES", "FAULT_MOVES", "Notice"]

Language = str  # a code with a folder under knowledge/lang/
Address = str  # one of the language's forms of address (Sie, du), "mixed" or "n/a"
Scenario = Literal["shock", "long_standing", "unclear"]
Severity = Literal["error", "warning", "info"]


class _MovesBase(BaseModel):
    """The six moves as booleans; the fields come from knowledge/moves.toml."""

    model_config = ConfigDict(extra="forbid")

    @property
    def is_good(self) -> bool:
        """The method's good reply: all three good moves and none of the faults."""
        return all(getattr(self, m) for m in GOOD_MOVES) and not any(getattr(self, m) for m in FAULT_MOVES)


Moves = create_model("Moves", __base__=_MovesBase, **{m: (bool, False) for m in MOVE_NAMES})  # type: ignore[call-overload]


class Finding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str
    move: str
    severity: Severity
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    message: str
    suggestion: str
    layer: Literal["rule", "model"] = "rule"


class CheckReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language
    address: Address
    scenario: Scenario | None
    score: int = Field(ge=0, le=100)
    moves: Moves
    findings: list[Finding]


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Literal["passage", "phrasing"]
    title: str
    text: str
    score: float
    lang: str
    move: str | None = None  # for a phrasing: the move it makes


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt_tokens: int
    completion_tokens: int


class Change(BaseModel):
    """One sentence-level change between the draft and the rewrite, in letter order."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Literal["removed", "added", "edited"]
    before: str
    after: str
    why: str
    sources: list[str] = Field(default_factory=list)


class RewriteResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["llm", "rules"]
    rewrite: str
    before: CheckReport
    after: CheckReport
    sources: list[Source]
    notices: list[Notice]
    usage: Usage | None
    changed: bool = True
    changes: list[Change] = Field(default_factory=list)
    # the rewrite as a Letter (coach.letter) with its changes marked, so Coach.apply can take some back
    _letter: object | None = PrivateAttr(default=None)


class StreamReset(BaseModel):
    """Yielded by `rewrite_stream` when the text streamed so far will not be the reply (see its docstring)."""

    model_config = ConfigDict(extra="forbid")

    reason: Literal["repair", "fallback"]
