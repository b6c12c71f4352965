"""Applying compiled rules to a masked draft: sentence scope, requirements, exceptions, negation."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from coach.rules.loader import CompiledRule, CompiledSignal, LiteralIndex

Span = tuple[int, int]

_NEGATION = re.compile(
    r"\b(?:nicht|nichts|nix|kein|keine|keinen|keinem|keiner|keines|nie|niemals|weder|keineswegs|keinesfalls|mitnichten|"
    r"not|never|no|nothing|cant|dont|wont|didnt|doesnt|isnt|arent|wasnt|werent|couldnt|wouldnt|shouldnt|havent|hasnt|"  # chat without apostrophes
    r"none|neither|nor|noch\s+nicht)\b|n't\b|n’t\b",
    re.IGNORECASE,
)
_EMOJI = "\U0001F000-\U0001FAFF\u2600-\u27BF"  # an emoji ends a clause in chat ("never seen that before 🙄 cancelled ur slots")
_CLAUSE_BREAK = re.compile(
    rf"[,;:(){_EMOJI}]|\s-\s|\b(?:aber|sondern|doch|jedoch|trotzdem|but|however|though|although|and\s+then)\b",
    re.IGNORECASE,
)
# "aber" right after a German verb is mostly a particle ("Ich storniere aber erst mal nichts"), not a new clause
_AFTER_STOP = re.compile(rf"[,;:.!?(){_EMOJI}]|\s-\s|\b(?:und|oder|and|or|but|sondern|weil|because)\b", re.IGNORECASE)
_AFTER_NEGATION = re.compile(r"^(?:nicht|nichts|nix|not|nie|never|keine\w*)$", re.IGNORECASE)
_AFTER_WORDS = 5


@dataclass(frozen=True)
class Hit:
    rule: CompiledRule
    start: int
    end: int
    layer: str = "rule"  # "model": added by the semantic layer (coach.semantic)


class SentenceIndex:
    """Find the sentence around an offset quickly."""

    def __init__(self, spans: Sequence[Span]):
        self.spans = list(spans)
        self._starts = [s for s, _ in spans]

    def around(self, pos: int) -> Span | None:
        i = bisect_right(self._starts, pos) - 1
        if i >= 0 and self.spans[i][0] <= pos < self.spans[i][1]:
            return self.spans[i]
        return None


_WORD_START = re.compile(r"\S+")


def is_negated(text: str, sent: Span, start: int, end: int, *, after_words: int = _AFTER_WORDS,
               before_words: int | None = None) -> bool:
    """A negation word in the match's clause, before it (within ``before_words`` words, when given),
    inside it, or in the next few words (``after_words`` of them)."""
    s0, s1 = sent
    clause_start = s0
    for m in _CLAUSE_BREAK.finditer(text, s0, start):
        clause_start = m.end()
    if before_words is not None:
        starts = [m.start() for m in _WORD_START.finditer(text, clause_start, start)]
        if len(starts) > before_words:
            clause_start = starts[-before_words]
    if _NEGATION.search(text, clause_start, end):
        return True
    stop = _AFTER_STOP.search(text, end, s1)
    after = text[end:stop.start() if stop else s1]
    words = after.split()[:after_words]
    # a negation word right behind the match ("verstehe nicht", "storniere erst einmal nichts");
    # contracted forms ("the grant didn't") belong to a new verb and do not count
    return any(_AFTER_NEGATION.match(w.strip(".,;:!?")) for w in words)


def _sentence_ok(text: str, sent: Span, requires: Iterable[re.Pattern[str]], unless: re.Pattern[str] | None) -> bool:
    s0, s1 = sent
    for req in requires:
        if not req.search(text, s0, s1):
            return False
    return not (unless is not None and unless.search(text, s0, s1))


def find_hits(cased: str, sentences: SentenceIndex, rules: Iterable[CompiledRule], lowered: str | None = None,
              literals: LiteralIndex | None = None) -> list[Hit]:
    """Every place a presence rule fires in the masked text, at most one hit per rule and sentence.

    With a literal index, a rule only runs on the sentences that hold one of its required
    literals; a rule without required literals scans the whole text.
    """
    from coach.rules.patterns import lower_text

    lowered = lower_text(cased) if lowered is None else lowered
    occurrences = literals.occurrences(lowered) if literals is not None else None
    hits: list[Hit] = []
    for cr in rules:
        if not cr.parts:
            continue
        text = cased if cr.rule.case_sensitive else lowered
        if occurrences is not None and not cr.rule.case_sensitive:
            matches = _gated_matches(text, sentences, cr, occurrences.get(cr.rule.id, ()))
        else:
            matches = sorted((m for regex, _ in cr.parts for m in regex.finditer(text)),
                             key=lambda m: (m.start(), -m.end()))
        done: set[Span] = set()
        for m in matches:
            if m.end() == m.start():
                continue
            sent = sentences.around(m.start())
            if sent is None or sent in done:
                continue
            if not _sentence_ok(text, sent, cr.requires, cr.unless):
                continue
            if cr.rule.negation and is_negated(text, sent, m.start(), m.end()):
                continue
            done.add(sent)
            start = m.start()
            while start > sent[0] and text[start - 1].isalnum():
                start -= 1  # a pattern may start inside a compound ("Krisen|plan"): report the whole word
            hits.append(Hit(cr, start, m.end()))
    return hits


def _gated_matches(text: str, sentences: SentenceIndex, cr: CompiledRule,
                   found: Iterable[tuple[int, int]]) -> list[re.Match[str]]:
    """Matches of each pattern, run only on the sentences that hold one of its literals, left to right."""
    todo: set[tuple[Span, int]] = set()
    for start, part in found:
        sent = sentences.around(start)
        if sent is not None:
            todo.add((sent, part))
    out: list[re.Match[str]] = []
    for (s0, s1), part in todo:
        out.extend(cr.parts[part][0].finditer(text, s0, s1))
    for regex, lits in cr.parts:
        if lits is None:  # a pattern that requires no literal runs over the whole text
            out.extend(regex.finditer(text))
    out.sort(key=lambda m: (m.start(), -m.end()))
    return out


def signal_fires(text: str, sentences: SentenceIndex, sig: CompiledSignal) -> bool:
    """Whether a scenario signal fires in the (lower-cased) text."""
    for m in sig.pattern.finditer(text):
        sent = sentences.around(m.start())
        if sent is not None and _sentence_ok(text, sent, sig.requires, sig.unless):
            return True
    return False
