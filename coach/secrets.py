"""Keeping API keys out of anything coach prints, logs or raises."""

from __future__ import annotations

import os
import re

_KEYLIKE = re.compile(r"\b(?:sk|pk|rk|key)-[A-Za-z0-9_\-]{8,}\b|\bBearer\s+[A-Za-z0-9_\-\.]{8,}")


def scrub(text: str, *secrets: str | None) -> str:
    """Replace the configured API key (and anything shaped like one) with a mask."""
    values = [s for s in secrets if s] + [os.environ.get("OPENAI_API_KEY") or ""]
    for value in values:
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    return _KEYLIKE.sub("***", text)
