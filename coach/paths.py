"""Where coach finds its bundled data (knowledge/, prompts/) and keeps local state."""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    """A data folder shipped in a wheel (coach/_data/NAME) or at the repository root (editable)."""
    wheel = _PACKAGE_DIR / "_data" / name
    if wheel.is_dir():
        return wheel
    return _PACKAGE_DIR.parent / name


@cache
def knowledge_dir() -> Path:
    """The knowledge folder: COACH_KNOWLEDGE_DIR when set (a team's own copy), else the bundled one."""
    override = os.environ.get("COACH_KNOWLEDGE_DIR")
    return Path(override) if override else _bundled("knowledge")


@cache
def prompts_dir() -> Path:
    return _bundled("prompts")


def default_data_dir() -> Path:
    """A per-user data folder (XDG on Linux, Application Support on macOS, LOCALAPPDATA on Windows)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "coach"
