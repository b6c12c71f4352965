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
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from coach.errors import ConfigError
from coach.notices import Notice, notice

SCHEMA_VERSION = 2  # 2: HNSW built with ef_search 400 and 32 neighbours (an index of version 1 is rebuilt)
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

_held = threading.local()


@contextlib.contextmanager
def index_lock(data_dir: Path, timeout: float | None = None) -> Iterator[None]:
    """An exclusive lock on ``<data_dir>/index.lock`` (waits up to ``timeout`` seconds).

    Re-entrant within a thread (a repair inside a sync does not wait for itself).
    """
    from coach.kb.store import ensure_data_dir

    timeout = LOCK_TIMEOUT if timeout is None else timeout
    data_dir = ensure_data_dir(Path(data_dir))
    key = str(data_dir.resolve())
    held: set[str] = getattr(_held, "dirs", None) or set()
    _held.dirs = held
    if key in held:
        yield
        return
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
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


# ------------------------------------------------------------------------ documents

MANIFEST_FILE = "files.json"


def max_file_bytes(settings: Any) -> int:
    return int(float(getattr(settings, "max_file_mb", 5.0)) * 1024 * 1024)


def _load_manifest(settings: Any) -> dict[str, Any]:
    from coach.kb.ingest import FileRecord

    path = Path(settings.data_dir).expanduser() / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
        return {}
    out = {}
    for key, raw in dict(data.get("files") or {}).items():
        rec = FileRecord.from_json(raw)
        if rec is not None:
            out[str(key)] = rec
    return out


def _save_manifest(settings: Any, records: dict[str, Any]) -> None:
    try:
        _atomic_write_json(Path(settings.data_dir).expanduser() / MANIFEST_FILE,
                           {"schema": SCHEMA_VERSION, "files": {k: r.to_json() for k, r in records.items()}})
    except OSError:  # only a shortcut for the next sync
        pass


def ingest_notices(res: Any) -> list[Notice]:
    """Notices for the files an ingest skipped and the phrasings it rejected (names printed safely)."""
    from coach.kb.ingest import safe_name

    notices: list[Notice] = []
    for path, why in res.skipped:
        if why not in ("empty", "not found"):  # a missing folder gets its own notice
            notices.append(notice("index_skipped", path=safe_name(path), reason=safe_name(why)))
    for r in res.rejected:
        notices.append(notice("phrasing_rejected", id=safe_name(r.id), path=safe_name(r.file),
                              reason=safe_name("; ".join(r.problems))))
    return notices


def collect_documents(extra_paths: Sequence[Path], knowledge: Path | None = None, *, settings: Any = None,
                      cache: dict[str, Any] | None = None) -> tuple[list[Any], list[Notice], Any]:
    """Bundled documents plus the user's; (documents, notices, ingest result or None)."""
    from coach.kb.ingest import ingest_paths
    from coach.kb.loader import load_knowledge

    kb = load_knowledge(knowledge)
    docs = list(kb.documents())
    notices: list[Notice] = []
    res = None
    if extra_paths:
        limit = max_file_bytes(settings) if settings is not None else max_file_bytes(None)
        res = ingest_paths(extra_paths, max_bytes=limit, cache=cache)
        bundled = {d.id for d in docs}
        docs.extend(d for d in res.documents if d.id not in bundled)
        for i in [i for i in res.reused if i in bundled]:
            res.reused.pop(i)
        notices.extend(ingest_notices(res))
    return docs, notices, res


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


HNSW_EF_SEARCH = 400


def _create_collection(client: Any, ef: Any, emb: str) -> Any:
    from coach.kb.store import COLLECTION_NAME

    return client.create_collection(
        COLLECTION_NAME,
        embedding_function=ef,
        # e5 vectors sit close together (cosine 0.75-0.85 for unrelated German texts), which makes the HNSW graph
        # weak at its defaults (ef_search 100, 16 neighbours): a user's note at cosine 0.90 to the query was missed
        # in a 484-document index. A wider search and a denser graph keep the search exact at this size.
        configuration={"hnsw": {"space": "cosine", "ef_search": HNSW_EF_SEARCH, "ef_construction": 200,
                                "max_neighbors": 32}},
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
    from coach.kb.store import StoreError, chroma_path, ensure_data_dir, guarded, store_label, wipe_store

    start = time.perf_counter()
    data_dir = ensure_data_dir(Path(settings.data_dir))
    accepted, pre = check_additions(settings, extra_paths) if extra_paths else ([], [])
    with index_lock(data_dir):
        paths = _merge_paths(remembered_paths(settings), accepted, forget)
        if list(map(str, paths)) != list(map(str, remembered_paths(settings))):
            remember_paths(settings, paths)
        try:
            with guarded(settings, f"indexing into the {store_label(settings)} failed"):
                stats = _sync_locked(settings, paths, progress, rebuild, client, embedding_function, knowledge)
        except StoreError as exc:
            if settings.chroma_host or client is not None or not exc.damaged:
                raise
            # A damaged embedded store (a Rust panic included): start over once from an empty folder.
            wipe_store(settings)
            with guarded(settings, f"rebuilding the damaged index at {chroma_path(settings)} failed"):
                stats = _sync_locked(settings, paths, progress, True, None, embedding_function, knowledge)
            stats.notices.append(notice("index_rebuilt"))
        stats.notices[:0] = pre
    stats.seconds = round(time.perf_counter() - start, 3)
    stats.store = store_label(settings)
    stats.extra_paths = [str(p) for p in paths]
    return stats


def _nothing_changed(client: Any, emb: str, fp: str, paths: Sequence[Path],
                     cache: dict[str, Any]) -> IndexStats | None:
    """The nothing-changed sync: the index is complete and no source file's size, time or content
    changed since it was made, so nothing is read, repaired or compared; the notices about bad
    files come from the last sync's records."""
    from coach.kb.ingest import Rejected, safe_name
    from coach.kb.store import get_collection

    coll = get_collection(client)
    if coll is None:
        return None
    meta = dict(coll.metadata or {})
    count = coll.count()
    if not _is_usable(meta, emb, count) or meta.get("fingerprint") != fp:
        return None
    notices: list[Notice] = []
    for key, rec in cache.items():
        for pid, why in rec.rejected or []:
            r = Rejected(Path(key), pid, "", (why,))
            notices.append(notice("phrasing_rejected", id=safe_name(r.id), path=safe_name(r.file),
                                  reason=safe_name(why)))
        if rec.skip and rec.skip not in ("empty", "not found"):
            notices.append(notice("index_skipped", path=safe_name(key), reason=safe_name(rec.skip)))
    for p in paths:
        if not p.exists():
            notices.append(notice("extra_missing", path=safe_name(p)))
    return IndexStats(unchanged=count, total=count, embedding=emb, notices=notices)


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
    cache = _load_manifest(settings) if paths else {}
    fp = fingerprint(paths, knowledge)
    if not rebuild:
        quick = _nothing_changed(client, emb, fp, paths, cache)
        if quick is not None:
            if progress:
                progress(0, 0)
            return quick
    docs, notices, res = collect_documents(paths, knowledge, settings=settings, cache=cache)
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

    reused = dict(res.reused) if res is not None else {}
    if reused and any(existing.get(i) != h for i, h in reused.items()):
        # the index lacks vectors of files that did not change (a rebuild): read those files again
        from coach.kb.ingest import reread

        seen = {d.id for d in docs}
        for key, rec in res.records.items():
            if any(existing.get(i) != h for i, h in rec.docs.items()) and not rec.skip:
                try:
                    again = reread(Path(key), rec)
                except (OSError, ConfigError):  # changed or gone since a moment ago: the next sync sees it
                    again = []
                for d in again:
                    reused.pop(d.id, None)
                    if d.id not in seen:
                        docs.append(d)
                        seen.add(d.id)
    wanted = {d.id: d.hash for d in docs} | reused
    to_remove = [i for i in existing if i not in wanted]
    to_embed = [d for d in docs if existing.get(d.id) != d.hash]
    added = sum(1 for d in to_embed if d.id not in existing)
    stats = IndexStats(
        added=added,
        updated=len(to_embed) - added,
        removed=len(to_remove),
        unchanged=len(wanted) - len(to_embed),
        total=len(wanted),
        embedding=emb,
        rebuilt=rebuilt,
        notices=notices,
    )

    if res is not None:
        _save_manifest(settings, res.records)
    meta_now = dict(coll.metadata or {})
    if not to_remove and not to_embed and _is_usable(meta_now, emb, len(wanted)) and meta_now.get("fingerprint") == fp:
        if progress:
            progress(0, 0)
        return stats

    # Not complete until every write below has landed.
    coll.modify(metadata=_collection_metadata(emb, complete=False, count=len(wanted), fp=""))
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
    if count != len(wanted):
        raise ConfigError(f"the index holds {count} documents after the sync, expected {len(wanted)}")
    coll.modify(metadata=_collection_metadata(emb, complete=True, count=len(wanted), fp=fp))
    return stats


def _up_to_date(settings: Any, client: Any, ef: Any, knowledge: Path | None) -> bool:
    """The cheap check: the collection's record against a fingerprint of the source files."""
    from coach.kb.embeddings import model_id
    from coach.kb.store import get_collection, guarded, open_client

    with guarded(settings, "cannot read the knowledge index"):
        c = client if client is not None else open_client(settings)
        coll = get_collection(c)
        if coll is None:
            return False
        meta = dict(coll.metadata or {})
        return bool(
            _is_usable(meta, model_id(ef), coll.count())
            and meta.get("fingerprint") == fingerprint(remembered_paths(settings), knowledge)
        )


def ensure_index(
    settings: Any,
    *,
    client: Any = None,
    embedding_function: Any = None,
    progress: Progress | None = None,
    knowledge: Path | None = None,
) -> IndexStats | None:
    """Build or sync the index when it is missing, unfinished, stale, damaged or from another model.

    Returns None when the index was already up to date, else the sync's stats. A reader that
    finds the index not ready waits for the lock (another process may be building it) and then
    syncs, which does nothing when that process finished the job.
    """
    from coach.kb.embeddings import embedding_function_for
    from coach.kb.store import StoreError

    ef = embedding_function if embedding_function is not None else embedding_function_for(settings)
    try:
        if _up_to_date(settings, client, ef, knowledge):
            return None
    except StoreError as exc:
        if not exc.damaged or client is not None or settings.chroma_host:
            raise
        # a damaged embedded store, or one another process is writing: the sync below sorts it out
    if client is None:
        # Another process may be building it right now: the sync waits for its lock, and reads the
        # store afresh after it (what this process saw so far may be a half-built index).
        from coach.kb.store import reopen_embedded

        reopen_embedded(settings)
    return sync_index(settings, progress=progress, client=client, embedding_function=ef, knowledge=knowledge)


def repair_index(settings: Any, *, seen: Any = None, embedding_function: Any = None,
                 progress: Progress | None = None) -> IndexStats | None:
    """After a failed read of the embedded store: under the lock, wipe it and build it again.

    ``seen`` is the ``synced_at`` the failing reader saw; when the index now carries another one
    (another process rebuilt it meanwhile), nothing is wiped.
    """
    from coach.kb.embeddings import embedding_function_for, model_id
    from coach.kb.store import StoreError, forget_clients, get_collection, guarded, open_client, wipe_store

    ef = embedding_function if embedding_function is not None else embedding_function_for(settings)
    with index_lock(Path(settings.data_dir)):
        forget_clients()
        try:
            with guarded(settings, "cannot read the knowledge index"):
                coll = get_collection(open_client(settings))
                meta = dict(coll.metadata or {}) if coll is not None else {}
                if seen is not None and meta.get("synced_at") != seen and _is_usable(meta, model_id(ef), coll.count()):
                    return None
        except StoreError as exc:
            if not exc.damaged:
                raise
        wipe_store(settings)
    stats = sync_index(settings, embedding_function=ef, progress=progress, rebuild=True)
    stats.notices.append(notice("index_rebuilt"))
    return stats


# ------------------------------------------------------------------------ what the user added

def check_additions(settings: Any, paths: Sequence[Path]) -> tuple[list[Path], list[Notice]]:
    """Validate paths for ``coach index --add``: a file that gives nothing usable is not remembered.

    A folder is remembered when it exists (its bad files are skipped, with notices, at every sync).
    """
    from coach.kb.ingest import SUPPORTED_SUFFIXES, ingest_paths, safe_name

    accepted: list[Path] = []
    notices: list[Notice] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            notices.append(notice("add_refused", path=safe_name(path), reason="not found"))
            continue
        if path.is_dir():
            accepted.append(path)
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            notices.append(notice("add_refused", path=safe_name(path), reason="not a .md, .txt or .yaml file"))
            continue
        res = ingest_paths([path], max_bytes=max_file_bytes(settings))
        if res.files:
            accepted.append(path)
            for r in res.rejected:  # the accepted phrasings are used; say which were not
                notices.append(notice("phrasing_rejected", id=safe_name(r.id), path=safe_name(r.file),
                                      reason=safe_name("; ".join(r.problems))))
            continue
        why = next((w for _p, w in res.skipped), "nothing usable in it")
        if res.rejected:
            why = "; ".join(f"{r.id}: {'; '.join(r.problems)}" for r in res.rejected)
        notices.append(notice("add_refused", path=safe_name(path), reason=safe_name(why)))
    return accepted, notices


def forget_path(settings: Any, path: Path) -> Path:
    """Remove one added path from the remembered ones; ConfigError-free, UsageError when unknown."""
    from coach.errors import UsageError
    from coach.kb.ingest import safe_name

    with index_lock(Path(settings.data_dir)):
        current = remembered_paths(settings)
        target = Path(path).expanduser()
        match = [p for p in current if p == target or p == target.resolve() or str(p) == str(path)]
        if not match:
            raise UsageError(f"{safe_name(path)} is not among the added paths (see `coach index --list`)")
        remember_paths(settings, [p for p in current if p not in match])
    return match[0]


def preview_additions(settings: Any, paths: Sequence[Path]) -> list[dict[str, Any]]:
    """What ``coach index --add PATH --dry-run`` shows: per file what it would give, per phrasing the verdict.

    Nothing is remembered, nothing is indexed.
    """
    from coach.kb.ingest import PHRASING_SUFFIXES, _iter_files, checked_phrasings, ingest_paths

    out: list[dict[str, Any]] = []
    for raw in paths:
        res = ingest_paths([Path(raw)], max_bytes=max_file_bytes(settings))
        for file, why in res.skipped:
            out.append({"file": str(file), "status": "skipped", "reason": why, "passages": 0, "phrasings": []})
        for file in res.files:
            entry: dict[str, Any] = {"file": str(file), "status": "ok", "reason": "", "passages": 0, "phrasings": []}
            if file.suffix.lower() in PHRASING_SUFFIXES:
                root = next((r for r, f in _iter_files(Path(raw)) if f == file), file.parent)
                ok, bad = checked_phrasings(file, file.relative_to(root).as_posix())
                entry["phrasings"] = [{"id": p.id, "move": p.move, "ok": True, "problems": []} for p in ok] + [
                    {"id": r.id, "move": "", "ok": False, "problems": list(r.problems)} for r in bad]
            else:
                entry["passages"] = sum(1 for d in res.documents if d.metadata.get("source") == str(file))
            out.append(entry)
        # files whose every phrasing was rejected are "skipped" above; show their verdicts too
        for r in res.rejected:
            if str(r.file) not in {e["file"] for e in out if e["phrasings"]}:
                for e in out:
                    if e["file"] == str(r.file):
                        e["phrasings"].append({"id": r.id, "move": "", "ok": False, "problems": list(r.problems)})
    return out
