"""Build and sync the Chroma index from knowledge/ and the user's own folders.

The sync is incremental: every document carries a content hash in its metadata, and only
new or changed documents are embedded; documents whose source is gone are deleted. The
collection metadata records the embedding model and a ``complete`` marker that is set only
after a sync finished, so an index that was killed half-way, or built with another model,
is rebuilt instead of being mixed. One indexer runs at a time (a file lock in the data
folder).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from coach.errors import ConfigError
from coach.notices import Notice, notice

SCHEMA_VERSION = 1
EXTRA_PATHS_FILE = "extra_paths.json"
LOCK_FILE = "index.lock"
LOCK_TIMEOUT = 600.0
BATCH = 16

Progress = Callable[[int, int], None]


class IndexStats(BaseModel):
    """What a sync did. ``embedded`` = added + updated (documents sent to the model)."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    total: int = 0
    seconds: float = 0.0
    embedding: str = ""
    rebuilt: bool = False
    store: str = ""
    extra_paths: list[str] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)

    @property
    def embedded(self) -> int:
        return self.added + self.updated


# ------------------------------------------------------------------------ small state files

def _atomic_write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remembered_paths(settings: Any) -> list[Path]:
    """The user's extra folders from earlier ``coach index --add`` runs."""
    path = Path(settings.data_dir).expanduser() / EXTRA_PATHS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    items = data.get("paths", []) if isinstance(data, dict) else []
    return [Path(p) for p in items if isinstance(p, str) and p]


def remember_paths(settings: Any, paths: Sequence[Path]) -> None:
    from coach.kb.store import ensure_data_dir

    data_dir = ensure_data_dir(Path(settings.data_dir))
    _atomic_write_json(data_dir / EXTRA_PATHS_FILE, {"paths": [str(p) for p in paths]})


def _merge_paths(old: Iterable[Path], new: Iterable[Path], forget: Iterable[Path]) -> list[Path]:
    drop = {Path(p).expanduser().resolve() for p in forget}
    out: list[Path] = []
    seen: set[Path] = set()
    for p in (*old, *new):
        rp = Path(p).expanduser().resolve()
        if rp in seen or rp in drop:
            continue
        seen.add(rp)
        out.append(rp)
    return out


# ------------------------------------------------------------------------ locking

@contextlib.contextmanager
def index_lock(data_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """An exclusive lock on ``<data_dir>/index.lock`` (waits up to ``timeout`` seconds)."""
    from coach.kb.store import ensure_data_dir

    timeout = LOCK_TIMEOUT if timeout is None else timeout
    data_dir = ensure_data_dir(Path(data_dir))
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock, run unguarded
        yield
        return
    fh = open(data_dir / LOCK_FILE, "a+")  # noqa: SIM115 - closed in finally
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConfigError(
                        f"another coach process is indexing into {data_dir}; try again when it is done"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


# ------------------------------------------------------------------------ documents

def collect_documents(extra_paths: Sequence[Path], knowledge: Path | None = None) -> tuple[list[Any], list[str]]:
    """Bundled documents plus the user's; (documents, notices)."""
    from coach.kb.ingest import ingest_paths
    from coach.kb.loader import load_knowledge

    kb = load_knowledge(knowledge)
    docs = list(kb.documents())
    notices: list[Notice] = []
    if extra_paths:
        res = ingest_paths(extra_paths)
        bundled = {d.id for d in docs}
        docs.extend(d for d in res.documents if d.id not in bundled)
        for path, why in res.skipped:
            if why not in ("empty", "not found"):  # a missing folder gets its own notice
                notices.append(notice("index_skipped", path=path, reason=why))
    return docs, notices


def fingerprint(extra_paths: Sequence[Path], knowledge: Path | None = None) -> str:
    """A cheap digest of every source file (content of the bundled files, stat of the user's)."""
    from coach.kb.ingest import file_stats
    from coach.kb.loader import knowledge_files

    h = hashlib.sha256(f"v{SCHEMA_VERSION}".encode())
    for path in knowledge_files(knowledge):
        h.update(str(path.name).encode())
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"<missing>")
    for entry in file_stats(extra_paths):
        h.update(repr(entry).encode())
    return h.hexdigest()[:32]


# ------------------------------------------------------------------------ collection helpers

def _collection_metadata(emb: str, *, complete: bool, count: int = 0, fp: str = "") -> dict[str, Any]:
    return {
        "embedding": emb,
        "schema": SCHEMA_VERSION,
        "complete": complete,
        "count": count,
        "fingerprint": fp,
        "synced_at": time.time(),
    }


def index_state(client: Any) -> dict[str, Any] | None:
    """The collection metadata (embedding, complete, count, fingerprint), or None if missing."""
    from coach.kb.store import get_collection

    coll = get_collection(client)
    if coll is None:
        return None
    return dict(coll.metadata or {})


def _is_usable(meta: dict[str, Any] | None, emb: str, count: int | None = None) -> bool:
    if not meta:
        return False
    if meta.get("embedding") != emb or meta.get("schema") != SCHEMA_VERSION:
        return False
    if meta.get("complete") is not True:
        return False
    return count is None or meta.get("count") == count


def _create_collection(client: Any, ef: Any, emb: str) -> Any:
    from coach.kb.store import COLLECTION_NAME

    return client.create_collection(
        COLLECTION_NAME,
        embedding_function=ef,
        configuration={"hnsw": {"space": "cosine"}},
        metadata=_collection_metadata(emb, complete=False),
    )


def _existing_hashes(coll: Any) -> dict[str, str]:
    got = coll.get(include=["metadatas"])
    return {i: str((m or {}).get("hash", "")) for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)}


# ------------------------------------------------------------------------ sync

def sync_index(
    settings: Any,
    extra_paths: Sequence[Path] = (),
    progress: Progress | None = None,
    rebuild: bool = False,
    *,
    forget: Sequence[Path] = (),
    client: Any = None,
    embedding_function: Any = None,
    knowledge: Path | None = None,
) -> IndexStats:
    """Bring the index in line with knowledge/ and the user's folders; embed only what changed.

    ``extra_paths`` are added to the remembered folders (``forget`` removes some); the union
    is saved in the data folder, so a later sync without arguments keeps them. ``progress``
    is called as ``progress(done, total)`` over the documents that need embedding.
    """
    from coach.kb.store import ensure_data_dir, store_label

    start = time.perf_counter()
    data_dir = ensure_data_dir(Path(settings.data_dir))
    with index_lock(data_dir):
        paths = _merge_paths(remembered_paths(settings), extra_paths, forget)
        if list(map(str, paths)) != list(map(str, remembered_paths(settings))):
            remember_paths(settings, paths)
        try:
            stats = _sync_locked(settings, paths, progress, rebuild, client, embedding_function, knowledge)
        except ConfigError:
            raise
        except Exception as exc:
            from coach.kb.store import is_chroma_error, wipe_store

            if settings.chroma_host or client is not None or not is_chroma_error(exc):
                raise _as_config_error(exc, settings) from None
            # A damaged embedded store: start over once from an empty folder.
            wipe_store(settings)
            stats = _sync_locked(settings, paths, progress, True, None, embedding_function, knowledge)
            stats.notices.append(notice("index_rebuilt"))
    stats.seconds = round(time.perf_counter() - start, 3)
    stats.store = store_label(settings)
    stats.extra_paths = [str(p) for p in paths]
    return stats


def _as_config_error(exc: Exception, settings: Any) -> ConfigError:
    from coach.kb.store import store_label

    return ConfigError(f"indexing into the {store_label(settings)} failed: {type(exc).__name__}: {str(exc)[:200]}")


def _sync_locked(
    settings: Any,
    paths: Sequence[Path],
    progress: Progress | None,
    rebuild: bool,
    client: Any,
    ef: Any,
    knowledge: Path | None,
) -> IndexStats:
    from coach.kb.embeddings import embedding_function_for, model_id
    from coach.kb.store import COLLECTION_NAME, get_collection, open_client

    client = client if client is not None else open_client(settings)
    ef = ef if ef is not None else embedding_function_for(settings)
    emb = model_id(ef)
    docs, notices = collect_documents(paths, knowledge)
    fp = fingerprint(paths, knowledge)
    for p in paths:
        if not p.exists():
            notices.append(notice("extra_missing", path=p))

    coll = get_collection(client)  # without an embedder: compare what it was built with
    rebuilt = False
    if coll is not None:
        meta = dict(coll.metadata or {})
        if rebuild or not _is_usable(meta, emb, coll.count()):
            if not rebuild:
                if meta.get("embedding") != emb:
                    why = f"built with {meta.get('embedding')!r}, now {emb!r}"
                elif meta.get("schema") != SCHEMA_VERSION:
                    why = "it has an older format"
                elif meta.get("complete") is not True:
                    why = "an earlier build did not finish"
                else:
                    why = "its contents do not match its record"
                notices.append(notice("index_rebuilding", reason=why))
            client.delete_collection(COLLECTION_NAME)
            coll = None
            rebuilt = True
        else:
            coll = get_collection(client, embedding_function=ef)
            if coll is None:  # persisted with another embedder of the same model id
                client.delete_collection(COLLECTION_NAME)
                rebuilt = True
    if coll is None:
        coll = _create_collection(client, ef, emb)
        rebuilt = True
        existing: dict[str, str] = {}
    else:
        existing = _existing_hashes(coll)

    wanted = {d.id: d for d in docs}
    to_remove = [i for i in existing if i not in wanted]
    to_embed = [d for d in docs if existing.get(d.id) != d.hash]
    added = sum(1 for d in to_embed if d.id not in existing)
    stats = IndexStats(
        added=added,
        updated=len(to_embed) - added,
        removed=len(to_remove),
        unchanged=len(docs) - len(to_embed),
        total=len(docs),
        embedding=emb,
        rebuilt=rebuilt,
        notices=notices,
    )

    meta_now = dict(coll.metadata or {})
    if not to_remove and not to_embed and _is_usable(meta_now, emb, len(docs)) and meta_now.get("fingerprint") == fp:
        if progress:
            progress(0, 0)
        return stats

    # Not complete until every write below has landed.
    coll.modify(metadata=_collection_metadata(emb, complete=False, count=len(docs), fp=""))
    if to_remove:
        for start in range(0, len(to_remove), 512):
            coll.delete(ids=to_remove[start : start + 512])
    total = len(to_embed)
    if progress:
        progress(0, total)
    for start in range(0, total, BATCH):
        batch = to_embed[start : start + BATCH]
        vectors = ef([d.embed_text for d in batch])
        coll.upsert(
            ids=[d.id for d in batch],
            embeddings=vectors,
            documents=[d.text for d in batch],
            metadatas=[dict(d.metadata) for d in batch],
        )
        if progress:
            progress(min(start + BATCH, total), total)
    count = coll.count()
    if count != len(docs):
        raise ConfigError(f"the index holds {count} documents after the sync, expected {len(docs)}")
    coll.modify(metadata=_collection_metadata(emb, complete=True, count=len(docs), fp=fp))
    return stats


def ensure_index(
    settings: Any,
    *,
    client: Any = None,
    embedding_function: Any = None,
    progress: Progress | None = None,
    knowledge: Path | None = None,
) -> IndexStats | None:
    """Build or sync the index when it is missing, unfinished, stale or from another model.

    Returns None when the index was already up to date (a cheap check: the collection
    metadata against a fingerprint of the source files), else the sync's stats.
    """
    from coach.kb.embeddings import embedding_function_for, model_id
    from coach.kb.store import get_collection, open_client

    client = client if client is not None else open_client(settings)
    ef = embedding_function if embedding_function is not None else embedding_function_for(settings)
    paths = remembered_paths(settings)
    coll = get_collection(client)
    if coll is not None:
        meta = dict(coll.metadata or {})
        if _is_usable(meta, model_id(ef), coll.count()) and meta.get("fingerprint") == fingerprint(paths, knowledge):
            return None
    return sync_index(
        settings, progress=progress, client=client, embedding_function=ef, knowledge=knowledge
    )
