"""The sealed sets stay sealed: none of their sentences (nor a near-duplicate) is in the corpus or a rule example.

tests/data/sealed_*.jsonl measure the checker on text nobody tuned it on. This test reads them to
compare, and reports only the corpus or rule side of a clash (never the sealed sentence itself).
Near-duplicates: sentences of six words or more that share many of their words are embedded with the
bundled e5 model and compared by cosine; above 0.95 counts as the same sentence. (Shorter stock phrases
such as "I'm so sorry." sit above 0.95 with any other way of saying them: for those, equality counts.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from coach.normalize import normalize
from coach.rules.loader import load_rules
from coach.semantic.corpus import load_corpus
from coach.semantic.model import embed
from coach.sentences import sentence_spans

DATA = Path(__file__).resolve().parent / "data"
SEALED = sorted(DATA.glob("sealed_*.jsonl"))
_WORD = re.compile(r"\w+", re.UNICODE)
NEAR = 0.95
NEAR_MIN_WORDS = 6  # shorter stock phrases ("I'm so sorry.") are everyone's: for them only equality counts
OVERLAP = 0.4  # word overlap (Jaccard) above which a pair is embedded and compared


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _sentences(text: str) -> list[str]:
    text = normalize(text)
    return [text[s:e] for s, e in sentence_spans(text)]


def _sealed() -> list[tuple[str, str]]:
    out = []
    for path in SEALED:
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            for field in ("draft", "client_message"):
                for s in _sentences(row.get(field) or ""):
                    if len(_WORD.findall(s)) >= 4:  # greetings and sign-offs are everyone's
                        out.append((f"{path.name}:{no}", s))
    return out


def _ours() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    corpus = load_corpus()
    for row in corpus.moves:
        out.append((f"corpus {row.lang} moves", row.text))
    for row in corpus.scenarios:
        out.append((f"corpus {row.lang} scenario", row.text))
    rules = load_rules()
    for cr in rules.rules:
        r = cr.rule
        texts = [e if isinstance(e, str) else e.text for e in r.examples.bad + r.examples.good] + r.pattern_examples
        texts += [e.client_message for e in r.examples.bad + r.examples.good if not isinstance(e, str) and e.client_message]
        out += [(f"rule {r.id}", s) for t in texts for s in _sentences(t)]
    for cs in rules.signals:
        s = cs.signal
        texts = [e if isinstance(e, str) else e.text for e in s.examples.bad + s.examples.good] + s.pattern_examples
        out += [(f"signal {s.id}", x) for t in texts for x in _sentences(t)]
    return out




def test_the_sealed_sets_are_there() -> None:
    """Without them every test below would pass on nothing."""
    assert {p.name for p in SEALED} >= {"sealed_de.jsonl", "sealed_en.jsonl"}


@pytest.fixture(scope="module")
def pairs() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    return _sealed(), _ours()


def test_the_sealed_sets_hold_sentences(pairs) -> None:
    sealed, ours = pairs
    assert len(sealed) >= 40 and len(ours) >= 2000


def test_no_sealed_sentence_is_in_the_corpus_or_a_rule_example(pairs) -> None:
    sealed, ours = pairs
    keys = {_key(s): where for where, s in sealed}
    clash = [f"{where}: {text!r} (same as a sentence of {keys[_key(text)]})" for where, text in ours if _key(text) in keys]
    assert not clash, "\n".join(clash)


def test_no_near_duplicate_of_a_sealed_sentence_by_embedding(pairs) -> None:
    sealed, ours = pairs
    sealed_words = [(where, s, set(_key(s).split())) for where, s in sealed if len(_key(s).split()) >= NEAR_MIN_WORDS]
    candidates = []
    for where, text in ours:
        words = set(_key(text).split())
        if len(_key(text).split()) < NEAR_MIN_WORDS:
            continue
        for swhere, s, sw in sealed_words:
            if len(words & sw) / len(words | sw) >= OVERLAP:
                candidates.append((where, text, swhere, s))
    if not candidates:
        return
    a = embed([c[1] for c in candidates])
    b = embed([c[3] for c in candidates])
    cos = np.sum(a * b, axis=1)
    clash = [f"{c[0]}: {c[1]!r} (cosine {x:.3f} to a sentence of {c[2]})" for c, x in zip(candidates, cos) if x > NEAR]
    assert not clash, "\n".join(clash)
