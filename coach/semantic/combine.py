"""Merging the semantic layer with the rule hits.

A rule hit stays authoritative for its span and message. The model adds a hit (its sentence as
span, layer "model") in a sentence where no rule found any move, for the sentence's most likely
move when that clears its threshold and none of the rules' exceptions for the move apply; it drops a hit only of a rule marked ``ambiguous`` whose sentence it scores below the
veto threshold. For the client's mail it can turn the rules' "unclear" into a scenario.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

from coach.moves import FAULT_MOVES, GOOD_MOVES
from coach.rules.loader import CompiledRule, RuleSet
from coach.rules.matcher import Hit, SentenceIndex, is_negated
from coach.rules.patterns import lower_text
from coach.rules.schema import Rule
from coach.semantic.config import SemanticConfig, default_config
from coach.semantic.model import SemanticModel, default_model, embed

Span = tuple[int, int]
_WORDS = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
MAX_SENTENCES = 60  # a very long letter: the first sentences are scored, the rules see all


class SemanticLayer:
    def __init__(self, rules: RuleSet, model: SemanticModel | None = None, config: SemanticConfig | None = None):
        self.rules = rules
        self.model = model or default_model()
        self.config = config or default_config()
        self._synthetic: dict[tuple[str, str, str], CompiledRule] = {}
        self._cues = {lang: re.compile("|".join(f"(?:{c})" for c in cues), re.IGNORECASE)
                      for lang, cues in self.config.negation_cues.items() if cues}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the draft
    def sentence_probs(self, text: str, sentences: Sequence[Span]) -> tuple[list[Span], dict[Span, dict[str, float]]]:
        """The scored sentences (enough words to judge) and each one's probability per move."""
        scored = [s for s in sentences[:MAX_SENTENCES] if len(_WORDS.findall(text, s[0], s[1])) >= self.config.min_words]
        if not scored:
            return [], {}
        probs = self.model.move_probs(embed([text[s:e] for s, e in scored]))
        return scored, {s: dict(zip(self.model.moves, map(float, row), strict=True)) for s, row in zip(scored, probs, strict=True)}

    def likely_faults(self, text: str, sentences: Sequence[Span], found: dict[Span, set[str]],
                      language: str) -> dict[Span, str]:
        """Sentences with no finding that the model still scores as a fault (``[move.*] remove``), and that
        fault: what the rewrite drops rather than leave beside its new offer."""
        limits = {m: self.config.move[m].remove for m in FAULT_MOVES if self.config.move[m].remove < 1.0}
        if not limits:
            return {}
        scored, probs = self.sentence_probs(text, [s for s in sentences if not found.get(s)])
        out: dict[Span, str] = {}
        for sent in scored:
            p = probs[sent]
            move = max(FAULT_MOVES, key=lambda m: p[m])
            if p[move] >= limits.get(move, 1.0) and max(p[m] for m in GOOD_MOVES) < 0.5 \
                    and not self._negated_cue(lower_text(text), sent, language):
                out[sent] = move
        return out

    def apply(self, text: str, sentences: Sequence[Span], hits: list[Hit], language: str, address: str) -> list[Hit]:
        """The rule hits minus vetoed ambiguous ones, plus the model's own hits, in text order.

        Only sentences the model can change are embedded: those without a rule hit, and those with a
        hit of an ambiguous rule."""
        index = SentenceIndex(sentences)
        located = [(h, index.around(h.start)) for h in hits]
        with_faults = {sent for h, sent in located if h.rule.rule.move in FAULT_MOVES}
        doubtful = {sent for h, sent in located if h.rule.rule.ambiguous}
        scored, probs = self.sentence_probs(text, [s for s in sentences if s not in with_faults or s in doubtful])
        if not scored:
            return hits
        kept: list[Hit] = []
        by_sentence: dict[Span, set[str]] = {}
        for h, sent in located:
            move = h.rule.rule.move
            p = probs.get(sent, {}).get(move) if sent is not None else None
            if p is not None and h.rule.rule.ambiguous and p < self.config.move[move].veto:
                continue
            kept.append(h)
            if sent is not None:
                by_sentence.setdefault(sent, set()).add(move)
        # a sentence where the rules found a fault is theirs; where they found only good moves, the
        # model may still add a fault (a sentence can hold empathy and a jab)
        added = [
            Hit(self._rule(language, address, move), s, e, layer="model")
            for (s, e) in scored
            if not (by_sentence.get((s, e), set()) & set(FAULT_MOVES))
            for move in [self._candidate(text, (s, e), probs[(s, e)], language, faults_only=(s, e) in by_sentence)]
            if move is not None
        ]
        if not added and len(kept) == len(hits):
            return hits
        return sorted(kept + added, key=lambda h: (h.start, h.layer != "rule"))

    def _candidate(self, text: str, sent: Span, probs: dict[str, float], lang: str, *,
                   faults_only: bool = False) -> str | None:
        """The move the model adds for a sentence: its most likely move (its most likely fault, in a sentence
        where the rules found a good move), if that clears its threshold and none of the rules' own
        exceptions for that move apply to the sentence: their `unless` patterns, and a negation that
        governs one of the language's fault cues (config `negation_cues`: "no need to cancel") where the
        move's rules honour negation."""
        pool = [m for m in probs if m in FAULT_MOVES] if faults_only else list(probs)
        if not pool:
            return None
        move = max(pool, key=lambda m: probs[m])
        if faults_only and probs[move] < max(probs.values()):
            return None  # beside a good rule hit, the fault must be what the model reads first in the sentence
        if probs[move] < max(self.config.move[move].add, self.config.beside_good if faults_only else 0.0):
            return None
        low = lower_text(text)
        for cr in self.rules.for_language(lang):
            if cr.rule.move != move or cr.rule.kind != "presence":
                continue
            t = text if cr.rule.case_sensitive else low
            if cr.unless is not None and cr.unless.search(t, sent[0], sent[1]):
                return None
            if cr.rule.negation and move in FAULT_MOVES and self._negated_cue(t, sent, lang):
                return None
        return move

    def _negated_cue(self, text: str, sent: Span, lang: str) -> bool:
        """A negation governs a fault cue in the sentence ("no need to cancel", "keine Gebühren"); without
        cues for the language, any negation in the sentence counts."""
        cues = self._cues.get(lang)
        if cues is None:
            return is_negated(text, sent, sent[0], sent[1])
        return any(is_negated(text, sent, m.start(), m.end()) for m in cues.finditer(text, sent[0], sent[1]))

    def _rule(self, lang: str, address: str, move: str) -> CompiledRule:
        key = (lang, address, move)
        with self._lock:
            cr = self._synthetic.get(key)
            if cr is None:
                presence = [c.rule for c in self.rules.for_language(lang) if c.rule.move == move and c.rule.kind == "presence"]
                worst = max(presence, key=lambda r: r.penalty, default=None)
                msg = self.config.text(lang, address, move)
                rule = Rule.model_construct(
                    id=f"{lang}.{move}.model", move=move, lang=lang, kind="presence",
                    severity=worst.severity if worst else "info", penalty=worst.penalty if worst else 0,
                    patterns=[], requires=[], unless=[], negation=False, case_sensitive=False, ambiguous=False,
                    when_scenario=None, message=msg.message, suggestion=msg.suggestion, examples=None,
                )
                cr = self._synthetic[key] = CompiledRule(rule=rule, requires=(), unless=None, parts=())
            return cr

    # ------------------------------------------------------------------ the client's mail
    def scenario(self, client_message: str | None, found: str | None) -> str | None:
        """The rules' scenario, or the model's where the rules found none ("unclear")."""
        if client_message is None or found != "unclear":
            return found
        from coach.context import mask_spans
        from coach.mail import split_mail
        from coach.normalize import normalize
        from coach.sentences import sentence_spans

        text = normalize(client_message)
        own = mask_spans(text, split_mail(text).masked_spans())
        spans = [s for s in sentence_spans(own)[:MAX_SENTENCES] if len(_WORDS.findall(own, s[0], s[1])) >= self.config.scenario_min_words]
        if not spans:
            return found
        probs = self.model.scenario_probs(embed([own[s:e] for s, e in spans]))
        best = dict(zip(self.model.scenarios, probs.max(axis=0).tolist(), strict=True))
        th = self.config.scenario
        if best.get("long_standing", 0.0) >= th.long_standing:
            return "long_standing"
        if best.get("shock", 0.0) >= th.shock:
            return "shock"
        return found


def rules_only_by_default() -> bool:
    """COACH_RULES_ONLY=1 switches the semantic layer off for every check in this process."""
    import os

    return os.environ.get("COACH_RULES_ONLY", "").strip().lower() in ("1", "true", "yes", "on")


def load_layer(rules: RuleSet) -> SemanticLayer | None:
    """The semantic layer, or None (with a warning) when its model cannot be loaded: the rules carry on."""
    import warnings

    from coach.errors import ConfigError, KnowledgeError

    try:
        return SemanticLayer(rules)
    except (ConfigError, KnowledgeError) as exc:
        warnings.warn(f"coach: the semantic layer is off, rules only: {exc}", RuntimeWarning, stacklevel=2)
        return None
