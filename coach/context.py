"""Context of a draft: its language, its form of address, and the client's scenario."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from coach.lang.load import language
from coach.letter.parse import mask

from coach.rules.loader import RuleSet
from coach.rules.matcher import SentenceIndex, signal_fires

Span = tuple[int, int]

_TOKENS = re.compile(r"[^\W\d_]+", re.UNICODE)


@cache
def _address_patterns(code: str) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]:
    spec = language(code).address
    def words(ws: Sequence[str]) -> re.Pattern[str] | None:
        return re.compile(r"\b(?:" + "|".join(map(re.escape, ws)) + r")\b") if ws else None
    greeting = re.compile(spec.greeting_formal, re.I) if spec.greeting_formal else None
    return words(spec.formal_pronouns), words(spec.always_formal), greeting


def detect_address(text: str, sentences: Sequence[Span], greeting: str | None = None, lang: str = "de") -> str:
    """The form of address ('Sie', 'du', 'mixed' for German) or 'n/a' where the language has one form.

    `text` has greeting, quotes and signature masked. Without any pronoun or verb form to go by, the
    greeting decides: "Sehr geehrte", "Herr", "Frau" mean the formal form; a first-name greeting
    ("Hallo Tim", "Liebe Lea") the informal one. The word lists are knowledge/lang/<code>/language.toml.
    """
    spec = language(lang).address
    if not spec.distinguishes:
        return "n/a"
    formal_form, informal_form = spec.forms[0], spec.forms[1]
    formal_re, always_re, greeting_re = _address_patterns(lang)
    words = _TOKENS.findall(text.lower())
    informal = sum(w in spec.informal_words for w in words)
    if not spec.informal_imperatives.isdisjoint(words):  # "lass uns", "meld dich": du without a pronoun of its own
        informal += sum(a in spec.informal_imperatives and b in spec.imperative_objects for a, b in zip(words, words[1:]))
    formal_strong = len(always_re.findall(text)) if always_re else 0
    formal_weak = 0
    starts = {s for s, _ in sentences}
    for m in formal_re.finditer(text) if formal_re else ():
        if m.group() in spec.always_formal:
            continue
        if m.start() in starts:
            formal_weak += 1
        else:
            formal_strong += 1
    if formal_strong and informal:
        return "mixed"
    if informal:
        return informal_form
    if formal_strong or formal_weak:
        return formal_form
    if greeting:
        return formal_form if greeting_re and greeting_re.search(greeting) else informal_form
    return "n/a"


def reply_address(lang: str, address: str, greeting: str) -> str:
    """The form of address a reply should use: the draft's own, or for a mixed or undecided draft the one
    its greeting suggests (a first-name greeting: informal; otherwise the formal form). The one place
    that decides it; both rewriters ask here."""
    spec = language(lang).address
    if not spec.distinguishes:
        return "n/a"
    if address in spec.forms:
        return address
    formal_form, informal_form = spec.forms[0], spec.forms[1]
    _, _, formal_re = _address_patterns(lang)
    formal = bool(formal_re and formal_re.search(greeting))
    if address == "mixed" and greeting and not formal:
        return informal_form
    if (address == "n/a" and not formal and spec.greeting_informal
            and re.search(spec.greeting_informal, greeting, re.I)):
        return informal_form
    return formal_form


def detect_scenario(client_message: str | None, rules: RuleSet) -> str | None:
    """'long_standing' or 'shock' from the client's message signals; 'unclear' otherwise; None without one."""
    if client_message is None:
        return None
    from coach.mail import split_mail
    from coach.normalize import normalize
    from coach.sentences import sentence_spans

    text = normalize(client_message)
    parts = split_mail(text)
    # the client's own words: drop quoted parts (a forwarded chain may hold older mail)
    own = mask(text, parts.masked_spans())
    index = SentenceIndex(sentence_spans(own))
    from coach.rules.patterns import lower_text

    own = lower_text(own)
    found = {(s.signal.scenario, s.signal.weak) for s in rules.signals if signal_fires(own, index, s)}
    if ("long_standing", False) in found:
        return "long_standing"
    if ("shock", False) in found:
        return "shock"
    if ("long_standing", True) in found:
        return "long_standing"
    return "unclear"


mask_spans = mask  # the letter's own masking: spans blanked, new lines kept
