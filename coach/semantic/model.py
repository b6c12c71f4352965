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
    knn_vecs: np.ndarray | None = None  # (n, dim) the corpus sentences' vectors: the second opinion's exemplars
    knn_labels: np.ndarray | None = None  # (n, moves) 1.0 where the exemplar makes the move
    knn_k: int = 0
    exemplars: Exemplars | None = None  # where they are read from on first use (load_model), when not given above

    @property
    def has_second(self) -> bool:
        return self.knn_k > 0 and ((self.knn_vecs is not None and self.knn_labels is not None)
                                   or self.exemplars is not None)

    def neighbours(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The exemplars' vectors and labels, or None (no second opinion, or its file could not be read)."""
        if self.knn_vecs is not None and self.knn_labels is not None:
            return self.knn_vecs, self.knn_labels
        return self.exemplars.get() if self.exemplars is not None else None

    def second_probs(self, vecs: np.ndarray) -> np.ndarray:
        """(n, moves) the second opinion: per move, the similarity-weighted share of the ``knn_k`` nearest
        corpus sentences (cosine) that make it; all zeros when there is none."""
        known = self.neighbours()
        if len(vecs) == 0 or known is None or self.knn_k <= 0:
            return np.zeros((len(vecs), len(self.moves)), dtype=np.float32)
        ex, labels = known
        # einsum, not BLAS: a few rows against thousands of exemplars, and no thread pool to wake on a busy machine
        sims = np.einsum("id,nd->in", vecs.astype(np.float32), ex)
        k = min(self.knn_k, sims.shape[1])
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        w = np.clip(np.take_along_axis(sims, idx, axis=1), 0.0, None)
        votes = (labels[idx] * w[:, :, None]).sum(axis=1)
        return votes / np.maximum(w.sum(axis=1, keepdims=True), 1e-9)

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


def exemplars_from_bytes(raw: bytes, moves: Sequence[str], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The second opinion's exemplars: a float16 .npy of (n, dim + 1) rows, the sentence's vector and in the
    last column its moves as bits (bit i: ``moves[i]``). Returns float32 vectors and 0/1 labels."""
    import io

    q = np.load(io.BytesIO(raw), allow_pickle=False)
    if q.dtype != np.float16 or q.ndim != 2 or q.shape[1] != dim + 1 or not np.isfinite(q).all():
        raise ValueError(f"exemplars have the wrong shape or type ({q.dtype}, {q.shape})")
    vecs = np.ascontiguousarray(q[:, :dim], dtype=np.float32)
    bits = q[:, dim].astype(np.int64)
    labels = ((bits[:, None] >> np.arange(len(moves))[None, :]) & 1).astype(np.float32)
    return vecs, labels


class Exemplars:
    """The second opinion's exemplar file, read and checked on first use: a cold check whose sentences need
    no vote never reads its 4 MB. A missing or mismatched file warns once and leaves the logistic model alone."""

    def __init__(self, path: Path, sha256: str, moves: Sequence[str], dim: int) -> None:
        self.path, self.sha256, self.moves, self.dim = path, sha256, tuple(moves), dim
        self._data: tuple[np.ndarray, np.ndarray] | None = None
        self._failed = False
        self._lock = threading.Lock()

    def get(self) -> tuple[np.ndarray, np.ndarray] | None:
        import hashlib
        import warnings

        with self._lock:
            if self._data is None and not self._failed:
                try:
                    raw = self.path.read_bytes()
                    if hashlib.sha256(raw).hexdigest() != self.sha256:
                        raise ValueError(f"{self.path.name} does not match the weights (run `coach train`)")
                    self._data = exemplars_from_bytes(raw, self.moves, self.dim)
                except (OSError, ValueError) as exc:
                    self._failed = True
                    warnings.warn(f"coach: the semantic layer's second opinion is off: {exc}", RuntimeWarning,
                                  stacklevel=4)
            return self._data


def _with_exemplars(model: SemanticModel, data: dict[str, Any], folder: Path, where: str) -> SemanticModel:
    """The model with its second opinion (``knn`` in the weights: the exemplar file, its digest, k)."""
    import dataclasses

    knn = data.get("knn")
    if not knn:
        return model
    try:
        name = str(knn["file"])
        if "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".npy"):
            raise ValueError(f"bad exemplar file name {name!r}")
        k = int(knn["k"])
        if not 1 <= k <= 100:
            raise ValueError(f"k = {k} is out of range")
        ex = Exemplars(folder / name, str(knn["sha256"]), model.moves, model.w.shape[1])
    except (KeyError, TypeError, ValueError) as exc:
        raise KnowledgeError(f"{where}: the second opinion's entry is broken ({exc}); run `coach train`") from None
    return dataclasses.replace(model, knn_k=k, exemplars=ex)


def load_model(path: Path | None = None) -> SemanticModel:
    path = path or weights_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KnowledgeError(f"cannot read the semantic model {path.name}: {exc}; run `coach train`") from None
    return _with_exemplars(model_from_dict(data, path.name), data, path.parent, path.name)


@cache
def default_model() -> SemanticModel:
    return load_model()
