"""The knowledge base and its retrieval on Chroma.

Importing ``coach.kb`` is cheap: chromadb and the embedding model load only when an index or
a retriever is used. ``load_knowledge`` reads and validates the bundled YAML files;
``sync_index``/``ensure_index`` build the Chroma index; ``Retriever`` searches it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "IndexStats",
    "KnowledgeBase",
    "QueryEvalReport",
    "Retriever",
    "ensure_index",
    "evaluate_queries",
    "load_knowledge",
    "sync_index",
]

_LAZY = {
    "KnowledgeBase": "coach.kb.loader",
    "load_knowledge": "coach.kb.loader",
    "IndexStats": "coach.kb.index",
    "sync_index": "coach.kb.index",
    "ensure_index": "coach.kb.index",
    "Retriever": "coach.kb.retriever",
    "QueryEvalReport": "coach.kb.query_eval",
    "evaluate_queries": "coach.kb.query_eval",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'coach.kb' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
