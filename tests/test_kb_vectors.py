"""The shipped passage vectors of the bundled knowledge: the e5 model's own vectors, used by a build, only a cache.

A CPU other than the one `make vectors` ran on (AVX-512 or not, Intel or AMD) gives the same vectors to about
1e-3 per component (onnxruntime picks other kernels), so they are compared by cosine, not bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coach.e5 import e5_model
from coach.kb.embeddings import E5_MODELS, E5EmbeddingFunction, _passage_cache
from coach.kb.loader import load_knowledge
from coach.kb.vectors import DIM, shipped, text_key, vectors_path

MODEL = E5_MODELS["original"]


@pytest.fixture(scope="module")
def bundled_texts() -> list[str]:
    return sorted({d.embed_text for d in load_knowledge().documents()})


def test_shipped_vectors_are_the_models_own_vectors_of_the_bundled_texts(bundled_texts: list[str]) -> None:
    known = shipped()
    present = [t for t in bundled_texts if text_key(MODEL, t) in known]
    assert present, f"{vectors_path()} is missing: run `make vectors`"
    sample = present[:: max(1, len(present) // 6)][:6]
    fresh = np.asarray(e5_model().passage(sample), dtype=np.float32)
    for text, vec in zip(sample, fresh, strict=True):
        stored = known[text_key(MODEL, text)]
        cosine = float(np.dot(stored, vec) / (np.linalg.norm(stored) * np.linalg.norm(vec)))
        assert cosine > 0.9995, (text[:60], cosine)  # another text's vector scores ~0.8 against it


def test_shipped_vectors_cover_most_bundled_documents(bundled_texts: list[str]) -> None:
    # knowledge/ may change after the file was written (the changed documents are embedded as before);
    # most of it must be covered, or the file is stale: run `make vectors`
    known = shipped()
    covered = sum(text_key(MODEL, t) in known for t in bundled_texts)
    assert covered >= 0.8 * len(bundled_texts), (covered, len(bundled_texts))


def test_a_build_embeds_only_what_the_shipped_file_lacks(bundled_texts: list[str]) -> None:
    known = shipped()
    texts = [t for t in bundled_texts if text_key(MODEL, t) in known][:5] + ["Ein eigener Absatz, nirgends mitgeliefert."]
    _passage_cache.clear()
    ef = E5EmbeddingFunction()
    out = ef(texts)
    assert ef.passage_calls == 1  # only the user's own paragraph went to the model
    assert len(out) == len(texts) and all(v.shape == (DIM,) for v in out)
    assert np.array_equal(out[0], known[text_key(MODEL, texts[0])])


@pytest.mark.parametrize("content", [b"", b"not a zip", None])
def test_a_missing_or_malformed_file_gives_no_shortcut_and_no_error(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "e5-passages.npz"
    if content is not None:
        path.write_bytes(content)
    assert shipped(path) == {}


def test_a_file_of_the_wrong_shape_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "e5-passages.npz"
    np.savez(path, keys=np.array(["a", "b"]), vectors=np.zeros((2, 7), dtype=np.float32))
    assert shipped(path) == {}
    path2 = tmp_path / "obj.npz"
    np.savez(path2, keys=np.array([{"x": 1}], dtype=object), vectors=np.zeros((1, DIM), dtype=np.float32))
    assert shipped(path2) == {}
