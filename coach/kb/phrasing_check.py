"""Checking a user's own phrasings before they may go into a rewrite.

A phrasing from `coach index --add my.yaml` is used word for word by the offline rewrite and
given to the model as an approved example, so it must meet the same bar as the bundled ones:
the checker finds the move it claims and no fault in it (acceptance, judgment, pressure), and
it carries nothing a reply must not invent: no links, email addresses, phone numbers, IBANs,
prices or amounts (no digits at all), currencies, dates or weekdays.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from coach.moves import FAULT_MOVES, move

_CONTENT = [
    (re.compile(r"\bhttps?://\S+|\bwww\.\S+|\b[\w-]+\.(?:de|com|org|net|io|eu|at|ch)\b", re.I), "a link"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "an email address"),
    (re.compile(r"(?<![\w/])(?:\+|00)\d[\d ()/.\-]{5,}\d"), "a phone number"),
    (re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}"), "an IBAN"),
    (re.compile(r"[€$£¥]|\b(?:EUR|USD|CHF|GBP|Euro|Euros|Dollar|Dollars|Franken|Cent|Prozent|percent)\b", re.I),
     "a price or an amount"),
    (re.compile(r"\d"), "a number (a price, an amount, a date or a time)"),
    (re.compile(
        r"\b(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|Monday|Tuesday|Wednesday|Thursday|"
        r"Friday|Saturday|Sunday|Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|"
        r"Dezember|January|February|March|June|July|October|December)\b"), "a date or a weekday"),
]

_checker: Any = None
_checker_lock = threading.Lock()


def _get_checker() -> Any:
    global _checker
    with _checker_lock:
        if _checker is None:
            from coach.checker import Checker

            _checker = Checker()
        return _checker


@dataclass(frozen=True)
class PhrasingVerdict:
    id: str
    move: str
    lang: str
    text: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def content_problems(text: str) -> list[str]:
    out: list[str] = []
    for pattern, what in _CONTENT:
        if pattern.search(text) and what not in out:
            if what.startswith("a number") and any(p.startswith(("a price", "a phone", "an IBAN")) for p in out):
                continue
            out.append(what)
    return out


def check_phrasing(p: Any) -> PhrasingVerdict:
    """The verdict on one phrasing (a ``coach.kb.schema.Phrasing``)."""
    from coach.kb.loader import slot_fill

    from coach.lang import language

    text = p.text.replace("{situation}", slot_fill(p.lang)).replace("{when}", language(p.lang).when_fill)
    problems = [f"contains {what}" for what in content_problems(text)]
    checker = _get_checker()
    # the move must be one the rules know (the offline rewrite verifies phrasings the same way);
    # a fault counts when the rules or the semantic layer find it
    rules = checker.analyse(text, lang=p.lang, rules_only=True)
    if p.move in rules.moves:
        makes = bool(rules.moves.get(p.move))
    else:  # an aid move (the referral) is not one of the six reported ones
        makes = any(h.rule.rule.move == p.move for h in rules.hits)
    if not makes:
        problems.append(f"the checker does not find the move it claims ({move(p.move).label('en')})")
    full = checker.analyse(text, lang=p.lang)
    for m in FAULT_MOVES:
        if full.moves.get(m):
            problems.append(f"it fails the rule '{move(m).label('en')}'")
    return PhrasingVerdict(id=p.id, move=p.move, lang=p.lang, text=p.text, problems=tuple(problems))
