"""The semantic layer's weights (knowledge/semantic/weights.json) and sentence scoring.

Sentences are embedded with e5's ``query:`` prefix (``model.query``), for training and checking
alike, then scored by one logistic model per move (one-vs-rest) and a softmax over scenarios.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from coach.e5 import e5_model, run_lock
from coach.errors import KnowledgeError
from coach.paths import knowledge_dir

MAX_SENTENCE_CHARS = 600  # a longer "sentence" (a list without full stops) is cut for embedding
FORMAT = 1


def weights_path() -> Path:
    return knowledge_dir() / "semantic" / "weights.json"


class _VectorCache:
    """Sentence -> vector, LRU: a rewrite re-checks mostly the same sentences."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            vec = self._data.get(key)
            if vec is not None:
                self._data.move_to_end(key)
            return vec

    def put(self, key: str, vec: np.ndarray) -> None:
        with self._lock:
            self._data[key] = vec
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_cache = _VectorCache()


def prepare(text: str) -> str:
    """What is embedded: white space folded, length bounded, the first letter upper case (a sentence
    that starts "ganz ehrlich" in a chat and "Ganz ehrlich" after a rewrite is the same sentence)."""
    t = " ".join(text.split())[:MAX_SENTENCE_CHARS]
    return t[:1].upper() + t[1:] if t[:1].islower() else t


def embed(texts: Sequence[str], *, use_cache: bool = True) -> np.ndarray:
    """(n, 384) float32, L2-normalised e5 ``query:`` vectors of the texts (see ``prepare``)."""
    keys = [prepare(t) for t in texts]
    out: list[np.ndarray | None] = [_cache.get(k) if use_cache else None for k in keys]
    todo = [i for i, v in enumerate(out) if v is None]
    if todo:
        model = e5_model()
        uniq = list(dict.fromkeys(keys[i] for i in todo))
        with run_lock:
            vecs = np.asarray(model.query(uniq), dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        vecs = vecs / np.where(norms == 0, 1, norms)
        found = dict(zip(uniq, vecs, strict=True))
        for i in todo:
            out[i] = found[keys[i]]
            if use_cache:
                _cache.put(keys[i], found[keys[i]])
    if not out:
        return np.zeros((0, 384), dtype=np.float32)
    return np.stack(out)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SemanticModel:
    moves: tuple[str, ...]
    w: np.ndarray  # (moves, dim)
    b: np.ndarray  # (moves,)
    scenarios: tuple[str, ...]
    ws: np.ndarray  # (scenarios, dim)
    bs: np.ndarray  # (scenarios,)
    corpus_sha256: str
    meta: dict[str, Any]

    def move_probs(self, vecs: np.ndarray) -> np.ndarray:
        """(n, moves) probabilities that each sentence makes each move."""
        if len(vecs) == 0:
            return np.zeros((0, len(self.moves)), dtype=np.float32)
        z = vecs @ self.w.T + self.b
        return 1.0 / (1.0 + np.exp(-z))

    def scenario_probs(self, vecs: np.ndarray) -> np.ndarray:
        """(n, scenarios) probabilities (one-vs-rest) per sentence of a client's mail."""
        if len(vecs) == 0:
            return np.zeros((0, len(self.scenarios)), dtype=np.float32)
        z = vecs @ self.ws.T + self.bs
        return 1.0 / (1.0 + np.exp(-z))


def model_from_dict(data: dict[str, Any], where: str = "weights") -> SemanticModel:
    try:
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        moves = tuple(data["moves"])
        scenarios = tuple(data["scenarios"])
        w = np.asarray(data["w"], dtype=np.float32)
        b = np.asarray(data["b"], dtype=np.float32)
        ws = np.asarray(data["ws"], dtype=np.float32)
        bs = np.asarray(data["bs"], dtype=np.float32)
        dim = int(data["dim"])
        if w.shape != (len(moves), dim) or b.shape != (len(moves),):
            raise ValueError("move weights have the wrong shape")
        if ws.shape != (len(scenarios), dim) or bs.shape != (len(scenarios),):
            raise ValueError("scenario weights have the wrong shape")
        if not (np.isfinite(w).all() and np.isfinite(ws).all() and np.isfinite(b).all() and np.isfinite(bs).all()):
            raise ValueError("weights are not finite")
        return SemanticModel(moves, w, b, scenarios, ws, bs, str(data["corpus_sha256"]), dict(data.get("meta", {})))
    except (KeyError, TypeError, ValueError) as exc:
        raise KnowledgeError(f"{where}: not a semantic model ({exc}); run `coach train`") from None


def load_model(path: Path | None = None) -> SemanticModel:
    path = path or weights_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KnowledgeError(f"cannot read the semantic model {path.name}: {exc}; run `coach train`") from None
    return model_from_dict(data, path.name)


@cache
def default_model() -> SemanticModel:
    return load_model()
