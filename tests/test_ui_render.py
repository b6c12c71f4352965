"""The page's pure HTML helpers: escaping, spans, overlaps, the word diff, the checklist, the badge."""

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

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        self.tags.append(tag)
        if tag == "br":
            self.text.append("\n")
        if tag == "mark":
            self._in_mark += 1
            self.marks.append("")
        if tag == "sup":
            self._in_sup += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._in_mark -= 1
        if tag == "sup":
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


def test_tooltips_escape_message_and_quote() -> None:
    f = finding(0, 4, "Sehr", message='bad "quote" <i>', suggestion="use <b>this</b>\nplease")
    out = render.highlight_html(DRAFT, [f])
    title = re.search(r'title="([^"]*)"', out)
    assert title is not None
    assert "&lt;i&gt;" in title.group(1) and "&quot;quote&quot;" in title.group(1)
    assert "&#10;" in title.group(1)  # the line break of the tooltip, as an entity


def test_findings_list_escapes_everything() -> None:
    f = finding(0, 8, "<script>", message="<img src=x onerror=alert(1)>", suggestion="<u>x</u>")
    out = render.findings_list_html("<script>alert(1)</script>", [f])
    assert "<script" not in out and "<img" not in out and "<u>" not in out
    assert "&lt;script&gt;" in out and "&lt;img src=x onerror=alert(1)&gt;" in out


# ----------------------------------------------------------------------------- spans


def test_spans_land_on_the_right_text() -> None:
    start = DRAFT.index("kein Problem")
    done = DRAFT.index("habe den Auftrag storniert")
    findings = [finding(done, done + len("habe den Auftrag storniert")),
                finding(start, start + len("kein Problem"), severity="warning")]
    p = parse(render.highlight_html(DRAFT, findings))
    assert p.marks == ["kein Problem", "habe den Auftrag storniert"]
    assert "".join(p.text) == DRAFT


def test_numbers_follow_reading_order_and_match_the_list() -> None:
    a, b = DRAFT.index("kein"), DRAFT.index("Auftrag")
    findings = [finding(b, b + 7, "Auftrag", message="second"), finding(a, a + 4, "kein", message="first")]
    placed, general = render.place_findings(DRAFT, findings)
    assert [(p.number, p.finding.message) for p in placed] == [(1, "first"), (2, "second")]
    assert general == []
    out = render.highlight_html(DRAFT, findings)
    assert re.findall(r"kein</mark><sup[^>]*>(\d+)</sup>", out) == ["1"]
    assert re.findall(r"Auftrag</mark><sup[^>]*>(\d+)</sup>", out) == ["2"]


def test_overlapping_findings_are_split_and_keep_the_worst_severity() -> None:
    text = "gemeinsam die nächsten Schritte festlegen"
    outer = finding(0, len(text), text, severity="warning", message="outer")
    inner_start = text.index("nächsten")
    inner = finding(inner_start, inner_start + len("nächsten Schritte"), severity="error", message="inner")
    out = render.highlight_html(text, [outer, inner])
    p = parse(out)
    assert "".join(p.text) == text
    assert p.marks == ["gemeinsam die ", "nächsten Schritte", " festlegen"]
    classes = re.findall(r'<mark class="coach-(\w+)"', out)
    assert classes == ["warning", "error", "warning"]
    middle_title = re.findall(r'title="([^"]*)"', out)[1]
    assert "outer" in middle_title and "inner" in middle_title
    assert out.count("<sup") == 2


def test_identical_and_nested_spans() -> None:
    text = "kein Problem"
    out = render.highlight_html(text, [finding(0, 12, severity="info"), finding(0, 12), finding(5, 12)])
    p = parse(out)
    assert "".join(p.text) == text
    assert p.marks == ["kein ", "Problem"]
    assert out.count("<sup") == 3


def test_zero_length_and_out_of_range_findings_go_to_the_list() -> None:
    missing = finding(0, 0, "", severity="warning", message="Der Entwurf bietet keinen Plan an.")
    beyond = finding(500, 600, "x", message="beyond")
    clipped = finding(len(DRAFT) - 5, len(DRAFT) + 40, "Peter", message="clipped")
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
    spans = {draft[f.start:f.end] for f in report.findings if f.end > f.start}
    assert spans and set(p.marks) <= spans | {m for m in p.marks if any(m in s for s in spans)}
    assert "kein Problem" in p.marks


# ----------------------------------------------------------------------------- diff


def test_diff_marks_insertions_and_deletions() -> None:
    old = "Sehr geehrte Frau Vogt,\n\nkein Problem, ich habe storniert.\n\nGrüße"
    new = "Sehr geehrte Frau Vogt,\n\nich verstehe Sie gut.\n\nGrüße"
    out = render.diff_html(old, new)
    dels = re.findall(r"<del[^>]*>(.*?)</del>", out)
    ins = re.findall(r"<ins[^>]*>(.*?)</ins>", out)
    assert dels == ["kein Problem, ich habe storniert"]
    assert ins == ["ich verstehe Sie gut"]
    assert out.count("<br>") == 4


def test_diff_reconstructs_both_texts() -> None:
    old = "Dear Ms Vogt,\n\nno worries, I have cancelled it. Best of luck!\n\nKind regards\nPeter"
    new = "Dear Ms Vogt,\n\nI can imagine how hard this is. Let's make a plan.\n\nKind regards\nPeter"
    ops = render.diff_ops(old, new)
    assert "".join(x for _, x, _ in ops) == old
    assert "".join(y for _, _, y in ops) == new
    assert {t for t, _, _ in ops} <= {"equal", "insert", "delete", "replace"}


def test_diff_escapes_both_sides() -> None:
    out = render.diff_html("Hallo <script>alert(1)</script>", "Hallo <img src=x onerror=alert(2)> **fett**")
    assert "<script" not in out and "<img" not in out and "**" not in out
    assert "script&gt;alert(1)&lt;/script&gt;" in out and "img src=x onerror=alert(2)&gt;" in out
    p = parse(out)
    assert "script" not in p.tags and "img" not in p.tags
    without_ins = parse(re.sub(r"<ins[^>]*>.*?</ins>", "", out))
    without_del = parse(re.sub(r"<del[^>]*>.*?</del>", "", out))
    assert "".join(without_ins.text) == "Hallo <script>alert(1)</script>"
    assert "".join(without_del.text) == "Hallo <img src=x onerror=alert(2)> **fett**"


@pytest.mark.parametrize("old,new", [("", "neu"), ("alt", ""), ("gleich", "gleich"), ("", "")])
def test_diff_edge_cases(old: str, new: str) -> None:
    out = render.diff_html(old, new)
    assert ("<ins" in out) == bool(new and new != old)
    assert ("<del" in out) == bool(old and new != old)


# ----------------------------------------------------------------------------- checklist and badge


def test_checklist_counts_good_moves_present_and_faults_absent() -> None:
    moves = Moves(empathy=True, plan_offer=False, defer_collaboration=True, accepts_cancellation=True,
                  judgment=False, pressure=False)
    rows = {m: ok for m, _, ok in render.checklist(moves)}
    assert rows == {"empathy": True, "plan_offer": False, "defer_collaboration": True,
                    "accepts_cancellation": False, "judgment": True, "pressure": True}
    table = render.checklist_markdown(moves, Moves(empathy=True, plan_offer=True, defer_collaboration=True))
    assert table.count("\n") == 7
    assert f"| offers to build a concrete plan together | {render.NO} | {render.YES} |" in table
    single = render.checklist_markdown(moves)
    assert single.count(render.YES) == 4 and single.count(render.NO) == 2


def test_mode_badge_texts_and_no_secrets() -> None:
    off = SimpleNamespace(offline=True, llm_enabled=False, model="m", openai_base_url=None)
    assert render.mode_badge(off) == ("offline: rules only", "COACH_OFFLINE=1", False)
    none = SimpleNamespace(offline=False, llm_enabled=False, model="m", openai_base_url=None)
    assert render.mode_badge(none)[1] == "no OPENAI_API_KEY or OPENAI_BASE_URL set"
    llm = SimpleNamespace(offline=False, llm_enabled=True, model="gpt-4o-mini",
                          openai_base_url="https://user:sk-secret123456@llm.example.com:8443/v1?key=abc")
    label, why, on = render.mode_badge(llm)
    assert on and label == "LLM: gpt-4o-mini"
    assert why == "OpenAI-compatible endpoint at https://llm.example.com:8443"
    assert "secret" not in why and "abc" not in why
    plain = SimpleNamespace(offline=False, llm_enabled=True, model="gpt-4o-mini", openai_base_url=None)
    assert render.mode_badge(plain)[1] == "OpenAI API (OPENAI_API_KEY set)"


def test_mode_badge_with_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from coach.settings import Settings

    assert render.mode_badge(Settings())[0] == "offline: rules only"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-abcdefghijkl")
    label, why, on = render.mode_badge(Settings())
    assert on and label.startswith("LLM: ") and "sk-" not in why
    monkeypatch.setenv("COACH_OFFLINE", "1")
    assert render.mode_badge(Settings())[1] == "COACH_OFFLINE=1"


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
    assert set(p.tags) <= {"div", "mark", "sup", "br"}
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    assert "".join(p.text) == expected


@settings(max_examples=150, deadline=None)
@given(old=_texts, new=_texts)
def test_any_diff_is_escaped_and_complete(old: str, new: str) -> None:
    ops = render.diff_ops(old, new)
    assert "".join(x for _, x, _ in ops) == old and "".join(y for _, _, y in ops) == new
    out = render.diff_html(old, new)
    assert set(parse(out).tags) <= {"div", "del", "ins", "br"}


def test_a_span_boundary_inside_crlf_gives_one_line_break() -> None:
    text = "ab\r\ncd"
    out = render.highlight_html(text, [finding(0, 3, severity="warning"), finding(3, 6)])
    assert "".join(parse(out).text) == "ab\ncd"
    assert out.count("<br>") == 1
