"""The checker's figures on the shared dev set and on the project's own labeled drafts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coach.api import Coach
from coach.evaluation import evaluate, load_labeled


def test_dev_set_meets_the_acceptance_figures(dev_file: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "coach", "eval", str(dev_file), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(data) >= {"n", "per_move", "macro_f1", "exact_match", "scenario_accuracy"}
    assert data["macro_f1"] >= 0.95
    assert data["exact_match"] >= 0.85
    assert data["scenario_accuracy"] >= 0.85


@pytest.mark.parametrize(("name", "minimum_n"), [("own_drafts.jsonl", 100), ("holdout_drafts.jsonl", 50), ("blind_drafts.jsonl", 40), ("blind2_drafts.jsonl", 40), ("blind3_drafts.jsonl", 40), ("blind4_de_drafts.jsonl", 40), ("blind4_en_drafts.jsonl", 40)])
def test_the_projects_own_labeled_drafts_generalise(name: str, minimum_n: int) -> None:
    rep = evaluate(load_labeled(Path(__file__).parent / "data" / name))
    assert rep.n >= minimum_n
    assert rep.macro_f1 >= 0.95, rep.misses
    assert rep.exact_match >= 0.85
    assert rep.scenario_accuracy >= 0.9
    assert rep.address_accuracy >= 0.95


def test_cli_eval_agrees_with_the_python_api(dev_file: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "coach", "eval", str(dev_file), "--json", "--misses"],
                         capture_output=True, text=True, timeout=120)
    data = json.loads(res.stdout)
    coach = Coach(offline=True)
    rows = load_labeled(dev_file)
    exact = sum(coach.check(r.draft, client_message=r.client_message).moves == r.moves for r in rows) / len(rows)
    assert abs(data["exact_match"] - round(exact, 4)) < 1e-9
    missed = {m["id"] for m in data["misses"]}
    for r in rows:
        rep = coach.check(r.draft, client_message=r.client_message)
        right = rep.moves == r.moves and rep.scenario == r.scenario and rep.address == r.address
        assert (r.id not in missed) == right


def test_eval_table_without_json_is_readable(dev_file: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "coach", "eval", str(dev_file)], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0
    assert "macro F1" in res.stdout and "precision" in res.stdout and "scenario accuracy" in res.stdout


def test_eval_rejects_a_file_that_is_not_labeled_drafts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "coach", "eval", str(bad)], capture_output=True, text=True)
    assert res.returncode == 2 and "line 1" in res.stderr
