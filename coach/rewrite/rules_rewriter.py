"""The offline rewrite: keep what is fine, drop the faults, add the missing moves from approved phrasings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from coach.checker import Analysis, Checker
from coach.models import FAULT_MOVES, GOOD_MOVES, RewriteResult, Source
from coach.moves import move
from coach.notices import Notice, notice
from coach.rewrite.followups import is_followup
from coach.rewrite.letter import Letter, Piece
from coach.rewrite.phrasings import Choice, PhrasingPicker, seed_of, situation_phrase, situation_query

_CONTINUES = re.compile(
    r"^\W*(?:das|dies|damit|dann|also|so|und|außerdem|ausserdem|übrigens|uebrigens|that|this|it|then|and|also|"
    r"besides|anyway|by the way)\b",
    re.I,
)
_THANKS = re.compile(r"^\W*(?:vielen\s+dank|herzlichen\s+dank|danke|thank|thanks|many\s+thanks)\b", re.I)
_MOVE_SLOT = {"empathy": "ack", "referral": "referral", "defer_collaboration": "offer", "plan_offer": "offer"}
_ADD_ORDER = ("empathy", "referral", "defer_collaboration", "plan_offer")


@dataclass(frozen=True)
class SentencePlan:
    span: tuple[int, int]
    text: str
    moves: frozenset[str]
    verdict: str  # "keep", "fault" or "followup"


def plan_sentences(a: Analysis) -> list[SentencePlan]:
    """Each sentence of the letter's own text, and whether the rewrite keeps it."""
    draft = a.draft
    per_sentence = a.sentence_moves()
    body_start, body_end = a.parts.body_start, a.parts.body_end
    plans: list[SentencePlan] = []
    after_fault = False
    prev_end = body_start
    for s, e in a.sentences:
        if s < body_start or e > body_end:
            continue
        text = draft[s:e]
        moves = frozenset(per_sentence.get((s, e), set()))
        same_paragraph = "\n\n" not in draft[prev_end:s]
        prev_end = e
        if moves & set(FAULT_MOVES):
            verdict = "fault"
        elif is_followup(text, a.language) and (after_fault or a.moves["accepts_cancellation"]):
            verdict = "followup"
        elif after_fault and same_paragraph and not moves and _CONTINUES.match(text):
            verdict = "followup"  # "That's the real problem here." goes with the judgment before it
        else:
            verdict = "keep"
        after_fault = verdict == "fault"
        plans.append(SentencePlan((s, e), text, moves, verdict))
    return plans


@dataclass
class RulesOutcome:
    text: str
    choices: list[Choice] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


class RulesRewriter:
    def __init__(self, checker: Checker, picker: PhrasingPicker, situations: Sequence[object]):
        self.checker = checker
        self.picker = picker
        self.situations = situations

    def compose(self, a: Analysis, client_message: str | None, variant: int = 0) -> RulesOutcome:
        draft = a.draft
        lang = a.language
        address = _phrasing_address(a)

        body_start, body_end = a.parts.body_start, a.parts.body_end
        letter = Letter(lang=lang)
        letter.greeting = draft[:body_start] if a.parts.greeting else ""
        closing = draft[body_end:] if body_end < len(draft) else ""
        inline_quotes = [draft[s:e] for s, e in a.parts.quoted if e <= body_end]
        letter.closing = "\n\n".join([closing.strip("\n")] + inline_quotes) if inline_quotes else closing

        removed: list[str] = []
        kept_moves: set[str] = set()
        slot = "ack"
        for plan in plan_sentences(a):
            if plan.verdict != "keep":
                removed.append(plan.text)
                continue
            moves = plan.moves
            kept_moves |= moves
            if moves & {"defer_collaboration", "plan_offer"}:
                slot = "offer"
            elif "referral" in moves:
                slot = "referral"
            elif not moves and slot == "offer":
                slot = "next"  # a question or next step after the offer
            letter.pieces.append(Piece(text=plan.text, slot=slot))

        needed = [m for m in _ADD_ORDER if m not in kept_moves and (m != "referral" or a.scenario == "long_standing")]
        situation = situation_phrase(client_message, self.situations, lang, address)
        # one short query for all moves: the client's words say most about the situation
        query = situation_query(client_message, draft)
        scores = self.picker.scores(needed, lang=lang, address=address, scenario=a.scenario, query=query)
        seed = seed_of(draft, client_message) + variant  # variant: another choice among the approved phrasings
        choices: list[Choice] = []
        for move in needed:
            choice = self.picker.pick(move, lang=lang, address=address, scenario=a.scenario, situation=situation,
                                      scores=scores, seed=seed)
            if choice is None:
                continue
            choices.append(choice)
            self._insert(letter, Piece(text=choice.text, slot=_MOVE_SLOT[move], added=True, source_id=choice.id), move)
        return RulesOutcome(text=letter.render(), choices=choices, removed=removed)

    @staticmethod
    def _insert(letter: Letter, piece: Piece, move: str) -> None:
        pieces = letter.pieces
        if move == "empathy":
            # after leading thank-you sentences, before the rest of the acknowledgement
            i = 0
            while i < len(pieces) and pieces[i].slot == "ack" and _THANKS.match(pieces[i].text):
                i += 1
            pieces.insert(i, piece)
            return
        if move == "defer_collaboration":
            # the defer offer opens the offer paragraph, the plan offer follows it
            idx = next((i for i, p in enumerate(pieces) if p.slot in ("offer", "next")), len(pieces))
            pieces.insert(idx, piece)
            return
        if move == "plan_offer":
            idx = next((i for i, p in enumerate(pieces) if p.slot == "next"), len(pieces))
            pieces.insert(idx, piece)
            return
        idx = next((i for i, p in enumerate(pieces) if p.slot in ("offer", "next")), len(pieces))
        pieces.insert(idx, piece)

    def rewrite(self, a: Analysis, client_message: str | None, notices: Sequence[Notice] = (),
                extra_sources: Sequence[Source] = (), variant: int = 0) -> RewriteResult:
        outcome = self.compose(a, client_message, variant=variant)
        after = self.checker.check(outcome.text, client_message=client_message, lang=a.language)
        notes = list(notices)
        if outcome.removed:
            notes.append(notice("rewrite_removed", a.language, count=len(outcome.removed)))
        missing = [m for m in GOOD_MOVES if not getattr(after.moves, m)]
        if missing:
            notes.append(notice("rewrite_incomplete", a.language,
                                moves=", ".join(move(m).label(a.language) for m in missing)))
        sources = [c.as_source() for c in outcome.choices] + list(extra_sources)
        return RewriteResult(mode="rules", rewrite=outcome.text, before=a.report(), after=after, sources=sources,
                             notices=notes, usage=None)


def _phrasing_address(a: Analysis) -> str:
    if a.language == "en":
        return "n/a"
    if a.address in ("Sie", "du"):
        return a.address
    greeting = a.draft[a.parts.greeting[0]:a.parts.greeting[1]] if a.parts.greeting else ""
    if a.address == "mixed" and greeting and not re.search(r"\b(?:Herr|Frau|geehrte)", greeting):
        return "du"
    return "Sie"

