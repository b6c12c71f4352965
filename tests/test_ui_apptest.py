"""The Streamlit page, driven headless with streamlit.testing (no browser, no network but loopback)."""

from __future__ import annotations

import re
import socket
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


def _app(ui: str | None = "en") -> AppTest:
    from streamlit import cache_data, cache_resource

    cache_resource.clear()  # one Coach per test: each test sets its own environment
    cache_data.clear()  # and its own LLM probe
    at = AppTest.from_file(APP, default_timeout=60)
    if ui:
        at.session_state["ui_lang"] = ui
    return at


def _fill_and_click(at: AppTest, draft: str = DRAFT, client: str = CLIENT) -> AppTest:
    at.text_area(key="client_message").input(client)
    at.text_area(key="draft").input(draft)
    return at.button(key="run").click().run()


def _html(at: AppTest) -> str:
    return "\n".join(h.proto.body for h in at.html)


def _all_text(at: AppTest) -> str:
    return "\n".join([*(m.value for m in at.markdown), *(c.value for c in at.caption), *(w.value for w in at.warning),
                      *(i.value for i in at.info), *(s.value for s in at.success), _html(at)])


def _alerts(at: AppTest) -> list[str]:
    """The text of the page's warning and error boxes (escaped HTML, never Markdown)."""
    import html as _h

    return [_h.unescape(re.sub(r"<[^>]+>", "", h.proto.body)) for h in at.html if 'class="coach-alert' in h.proto.body]


def _checklist_now(at: AppTest) -> dict[str, bool]:
    """move -> ok in the checklist's "reply" column (the text as it stands in the reply box)."""
    table = next(h.proto.body for h in at.html if "coach-checklist" in h.proto.body)
    return {m: ok == "1" for m, ok in re.findall(r'data-move="(\w+)" data-ok="([01])"', table)}


def _no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# ----------------------------------------------------------------------------- rules mode


@pytest.fixture()
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_OFFLINE", "1")


def test_starts_in_german_by_default_with_the_offline_badge(offline: None) -> None:
    at = _app(ui=None).run()
    _no_errors(at)
    assert at.session_state["ui_lang"] == "de"
    assert at.button(key="run").label == "Prüfen und umformulieren"
    assert any("offline: nur Regeln" in v for v in _all_text(at).split("\n") + [m.value for m in at.markdown])
    assert "COACH_OFFLINE" not in _all_text(at)  # no environment variable names in the main view
    at.radio(key="ui_lang").set_value("en").run()
    _no_errors(at)
    assert at.button(key="run").label == "Check and rewrite"
    assert [s.label for s in at.selectbox] == ["Example cases", "Language of the draft"]


def test_the_cli_entry_point_serves_the_same_page(offline: None) -> None:
    from streamlit import cache_resource

    cache_resource.clear()
    app = Path(__file__).resolve().parents[1] / "coach" / "web" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=60)
    at.session_state["ui_lang"] = "en"
    at.run()
    _no_errors(at)
    assert at.button(key="run").label == "Check and rewrite"


def test_offline_flow_puts_the_reply_first_and_keeps_it_across_reruns(offline: None) -> None:
    at = _fill_and_click(_app().run())
    _no_errors(at)
    reply = at.text_area(key="reply").value
    assert reply.startswith("Sehr geehrte Frau Vogt,") and "Peter Kraus" in reply
    assert "kein Problem" not in reply
    assert any("your draft 15/100" in c.value and "this reply 100/100" in c.value for c in at.caption)
    assert all(_checklist_now(at).values())
    html = _html(at)
    assert 'class="coach-compare"' in html and 'class="coach-removed"' in html  # sentence comparison
    assert '<mark class="coach-error">kein Problem</mark>' in html  # the fault, on its words
    assert "de.accepts_cancellation" not in html  # rule ids only in Details
    assert "<del" not in html and "<ins" not in html  # no word patchwork
    at.run()  # the user's text and the results survive the rerun that follows the click
    _no_errors(at)
    assert at.text_area(key="draft").value == DRAFT
    assert at.text_area(key="reply").value == reply


def test_reruns_reuse_the_results_computed_at_the_click(offline: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from coach.api import Coach
    from coach.web import render

    at = _fill_and_click(_app().run())
    calls = {"rewrite": 0, "compare": 0, "highlight": 0}
    for name, owner, attr in (("rewrite", Coach, "rewrite"), ("compare", render, "compare_rows"),
                              ("highlight", render, "highlight_html")):
        original = getattr(owner, attr)

        def counted(*a, _n=name, _o=original, **k):  # type: ignore[no-untyped-def]
            calls[_n] += 1
            return _o(*a, **k)

        monkeypatch.setattr(owner, attr, counted)
    at.text_area(key="client_message").input(CLIENT + " Danke.")
    at.run()
    _no_errors(at)
    assert calls == {"rewrite": 0, "compare": 0, "highlight": 0}
    assert any("as it was when you clicked" in c.value for c in at.caption)


def test_editing_the_reply_rechecks_it_without_a_rewrite(offline: None, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _fill_and_click(_app().run())
    assert all(_checklist_now(at).values())
    from coach.api import Coach

    def no_rewrite(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("editing must not rewrite")

    monkeypatch.setattr(Coach, "rewrite", no_rewrite)
    edited = at.text_area(key="reply").value.replace("Mit freundlichen", "Kein Problem, ich habe alles storniert.\n\n"
                                                     "Mit freundlichen")
    at.text_area(key="reply").input(edited).run()
    _no_errors(at)
    now = _checklist_now(at)
    assert now["accepts_cancellation"] is False  # the edited text accepts the cancellation again
    assert any("You edited the reply" in i.value for i in at.info)
    assert any("your edited reply" in c.value for c in at.caption)
    at.button(key="undo_edits").click().run()
    _no_errors(at)
    assert all(_checklist_now(at).values())


def test_empty_draft_gets_a_friendly_message(offline: None) -> None:
    at = _fill_and_click(_app().run(), draft="  \n ", client="")
    _no_errors(at)
    assert any("Paste your draft reply first" in i.value for i in at.info)
    assert "reply" not in [t.key for t in at.text_area]


def test_text_coach_cannot_check_gets_a_warning_not_a_traceback(offline: None) -> None:
    at = _fill_and_click(_app().run(), draft="Bonjour Madame, je suis vraiment désolé. Nous pouvons "
                                             "annuler le projet sans problème.", client="")
    _no_errors(at)
    assert any("cannot check this text" in w for w in _alerts(at))


def test_choosing_german_by_hand_does_not_check_a_french_letter(offline: None) -> None:
    at = _app().run()
    at.selectbox(key="lang").select("de").run()
    at = _fill_and_click(at, draft="Bonjour Madame, je suis vraiment désolé. Nous pouvons annuler le projet "
                                   "sans problème, bien sûr. Cordialement, Pierre", client="")
    _no_errors(at)
    assert any("neither German nor English" in w.value for w in at.warning)
    assert "reply" not in [t.key for t in at.text_area]
    short = _fill_and_click(at, draft="Hallo Lena,\n\nok, ist storniert.\n\nLG Sam", client="")
    assert "reply" in [t.key for t in short.text_area]  # a short chat line chosen by hand is still checked


def test_pasted_script_stays_text(offline: None) -> None:
    draft = DRAFT.replace("Alles Gute", "<script>alert(1)</script> <img src=x onerror=alert(2)> Alles Gute")
    at = _fill_and_click(_app().run(), draft=draft)
    _no_errors(at)
    joined = _html(at)
    assert "<script" not in joined.lower() and "<img" not in joined.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in joined


def test_a_good_draft_says_send_it_as_it_is(offline: None) -> None:
    at = _app().run()
    box = at.selectbox(key="example")
    good = next(o for o in box.options if "does it well" in o)
    at = box.select(good).run()
    draft = at.text_area(key="draft").value
    at = at.button(key="run").click().run()
    _no_errors(at)
    assert any("Send it as it is" in s.value for s in at.success)
    assert at.text_area(key="reply").value.strip() == draft.strip()
    assert not [b for b in at.button if b.key == "another"]


def test_loading_an_english_example_and_its_findings_use_english_quotes(offline: None) -> None:
    at = _app().run()
    box = at.selectbox(key="example")
    english = next(o for o in box.options if o.startswith("English") and "well" not in o)
    at = box.select(english).run().button(key="run").click().run()
    _no_errors(at)
    assert at.text_area(key="reply").value.startswith("Dear ")
    html = _html(at)
    assert "<b>“" in html and "<b>„" not in html


def test_another_version_picks_other_phrasings_offline(offline: None) -> None:
    at = _fill_and_click(_app().run())
    first = at.text_area(key="reply").value
    at.button(key="another").click().run()
    _no_errors(at)
    second = at.text_area(key="reply").value
    assert second != first or any("only version" in c.value for c in at.caption)
    assert "Peter Kraus" in second and "kein Problem" not in second


# ----------------------------------------------------------------------------- accept and reject


def _with_changes(result):  # type: ignore[no-untyped-def]
    """A RewriteResult with a hand-built change list (until Coach.apply lands from its own branch)."""
    from coach.models import Change

    added = next(s.text for s in result.sources if s.kind == "phrasing" and s.text in result.rewrite)
    changes = [
        Change(id="c1", kind="removed", before="kein Problem, ich habe den Auftrag storniert.", after="",
               why="accepts the cancellation", sources=[]),
        Change(id="c2", kind="added", before="", after=added, why="shows understanding",
               sources=[s.id for s in result.sources if s.text == added]),
    ]
    return result.model_copy(update={"changes": changes, "changed": True})


def _double_apply(self, result, rejected=()):  # type: ignore[no-untyped-def]
    """A test double of Coach.apply: undoes the two hand-built changes."""
    letter = result.rewrite
    by_id = {c.id: c for c in result.changes}
    for cid in rejected:
        c = by_id[cid]
        if c.kind == "added":
            letter = letter.replace(c.after + " ", "").replace(c.after, "")
        elif c.kind == "removed":
            letter = letter.replace("Sehr geehrte Frau Vogt,\n\n", "Sehr geehrte Frau Vogt,\n\n" + c.before + " ", 1)
    after = self.check(letter, client_message=CLIENT)
    return result.model_copy(update={"rewrite": letter, "after": after})


def test_rejecting_and_accepting_a_change_rebuilds_the_letter_and_the_checklist(
        offline: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from coach.api import Coach

    real = Coach(offline=True).rewrite(DRAFT, CLIENT)
    if not (hasattr(Coach, "apply") and real.changes):  # until Coach.apply lands: hand-built changes, a double
        real_rewrite = Coach.rewrite
        monkeypatch.setattr(Coach, "rewrite", lambda self, *a, **k: _with_changes(real_rewrite(self, *a, **k)))
        monkeypatch.setattr(Coach, "apply", _double_apply, raising=False)
        real = _with_changes(real)
    fault = next(c for c in real.changes if c.kind == "removed" and "kein Problem" in c.before)
    at = _fill_and_click(_app().run())
    _no_errors(at)
    full = at.text_area(key="reply").value
    boxes = {c.key: c for c in at.checkbox}
    assert len(boxes) == len(real.changes) >= 2 and all(c.value for c in boxes.values())
    key = next(k for k in boxes if k.endswith(f"_{fault.id}"))
    at.checkbox(key=key).uncheck().run()
    _no_errors(at)
    assert "kein Problem, ich habe den Auftrag storniert." in at.text_area(key="reply").value
    assert _checklist_now(at)["accepts_cancellation"] is False
    at.checkbox(key=key).check().run()
    _no_errors(at)
    assert at.text_area(key="reply").value == full
    assert all(_checklist_now(at).values())
    html = _html(at)
    from coach.web.render import esc

    assert all(esc(c.why) in html for c in real.changes if c.why)  # each change with its reason


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


def test_llm_flow_streams_and_shows_the_verified_result(llm_server: FakeLLMServer) -> None:
    at = _app().run()
    _no_errors(at)
    assert any("LLM: test-model" in m.value for m in at.markdown)
    at = _fill_and_click(at)
    _no_errors(at)
    chats = llm_server.chat_requests()
    assert chats and chats[0].get("stream") is True
    reply = at.text_area(key="reply").value
    assert "einen konkreten Plan" in reply and reply.startswith("Sehr geehrte Frau Vogt")
    assert any("written by test-model" in c.value for c in at.caption)
    assert not at.code or all("Plan" not in c.value for c in at.code if c.language is None and "Mode" not in c.value)
    assert KEY not in _all_text(at)


def test_an_unreachable_llm_gets_an_honest_badge_and_a_quick_rules_rewrite(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("COACH_MODEL", "llama3.1")
    at = _app().run()
    _no_errors(at)
    badges = [m.value for m in at.markdown]
    assert any("LLM not reachable" in b for b in badges) and not any("LLM: llama3.1" in b for b in badges)
    from coach.api import Coach

    def no_llm(self, *a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("the probe knows the server is down: the LLM must not be tried (and waited for)")

    monkeypatch.setattr(Coach, "rewrite_stream", no_llm)
    real_rewrite = Coach.rewrite

    def rules_only(self, *a, **k):  # type: ignore[no-untyped-def]
        assert k.get("offline") is True, k
        return real_rewrite(self, *a, **k)

    monkeypatch.setattr(Coach, "rewrite", rules_only)
    at = _fill_and_click(at)
    _no_errors(at)
    assert "Peter Kraus" in at.text_area(key="reply").value
    warnings = _alerts(at)
    # the notice is in the draft's language (German here), and true: nothing was sent
    assert any("antwortet gerade nicht" in w and "Es wurde nichts gesendet" in w for w in warnings), warnings
    assert not any("Replaced before sending" in t or "offline was asked" in t for t in _all_text(at).split("\n"))


def test_llm_failure_falls_back_to_the_rules_with_a_notice(llm_server: FakeLLMServer) -> None:
    llm_server.default = lambda request: Reply.status(500, headers={"retry-after-ms": "20"})
    at = _fill_and_click(_app().run())
    _no_errors(at)
    assert "Peter Kraus" in at.text_area(key="reply").value
    assert any("written from the rules" in c.value for c in at.caption)
    assert _alerts(at) and all(KEY not in w for w in _alerts(at))


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
    assert any("written from the rules" in c.value for c in at.caption)
    warnings = _alerts(at)
    assert any("rewrite failed" in w and "RuntimeError" in w for w in warnings), warnings
    assert all(KEY not in w for w in warnings)


def test_notices_quoting_a_model_answer_stay_text(llm_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reason that quotes the model ("![](http://…)", "<img>") is shown as written, never as Markdown."""
    from coach.api import Coach
    from coach.notices import Notice

    hostile = "the answer said ![](http://evil.example/x.png?m=1) <img src=http://evil.example/i.png> :red[x] **b**"
    real_stream = Coach.rewrite_stream

    def stream(self, *a, **k):  # type: ignore[no-untyped-def]
        for item in real_stream(self, *a, **k):
            if not isinstance(item, str):
                item = item.model_copy(update={"notices": [*item.notices,
                                                           Notice(code="llm_repair", level="warning", text=hostile)]})
            yield item

    monkeypatch.setattr(Coach, "rewrite_stream", stream)
    at = _fill_and_click(_app().run())
    _no_errors(at)
    box = next(h.proto.body for h in at.html if 'class="coach-alert' in h.proto.body and "evil.example" in h.proto.body)
    assert "<img" not in box and "<a " not in box and "&lt;img src=http" in box  # escaped HTML, no Markdown
    assert "the answer said ![](http://evil.example/x.png?m=1)" in _alerts(at)[-1] or any(
        "![](http://evil.example" in a for a in _alerts(at))  # the reader sees what the model wrote


def test_a_stream_reset_clears_the_preview_and_the_verified_letter_is_shown(
        llm_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from coach.api import Coach
    from coach.models import StreamReset

    def stream(self, draft, client_message=None, **k):  # type: ignore[no-untyped-def]
        yield "Sehr geehrte [NAME_1], kein Problem"
        yield StreamReset(reason="fallback")
        yield Coach.rewrite(self, draft, client_message=client_message, offline=True)

    monkeypatch.setattr(Coach, "rewrite_stream", stream)
    at = _fill_and_click(_app().run())
    _no_errors(at)
    reply = at.text_area(key="reply").value
    assert reply.startswith("Sehr geehrte Frau Vogt") and "[NAME_1]" not in reply
    assert not any("[NAME_1]" in c.value for c in at.code)  # the preview is gone
