"""Merging the semantic layer with the rule hits.

A rule hit stays authoritative for its span and message. The model adds a hit (its sentence as
span, layer "model") for each move the rules did not find in a sentence when its score clears the
move's threshold (a higher one beside a rule hit) and none of the rules' exceptions for the move
apply; it drops a hit only of a rule marked ``ambiguous`` whose sentence it scores below the veto
threshold. For the client's mail it can turn the rules' "unclear" into a scenario.
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
# where a chat sentence holds several thoughts without a full stop: after an emoji (a dash or a
# semicolon joins thoughts that belong together too often to split there)
_CLAUSE_END = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF][\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200D\s]*")
NEGATION_AFTER_CUE = 1  # words behind a fault cue where a negation still governs it
NEGATION_BEFORE_CUE = 4  # words before it ("there won't be any cancellation fee")
SECOND_MOVE_WORDS = 10  # a sentence with a fault rule hit is read by the model only from this length (speed)
SECOND = "second:"  # key prefix of the second opinion's scores in a span's probabilities
MAX_SENTENCES = 60  # a very long letter: the first sentences are scored, the rules see all


class SemanticLayer:
    def __init__(self, rules: RuleSet, model: SemanticModel | None = None, config: SemanticConfig | None = None):
        self.rules = rules
        self.model = model or default_model()
        self.config = config or default_config()
        self._synthetic: dict[tuple[str, str, str], CompiledRule] = {}
        self._cues = {lang: re.compile("|".join(f"(?:{c})" for c in cues), re.IGNORECASE)
                      for lang, cues in self.config.negation_cues.items() if cues}
        self._cuts = {lang: re.compile("|".join(f"(?:{c})" for c in cuts), re.IGNORECASE)
                      for lang, cuts in self.config.clause_cuts.items() if cuts}
        self._wants_second = self.model.has_second and any(self.config.move[m].agree_from < self.config.move[m].add
                                                           for m in FAULT_MOVES)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the draft
    def units(self, text: str, sentences: Sequence[Span]) -> list[Span]:
        """The spans the model reads: each sentence, or its clauses where a chat sentence runs several
        thoughts together after an emoji ("np, hab alles storniert 👍 falls du magst: ne halbe stunde nächste woche?").
        The clauses tile the sentence; one too short to judge joins the clause before it."""
        out: list[Span] = []
        for s0, s1 in sentences:
            cuts = [m.end() for m in _CLAUSE_END.finditer(text, s0, s1) if s0 < m.end() < s1]
            if not cuts:
                out.append((s0, s1))
                continue
            parts: list[Span] = []
            for a, b in zip([s0, *cuts], [*cuts, s1], strict=True):
                if parts and len(_WORDS.findall(text, a, b)) < self.config.min_words:
                    parts[-1] = (parts[-1][0], b)
                elif parts and len(_WORDS.findall(text, *parts[-1])) < self.config.min_words:
                    parts[-1] = (parts[-1][0], b)
                else:
                    parts.append((a, b))
            out.extend(parts)
        return out

    def clauses(self, text: str, unit: Span, lang: str) -> list[Span]:
        """The clauses of a sentence, where a fault hides in a run-on beside fine facts ("ok done — paused,
        ive taken you off the thursday slots"): cut at the language's ``clause_cuts`` (commas, dashes,
        semicolons, colons, "but"/"aber"), a piece shorter than ``clause_min_words`` joined to the one before
        (the first to the one after). One clause or none: an empty list (the sentence is read whole)."""
        cuts = self._cuts.get(lang)
        if cuts is None:
            return []
        s0, s1 = unit
        pieces: list[Span] = []
        pos = s0
        for m in cuts.finditer(text, s0, s1):
            if m.start() > pos:
                pieces.append((pos, m.start()))
            pos = max(pos, m.end())
        if pos < s1:
            pieces.append((pos, s1))
        n = self.config.clause_min_words
        merged: list[Span] = []
        for a, b in pieces:
            if merged and (len(_WORDS.findall(text, a, b)) < n or len(_WORDS.findall(text, *merged[-1])) < n):
                merged[-1] = (merged[-1][0], b)
            else:
                merged.append((a, b))
        out = []
        for a, b in merged:
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if len(_WORDS.findall(text, a, b)) >= n:
                out.append((a, b))
        return out if len(out) > 1 else []

    def sentence_probs(self, text: str, sentences: Sequence[Span]) -> tuple[list[Span], dict[Span, dict[str, float]]]:
        """The scored sentences (enough words to judge) and each one's probability per move."""
        scored = [s for s in sentences[:MAX_SENTENCES] if len(_WORDS.findall(text, s[0], s[1])) >= self.config.min_words]
        if not scored:
            return [], {}
        return scored, dict(zip(scored, self._probs(text, scored), strict=True))

    def _probs(self, text: str, spans: Sequence[Span]) -> list[dict[str, float]]:
        """Per span: the model's probability per move, and under ``SECOND`` + move the second opinion's."""
        vecs = embed([text[s:e] for s, e in spans])
        probs = self.model.move_probs(vecs)
        out = [dict(zip(self.model.moves, map(float, row), strict=True)) for row in probs]
        if self._wants_second:  # only where a fault is in its band: the vote costs a pass over the exemplars
            band = [i for i, d in enumerate(out)
                    if any(self.config.move[m].agree_from <= d[m] < self.config.move[m].add for m in FAULT_MOVES)]
            if band:
                second = self.model.second_probs(vecs[band])
                for i, row in zip(band, second, strict=True):
                    out[i].update({SECOND + m: float(v) for m, v in zip(self.model.moves, row, strict=True)})
        return out

    def likely_faults(self, text: str, sentences: Sequence[Span], found: dict[Span, set[str]],
                      language: str, cued: frozenset[Span] | set[Span] = frozenset(),
                      parting: frozenset[Span] | set[Span] = frozenset()) -> dict[Span, str]:
        """Sentences with no finding that the model still scores as a fault, and that fault: what the rewrite drops
        rather than leave beside its new offer. The rewrite is more careful than the check, at its own bars
        (``[move.*] remove*``): the fault the model reads first scores at least ``remove``, or ``remove_cued`` in a
        sentence that pushes back on the request (``cued``, knowledge/rewrite.toml ``pushback``), or at least
        ``remove_second_from`` with the second opinion voting at least ``remove_second`` (not for a ``parting`` line:
        "Pass auf dich auf und alles Gute!" ends a letter); every good move below 0.5 and no negation governing a
        fault cue."""
        cfg = {m: self.config.move[m] for m in FAULT_MOVES}
        if all(min(c.remove, c.remove_cued, c.remove_second) >= 1.0 for c in cfg.values()):
            return {}
        scored, probs = self.sentence_probs(text, [s for s in sentences if not found.get(s)])
        out: dict[Span, str] = {}
        second: list[tuple[Span, str]] = []
        low = lower_text(text)
        for sent in scored:
            p = probs[sent]
            if max(p[m] for m in GOOD_MOVES) >= 0.5:
                continue
            move = max(FAULT_MOVES, key=lambda m: p[m])
            c = cfg[move]
            bar = min(c.remove, c.remove_cued) if sent in cued else c.remove
            if p[move] >= bar:
                if not self._negated_cue(low, sent, language):
                    out[sent] = move
            elif c.remove_second < 1.0 and p[move] >= c.remove_second_from and sent not in parting:
                second.append((sent, move))
        if second and self.model.has_second:
            vecs = embed([text[s:e] for (s, e), _ in second])
            votes = self.model.second_probs(vecs)
            for (sent, move), row in zip(second, votes, strict=True):
                vote = dict(zip(self.model.moves, map(float, row), strict=True))
                if vote[move] >= cfg[move].remove_second and not self._negated_cue(low, sent, language):
                    out[sent] = move
        return out

    def apply(self, text: str, sentences: Sequence[Span], hits: list[Hit], language: str, address: str) -> list[Hit]:
        """The rule hits minus vetoed ambiguous ones, plus the model's own hits, in text order.

        Every sentence with enough words is scored, except a short one where a rule found a fault (it
        rarely holds a second move; skipping it keeps the check as fast as before): the model adds each
        move the rules did not find in it that clears its threshold (higher beside a rule hit, see
        ``_candidates``)."""
        units = self.units(text, sentences)
        index = SentenceIndex(units)
        located = [(h, index.around(h.start)) for h in hits]
        with_faults = {u for h, u in located if h.rule.rule.move in FAULT_MOVES and not h.rule.rule.ambiguous
                       and u is not None and len(_WORDS.findall(text, u[0], u[1])) < SECOND_MOVE_WORDS}
        scored, probs = self.sentence_probs(text, [u for u in units if u not in with_faults])
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
        added = [
            Hit(self._rule(language, address, move), s, e, layer="model")
            for (s, e) in scored
            for move in self._candidates(text, (s, e), probs[(s, e)], language, by_sentence.get((s, e), set()))
        ]
        if self.config.clauses:
            added += self._clause_hits(text, scored, kept, by_sentence, added, language, address)
        if not added and len(kept) == len(hits):
            return hits
        return sorted(kept + added, key=lambda h: (h.start, h.layer != "rule"))

    def _clause_hits(self, text: str, units: Sequence[Span], kept: Sequence[Hit], by_unit: dict[Span, set[str]],
                     added: Sequence[Hit], language: str, address: str) -> list[Hit]:
        """Faults the model finds in one clause of a sentence where neither the rules nor the sentence-level
        model found that fault; the clause is the finding's span. The clause's own rule hits set the bar
        (``_candidates``), as for a sentence."""
        found_model: dict[Span, set[str]] = {}
        for h in added:
            found_model.setdefault((h.start, h.end), set()).add(h.rule.rule.move)
        todo: list[tuple[Span, Span]] = []
        for u in units:
            todo.extend((u, c) for c in self.clauses(text, u, language))
        if not todo:
            return []
        probs = self._probs(text, [c for _, c in todo])
        faults = set(FAULT_MOVES)
        out: list[Hit] = []
        extra: dict[Span, set[str]] = {}
        for (u, (a, b)), p in zip(todo, probs, strict=True):
            in_unit = by_unit.get(u, set()) | found_model.get(u, set()) | extra.get(u, set())
            in_clause = {h.rule.rule.move for h in kept if a <= h.start < b}
            for move in self._candidates(text, (a, b), p, language, in_clause, clause=True):
                if move in faults and move not in in_unit:
                    out.append(Hit(self._rule(language, address, move), a, b, layer="model"))
                    extra.setdefault(u, set()).add(move)
        return out

    def _candidates(self, text: str, sent: Span, probs: dict[str, float], lang: str, found: set[str],
                    clause: bool = False) -> list[str]:
        """The moves the model adds for a sentence where the rules found ``found``: each move it scores at
        least its ``add`` threshold, unless the rules' own exceptions for that move apply to the sentence
        (their `unless` patterns, and a negation that governs one of the language's fault cues, config
        `negation_cues`: "no need to cancel", where the move's rules honour negation). Beside another move
        the bar is higher: a fault beside a good move (``beside_good``, and it must be what the model reads
        first in the sentence), a good move beside a fault (``good_beside_fault``), a second fault
        (``fault_beside_fault``), a good move beside another good move (``good_beside``)."""
        cfg = self.config
        out: list[str] = []
        moves = [m for m in probs if not m.startswith(SECOND)]
        top = max((probs[m] for m in moves), default=0.0)
        for move in sorted(moves, key=lambda m: -probs[m]):
            if move in found:
                continue
            p = probs[move]
            bar = cfg.move[move].add
            have = found | set(out)
            if move in FAULT_MOVES:
                if have & set(FAULT_MOVES):
                    bar = max(bar, cfg.fault_beside_fault)
                elif have:
                    if p < top:
                        continue  # beside a good move, the fault must be what the model reads first
                    bar = max(bar, cfg.beside_good)
            elif have & set(FAULT_MOVES):
                bar = max(bar, cfg.good_beside_fault)
            elif have:
                bar = max(bar, cfg.good_beside)
            if clause and move in FAULT_MOVES:
                bar = max(bar, cfg.clause_add)
            if p < bar and not (not have and not clause and self._agreed(move, probs, bar)):
                continue
            if self._excepted(text, sent, move, lang):
                continue
            out.append(move)
        return out

    def _agreed(self, move: str, probs: dict[str, float], bar: float) -> bool:
        """A fault in its middle band (``agree_from`` up to the bar), alone in its sentence, that the second
        opinion confirms (``agree``) and that is the fault the model reads first there."""
        th = self.config.move[move]
        if move not in FAULT_MOVES or not th.agree_from <= probs[move] < bar:
            return False
        if probs[move] < max(probs[m] for m in FAULT_MOVES):
            return False
        return probs.get(SECOND + move, 0.0) >= th.agree

    def _excepted(self, text: str, sent: Span, move: str, lang: str) -> bool:
        low = lower_text(text)
        for cr in self.rules.for_language(lang):
            if cr.rule.move != move or cr.rule.kind != "presence":
                continue
            t = text if cr.rule.case_sensitive else low
            if cr.unless is not None and any(
                    move in FAULT_MOVES or not is_negated(t, sent, m.start(), m.end(), after_words=NEGATION_AFTER_CUE,
                                                          before_words=NEGATION_BEFORE_CUE)
                    for m in cr.unless.finditer(t, sent[0], sent[1])):
                return True  # (a good move's exception that is itself negated, "nichts abgesagt", does not count)
            if cr.rule.negation and move in FAULT_MOVES and self._negated_cue(t, sent, lang):
                return True
        return False

    def _negated_cue(self, text: str, sent: Span, lang: str) -> bool:
        """A negation governs a fault cue in the sentence ("no need to cancel", "keine Gebühren"); without
        cues for the language, any negation in the sentence counts."""
        cues = self._cues.get(lang)
        if cues is None:
            return is_negated(text, sent, sent[0], sent[1])
        # close to the cue only: "no need to cancel", "cancel nothing", "keine Sorge wegen der Rechnung";
        # "you'll have to admit it's not the timing" is no negated "have to", and "pulling the plug with no
        # explanation ... strikes me as hasty" no negated "hasty"
        return any(is_negated(text, sent, m.start(), m.end(), after_words=NEGATION_AFTER_CUE,
                              before_words=NEGATION_BEFORE_CUE)
                   for m in cues.finditer(text, sent[0], sent[1]))

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
