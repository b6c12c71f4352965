"""Pydantic models at coach's boundaries; model_dump(mode="json") is the spec's JSON."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MOVE_NAMES: tuple[str, ...] = (
    "empathy",
    "plan_offer",
    "defer_collaboration",
    "accepts_cancellation",
    "judgment",
    "pressure",
)
GOOD_MOVES: tuple[str, ...] = ("empathy", "plan_offer", "defer_collaboration")
FAULT_MOVES: tuple[str, ...] = ("accepts_cancellation", "judgment", "pressure")

Language = Literal["de", "en"]
Address = Literal["Sie", "du", "mixed", "n/a"]
Scenario = Literal["shock", "long_standing", "unclear"]
Severity = Literal["error", "warning", "info"]


class Moves(BaseModel):
    model_config = ConfigDict(extra="forbid")

    empathy: bool = False
    plan_offer: bool = False
    defer_collaboration: bool = False
    accepts_cancellation: bool = False
    judgment: bool = False
    pressure: bool = False

    @property
    def is_good(self) -> bool:
        """The method's good reply: all three good moves and none of the faults."""
        return all(getattr(self, m) for m in GOOD_MOVES) and not any(getattr(self, m) for m in FAULT_MOVES)


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


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt_tokens: int
    completion_tokens: int


class RewriteResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["llm", "rules"]
    rewrite: str
    before: CheckReport
    after: CheckReport
    sources: list[Source]
    notices: list[str]
    usage: Usage | None
