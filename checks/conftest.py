"""Checks against the shared evaluation folder (../shared or COACH_SHARED_DIR), run by `make check-shared` and CI.

They are not part of `make test`: a fresh clone of the repository alone has no ../shared. Here a missing
folder is a failure, not a skip, so CI cannot pass without it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COACH_SHARED_DIR", REPO.parent / "shared"))
sys.path.insert(0, str(REPO / "tests"))

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "eval" / "dev.jsonl").is_file():
        pytest.fail(f"shared/ not found at {SHARED} (set COACH_SHARED_DIR)")
    return SHARED


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COACH_MODEL", "COACH_OFFLINE", "CHROMA_HOST", "CHROMA_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path_factory.getbasetemp() / "coach-data"))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.chdir(tmp_path)
