"""Indexing into a real `chroma run` server gives the same results as the embedded store.

One server for a team: the index is built once, a colleague's coach finds it ready and embeds
nothing; when the server stops, coach says so (no rebuild advice) and the offline rewrite goes on.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import stop_process

from coach.kb.index import ensure_index, sync_index
from coach.kb.retriever import Retriever
from coach.settings import load_settings

pytestmark = [pytest.mark.chroma_server, pytest.mark.slow]  # starts `chroma run` and builds an index on it: `make test-slow`, CI

QUERIES = [
    ("Warum kündigen Kunden in Krisen oft überstürzt?", {}),
    ("offer to build a plan for getting through the crisis", {}),
    ("Wie zeige ich Empathie, ohne die Reaktion zu bewerten?", {"lang": "de"}),
    ("refer the client to a debt counsellor", {"kinds": {"phrasing"}, "moves": {"referral"}, "address": "n/a"}),
    ("später über die Zusammenarbeit sprechen", {"lang": "de", "address": "du", "scenario": "shock"}),
]


def _chroma_exe() -> str:
    exe = Path(sys.executable).with_name("chroma")
    if exe.exists():
        return str(exe)
    found = shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` command is not installed next to this Python")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_SERVER: dict[str, Any] = {}


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    path = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    log = (path / "server.log").open("wb")
    proc = subprocess.Popen(
        [_chroma_exe(), "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
        while True:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited with {proc.returncode}: {(path / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("chroma run did not answer its heartbeat within 30 s")
            time.sleep(0.2)
        _SERVER["proc"] = proc
        yield "127.0.0.1", port
    finally:
        stop_process(proc)
        log.close()


def _settings(data_dir: Path, **kw: Any) -> Any:
    base = {"COACH_DATA_DIR": str(data_dir), "CHROMA_HOST": "", "COACH_EMBEDDINGS": "local"}
    return load_settings(**{**base, **kw})


@pytest.fixture(scope="module")
def both(chroma_server: tuple[str, int], tmp_path_factory: pytest.TempPathFactory,
         bundled_index: Any) -> tuple[Retriever, Retriever, Any]:
    host, port = chroma_server
    remote_settings = _settings(tmp_path_factory.mktemp("remote-state"), CHROMA_HOST=host, CHROMA_PORT=port)
    stats = sync_index(remote_settings)
    assert stats.total > 100 and stats.added == stats.total and f"{host}:{port}" in stats.store
    local_settings = _settings(bundled_index.copy_to(tmp_path_factory.mktemp("local")))  # the session's build
    assert sync_index(local_settings).embedded == 0
    return Retriever(remote_settings), Retriever(local_settings), stats


def test_server_index_is_complete_and_second_sync_embeds_nothing(both: tuple[Retriever, Retriever, Any]) -> None:
    remote, local, first = both
    assert remote.count() == local.count() == first.total
    again = sync_index(remote.settings)
    assert again.embedded == 0 and again.unchanged == first.total
    assert ensure_index(remote.settings) is None


@pytest.mark.parametrize("query,filters", QUERIES, ids=[q[:30] for q, _ in QUERIES])
def test_server_returns_the_same_top_ids_as_the_embedded_store(
    both: tuple[Retriever, Retriever, Any], query: str, filters: dict
) -> None:
    remote, local, _ = both
    r = remote.search(query, k=4, **filters)
    l_ = local.search(query, k=4, **filters)
    assert [h.id for h in r] == [h.id for h in l_]
    assert [h.score for h in r] == pytest.approx([h.score for h in l_], abs=1e-3)


def test_a_colleague_on_the_same_server_finds_the_index_ready(
    both: tuple[Retriever, Retriever, Any], tmp_path: Path
) -> None:
    from coach.kb import chroma_http

    remote, _, first = both
    colleague = _settings(tmp_path / "colleague", CHROMA_HOST=remote.settings.chroma_host,
                          CHROMA_PORT=remote.settings.chroma_port)
    assert ensure_index(colleague) is None  # built once for the team: nothing to embed
    r = Retriever(colleague)
    assert r.count() == first.total and chroma_http.has_timeouts(r.client)
    assert [h.id for h in r.search("Plan für die Krise", k=3)] == [h.id for h in remote.search("Plan für die Krise", k=3)]


def test_a_stopped_server_is_a_clear_error_and_the_offline_rewrite_goes_on(
    both: tuple[Retriever, Retriever, Any], tmp_path: Path
) -> None:
    """Runs last in this module: it stops the server."""
    from coach.api import Coach
    from coach.errors import ConfigError

    remote, _, _ = both
    stop_process(_SERVER["proc"])
    host, port = remote.settings.chroma_host, remote.settings.chroma_port
    t = time.perf_counter()
    with pytest.raises(ConfigError, match=f"{host}:{port}") as exc:
        remote.search("Plan für die Krise", k=3)  # a retriever made while the server was up
    assert "--rebuild" not in str(exc.value) and exc.value.exit_code == 3
    settings = _settings(tmp_path / "after", CHROMA_HOST=host, CHROMA_PORT=port, COACH_OFFLINE="1")
    with pytest.raises(ConfigError, match=f"Chroma server at {host}:{port} cannot be reached") as exc:
        Retriever(settings)
    assert "--rebuild" not in str(exc.value)
    r = Coach(settings=settings).rewrite("Hallo Frau Vogt,\n\nkein Problem, ich storniere den Auftrag.\n\nGruß\nPeter",
                                         client_message="Wir müssen den Auftrag leider kündigen. Miriam Vogt")
    assert r.mode == "rules" and r.after.score > r.before.score  # the offline rewrite needs no store
    assert time.perf_counter() - t < 30
