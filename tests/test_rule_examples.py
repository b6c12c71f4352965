"""Every example of every rule and scenario signal, run through the real checker (the Vale habit)."""

from __future__ import annotations

import pytest

from coach.checker import Checker
from coach.context import detect_scenario
from coach.rules.loader import default_rules
from coach.rules.schema import Example

RULES = default_rules()
CHECKER = Checker(RULES, rules_only=True)  # the rules alone: these are their examples
GOOD_MOVE_PRESENCE = {"empathy", "plan_offer", "defer_collaboration", "referral"}


def _cases():
    for cr in RULES.rules:
        r = cr.rule
        # which examples must produce the rule's finding
        fires_on = "good" if (r.kind == "presence" and r.move in GOOD_MOVE_PRESENCE) else "bad"
        for side in ("bad", "good"):
            for n, ex in enumerate(getattr(r.examples, side)):
                yield pytest.param(r.id, r.lang, ex, side == fires_on, id=f"{r.id}-{side}{n}")


@pytest.mark.parametrize(("rule_id", "lang", "example", "should_fire"), list(_cases()))
def test_rule_example(rule_id: str, lang: str, example: str | Example, should_fire: bool) -> None:
    text, client = (example, None) if isinstance(example, str) else (example.text, example.client_message)
    report = CHECKER.check(text, client_message=client, lang=lang)
    fired = [f for f in report.findings if f.rule == rule_id]
    assert bool(fired) == should_fire, f"{rule_id} {'did not fire' if should_fire else 'fired'} on: {text!r}"
    for f in fired:
        assert text[f.start:f.end] == f.text


def test_every_rule_has_bad_and_good_examples() -> None:
    for cr in RULES.rules:
        assert cr.rule.examples.bad and cr.rule.examples.good, cr.rule.id


def test_rules_cover_the_six_moves_in_both_languages() -> None:
    for lang in ("de", "en"):
        moves = {cr.rule.move for cr in RULES.rules if cr.rule.lang == lang}
        assert {"empathy", "plan_offer", "defer_collaboration", "accepts_cancellation", "judgment", "pressure"} <= moves


def _signal_cases():
    for s in RULES.signals:
        for n, ex in enumerate(s.signal.examples.bad):
            yield pytest.param(s.signal.scenario, ex, True, id=f"{s.signal.id}-bad{n}")
        for n, ex in enumerate(s.signal.examples.good):
            yield pytest.param(s.signal.scenario, ex, False, id=f"{s.signal.id}-good{n}")


@pytest.mark.parametrize(("scenario", "message", "should_match"), list(_signal_cases()))
def test_scenario_signal_example(scenario: str, message: str | Example, should_match: bool) -> None:
    text = message if isinstance(message, str) else message.text
    got = detect_scenario(text, RULES)
    if should_match:
        assert got == scenario, f"{text!r} -> {got}"
    else:
        assert got != scenario, f"{text!r} -> {got}"
