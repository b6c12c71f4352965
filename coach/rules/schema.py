"""The pydantic schema of a rule file (knowledge/rules/*.toml); unknown keys are errors."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from coach.models import MOVE_NAMES
from coach.moves import AID_MOVES, names

RULE_MOVES: frozenset[str] = frozenset(names()) | {"address"}  # the moves of knowledge/moves.toml, and address
RuleKind = Literal["presence", "absence", "address_mixed"]
_ID = re.compile(r"^[a-z]{2}\.[a-z0-9_]+(\.[a-z0-9_]+)+$")


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    client_message: str | None = None


class Examples(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bad: list[str | Example] = Field(min_length=1)
    good: list[str | Example] = Field(min_length=1)


class Rule(BaseModel):
    """One rule. Presence rules find a move in a sentence; absence rules report a missing move.

    Examples: `bad` texts must produce this rule's finding, `good` texts must not
    (for a good move's presence rule, `good` texts make the move and `bad` ones are near misses).
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    move: str
    lang: str = Field(pattern=r"^[a-z]{2}$")
    kind: RuleKind = "presence"
    severity: Literal["error", "warning", "info"]
    penalty: int = Field(default=0, ge=0, le=100)
    patterns: list[str] = Field(default_factory=list)
    pattern_examples: list[str] = Field(default_factory=list)  # one per pattern, same order: a text it matches
    requires: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)
    negation: bool = False
    case_sensitive: bool = False
    ambiguous: bool = False  # the semantic layer may drop a hit of this rule whose sentence it scores as not the move
    when_scenario: Literal["shock", "long_standing", "unclear"] | None = None
    message: str = Field(min_length=1)
    suggestion: str = Field(min_length=1)
    examples: Examples

    @field_validator("move")
    @classmethod
    def _known_move(cls, value: str) -> str:
        if value not in RULE_MOVES:
            raise ValueError(f"unknown move '{value}' (see knowledge/moves.toml)")
        return value

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("rule ids look like 'de.move.name' (lowercase, dots)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if not self.id.startswith(self.lang + "."):
            raise ValueError(f"rule {self.id} must start with its language '{self.lang}.'")
        if self.kind == "presence" and not self.patterns:
            raise ValueError(f"presence rule {self.id} needs patterns")
        if self.kind != "presence" and (self.patterns or self.requires or self.unless):
            raise ValueError(f"{self.kind} rule {self.id} takes no patterns")
        if self.kind == "absence" and self.move not in MOVE_NAMES and self.move not in AID_MOVES:
            raise ValueError(f"absence rule {self.id} must name a move")
        return self


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: list[Rule] = Field(default_factory=list)


class ScenarioSignal(BaseModel):
    """A sign in the client's message that tells the scenario apart."""

    model_config = ConfigDict(extra="forbid")

    id: str
    scenario: Literal["shock", "long_standing"]
    weak: bool = False  # a weak long-standing sign (bank pressure) gives way to a sudden shock
    patterns: list[str] = Field(min_length=1)
    pattern_examples: list[str] = Field(default_factory=list)  # one per pattern, same order: a text it matches
    requires: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)
    examples: Examples


class ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signal: list[ScenarioSignal] = Field(default_factory=list)
