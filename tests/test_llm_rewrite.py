"""The LLM rewrite against a local OpenAI-compatible server: every path ends in a valid result."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import letter_from
from llm_server import FakeLLMServer, Reply

from coach.api import Coach
from coach.models import RewriteResult, StreamReset

KEY = "sk-test-SECRET-4f9a8b7c6d5e"
DRAFT = (
    "Sehr geehrte Frau Vogt,\n\n"
    "kein Problem, ich habe den Auftrag storniert. Passt Ihnen ein Anruf am Donnerstag um 10 Uhr?\n\n"
    "Mit freundlichen Grüßen\nPeter Kraus\nTel. +49 30 1234 5678\npeter.kraus@example.com\n"
)
CLIENT = "Hallo Herr Kraus, gestern ist unser größter Kunde abgesprungen, wir müssen kündigen. Miriam Vogt"
GOOD_BODY = (
    "ich kann gut nachvollziehen, wie sehr Sie der Verlust Ihres größten Kunden gerade beschäftigt. "
    "Über unsere Zusammenarbeit können wir gern später sprechen. Zunächst möchte ich mich mit Ihnen "
    "zusammensetzen und einen konkreten Plan erarbeiten, wie Sie gut durch diese Zeit kommen. "
    "Passt Ihnen ein Anruf am Donnerstag um 10 Uhr?"
)
BAD_BODY = "kein Problem, ich storniere alles."
GOOD_REPLY = (  # what a model answers when redaction is off
    "Sehr geehrte Frau Vogt,\n\n" + GOOD_BODY
    + "\n\nMit freundlichen Grüßen\nPeter Kraus\nTel. +49 30 1234 5678\npeter.kraus@example.com"
)


def answer(reply: str = GOOD_REPLY, **extra: object) -> str:
    return json.dumps({"reply": reply, "changes": [{"what": "added a plan offer", "why": "method", "sources": []}],
                       **extra}, ensure_ascii=False)


def good(request: dict) -> Reply:
    return Reply.content(answer(letter_from(request, GOOD_BODY)), chunk_size=5)


def bad(request: dict) -> Reply:
    return Reply.content(answer(letter_from(request, BAD_BODY)))


@pytest.fixture()
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(default=good) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("COACH_LLM_TIMEOUT", "5")
        yield srv


def make_coach() -> Coach:
    coach = Coach()
    coach.rewriter.disable_retrieval("not needed here")  # grounding is tested in the retrieval tests
    return coach


def test_json_schema_answer(server: FakeLLMServer) -> None:
    r = make_coach().rewrite(DRAFT, CLIENT)
    assert r.mode == "llm", r.notices
    assert r.after.moves.is_good and r.usage is not None and r.usage.prompt_tokens == 100
    body = server.chat_requests()[0]
    assert body["response_format"]["type"] == "json_schema"
    assert "Peter Kraus" in r.rewrite and "Frau Vogt" in r.rewrite  # placeholders restored


def test_json_mode_when_the_server_has_no_json_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLMServer(supports_json_schema=False, default=good) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        r = make_coach().rewrite(DRAFT, CLIENT)
        assert r.mode == "llm", r.notices
        formats = [b.get("response_format", {}).get("type") for b in srv.chat_requests()]
        assert formats[-1] == "json_object"


def test_plain_text_when_the_server_does_no_json_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    def plain(request: dict) -> Reply:
        return Reply.content(letter_from(request, GOOD_BODY))

    with FakeLLMServer(supports_json_schema=False, supports_json_mode=False, default=plain) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        r = make_coach().rewrite(DRAFT, CLIENT)
        assert r.mode == "llm", r.notices
        assert "response_format" not in srv.chat_requests()[-1]


def test_streamed_answer_yields_text_then_the_verified_result(server: FakeLLMServer) -> None:
    items = list(make_coach().rewrite_stream(DRAFT, CLIENT))
    chunks = [i for i in items if isinstance(i, str)]
    final = items[-1]
    assert isinstance(final, RewriteResult) and final.mode == "llm"
    assert len(chunks) > 5
    streamed = "".join(chunks)
    # the preview keeps the placeholders; only the verified result has the names back
    assert "[NAME_" in streamed and "Kraus" not in streamed
    assert "Peter Kraus" in final.rewrite and "[NAME_" not in final.rewrite
    assert not any(isinstance(i, StreamReset) for i in items)
    assert server.chat_requests()[0]["stream"] is True


def test_429_then_success(server: FakeLLMServer) -> None:
    server.enqueue(Reply.status(429, headers={"retry-after-ms": "10"}))
    r = make_coach().rewrite(DRAFT, CLIENT)
    assert r.mode == "llm" and len(server.chat_requests()) == 2


def test_500_falls_back_to_the_rules_with_a_notice(server: FakeLLMServer) -> None:
    server.default = lambda request: Reply.status(500)
    r = make_coach().rewrite(DRAFT, CLIENT)
    assert r.mode == "rules" and r.usage is None
    assert any(n.code == "llm_fallback" for n in r.notices)
    assert r.after.moves.is_good


def test_timeout_falls_back_quickly(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_LLM_TIMEOUT", "1")
    server.enqueue(Reply.delay(10, Reply.content(answer())))
    t = time.monotonic()
    r = make_coach().rewrite(DRAFT, CLIENT)
    assert time.monotonic() - t < 4
    assert r.mode == "rules" and any("within 1 s" in n.text for n in r.notices)


def test_malformed_body_falls_back(server: FakeLLMServer) -> None:
    server.enqueue(Reply.malformed())
    r = make_coach().rewrite(DRAFT, CLIENT)
    assert r.mode == "rules" and any("unreadable" in n.text for n in r.notices)


def test_refusal_falls_back(server: FakeLLMServer) -> None:
    server.enqueue(Reply.refusal("I can't help with that."))
    r = make_coach().rewrite(DRAFT, CLIENT)
    assert r.mode == "rules" and any("refused" in n.text for n in r.notices)


def test_a_failing_answer_gets_one_repair_round(server: FakeLLMServer) -> None:
    server.default = bad
    coach = make_coach()
    server.enqueue(Reply.content(answer(GOOD_REPLY.replace(GOOD_BODY, BAD_BODY))))
    server.default = good
    r = coach.rewrite(DRAFT, CLIENT)
    assert r.mode == "llm", r.notices
    assert any(n.code == "llm_repair" for n in r.notices)
    repair = server.chat_requests()[1]["messages"][-1]["content"]
    assert "do not accept" in repair


def test_failing_twice_falls_back_with_the_reason(server: FakeLLMServer) -> None:
    server.default = bad
    r = make_coach().rewrite(DRAFT, CLIENT)
    assert r.mode == "rules"
    assert any("failed the checks twice" in n.text for n in r.notices)


def test_streamed_answer_that_fails_verification_ends_with_the_fallback(server: FakeLLMServer) -> None:
    server.default = bad
    items = list(make_coach().rewrite_stream(DRAFT, CLIENT))
    final = items[-1]
    assert isinstance(final, RewriteResult) and final.mode == "rules"
    assert any(isinstance(i, str) for i in items[:-1])
    assert items[-2] == StreamReset(reason="fallback")  # the page clears the preview


def test_redaction_keeps_contact_details_and_names_on_this_machine(server: FakeLLMServer) -> None:
    r = make_coach().rewrite(DRAFT, CLIENT)
    sent = server.requests[-1].body.decode("utf-8")
    for private in ("peter.kraus@example.com", "+49 30 1234 5678", "Kraus", "Vogt", "Miriam"):
        assert private not in sent
    assert "peter.kraus@example.com" in r.rewrite and "+49 30 1234 5678" in r.rewrite
    assert any(n.code == "redacted" for n in r.notices)


def test_redaction_can_be_turned_off(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_REDACT", "0")
    r = make_coach().rewrite(DRAFT, CLIENT)
    assert r.mode == "llm", r.notices
    assert "peter.kraus@example.com" in server.requests[-1].body.decode("utf-8")


def test_the_api_key_never_shows(server: FakeLLMServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.enqueue(Reply.status(401, body={"error": {"message": f"Incorrect API key provided: {KEY}",
                                                      "type": "invalid_request_error", "code": "invalid_api_key"}}))
    r = make_coach().rewrite(DRAFT, CLIENT)
    dumped = r.model_dump_json()
    assert r.mode == "rules"
    assert KEY not in dumped and KEY not in caplog.text
    assert server.requests[-1].headers["Authorization"] == f"Bearer {KEY}"


def test_cli_rewrite_exits_0_on_llm_failure_and_never_prints_the_key(server: FakeLLMServer, tmp_path: Path) -> None:
    server.default = lambda request: Reply.status(500, body={"error": {"message": f"bad key {KEY}"}})
    d = tmp_path / "d.txt"
    d.write_text(DRAFT, encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "coach", "rewrite", str(d), "--json"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["mode"] == "rules" and data["usage"] is None
    assert KEY not in res.stdout + res.stderr


def test_cli_rewrite_in_llm_mode(server: FakeLLMServer, tmp_path: Path) -> None:
    d = tmp_path / "d.txt"
    d.write_text(DRAFT, encoding="utf-8")
    c = tmp_path / "c.txt"
    c.write_text(CLIENT, encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "coach", "rewrite", str(d), "--client-message", str(c), "--json"],
                         capture_output=True, text=True, timeout=120)
    data = json.loads(res.stdout)
    assert res.returncode == 0 and data["mode"] == "llm", data["notices"]
    assert data["usage"] == {"prompt_tokens": 100, "completion_tokens": 50}
