"""Shared fixtures. The suite is hermetic: no network, no user data, no LLM key from the environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

# the suite runs servers, a browser and subprocesses on two cores: embedding threads should sleep, not spin
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from coach.settings import Settings  # noqa: E402

# every variable the settings read (derived from the fields, so a new setting is cleared too)
_ENV_TO_CLEAR = tuple(name for name in Settings.env_names() if name != "COACH_DATA_DIR")
os.environ.pop("COACH_KNOWLEDGE_DIR", None)  # the suite reads the repository's own knowledge/


@pytest.fixture(scope="session")
def session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("coach-data")


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, session_data_dir: Path, tmp_path: Path) -> None:
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COACH_DATA_DIR", str(session_data_dir))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's folder


@pytest.fixture(scope="session")
def own_drafts_file() -> Path:
    return TESTS / "data" / "own_drafts.jsonl"

