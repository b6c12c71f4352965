"""The knowledge commands as a user meets them: index, search, eval on queries, and their errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from coach.api import Coach
from coach.settings import load_settings


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "coach", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


@pytest.mark.usefixtures("session_index")  # the bundled index, built once per session
def test_search_json_shape_and_filters() -> None:
    res = run("search", "Wie zeige ich Empathie, ohne die Reaktion zu bewerten?", "--k", "3", "--json")
    assert res.returncode == 0, res.stderr
    hits = json.loads(res.stdout)
    assert len(hits) == 3
    for h in hits:
        assert set(h) == {"id", "kind", "title", "text", "score", "lang", "move"}
        assert h["kind"] in ("passage", "phrasing") and 0.0 <= h["score"] <= 1.0
    res = run("search", "plan offer", "--kind", "phrasing", "--lang", "en", "--json")
    assert all(h["kind"] == "phrasing" and h["lang"] == "en" for h in json.loads(res.stdout))


def test_empty_query_is_exit_2() -> None:
    res = run("search", "   ")
    assert res.returncode == 2 and "empty" in res.stderr and "Traceback" not in res.stderr


def test_an_unreachable_chroma_server_is_exit_3_naming_host_and_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = run("search", "plan", env={"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port)})
    assert res.returncode == 3
    assert f"127.0.0.1:{port}" in res.stderr and "Traceback" not in res.stderr


def test_an_unusable_data_folder_is_exit_3(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    res = run("search", "plan", env={"COACH_DATA_DIR": str(blocker / "data")})
    assert res.returncode == 3 and "Traceback" not in res.stderr


@pytest.mark.usefixtures("session_index")  # the bundled index, built once per session
def test_queries_file_is_scored_by_coach_eval() -> None:
    queries = Path(__file__).parent / "data" / "own_queries.jsonl"
    res = run("eval", str(queries), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    n = sum(1 for line in queries.read_text(encoding="utf-8").splitlines() if line.strip())
    assert data["n"] == n and {"hit_at_k", "mrr"} <= set(data) and 0.0 <= data["hit_at_k"] <= 1.0


@pytest.mark.slow  # builds whole indexes in subprocesses; `make test-slow` and CI run it
def test_index_add_takes_a_users_own_notes_and_phrasings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "eigene-notizen.md").write_text(
        "# Hagel im Weinberg\n\nWenn ein Winzer nach einem Hagelschaden kündigen will, frage ich zuerst nach der "
        "Versicherung und den nächsten Wochen der Lese.\n", encoding="utf-8")
    (notes / "phrasings.yaml").write_text(
        "- id: mine.defer\n  lang: de\n  address: Sie\n  move: defer_collaboration\n  scenario: any\n  tone: warm\n"
        "  text: \"Über unsere Zusammenarbeit reden wir später in aller Ruhe, wenn die Lese vorbei ist.\"\n",
        encoding="utf-8")
    env = {"COACH_DATA_DIR": str(data)}
    res = run("index", "--add", str(notes), env=env)
    assert res.returncode == 0, res.stderr
    assert "index ready" in res.stdout
    res = run("search", "Hagelschaden beim Winzer", "--json", env=env)
    assert any(h["id"].startswith("user:") for h in json.loads(res.stdout))
    monkeypatch.setenv("COACH_DATA_DIR", str(data))
    coach = Coach(settings=load_settings(offline=True))
    pool = coach.rewriter.rules_rewriter().picker.candidates("defer_collaboration", "de", "Sie", "shock")
    assert any(p.id.startswith("user:") for p in pool)
    again = run("index", env=env)  # a later sync keeps the user's folder
    assert "0 removed" in again.stdout


def test_index_add_of_a_missing_path_is_exit_2(tmp_path: Path) -> None:
    res = run("index", "--add", str(tmp_path / "nope"))
    assert res.returncode == 2 and "no such file" in res.stderr
