"""Measuring a rewrite against what issue #4 promises a user (used by tests, eval and bench)."""

from __future__ import annotations

from pydantic import BaseModel

from coach.checker import Analysis, Checker
from coach.models import FAULT_MOVES, GOOD_MOVES, RewriteResult
from coach.rewrite.rules_rewriter import plan_sentences


class RewriteCheck(BaseModel):
    id: str = ""
    good_moves: bool
    no_faults: bool
    greeting_kept: bool
    signature_kept: bool
    quotes_kept: bool
    language_kept: bool
    address_kept: bool
    fine_sentences_kept: bool
    faulty_dropped: bool

    @property
    def ok(self) -> bool:
        return all(v for k, v in self.model_dump().items() if k != "id")

    def failures(self) -> list[str]:
        return [k for k, v in self.model_dump().items() if k != "id" and v is False]


def _contains(haystack: str, sentence: str) -> bool:
    s = sentence.strip()
    if not s:
        return True
    return s in haystack or (s[0].swapcase() + s[1:]) in haystack


def assess(a: Analysis, result: RewriteResult, checker: Checker) -> RewriteCheck:
    text = result.rewrite
    draft = a.draft
    after = result.after
    plans = plan_sentences(a)
    fine = [p.text for p in plans if p.verdict == "keep"]
    faulty = [p.text for p in plans if p.verdict == "fault"]
    greeting = draft[a.parts.greeting[0]:a.parts.greeting[1]] if a.parts.greeting else ""
    signature = draft[a.parts.signoff[0]:a.parts.signoff[1]] if a.parts.signoff else ""
    quotes = [draft[s:e] for s, e in a.parts.quoted]
    want_address = a.address if a.address in ("Sie", "du") else after.address
    return RewriteCheck(
        good_moves=all(getattr(after.moves, m) for m in GOOD_MOVES),
        no_faults=not any(getattr(after.moves, m) for m in FAULT_MOVES),
        greeting_kept=text.startswith(greeting.strip()) if greeting else True,
        signature_kept=signature.strip() in text,
        quotes_kept=all(q in text for q in quotes),
        language_kept=after.language == a.language,
        address_kept=after.address == want_address,
        fine_sentences_kept=all(_contains(text, f) for f in fine),
        faulty_dropped=not any(f.strip() in text for f in faulty),
    )
