"""Context of a draft: its language, its form of address, and the client's scenario."""

from __future__ import annotations

import re
from collections.abc import Sequence

from coach.rules.loader import RuleSet
from coach.rules.matcher import SentenceIndex, signal_fires

Span = tuple[int, int]

_WORD = re.compile(r"[^\W\d_]+(?:'[a-z]+)?", re.UNICODE)
_DE = frozenset(
    """und ich nicht das der den dem des ist sind wir es zu mit für fuer auf ein eine einen einem uns dass daß auch gerne gern
    sehr ihnen ihr ihre du dich dir dein deine wie werden können koennen kann wenn aber noch bei von im habe hab bin
    grüße gruesse liebe lieber hallo vielen dank danke nachricht möchte moechte würde wuerde sich schon jetzt gerade oder
    über ueber zeit lage mal etwas einfach leider natürlich natuerlich zusammen gemeinsam sie""".split()
)
_EN = frozenset(
    """the and i you to we is it for of that with this your can my be are have not will would let me so but if our sorry
    thanks thank regards what how just really about get could should there their they them it's i'm i've don't can't
    we're you're let's very any some together time hear know""".split()
)

_INFORMAL_WORDS = frozenset(
    """du dich dir dein deine deinen deinem deiner deines euch euer eure euren eurem hast bist kannst willst magst
    musst sollst darfst weißt weisst wirst möchtest moechtest würdest wuerdest könntest koenntest solltest brauchst
    hättest haettest wärst waerst meldest schreibst siehst""".split()
)
_INFORMAL_IMPERATIVE = frozenset("lass meld ruf schreib sag gib".split())
_IMPERATIVE_OBJECT = frozenset("uns dich mich mir bescheid".split())
_TOKENS = re.compile(r"[a-zäöüß]+")
_GREETING_FORMAL = re.compile(r"\b(?:Herr|Frau|Hr\.|Fr\.|geehrte[rs]?|Dr\.|Prof\.|Guten Tag)\b", re.I)
_FORMAL = re.compile(r"\b(?:Sie|Ihnen|Ihr|Ihre|Ihren|Ihrem|Ihrer|Ihres)\b")
_FORMAL_ALWAYS = re.compile(r"\bIhnen\b")
_LOWER_IHR = re.compile(r"\bihr\b")


_SAMPLE = 1200


def detect_language(text: str) -> str | None:
    """'de' or 'en' by function words; None when the text is in neither (or too short to tell).

    The first 1,200 characters decide: enough words to tell, and a long mail costs no more.
    """
    words = [w.lower() for w in _WORD.findall(text, 0, _SAMPLE)]
    total = len(words)
    de = sum(w in _DE for w in words)
    en = sum(w in _EN for w in words)
    if de == 0 and en == 0:
        return None
    if max(de, en) < 2 and total >= 6:
        return None
    if total >= 12 and max(de, en) / total < 0.08:
        return None
    return "de" if de >= en else "en"


def detect_address(text: str, sentences: Sequence[Span], greeting: str | None = None) -> str:
    """'Sie', 'du', 'mixed' or 'n/a' for a German draft (text with greeting, quotes and signature masked).

    Without any pronoun or verb form to go by, the greeting decides: "Sehr geehrte", "Herr", "Frau"
    mean Sie; a first-name greeting ("Hallo Tim", "Liebe Lea") means du.
    """
    words = _TOKENS.findall(text.lower())
    informal = sum(w in _INFORMAL_WORDS for w in words)
    if not _INFORMAL_IMPERATIVE.isdisjoint(words):  # "lass uns", "meld dich": du without a pronoun of its own
        informal += sum(a in _INFORMAL_IMPERATIVE and b in _IMPERATIVE_OBJECT for a, b in zip(words, words[1:]))
    formal_strong = text.count("Ihnen") and len(_FORMAL_ALWAYS.findall(text))
    formal_weak = 0
    starts = {s for s, _ in sentences}
    has_formal = "Sie" in text or "Ihr" in text
    for m in _FORMAL.finditer(text) if has_formal else ():
        if m.group() == "Ihnen":
            continue
        if m.start() in starts:
            formal_weak += 1
        else:
            formal_strong += 1
    if formal_strong and informal:
        return "mixed"
    if informal:
        return "du"
    if formal_strong or formal_weak:
        return "Sie"
    if greeting:
        return "Sie" if _GREETING_FORMAL.search(greeting) else "du"
    return "n/a"


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
    own = _mask(text, parts.masked_spans())
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


def _mask(text: str, spans: Sequence[Span]) -> str:
    if not spans:
        return text
    chars = list(text)
    for s, e in spans:
        for i in range(s, e):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


mask_spans = _mask
