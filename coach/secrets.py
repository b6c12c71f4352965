"""Keeping API keys out of anything coach prints, logs or raises."""

from __future__ import annotations

import os
import re

_KNOWN: set[str] = set()


def remember(secret: str | None) -> None:
    """Note a secret that came from somewhere else than the environment (a .env file)."""
    if secret and len(secret) >= 4:
        _KNOWN.add(secret)


_KEYLIKE = re.compile(r"\b(?:sk|pk|rk|key)-[A-Za-z0-9_\-]{8,}\b|\bBearer\s+[A-Za-z0-9_\-\.]{8,}")


def scrub(text: str, *secrets: str | None) -> str:
    """Replace the configured API key (and anything shaped like one) with a mask."""
    values = [s for s in secrets if s] + [os.environ.get("OPENAI_API_KEY") or ""] + sorted(_KNOWN)
    for value in values:
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return _KEYLIKE.sub("***", text)
