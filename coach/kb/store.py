"""Opening the Chroma store: embedded (PersistentClient under the data folder) or a server.

Every failure a user can cause becomes a ``ConfigError`` that says what to do: a server that
cannot be reached or does not answer names host:port (every HTTP call has a connect and a read
timeout), a data folder that cannot be created or written names the path, and a damaged
embedded index is wiped and recreated (it holds only derived data). chromadb's Rust core
reports some damage as ``pyo3_runtime.PanicException``, a ``BaseException``: ``guarded``
turns it, like any other store failure, into a ``StoreError`` whose ``damaged`` flag says
whether a rebuild would help. Telemetry is off for every client.
"""

from __future__ import annotations

import os

os.environ["ANONYMIZED_TELEMETRY"] = "False"

import logging  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402

from coach.errors import ConfigError  # noqa: E402

log = logging.getLogger(__name__)

COLLECTION_NAME = "coach_kb"
CHROMA_SUBDIR = "chroma"
CONNECT_TIMEOUT = 3.0

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


class StoreError(ConfigError):
    """The Chroma store failed. ``damaged``: the index itself is bad, a rebuild would help;
    otherwise the server or the disk is the problem and rebuilding would not."""

    def __init__(self, message: str, *, damaged: bool) -> None:
        super().__init__(message)
        self.damaged = damaged


def is_panic(exc: BaseException) -> bool:
    """True for pyo3's PanicException (chromadb's Rust core gave up), which is not an Exception."""
    return any(c.__name__ == "PanicException" and c.__module__ == "pyo3_runtime" for c in type(exc).__mro__)


def _is_transport_error(exc: BaseException) -> bool:
    try:
        import httpx
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, (httpx.TransportError, httpx.HTTPStatusError, ConnectionError, TimeoutError))


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def server_hint() -> str:
    return "check that `chroma run` is up and answering, or unset CHROMA_HOST to use the embedded store"


def as_store_error(exc: BaseException, settings: Any, what: str) -> ConfigError:
    """A store failure in words a user can act on; ``damaged`` only when a rebuild would help."""
    if isinstance(exc, ConfigError):
        return exc
    if settings.chroma_host:
        where = f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
        if _is_transport_error(exc):
            import httpx

            if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
                read = float(getattr(settings, "chroma_timeout", 10.0))
                why = f"did not answer within {read:g} s"
            elif isinstance(exc, httpx.HTTPStatusError):
                why = f"answered HTTP {exc.response.status_code}"
            else:
                why = f"cannot be reached ({type(exc).__name__})"
            return StoreError(f"{what}: {where} {why}; {server_hint()}", damaged=False)
        return StoreError(f"{what}: {where} failed ({_short(exc)}); run `coach index --rebuild`", damaged=True)
    if isinstance(exc, OSError) and not is_chroma_error(exc):
        return StoreError(f"{what}: {exc.strerror or _short(exc)}", damaged=False)
    return StoreError(f"{what}: the index at {chroma_path(settings)} is damaged ({_short(exc)})", damaged=True)


@contextmanager
def guarded(settings: Any, what: str) -> Iterator[None]:
    """Run store calls; any failure (a Rust panic included) leaves as a ConfigError/StoreError."""
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except ConfigError:
        raise
    except BaseException as exc:
        if isinstance(exc, Exception) or is_panic(exc):
            raise as_store_error(exc, settings, what) from None
        raise


def chroma_path(settings: Any) -> Path:
    return Path(settings.data_dir).expanduser() / CHROMA_SUBDIR


def store_label(settings: Any) -> str:
    """A short description of where the index lives (for messages and `coach bench`)."""
    if settings.chroma_host:
        return f"chroma server {settings.chroma_host}:{settings.chroma_port}"
    return f"embedded chroma at {chroma_path(settings)}"


def ensure_data_dir(path: Path) -> Path:
    """Create ``path`` if needed and prove it is writable; ConfigError naming it otherwise."""
    path = Path(path).expanduser()
    hint = "set COACH_DATA_DIR to a folder you can write to"
    if path.exists() and not path.is_dir():
        raise ConfigError(f"the data folder {path} is not a folder; {hint}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"cannot create the data folder {path}: {reason}; {hint}") from None
    if not path.is_dir():
        raise ConfigError(f"the data folder {path} is not a folder; {hint}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"the data folder {path} is not writable: {reason}; {hint}") from None
    return path


def chroma_settings(**extra: Any) -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False, **extra)


def _probe_server(host: str, port: int, timeout: float = CONNECT_TIMEOUT) -> None:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StoreError(f"cannot reach the Chroma server at {host}:{port} ({reason}); {server_hint()}",
                         damaged=False) from None


def _http_client(settings: Any) -> Any:
    from coach.kb import chroma_http

    host, port = str(settings.chroma_host), int(settings.chroma_port)
    read = float(getattr(settings, "chroma_timeout", 10.0))
    connect = min(CONNECT_TIMEOUT, read)
    _probe_server(host, port, connect)
    with guarded(settings, "cannot use the Chroma server"):
        client = chroma_http.http_client(host, port, chroma_settings(), connect=connect, read=read)
        client.heartbeat()
    return client


def _forget_system(path: Path, *, stop: bool = True) -> None:
    """Drop chromadb's cached in-process system for ``path`` so it can be opened afresh."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        system = SharedSystemClient._identifier_to_system.pop(str(path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(path), None)
        if system is not None and stop:
            try:
                system.stop()
            except Exception:  # noqa: BLE001 - best effort on a broken store
                pass
    except Exception:  # noqa: BLE001
        pass


def _persistent_client(path: Path) -> Any:
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=chroma_settings(is_persistent=True))


def wipe_store(settings: Any) -> None:
    """Delete the embedded store (derived data only) and forget any cached client for it."""
    path = chroma_path(settings)
    with _clients_lock:
        _clients.pop(f"path:{path}", None)
    _forget_system(path)
    if path.exists():
        try:
            shutil.rmtree(path)
        except OSError as exc:
            raise ConfigError(f"cannot remove the damaged index at {path}: {exc.strerror or exc}") from None


def open_client(settings: Any, *, fresh: bool = False) -> Any:
    """A Chroma client for the settings, reused within the process.

    ``CHROMA_HOST`` set: an HttpClient (ConfigError when the server does not answer).
    Otherwise: a PersistentClient in ``<data_dir>/chroma``; a store that cannot be opened is
    treated as damaged, removed and created again.
    """
    if settings.chroma_host:
        key = f"http:{settings.chroma_host}:{settings.chroma_port}"
        with _clients_lock:
            client = None if fresh else _clients.get(key)
        if client is None:
            client = _http_client(settings)
            with _clients_lock:
                _clients[key] = client
        return client

    data_dir = ensure_data_dir(Path(settings.data_dir))
    path = (data_dir / CHROMA_SUBDIR).resolve()
    key = f"path:{path}"
    with _clients_lock:
        client = None if fresh else _clients.get(key)
    if client is not None:
        return client
    try:
        with guarded(settings, "cannot open the index"):
            client = _persistent_client(path)
            client.heartbeat()
    except StoreError as exc:  # sqlite "file is not a database", malformed, a Rust panic, ...
        if not exc.damaged:
            raise
        client = _reopen_or_wipe(settings, path, exc)
    with _clients_lock:
        _clients[key] = client
    return client


def reopen_embedded(settings: Any) -> None:
    """Make the next ``open_client`` read the embedded store from disk afresh.

    A client opened while another process was building the index keeps a stale view of it
    (chromadb: "Nothing found on disk"). Clients already handed out keep working.
    """
    if settings.chroma_host:
        return
    path = (Path(settings.data_dir).expanduser() / CHROMA_SUBDIR).resolve()
    with _clients_lock:
        _clients.pop(f"path:{path}", None)
    _forget_system(path, stop=False)


def _reopen_or_wipe(settings: Any, path: Path, cause: Exception) -> Any:
    """Under the index lock: open again (another process may have been creating the store at the
    same moment); only a store that still fails is removed and created anew."""
    from coach.kb.index import index_lock

    with index_lock(Path(settings.data_dir)):
        _forget_system(path, stop=False)
        try:
            with guarded(settings, "cannot open the index"):
                client = _persistent_client(path)
                client.heartbeat()
            return client
        except StoreError as exc:
            if not exc.damaged:
                raise
        log.warning("the index at %s cannot be opened (%s); rebuilding it", path, cause)
        wipe_store(settings)
        with guarded(settings, f"cannot open the index at {path} even after removing it"):
            return _persistent_client(path)


def forget_clients() -> None:
    """Drop the reused clients (tests, or after a wipe)."""
    with _clients_lock:
        _clients.clear()


def get_collection(client: Any, name: str = COLLECTION_NAME, embedding_function: Any = None) -> Any | None:
    """The collection, or None when it does not exist (or was made with another embedder)."""
    try:
        if embedding_function is None:
            return client.get_collection(name)
        return client.get_collection(name, embedding_function=embedding_function)
    except Exception as exc:  # noqa: BLE001 - NotFoundError / ValueError differ by version
        text = str(exc).lower()
        if "does not exist" in text or "not found" in text or type(exc).__name__ == "NotFoundError":
            return None
        if "embedding function" in text and ("conflict" in text or "already exists" in text):
            return None
        raise


def is_chroma_error(exc: BaseException) -> bool:
    """True for errors raised by chromadb itself (a damaged or unavailable store)."""
    try:
        from chromadb.errors import ChromaError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, ChromaError)
