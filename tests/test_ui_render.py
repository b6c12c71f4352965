"""The page's pure HTML helpers: escaping, spans on the right words, overlaps, the sentence comparison,
the checklist, the LLM probe."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.models import Finding, Moves
from coach.web import render


def finding(start: int, end: int, text: str = "", severity: str = "error", message: str = "msg",
            suggestion: str = "sug", rule: str = "de.test.rule", move: str = "accepts_cancellation") -> Finding:
    return Finding(rule=rule, move=move, severity=severity, start=start, end=end, text=text, message=message,
                   suggestion=suggestion)


class _Collect(HTMLParser):
    """Tags and the visible text of an HTML fragment (entities decoded, <br> as a newline)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.marks: list[str] = []
        self._in_mark = 0
        self._in_sup = 0
        self._skip: list[str] = []  # open tags whose text is not part of the letter (numbers, explanations)

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        self.tags.append(tag)
        if tag == "br" and not self._skip:
            self.text.append("\n")
        if tag == "mark":
            self._in_mark += 1
            self.marks.append("")
        cls = dict(attrs).get("class", "")
        if tag != "br" and (tag == "sup" or cls in ("coach-num", "coach-explain") or self._skip):
            self._skip.append(tag)
            self._in_sup += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._in_mark -= 1
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()
            self._in_sup -= 1

    def handle_data(self, data: str) -> None:
        if self._in_sup:
            return
        self.text.append(data)
        if self._in_mark:
            self.marks[-1] += data


def parse(fragment: str) -> _Collect:
    p = _Collect()
    p.feed(fragment)
    p.close()
    return p


DRAFT = "Sehr geehrte Frau Vogt,\n\nkein Problem, ich habe den Auftrag storniert.\n\nGrüße\nPeter"


# ----------------------------------------------------------------------------- escaping


def test_highlighting_escapes_script_and_markup() -> None:
    text = 'Hallo <script>alert("x")</script> & <b onclick=\'y\'>fett</b> **stern** $x$ :red[rot] `code`'
    out = render.highlight_html(text, [finding(0, 5, "Hallo")])
    assert "<script" not in out and "<b " not in out and "onclick='" not in out
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in out
    assert "**" not in out and "$x$" not in out and ":red[" not in out and "`" not in out
    assert parse(out).tags.count("script") == 0
    assert "".join(parse(out).text) == text  # the reader still sees exactly what was pasted


def test_highlight_html_is_one_line_so_markdown_never_sees_the_text() -> None:
    out = render.highlight_html(DRAFT + "\n\n    indented\n# heading\n- item", [])
    assert "\n" not in out and "\r" not in out
    assert "".join(parse(out).text) == DRAFT + "\n\n    indented\n# heading\n- item"


def test_explanations_open_on_tap_and_are_escaped() -> None:
    f = finding(0, 4, "Sehr", message='bad "quote" <i>', suggestion="use <b>this</b>\nplease")
    out = render.highlight_html(DRAFT, [f])
    assert "title=" not in out  # nothing hides behind a hover
    note = re.search(r'<span class="coach-note" tabindex="0" role="button">(.*?)</span></span>', out)
    assert note is not None
    assert "&lt;i&gt;" in out and "&quot;quote&quot;" in out and "&lt;b&gt;this&lt;/b&gt;<br>please" in out
    assert ".coach-note:focus .coach-explain" in render.PAGE_CSS


def test_findings_list_escapes_everything_and_shows_no_rule_ids() -> None:
    f = finding(0, 8, "<script>", message="<img src=x onerror=alert(1)>", suggestion="<u>x</u>")
    out = render.findings_list_html("<script>alert(1)</script>", [f])
    assert "<script" not in out and "<img" not in out and "<u>" not in out
    assert "&lt;script&gt;" in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "de.test.rule" not in out


def test_quotes_are_the_drafts_own() -> None:
    text = "no problem, I cancelled it."
    f = finding(0, 10, "no problem")
    assert "“no problem”" in render.findings_list_html(text, [f], "en")
    assert "„kein Problem“" in render.findings_list_html("kein Problem.", [finding(0, 12, "kein Problem")], "de")


# ----------------------------------------------------------------------------- spans


def test_spans_land_on_the_right_text() -> None:
    start = DRAFT.index("kein Problem")
    done = DRAFT.index("habe den Auftrag storniert")
    findings = [finding(done, done + len("habe den Auftrag storniert")),
                finding(start, start + len("kein Problem"), severity="warning")]
    p = parse(render.highlight_html(DRAFT, findings))
    assert p.marks == ["kein Problem", "habe den Auftrag storniert"]
    assert "".join(p.text) == DRAFT


def test_a_span_that_misses_its_words_is_moved_onto_them() -> None:
    text = "Ich habe den Workshop storniert. Die Schlussrechnung kommt."
    wrong = text.index("Schlussrechnung")
    f = finding(wrong, wrong + len("Schlussrechnung"), "habe den Workshop storniert")
    p = parse(render.highlight_html(text, [f]))
    assert p.marks == ["habe den Workshop storniert"]


def test_a_mark_never_stops_mid_word() -> None:
    text = "gemeinsam die nächsten Schritte festlegen"
    s = text.index("chsten")
    p = parse(render.highlight_html(text, [finding(s, s + 10)]))
    assert p.marks == ["nächsten Schritte"]


def test_numbers_follow_reading_order_and_match_the_list() -> None:
    a, b = DRAFT.index("kein"), DRAFT.index("Auftrag")
    findings = [finding(b, b + 7, "Auftrag", message="second"), finding(a, a + 4, "kein", message="first")]
    placed, general = render.place_findings(DRAFT, findings)
    assert [(p.number, p.finding.message) for p in placed] == [(1, "first"), (2, "second")]
    assert general == []
    out = render.highlight_html(DRAFT, findings)
    assert re.findall(r'kein</mark><span class="coach-num">(\d+)</span>', out) == ["1"]
    assert re.findall(r'Auftrag</mark><span class="coach-num">(\d+)</span>', out) == ["2"]


def test_overlapping_findings_form_one_cluster_with_the_numbers_together() -> None:
    text = "gemeinsam die nächsten Schritte festlegen"
    outer = finding(0, len(text), text, severity="warning", message="outer")
    inner_start = text.index("nächsten")
    inner = finding(inner_start, inner_start + len("nächsten Schritte"), severity="error", message="inner")
    out = render.highlight_html(text, [outer, inner])
    p = parse(out)
    assert "".join(p.text) == text
    assert p.marks == ["gemeinsam die ", "nächsten Schritte", " festlegen"]
    assert re.findall(r'<mark class="coach-(\w+)"', out) == ["warning", "error", "warning"]
    assert out.count('class="coach-note"') == 1  # one tap target, not "Schritte⁶ festlegen⁵"
    assert re.findall(r'festlegen</mark><span class="coach-num">([\d,]+)</span>', out) == ["1,2"]
    assert "outer" in out and "inner" in out


def test_identical_and_nested_spans() -> None:
    text = "kein Problem"
    out = render.highlight_html(text, [finding(0, 12, severity="info"), finding(0, 12), finding(5, 12)])
    p = parse(out)
    assert "".join(p.text) == text
    assert p.marks == ["kein ", "Problem"]
    assert re.findall(r'<span class="coach-num">([\d,]+)</span>', out) == ["1,2,3"]


def test_zero_length_and_out_of_range_findings_go_to_the_list() -> None:
    missing = finding(0, 0, "", severity="warning", message="Der Entwurf bietet keinen Plan an.")
    beyond = finding(500, 600, "x", message="beyond")
    clipped = finding(len(DRAFT) - 5, len(DRAFT) + 40, "", message="clipped")
    placed, general = render.place_findings(DRAFT, [missing, beyond, clipped])
    assert [g.message for g in general] == ["Der Entwurf bietet keinen Plan an.", "beyond"]
    assert [(p.start, p.end) for p in placed] == [(len(DRAFT) - 5, len(DRAFT))]
    out = render.highlight_html(DRAFT, [missing, beyond, clipped])
    assert parse(out).marks == ["Peter"]
    listing = render.findings_list_html(DRAFT, [missing, beyond, clipped])
    assert "Der Entwurf bietet keinen Plan an." in listing and "beyond" in listing


def test_findings_list_orders_faults_first_and_shows_suggestions() -> None:
    good = finding(0, 4, "Sehr", severity="info", message="good move", suggestion="")
    missing = finding(0, 0, severity="warning", message="missing move", suggestion="add it")
    fault = finding(30, 34, "Prob", severity="error", message="fault", suggestion="drop it")
    out = render.findings_list_html(DRAFT, [good, missing, fault])
    assert out.index("fault") < out.index("missing move") < out.index("good move")
    assert "→ drop it" in out and "→ add it" in out
    assert render.findings_list_html(DRAFT, []) == ""


def test_highlighting_works_on_real_check_reports() -> None:
    from coach.checker import Checker

    draft = ("Sehr geehrte Frau Vogt,\r\n\r\nkein Problem, ich habe den Auftrag storniert. <script>x</script>\r\n\r\n"
             "Mit freundlichen Grüßen\r\nPeter Kraus")
    report = Checker().check(draft)
    out = render.highlight_html(draft, report.findings)
    p = parse(out)
    assert "".join(p.text) == draft.replace("\r\n", "\n")
    for f in report.findings:  # every quoted finding is marked on exactly its words
        if f.text and f.end > f.start:
            assert draft[f.start:f.end] == f.text
    assert "kein Problem" in p.marks


# ----------------------------------------------------------------------------- sentence comparison

OLD = "Sehr geehrte Frau Vogt,\n\nkein Problem, ich habe storniert. Das Wetter ist schön.\n\nGrüße\nPeter"
NEW = ("Sehr geehrte Frau Vogt,\n\nich verstehe gut, wie schwer das ist. Das Wetter ist heute schön.\n\n"
       "Lassen Sie uns telefonieren.\n\nGrüße\nPeter")


def test_comparison_goes_sentence_by_sentence() -> None:
    rows = render.compare_rows(OLD, NEW)
    kinds = [(r.kind, r.before, r.after) for r in rows]
    assert kinds[0] == ("kept", "Sehr geehrte Frau Vogt,", "Sehr geehrte Frau Vogt,")
    assert ("edited", "Das Wetter ist schön.", "Das Wetter ist heute schön.") in kinds
    assert ("removed", "kein Problem, ich habe storniert.", "") in kinds
    assert ("added", "", "ich verstehe gut, wie schwer das ist.") in kinds
    assert ("added", "", "Lassen Sie uns telefonieren.") in kinds
    assert kinds[-2:] == [("kept", "Grüße", "Grüße"), ("kept", "Peter", "Peter")]


def test_a_kept_sentence_with_a_finding_is_flagged() -> None:
    s = NEW.index("Lassen")
    rows = render.compare_rows(NEW, NEW, [(s + 2, s + 6)])
    assert [r.kind for r in rows].count("flagged") == 1
    assert next(r for r in rows if r.kind == "flagged").after == "Lassen Sie uns telefonieren."


def test_comparison_html_is_escaped_and_tagged() -> None:
    from coach.web.i18n import strings

    rows = render.compare_rows("Hallo <script>x</script>.", "Hallo <img src=x onerror=y> **fett**.")
    out = render.compare_html(rows, strings("en"))
    assert "<script" not in out and "<img" not in out and "**" not in out
    assert 'class="coach-removed"' in out or 'class="coach-edited"' in out
    assert set(parse(out).tags) <= {"table", "thead", "tbody", "tr", "th", "td", "span", "br"}


def test_comparison_of_a_long_letter_pairs_its_edits() -> None:
    para = "Ich verstehe gut, dass das schwer ist. Wir können später reden. Lassen Sie uns planen. "
    old = "Hallo,\n\n" + para * 230 + "\n\nGrüße\nPeter"
    new = old.replace("Wir können später reden.", "Wir reden später.", 40)
    assert len(old) > 19_000
    rows = render.compare_rows(old, new)  # sentence-level: its cost is in `tools/load_page.py --rerun-cost`
    assert sum(r.kind == "edited" for r in rows) == 40
    assert sum(r.kind == "kept" for r in rows) == len(rows) - 40


# ----------------------------------------------------------------------------- checklist and probe


def test_checklist_counts_good_moves_present_and_faults_absent_in_both_languages() -> None:
    from coach.web.i18n import strings

    moves = Moves(empathy=True, plan_offer=False, defer_collaboration=True, accepts_cancellation=True,
                  judgment=False, pressure=False)
    rows = {m: ok for m, _, ok in render.checklist(moves, strings("en"))}
    assert rows == {"empathy": True, "plan_offer": False, "defer_collaboration": True,
                    "accepts_cancellation": False, "judgment": True, "pressure": True}
    de = render.checklist_html(moves, Moves(empathy=True, plan_offer=True, defer_collaboration=True), strings("de"))
    assert "bietet an, gemeinsam einen konkreten Plan zu machen" in de
    assert de.count('data-ok="1"') == 6
    en = render.checklist_html(moves, moves, strings("en"))
    assert "offers to build a concrete plan together" in en and en.count('data-ok="1"') == 4


def test_endpoint_never_shows_user_info_path_or_query() -> None:
    assert render.endpoint("https://user:sk-secret123456@llm.example.com:8443/v1?key=abc") == \
        "https://llm.example.com:8443"
    assert render.endpoint(None) == "https://api.openai.com"


def test_probe_states_without_network() -> None:
    from coach.web.probe import probe

    assert probe(SimpleNamespace(offline=True, llm_enabled=False)).state == "offline"
    assert probe(SimpleNamespace(offline=False, llm_enabled=False)).state == "unconfigured"


def test_probe_says_down_fast_for_a_closed_port_and_up_for_a_server() -> None:
    import socket
    import time

    from llm_server import FakeLLMServer
    from pydantic import SecretStr

    from coach.web.probe import probe

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = SimpleNamespace(offline=False, llm_enabled=True, openai_base_url=f"http://127.0.0.1:{port}/v1",
                             model="m", openai_api_key=SecretStr("sk-test-abcdefgh"))
    t0 = time.monotonic()
    down = probe(closed, timeout=1.0)
    assert down.state == "down" and time.monotonic() - t0 < 1.5
    assert "sk-" not in repr(down)
    with FakeLLMServer() as srv:
        up = probe(SimpleNamespace(offline=False, llm_enabled=True, openai_base_url=srv.base_url, model="test-model",
                                   openai_api_key=SecretStr("sk-test")), timeout=1.0)
    assert up.state == "up" and up.model == "test-model" and up.endpoint.startswith("http://127.0.0.1:")


def test_examples_are_checkable_and_cover_three_kinds() -> None:
    from coach.checker import Checker
    from coach.web.examples import EXAMPLES

    checker = Checker()
    kinds = set()
    for ex in EXAMPLES:
        report = checker.check(ex.draft, client_message=ex.client_message)
        assert report.language == ex.lang
        kinds.add((report.language, report.address))
    assert {("de", "Sie"), ("de", "du")} <= kinds and any(lang == "en" for lang, _ in kinds)


# ----------------------------------------------------------------------------- properties

_texts = st.text(alphabet=st.sampled_from(list("ab <>&\"'*_$:[]\n\r\täöß")), max_size=60)


@settings(max_examples=150, deadline=None)
@given(text=_texts, spans=st.lists(st.tuples(st.integers(0, 70), st.integers(0, 70),
                                             st.sampled_from(["error", "warning", "info"])), max_size=6))
def test_any_spans_keep_the_text_intact_and_escaped(text: str, spans: list[tuple[int, int, str]]) -> None:
    out = render.highlight_html(text, [finding(a, b, severity=sev) for a, b, sev in spans])
    assert "\n" not in out and "\r" not in out
    p = parse(out)
    assert set(p.tags) <= {"div", "mark", "span", "br", "p", "b"}
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    assert "".join(p.text) == expected


@settings(max_examples=100, deadline=None)
@given(old=_texts, new=_texts)
def test_any_comparison_keeps_every_sentence_once(old: str, new: str) -> None:
    from coach.sentences import sentence_spans

    rows = render.compare_rows(old, new)
    assert [r.before for r in rows if r.before] == [old[s:e] for s, e in sentence_spans(old)]
    assert [r.after for r in rows if r.after] == [new[s:e] for s, e in sentence_spans(new)]


def test_a_span_boundary_inside_crlf_gives_one_line_break() -> None:
    text = "ab\r\ncd"
    out = render.highlight_html(text, [finding(0, 3, severity="warning"), finding(3, 6)])
    assert "".join(parse(out).text) == "ab\ncd"


def test_flagged_sentences_carry_their_notes_once() -> None:
    text = "Ich verstehe das. Laut Vertrag gilt eine Frist. Grüße"
    s = text.index("Vertrag")
    placed, _ = render.place_findings(text, [finding(s, s + 7, "Vertrag", message="pressure", move="pressure"),
                                             finding(s, s + 7, "Vertrag", message="pressure", move="pressure")])
    assert render.flagged_sentences(text, placed) == [("Laut Vertrag gilt eine Frist.", [("pressure", "pressure")])]
