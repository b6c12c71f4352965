"""Arbitrary Unicode never breaks the checker: only InputError, and every span lies inside the draft."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach import InputError
from coach.checker import Checker

CHECKER = Checker(rules_only=True)  # many examples: the fast path
SEMANTIC = Checker(rules_only=False)  # fewer examples: every sentence is embedded
WORDS = st.sampled_from([
    "Ich", "verstehe", "nicht", "kein Problem", "storniert", "Plan", "Zusammenarbeit", "später", "Sie", "du",
    "I'm so sorry", "no problem", "I've cancelled", "overreaction", "notice period", "let's", "plan", "\n", "> ",
    "Am 1. März schrieb X:", "On Mon, Bob wrote:", "Viele Grüße", "Best,", "\u201e", "\u2013", "\r\n", "ae", "\u00a0",
])
TEXT = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=60).map(" ".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draft=TEXT, client=st.one_of(st.none(), TEXT), lang=st.sampled_from([None, "de", "en"]))
def test_check_never_raises_anything_but_input_error(draft: str, client: str | None, lang: str | None) -> None:
    _assert_sound(CHECKER, draft, client, lang)


def _assert_sound(checker: object, draft: str, client: str | None, lang: str | None) -> None:
    """Only InputError is raised; the score is in range; every finding's span lies inside the draft."""
    try:
        report = checker.check(draft, client_message=client, lang=lang)  # type: ignore[attr-defined]
    except InputError:
        return
    assert 0 <= report.score <= 100
    for f in report.findings:
        assert 0 <= f.start <= f.end <= len(draft)
        assert draft[f.start:f.end] == f.text
        assert f.layer in ("rule", "model")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(draft=TEXT, client=st.one_of(st.none(), TEXT), lang=st.sampled_from([None, "de", "en"]))
def test_the_semantic_layer_keeps_spans_inside_the_draft(draft: str, client: str | None, lang: str | None) -> None:
    _assert_sound(SEMANTIC, draft, client, lang)
