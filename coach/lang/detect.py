"""Which language a text is in, by counting each language's function words."""

from __future__ import annotations

import re

from coach.lang.load import languages

_WORD = re.compile(r"[^\W\d_]+(?:'[a-z]+)?", re.UNICODE)
_SAMPLE = 1200


def detect_language(text: str) -> str | None:
    """The code of the language whose function words the text uses most; None when it uses none of them enough.

    The first 1,200 characters decide: enough words to tell, and a long mail costs no more. On a tie the
    language listed first (alphabetically by code) wins.
    """
    words = [w.lower() for w in _WORD.findall(text, 0, _SAMPLE)]
    total = len(words)
    counts = {code: sum(w in spec.function_words for w in words) for code, spec in languages().items()}
    best = max(counts, key=lambda c: counts[c])  # first of the best on a tie
    top = counts[best]
    if top == 0:
        return None
    if top < 2 and total >= 6:
        return None
    if total >= 12 and top / total < 0.08:
        return None
    return best
