"""The acceptance figures on the shared dev set and queries (tuned on: a regression guard, not a measure)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _coach(*args: str) -> dict:
    res = subprocess.run([sys.executable, "-m", "coach", *args, "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_dev_set_meets_the_acceptance_figures(shared_dir: Path) -> None:
    data = _coach("eval", str(shared_dir / "eval" / "dev.jsonl"))
    assert data["macro_f1"] >= 0.95
    assert data["exact_match"] >= 0.85
    assert data["scenario_accuracy"] >= 0.85


def test_every_shared_query_hits_in_top_4(shared_dir: Path) -> None:
    data = _coach("eval", str(shared_dir / "eval" / "queries.jsonl"))
    assert data["hit_at_k"] == 1.0, data


def test_every_dev_draft_that_is_not_good_gets_a_rewrite_that_keeps_its_promises(shared_dir: Path) -> None:
    from test_rewrite_offline import _assess_file  # type: ignore[import-not-found]

    assert _assess_file(shared_dir / "eval" / "dev.jsonl") == []
