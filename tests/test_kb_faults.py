"""The store's faults end in a rebuild or a clear error, never a traceback or a hang.

Damaged files (4 KB of garbage written into chroma.sqlite3, which makes chromadb's Rust core
panic or fail), a server that accepts connections and never answers, a server that is gone.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_kb_index import HashEF, settings_for

from coach.api import Coach
from coach.errors import ConfigError
from coach.kb import store
from coach.kb.index import sync_index
from coach.kb.retriever import Retriever
from coach.notices import has

DRAFT = "Hallo Frau Vogt,\n\nkein Problem, ich habe den Auftrag storniert.\n\nGruß\nPeter Kraus\n"
CLIENT = ("Hallo Herr Kraus, nach dem Einbruch unserer Aufträge hat die Geschäftsführung alle Projekte gestoppt. "
          "Wir müssen kündigen. Miriam Vogt")


@pytest.fixture(scope="module")
def good_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("good") / "data"
    sync_index(settings_for(data), embedding_function=HashEF())
    store.forget_clients()
    store._forget_system(store.chroma_path(settings_for(data)).resolve())
    return data


def _corrupt_copy(good: Path, dest: Path, page: int | None) -> Path:
    shutil.copytree(good, dest)
    db = dest / "chroma" / "chroma.sqlite3"
    pages = db.stat().st_size // 4096
    page = pages // 2 if page is None else page
    with db.open("r+b") as fh:
        fh.seek(page * 4096)
        fh.write(b"garbage!" * 512)
    return dest


def _opens_with_panic(data: Path) -> bool:
    """Whether chromadb itself dies with a Rust panic on this store (checked in a child process)."""
    code = (
        "import chromadb, sys\n"
        "from chromadb.config import Settings\n"
        "try:\n"
        f"    c = chromadb.PersistentClient(path={str(data / 'chroma')!r}, settings=Settings(anonymized_telemetry=False))\n"
        "    c.get_collection('coach_kb').count()\n"
        "except BaseException as e:\n"
        "    print(type(e).__name__)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return "PanicException" in res.stdout


@pytest.mark.parametrize("page", [2, 10, None], ids=["page2-panics", "page10", "middle"])
def test_garbage_in_the_sqlite_file_is_rebuilt_not_a_traceback(good_index: Path, tmp_path: Path,
                                                              page: int | None) -> None:
    data = _corrupt_copy(good_index, tmp_path / "data", page)
    if page == 2:
        assert _opens_with_panic(data)  # the fault this test is about: chromadb raises a BaseException
    settings = settings_for(data)
    r = Retriever(settings, embedding_function=HashEF())
    hits = r.search("Plan für die Krise", k=3)
    assert len(hits) == 3
    again = sync_index(settings, embedding_function=HashEF())
    assert again.embedded == 0 and again.total == r.count()


def test_a_panic_is_caught_by_the_store_guard() -> None:
    panic_type = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})
    settings = settings_for(Path("/nonexistent-coach"))
    with pytest.raises(store.StoreError) as exc:
        with store.guarded(settings, "reading"):
            raise panic_type("Expect it to be fetched")
    assert exc.value.damaged and exc.value.exit_code == 3
    with pytest.raises(KeyboardInterrupt):  # what the user asks for still stops the program
        with store.guarded(settings, "reading"):
            raise KeyboardInterrupt


def test_a_query_failing_in_a_loaded_retriever_rebuilds_once(good_index: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    shutil.copytree(good_index, data)
    r = Retriever(settings_for(data), embedding_function=HashEF())
    real = type(r.collection).query
    calls = {"n": 0}

    def broken_once(self: Any, *a: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})("malformed")
        return real(self, *a, **kw)

    monkeypatch.setattr(type(r.collection), "query", broken_once)
    assert len(r.search("Plan", k=2)) == 2 and calls["n"] == 2


# ------------------------------------------------------------------------ servers

@pytest.fixture()
def silent_server() -> Iterator[int]:
    """A loopback socket that accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                held.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        t.join(2)
        for c in held:
            c.close()
        srv.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_silent_server_is_a_clear_error_within_the_timeout(silent_server: int, tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data", CHROMA_HOST="127.0.0.1", CHROMA_PORT=silent_server,
                            COACH_CHROMA_TIMEOUT=1)
    t = time.perf_counter()
    with pytest.raises(ConfigError, match=f"127.0.0.1:{silent_server} did not answer within 1 s") as exc:
        sync_index(settings, embedding_function=HashEF())
    assert "--rebuild" not in str(exc.value) and exc.value.exit_code == 3
    with pytest.raises(ConfigError, match="did not answer"):
        Retriever(settings, embedding_function=HashEF())
    assert time.perf_counter() - t < 10


@pytest.mark.parametrize("fault", ["silent", "stopped"])
def test_llm_rewrite_goes_on_without_grounding_and_says_so(fault: str, silent_server: int, tmp_path: Path) -> None:
    from helpers import letter_from
    from llm_server import FakeLLMServer, Reply

    body = ("Ich verstehe gut, wie belastend dieser Einschnitt für Sie ist. Über unsere Zusammenarbeit können wir "
            "später in Ruhe sprechen. Lassen Sie uns gemeinsam einen Plan machen, wie Sie gut durch die nächsten "
            "Wochen kommen.")

    def good(request: dict) -> Reply:
        import json

        return Reply.content(json.dumps({"reply": letter_from(request, body), "changes": []}, ensure_ascii=False))

    port = silent_server if fault == "silent" else _closed_port()
    with FakeLLMServer(default=good) as srv:
        settings = settings_for(tmp_path / "data", CHROMA_HOST="127.0.0.1", CHROMA_PORT=port, COACH_CHROMA_TIMEOUT=1,
                                OPENAI_BASE_URL=srv.base_url, OPENAI_API_KEY="sk-test", COACH_LLM_TIMEOUT=20)
        coach = Coach(settings=settings)
        t = time.perf_counter()
        r = coach.rewrite(DRAFT, client_message=CLIENT)
        lost = [n for n in r.notices if n.code == "grounding_lost"]
        assert lost and f"127.0.0.1:{port}" in lost[0].text and "--rebuild" not in lost[0].text
        assert r.after.score > r.before.score
        # the next call does not wait for the server again (retry-after), but still says so
        t2 = time.perf_counter()
        r2 = coach.rewrite(DRAFT, client_message=CLIENT)
        assert has(r2.notices, "grounding_lost") and time.perf_counter() - t2 < 5
        assert time.perf_counter() - t < 20


def test_offline_rewrite_needs_no_store(silent_server: int, tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data", CHROMA_HOST="127.0.0.1", CHROMA_PORT=silent_server,
                            COACH_CHROMA_TIMEOUT=1, COACH_OFFLINE="1")
    t = time.perf_counter()
    r = Coach(settings=settings).rewrite(DRAFT, client_message=CLIENT)
    assert r.mode == "rules" and r.after.score > r.before.score and time.perf_counter() - t < 10


def test_retrieval_is_tried_again_after_the_retry_after(tmp_path: Path, good_index: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(good_index, data)
    settings = settings_for(data, COACH_OFFLINE="1", COACH_RETRIEVAL_RETRY_AFTER=0)
    state = {"fail": True}

    def factory() -> Any:
        if state["fail"]:
            raise ConfigError("the server is down")
        return Retriever(settings, embedding_function=HashEF())

    from coach.rewrite.pipeline import RewritePipeline

    coach = Coach(settings=settings)
    pipe = RewritePipeline(settings, coach.checker, factory)
    guarded = pipe._llm_retriever()
    with pytest.raises(ConfigError, match="the server is down"):
        guarded.search("Plan", k=2)
    state["fail"] = False  # one hiccup does not switch retrieval off for good
    assert len(guarded.search("Plan", k=2)) == 2


def test_a_hanging_retrieval_is_cut_at_the_deadline(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "data", COACH_OFFLINE="1", COACH_CHROMA_TIMEOUT=0.5)

    class Stuck:
        def search(self, *a: Any, **kw: Any) -> Any:
            time.sleep(30)

    from coach.rewrite.pipeline import RewritePipeline

    coach = Coach(settings=settings)
    pipe = RewritePipeline(settings, coach.checker, Stuck)
    t = time.perf_counter()
    with pytest.raises(ConfigError, match="no answer within 0.5 s"):
        pipe._llm_retriever().search("Plan", k=2)
    assert time.perf_counter() - t < 5
    assert pipe._rank_phrasings(["plan_offer"], "de", "Sie", None, "Plan") == []  # the ranker gives up too


def test_cli_search_and_index_against_a_silent_server_exit_3(silent_server: int, tmp_path: Path) -> None:
    env = {**os.environ, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(silent_server), "COACH_CHROMA_TIMEOUT": "1",
           "COACH_DATA_DIR": str(tmp_path / "data")}
    for args in (["search", "plan"], ["index"]):
        res = subprocess.run([sys.executable, "-m", "coach", *args], capture_output=True, text=True, timeout=60,
                             env=env)
        assert res.returncode == 3, res.stderr
        assert "did not answer within 1 s" in res.stderr and "Traceback" not in res.stderr
        assert "--rebuild" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
