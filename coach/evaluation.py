"""Scoring the checker on a labeled JSONL file (the shape of shared/eval/dev.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from coach.checker import Checker
from coach.errors import InputError, UsageError
from coach.models import MOVE_NAMES, CheckReport, Moves


class LabeledDraft(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    lang: Literal["de", "en"]
    address: Literal["Sie", "du", "mixed", "n/a"]
    scenario: Literal["shock", "long_standing", "unclear"]
    client_message: str | None = None
    draft: str
    moves: Moves


class MoveScore(BaseModel):
    precision: float
    recall: float
    f1: float


class Miss(BaseModel):
    id: str
    wrong: list[str]
    expected: dict[str, object]
    got: dict[str, object]
    findings: list[str]


class EvalReport(BaseModel):
    n: int
    per_move: dict[str, MoveScore]
    macro_f1: float
    exact_match: float
    scenario_accuracy: float
    address_accuracy: float
    language_accuracy: float
    misses: list[Miss]

    def public(self) -> dict[str, object]:
        """The spec's JSON: per-move scores and the four headline figures."""
        return self.model_dump(mode="json", exclude={"misses"})


def load_labeled(path: str | Path) -> list[LabeledDraft]:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"no such file: {path}")
    rows: list[LabeledDraft] = []
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text") from None
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(LabeledDraft.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else exc.errors()[0]["msg"]
            raise InputError(f"{path}, line {no}: not a labeled draft ({reason})") from None
    if not rows:
        raise InputError(f"{path} holds no labeled drafts")
    return rows


def _ratio(num: int, den: int) -> float:
    return round(num / den, 4) if den else 1.0


def evaluate(rows: list[LabeledDraft], checker: Checker | None = None) -> EvalReport:
    checker = checker or Checker()
    counts = {m: [0, 0, 0] for m in MOVE_NAMES}  # tp, fp, fn
    exact = scen = addr = lang = 0
    misses: list[Miss] = []
    for row in rows:
        report: CheckReport = checker.check(row.draft, client_message=row.client_message)
        got = report.moves.model_dump()
        want = row.moves.model_dump()
        wrong = [m for m in MOVE_NAMES if got[m] != want[m]]
        for m in MOVE_NAMES:
            if got[m] and want[m]:
                counts[m][0] += 1
            elif got[m]:
                counts[m][1] += 1
            elif want[m]:
                counts[m][2] += 1
        exact += not wrong
        scen += report.scenario == row.scenario
        addr += report.address == row.address
        lang += report.language == row.lang
        if report.scenario != row.scenario:
            wrong.append("scenario")
        if report.address != row.address:
            wrong.append("address")
        if wrong:
            misses.append(Miss(
                id=row.id, wrong=wrong,
                expected={**{m: want[m] for m in wrong if m in want}, "scenario": row.scenario, "address": row.address},
                got={**{m: got[m] for m in wrong if m in got}, "scenario": report.scenario, "address": report.address},
                findings=[f"{f.rule} [{f.start}:{f.end}] {f.text!r}" for f in report.findings],
            ))
    per_move: dict[str, MoveScore] = {}
    for m, (tp, fp, fn) in counts.items():
        p = _ratio(tp, tp + fp)
        r = _ratio(tp, tp + fn)
        f1 = round(2 * p * r / (p + r), 4) if p + r else 0.0
        per_move[m] = MoveScore(precision=p, recall=r, f1=f1)
    n = len(rows)
    return EvalReport(
        n=n, per_move=per_move, macro_f1=round(sum(s.f1 for s in per_move.values()) / len(per_move), 4),
        exact_match=_ratio(exact, n), scenario_accuracy=_ratio(scen, n), address_accuracy=_ratio(addr, n),
        language_accuracy=_ratio(lang, n), misses=misses,
    )
