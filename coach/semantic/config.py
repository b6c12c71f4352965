"""knowledge/semantic/config.toml: the semantic layer's thresholds and messages, validated on load."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coach.errors import KnowledgeError
from coach.moves import MOVE_NAMES
from coach.paths import knowledge_dir
from coach.patterns import Pattern


class MoveThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    add: float = Field(gt=0.5, le=1.0)
    veto: float = Field(ge=0.0, lt=0.5)
    remove: float = Field(default=1.0, gt=0.5, le=1.0)  # a fault: the rewrite drops an unreported sentence from here
    remove_cued: float = Field(default=1.0, ge=0.0, le=1.0)  # ... from here when it pushes back (rewrite.toml pushback)
    remove_second: float = Field(default=1.0, gt=0.0, le=1.0)  # ... when the second opinion votes at least this
    remove_second_from: float = Field(default=1.0, gt=0.0, le=1.0)  # ... and the model scores it at least this
    agree_from: float = Field(default=1.0, gt=0.5, le=1.0)  # a fault from here to `add` needs the second opinion
    agree: float = Field(default=0.5, gt=0.0, le=1.0)  # ... scoring it at least this (see SemanticModel.second_probs)


class ScenarioThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    long_standing: float = Field(gt=0.5, le=1.0)
    shock: float = Field(gt=0.5, le=1.0)


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    message: str = Field(min_length=1)
    suggestion: str = Field(min_length=1)


class SemanticConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_words: int = Field(default=3, ge=1, le=20)
    scenario_min_words: int = Field(default=4, ge=1, le=20)
    beside_good: float = Field(default=1.0, gt=0.5, le=1.0)  # a model fault in a sentence with a good rule hit
    good_beside: float = Field(default=1.0, gt=0.5, le=1.0)  # a model good move beside another good move (or an aid)
    good_beside_fault: float = Field(default=1.0, gt=0.5, le=1.0)  # a model good move in a sentence with a fault
    fault_beside_fault: float = Field(default=1.0, gt=0.5, le=1.0)  # a second fault in a sentence with a fault
    clauses: bool = False  # also read each sentence clause by clause for faults (split at , ; : dashes and "but")
    clause_min_words: int = Field(default=4, ge=2, le=20)  # a shorter piece joins its neighbour
    clause_add: float = Field(default=0.98, gt=0.5, le=1.0)  # the least a fault found in a clause alone needs
    move: dict[str, MoveThresholds]
    scenario: ScenarioThresholds
    message: dict[str, dict[str, dict[str, Message]]]  # lang -> address ("Sie", "du" or "any") -> move
    negation_cues: dict[str, list[Pattern]] = Field(default_factory=dict)  # lang -> regexes a negation must govern to veto
    clause_cuts: dict[str, list[Pattern]] = Field(default_factory=dict)  # lang -> where a sentence splits into clauses

    @model_validator(mode="after")
    def _complete(self) -> SemanticConfig:
        if set(self.move) != set(MOVE_NAMES):
            raise ValueError(f"[move.*] must name exactly the moves {list(MOVE_NAMES)}")
        for lang in ("de", "en"):
            forms = self.message.get(lang)
            if not forms:
                raise ValueError(f"no messages for '{lang}'")
            for address, msgs in forms.items():
                missing = set(MOVE_NAMES) - set(msgs)
                if missing:
                    raise ValueError(f"message.{lang}.{address} lacks {sorted(missing)}")
        return self

    def text(self, lang: str, address: str, move: str) -> Message:
        """The message for a model finding in the draft's language and form of address (Sie when unknown)."""
        forms = self.message.get(lang) or self.message["en"]
        return (forms.get(address) or forms.get("any") or forms.get("Sie") or next(iter(forms.values())))[move]


def load_config(path: Path | None = None) -> SemanticConfig:
    path = path or knowledge_dir() / "semantic" / "config.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return SemanticConfig.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"cannot read {path.name}: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise KnowledgeError(f"{path.name}: {loc}: {err['msg']}") from None


@cache
def default_config() -> SemanticConfig:
    return load_config()
