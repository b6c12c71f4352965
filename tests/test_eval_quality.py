"""`coach eval` agrees with the API; the rules still recognise the sets they were tuned on (a regression guard:
those sets are memory, not a measure of generalisation; first-seen figures are in the README)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coach.api import Coach
from coach.checker import Checker
from coach.evaluation import evaluate, load_labeled


@pytest.mark.parametrize(("name", "minimum_n"), [("own_drafts.jsonl", 100), ("holdout_drafts.jsonl", 50), ("blind_drafts.jsonl", 40), ("blind2_drafts.jsonl", 40), ("blind3_drafts.jsonl", 40), ("blind4_de_drafts.jsonl", 40), ("blind4_en_drafts.jsonl", 40)])
def test_rules_still_recognise_the_labeled_sets_they_were_tuned_on(name: str, minimum_n: int) -> None:
    rep = evaluate(load_labeled(Path(__file__).parent / "data" / name), Checker(rules_only=True))
    assert rep.n >= minimum_n
    assert rep.macro_f1 >= 0.95, rep.misses
    assert rep.exact_match >= 0.85
    assert rep.scenario_accuracy >= 0.9
    assert rep.address_accuracy >= 0.95


def test_semantic_layer_keeps_every_move_precise_on_a_tuned_set() -> None:
    rows = load_labeled(Path(__file__).parent / "data" / "holdout_drafts.jsonl")
    rules, both = evaluate(rows, Checker(rules_only=True)), evaluate(rows, Checker(rules_only=False))
    for move, score in both.per_move.items():
        assert score.precision >= 0.95, (move, both.misses)
        assert score.recall >= rules.per_move[move].recall
    assert both.scenario_accuracy >= rules.scenario_accuracy - 0.02


def test_cli_eval_agrees_with_the_python_api(own_drafts_file: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "coach", "eval", str(own_drafts_file), "--json", "--misses",
                          "--rules-only"], capture_output=True, text=True, timeout=120)
    data = json.loads(res.stdout)
    coach = Coach(offline=True)
    rows = load_labeled(own_drafts_file)
    exact = sum(coach.check(r.draft, client_message=r.client_message, rules_only=True).moves == r.moves
                for r in rows) / len(rows)
    assert abs(data["exact_match"] - round(exact, 4)) < 1e-9
    missed = {m["id"] for m in data["misses"]}
    for r in rows:
        rep = coach.check(r.draft, client_message=r.client_message, rules_only=True)
        right = rep.moves == r.moves and rep.scenario == r.scenario and rep.address == r.address
        assert (r.id not in missed) == right


def test_eval_table_without_json_is_readable(own_drafts_file: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "coach", "eval", str(own_drafts_file), "--rules-only"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0
    assert "macro F1" in res.stdout and "precision" in res.stdout and "scenario accuracy" in res.stdout


def test_eval_rejects_a_file_that_is_not_labeled_drafts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "coach", "eval", str(bad)], capture_output=True, text=True)
    assert res.returncode == 2 and "line 1" in res.stderr
