"""The Streamlit page, driven headless with streamlit.testing (no browser, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import json_answer, letter_from
from llm_server import FakeLLMServer, Reply
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
KEY = "sk-test"

CLIENT = (
    "Sehr geehrter Herr Kraus,\n\n"
    "gestern ist unser größter Kunde abgesprungen. Wir müssen das Projekt mit Ihnen leider sofort beenden.\n\n"
    "Mit freundlichen Grüßen\nMiriam Vogt"
)
DRAFT = (
    "Sehr geehrte Frau Vogt,\n\n"
    "kein Problem, ich habe den Auftrag storniert. Alles Gute für Ihr Unternehmen!\n\n"
    "Mit freundlichen Grüßen\nPeter Kraus"
)
GOOD_BODY = (
    "ich kann gut nachvollziehen, wie sehr Sie das beschäftigt. Über unsere Zusammenarbeit können wir "
    "später sprechen. Zunächst möchte ich mich mit Ihnen zusammensetzen und einen konkreten Plan "
    "erarbeiten, wie Sie gut durch diese Zeit kommen."
)


def _app() -> AppTest:
    from streamlit import cache_resource

    cache_resource.clear()  # one Coach per test: each test sets its own environment
    return AppTest.from_file(APP, default_timeout=60)


def _fill_and_click(at: AppTest, draft: str = DRAFT, client: str = CLIENT) -> AppTest:
    at.text_area(key="client_message").input(client)
    at.text_area(key="draft").input(draft)
    return at.button(key="run").click().run()


def _markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def _no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# ----------------------------------------------------------------------------- rules mode


@pytest.fixture()
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_OFFLINE", "1")


def test_starts_quickly_with_the_offline_badge(offline: None) -> None:
    at = _app().run()
    _no_errors(at)
    assert any("offline: rules only" in v for v in _markdown(at))
    assert any("COACH_OFFLINE=1" in c.value for c in at.caption)
    assert at.button(key="run").label == "Check and rewrite"
    assert [s.label for s in at.selectbox] == ["Example cases", "Language of the draft"]


def test_the_cli_entry_point_serves_the_same_page(offline: None) -> None:
    from streamlit import cache_resource

    cache_resource.clear()
    app = Path(__file__).resolve().parents[1] / "coach" / "web" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=60).run()
    _no_errors(at)
    assert at.button(key="run").label == "Check and rewrite"


def test_offline_flow_shows_score_checklist_rewrite_and_diff(offline: None) -> None:
    at = _fill_and_click(_app().run())
    _no_errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Score of your draft"] == "15/100"
    assert metrics["Score of the rewrite"] == "100/100"
    assert metrics["Rewritten by"] == "rules"
    rewrite = at.code[0].value
    assert rewrite.startswith("Sehr geehrte Frau Vogt,") and "Peter Kraus" in rewrite
    assert "kein Problem" not in rewrite
    md = "\n".join(_markdown(at))
    assert "| does not simply accept the cancellation | :red[:material/cancel:] | :green[:material/check_circle:] |" in md
    assert '<mark class="coach-error"' in md and "kein Problem</mark>" in md  # the fault, highlighted
    assert "<del " in md and "<ins " in md  # the word diff
    assert "Sehr geehrte Frau Vogt" in md  # the rewrite, side by side with the draft
    # The user's text survives the rerun that follows the click, and so do the results.
    at.run()
    _no_errors(at)
    assert at.text_area(key="draft").value == DRAFT
    assert at.code[0].value == rewrite


def test_empty_draft_gets_a_friendly_message(offline: None) -> None:
    at = _fill_and_click(_app().run(), draft="  \n ", client="")
    _no_errors(at)
    assert any("Paste your draft reply first" in i.value for i in at.info)
    assert not at.metric and not at.code


def test_text_coach_cannot_check_gets_a_warning_not_a_traceback(offline: None) -> None:
    at = _fill_and_click(_app().run(), draft="Bonjour Madame, je suis vraiment désolé. Nous pouvons "
                                             "annuler le projet sans problème.", client="")
    _no_errors(at)
    assert any("cannot check this text" in w.value for w in at.warning)
    assert any("Language of the draft" in w.value for w in at.warning)


def test_pasted_script_stays_text(offline: None) -> None:
    draft = DRAFT.replace("Alles Gute", "<script>alert(1)</script> <img src=x onerror=alert(2)> Alles Gute")
    at = _fill_and_click(_app().run(), draft=draft)
    _no_errors(at)
    html_blocks = [v for v in _markdown(at) if v.startswith("<")]
    assert html_blocks
    joined = "\n".join(html_blocks)
    assert "<script" not in joined.lower() and "<img" not in joined.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in joined
    assert "&lt;img src=x onerror=alert(2)&gt;" in joined


def test_loading_an_example_fills_both_fields(offline: None) -> None:
    at = _app().run()
    box = at.selectbox(key="example")
    english = next(o for o in box.options if o.startswith("English"))
    at = box.select(english).run()
    _no_errors(at)
    assert at.text_area(key="draft").value.startswith("Dear ")
    assert at.text_area(key="client_message").value
    assert at.selectbox(key="lang").value == "en"
    at = at.button(key="run").click().run()
    _no_errors(at)
    assert at.code and at.code[0].value.startswith("Dear ")


# ----------------------------------------------------------------------------- LLM mode


def _good_answer(request: dict) -> Reply:
    return json_answer(letter_from(request, GOOD_BODY), chunk_size=6)


@pytest.fixture()
def llm_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    with FakeLLMServer(default=_good_answer) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("COACH_MODEL", "test-model")
        monkeypatch.setenv("COACH_LLM_TIMEOUT", "10")
        yield srv


def test_llm_flow_streams_and_shows_the_result(llm_server: FakeLLMServer) -> None:
    at = _app().run()
    _no_errors(at)
    assert any("LLM: test-model" in v for v in _markdown(at))
    at = _fill_and_click(at)
    _no_errors(at)
    chats = llm_server.chat_requests()
    assert chats and chats[0].get("stream") is True
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rewritten by"] == "LLM", [w.value for w in at.warning]
    assert metrics["Score of the rewrite"] == "100/100"
    rewrite = at.code[0].value
    assert "einen konkreten Plan" in rewrite and rewrite.startswith("Sehr geehrte Frau Vogt")
    assert "Peter Kraus" in rewrite
    assert any("Token use:" in i.value for i in at.info)
    shown = "\n".join([*(w.value for w in at.warning), *(i.value for i in at.info), *_markdown(at)])
    assert KEY not in shown


def test_llm_failure_falls_back_to_the_rules_with_a_notice(llm_server: FakeLLMServer) -> None:
    llm_server.default = lambda request: Reply.status(500, headers={"retry-after-ms": "20"})
    at = _fill_and_click(_app().run())
    _no_errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rewritten by"] == "rules"
    assert at.code and "Peter Kraus" in at.code[0].value
    assert at.warning and any("rules" in w.value or "Regeln" in w.value for w in at.warning)
    assert all(KEY not in w.value for w in at.warning)


def test_a_crashing_llm_path_still_ends_in_the_rules_rewrite(llm_server: FakeLLMServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever rewrite_stream raises, the page shows the rules rewrite and why, never a traceback."""
    from coach.api import Coach

    def broken(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"connection refused for key {KEY}-abcdefgh1234")
        yield  # pragma: no cover

    monkeypatch.setattr(Coach, "rewrite_stream", broken)
    at = _fill_and_click(_app().run())
    _no_errors(at)
    assert {m.label: m.value for m in at.metric}["Rewritten by"] == "rules"
    warnings = [w.value for w in at.warning]
    assert any("LLM rewrite failed" in w and "RuntimeError" in w for w in warnings), warnings
    assert all(KEY not in w for w in warnings)
