"""Every regex of every rule and scenario signal compiles, and each pattern matches its own example."""

from __future__ import annotations

import re

import pytest

from coach.rules.loader import load_rules
from coach.rules.patterns import compile_any, lower_text

RULES = load_rules()


def _pattern_cases():
    for cr in RULES.rules:
        r = cr.rule
        for i, p in enumerate(r.patterns):
            ex = r.pattern_examples[i] if i < len(r.pattern_examples) else None
            yield pytest.param(r.id, p, ex, r.case_sensitive, id=f"{r.id}-{i}")
    for cs in RULES.signals:
        s = cs.signal
        for i, p in enumerate(s.patterns):
            ex = s.pattern_examples[i] if i < len(s.pattern_examples) else None
            yield pytest.param(s.id, p, ex, False, id=f"{s.id}-{i}")


def test_all_patterns_compile_when_loaded() -> None:
    rules = load_rules()
    compiled = rules.for_language("de") + rules.for_language("en")
    assert compiled and rules.signals  # every pattern, requires and unless compiled, no lazy surprise later
    for cr in compiled:
        for text in cr.rule.patterns + cr.rule.requires + cr.rule.unless:
            assert isinstance(compile_any([text], case_sensitive=cr.rule.case_sensitive), re.Pattern)


def test_every_pattern_has_exactly_one_example() -> None:
    for cr in RULES.rules:
        r = cr.rule
        assert len(r.pattern_examples) == len(r.patterns), (
            f"{r.id}: {len(r.patterns)} patterns but {len(r.pattern_examples)} pattern_examples (one per pattern)")
    for cs in RULES.signals:
        s = cs.signal
        assert len(s.pattern_examples) == len(s.patterns), (
            f"{s.id}: {len(s.patterns)} patterns but {len(s.pattern_examples)} pattern_examples (one per pattern)")


@pytest.mark.parametrize(("owner", "pattern", "example", "case_sensitive"), list(_pattern_cases()))
def test_pattern_matches_its_example(owner: str, pattern: str, example: str | None, case_sensitive: bool) -> None:
    assert example, f"{owner}: pattern {pattern!r} has no example"
    rx = compile_any([pattern], case_sensitive=case_sensitive)
    assert rx is not None
    assert rx.search(example if case_sensitive else lower_text(example)), f"{owner}: {pattern!r} misses {example!r}"
