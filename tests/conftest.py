"""Shared fixtures. The suite is hermetic: no network, no user data, no LLM key from the environment."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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



# ------------------------------------------------------------------------ the bundled knowledge index, built once
# Embedding the bundled knowledge with e5 is the suite's largest single cost (~40 s of CPU). One session fixture
# builds it from scratch into a template folder; tests copy the folder (a few MB, milliseconds) instead of building
# again. The build also fills e5's in-process passage cache, so a test that must build from scratch itself
# (test_kb_index) pays only Chroma's writes.


@dataclass
class BundledIndex:
    """The bundled knowledge, indexed from scratch with the real e5 model. The folder is a read-only template."""

    data_dir: Path
    stats: Any  # the IndexStats of the from-scratch build
    embedded_texts: int  # texts handed to the embedding function during that build
    progress: list[tuple[int, int]] = field(default_factory=list)

    def copy_to(self, dest: Path) -> Path:
        """A private data folder holding the complete index (for tests that write to it, or to read it alone)."""
        from coach.kb.index import LOCK_FILE

        shutil.copytree(self.data_dir, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(LOCK_FILE))
        return dest


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory: pytest.TempPathFactory) -> BundledIndex:
    from counting_e5 import CountingE5, register_real_e5

    from coach.kb import store
    from coach.kb.index import sync_index
    from coach.settings import load_settings

    data = tmp_path_factory.mktemp("bundled-index") / "data"
    settings = load_settings(data_dir=data, chroma_host=None, embeddings="local")
    ef = CountingE5()
    calls: list[tuple[int, int]] = []
    stats = sync_index(settings, progress=lambda done, total: calls.append((done, total)), embedding_function=ef)
    register_real_e5()  # a later test (in this process, whatever the order) finds the real class registered
    # close this process's client on the template (flushes it), so copies of the folder are complete stores
    path = store.chroma_path(settings).resolve()
    with store._clients_lock:
        store._clients.pop(f"path:{path}", None)
    store._forget_system(path)
    return BundledIndex(data_dir=data, stats=stats, embedded_texts=ef.texts, progress=calls)


@pytest.fixture(scope="session")
def session_index(bundled_index: BundledIndex, session_data_dir: Path) -> Path:
    """The session's data folder (COACH_DATA_DIR of every test) with the complete bundled index in it, for
    subprocesses and readers that use the default folder. Tests must not write to it: copy it first."""
    from coach.kb.index import ensure_index
    from coach.settings import load_settings

    if not (session_data_dir / "chroma").exists():
        bundled_index.copy_to(session_data_dir)
    ensure_index(load_settings(data_dir=session_data_dir, chroma_host=None))  # a no-op on the copy
    return session_data_dir
