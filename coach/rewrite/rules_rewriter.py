"""The offline rewrite, as edits of the draft's Letter: a good draft stays as it is; a faulty clause goes with
its connectors and the rest of its sentence is repaired; what is missing is added once, in the draft's voice;
greeting, closing, signature, P.S. and quoted mail stay where they were."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from coach.checker import Analysis, Checker
from coach.letter.model import Letter, Part, Sentence
from coach.letter.render import render
from coach.mail import _SIGNOFF
from coach.models import FAULT_MOVES, GOOD_MOVES, RewriteResult, Source
from coach.moves import move
from coach.notices import Notice, notice
from coach.rewrite.diff import changes_of
from coach.rewrite.followups import (
    asks_decision,
    cut_override,
    dated_override,
    dated_when,
    fault_name,
    is_dangling,
    is_echo,
    is_filler,
    is_followup,
    overrides_request,
    pushes_back,
    roles,
    settles,
    style,
    when_of,
    why,
)
from coach.rewrite.phrasings import Choice, PhrasingPicker, seed_of, situation_of, situation_phrase
from coach.rewrite.events import event_for, request_for
from coach.rewrite.referrals import referral_for, referral_text
from coach.rewrite.voice import Voice, fit_case, fit_contractions, voice_of, words

_CONTINUES = re.compile(
    r"^\W*(?:das|dies|damit|dann|also|so|und|außerdem|ausserdem|zudem|darüber hinaus|des weiteren|weiterhin|übrigens|"
    r"uebrigens|that|this|it|then|and|also|besides|anyway|by the way|additionally|moreover|furthermore|in addition|"
    r"on top of that|plus|either way|so oder so|sonst|otherwise|that way|auf diese weise)\b",
    re.I,
)
# a short sentence that leans on the one before by a demonstrative ("I'll hold off sending that through", "Ich
# schick dir das dann zu"): it goes when that sentence went
_POINTS_BACK = re.compile(r"\b(?:that|this|those|these|das|dies|diese[nrms]?|dafür|darüber|davon|daran|dazu)\b(?!\s+\w+\s+(?:is|was|ist|war)\b)",
                          re.I)
# a question whose object is a pronoun for the removed sentence ("Könntest du die bitte noch überweisen?" after "Die
# Rechnung … ist noch offen.", "Could you settle it by Friday?")
_OBJECT_BACK = re.compile(r"^\W*(?:\w+\s+(?:du|Sie|ihr)\s+(?:die|den|das|sie|ihn|es)\s+(?:bitte|noch|doch|mal|gleich|schnell)\b"
                          r"|(?:could|can|would|will)\s+you\s+(?:please\s+)?\w+\s+(?:it|them)\b)", re.I)
# a longer sentence whose opening leans on the removed one by a demonstrative object ("I trust you will keep that in
# mind when …", "Bitte berücksichtigen Sie das bei …"), not one that says something of its own ("I know this is hard")
_LEADS_BACK = re.compile(
    r"\b(?:that|this|das|dies)\b(?!\s+(?:is|was|sounds|must|has|had|will|would|can|could|may|might|seems|ist|war|klingt|"
    r"muss|tut|hat|hatte|wird|kann|wäre|scheint|ich|du|sie|wir|er|es|you|we|i|they|he|she|it)\b)(?!\s+\w+\s+(?:is|was|ist|war)\b)"
    r"(?!\s*[,.!?])", re.I)
# the rest of a cut sentence that starts with a pronoun for the removed part ("… non-refundable, but it can be put
# towards …"): it cannot stand alone
_PRONOUN_START = re.compile(r"^\W*(?:it|they|these|those|this|that|es|diese[rsnm]?|dies)\b", re.I)
_FIRST_WORDS = ("before", "zuallererst", "vorab")
_BARE_THIS = ("that this ", "why this ", "dass das ", "dass dies ", "warum das ")
_THANKS = re.compile(r"^\W*(?:(?:alles\s+klar|ok(?:ay)?|klar|gut|super|sure|right)\W+)?"
                     r"(?:vielen\s+dank|herzlichen\s+dank|danke|thank|thanks|many\s+thanks)\b", re.I)
# a sentence that goes on from the one before ("und ich schick dir die Nummer …", "and I'll send you …"): nothing new
# is put between the two
_GOES_ON = re.compile(r"^\W*(?:und|and)\s", re.I)
# where a clause can be cut off: ";", ":", a dash, or a comma before a coordinating word
_CLAUSE_SPLIT = re.compile(
    r"\s*(?:[;:]|\s[–-])\s+|,\s+(?=(?:aber|und|doch|sondern|dann|also|denn|but|and|so|then|though|yet)\b)"
    r"|\s+(?=(?:und|and)\s+(?:alles\s+Gute|all\s+the\s+best|viel\s+Erfolg|good\s+luck)\b)"
    r"|(?<=[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F])\s+(?=\w)"
    r"|\s+(?=(?:and|und)\s+(?:I['’]ll|I\s+will|I\s+won['’]t|I['’]ve|ich\s+(?:werde|habe|erstatte|überweise|buche|storniere))\b)",
    re.I)  # "viel Kraft und alles Gute für die Zukunft"
# what follows a fault can stay only after a contrast ("…, but I understand"), not after a consequence ("…, so I'll invoice")
# or a dash ("… Kündigungsfrist – die Sessions werden berechnet")
_CONSEQUENCE = re.compile(r"^\W*(?:so|then|dann|also|deshalb|daher|therefore)\b", re.I)
_CONTRAST = re.compile(r"^[\s,;:–-]*(?:aber|doch|jedoch|sondern|but|though|yet|however)\b", re.I)
_EMOJI_END = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]$")
_END = re.compile(r"[.!?…]+[\"')\]]*$")
_ROLES = roles()
_ACK, _REFERRAL, _PLAN, _LATER = _ROLES.acknowledge, _ROLES.refer, _ROLES.plan, _ROLES.later
_ADD_ORDER = (_ACK, _PLAN, _REFERRAL, _LATER)  # the referral adds to the plan, right after it


@dataclass(frozen=True)
class SentencePlan:
    span: tuple[int, int]
    text: str
    moves: frozenset[str]
    verdict: str  # "keep", "fault", "cut", "override", "settles" or "followup"
    id: str = ""


def plan_sentences(a: Analysis, likely: dict[tuple[int, int], str] | None = None) -> list[SentencePlan]:
    """Each sentence of the writer's own text (paragraphs and P.S.), and whether the rewrite keeps it;
    ``likely`` adds the sentences the model scores as a fault that nothing reported (see ``likely_faults``)."""
    per_sentence = a.sentence_moves()
    reported = {span for span, found in per_sentence.items() if found}
    for span, move in (likely or {}).items():
        per_sentence.setdefault(span, set()).add(move)
    plans: list[SentencePlan] = []
    faults = set(FAULT_MOVES)
    carried = False  # the last paragraph ended with a removed sentence: a follow-up may open the next one
    for part in a.letter.parts:
        if not part.has_sentences:
            continue
        after_fault = False
        for k, s in enumerate(part.sentences):
            moves = frozenset(per_sentence.get((s.start, s.end), set()))
            if k == 0 and (s.start, s.end) in (likely or {}) and (s.start, s.end) not in reported \
                    and _HELLO_FIRST.match(s.text) and words(s.text) <= 10:
                moves = frozenset()  # "Hey Jana, ähm, kurz aus dem Auto.": a greeting, whatever the model suspects
            if moves & faults:
                verdict = "fault"
            elif cut_override(s.text, a.language) or _drop_override_clauses(s.text, a.language):
                verdict = "cut"  # "Let us keep the engagement running and use our session …": only the override goes
            elif overrides_request(s.text, a.language) or _keeps_cancelled_day(s, part, a, per_sentence):
                verdict = "override"  # "Lass uns einfach wie geplant weitermachen" beside an added deferral
            elif settles(s.text, a.language):
                verdict = "settles"  # "dann war's das erstmal mit uns" beside the added plan offer (not in a good draft)
            elif is_followup(s.text, a.language) and (after_fault or a.moves[_ROLES.accepts] or (k == 0 and carried)):
                verdict = "followup"
            elif after_fault and not moves and (not re.search(r"[^\W\d_]", s.text)
                                                or (words(s.text) <= 3 and re.match(r"^\W*\d", s.text))):
                verdict = "followup"  # "🚀" or "1st April." left over from the removed sentence
            elif (after_fault or (k == 0 and carried)) and not moves and _CONTINUES.match(s.text):
                verdict = "followup"  # "That's the real problem here." goes with the judgment before it
            elif after_fault and not (moves - faults) and re.search(r"\b(?:instead|stattdessen)\W*$", s.text, re.I):
                verdict = "followup"  # "I'd really encourage you to lean in instead." after the removed lecture
            elif after_fault and not (moves - faults) and _OBJECT_BACK.match(s.text) and len(s.text.split()) <= 18:
                verdict = "followup"  # "Könntest du die bitte noch überweisen?" after the removed open invoice
            elif after_fault and not moves and len(s.text.split()) <= 10 and _POINTS_BACK.search(s.text) \
                    and not style(a.language).proposes_call(s.text):
                verdict = "followup"  # "I'll hold off sending that through." after the removed invoice sentence
            elif after_fault and not moves and len(s.text.split()) <= 18 \
                    and _LEADS_BACK.search(" ".join(s.text.split()[:7])) and not style(a.language).proposes(s.text):
                verdict = "followup"  # "I trust you will keep that in mind when the board …" after the removed guilt
            elif after_fault and not moves and len(s.text.split()) <= 3 and s.text.rstrip().endswith(("?", "!")) \
                    and not style(a.language).proposes_call(s.text) and not style(a.language).closers.search(s.text):
                verdict = "followup"  # "Echt jetzt?" after a removed judgment (not "Wollen wir Donnerstag telefonieren?")
            else:
                verdict = "keep"
            after_fault = verdict in ("fault", "followup", "override") or (
                verdict == "settles" and not _settled_rest(s.text, a.language))  # "…, alles Gute! ❤️": the heart stays
            plans.append(SentencePlan((s.start, s.end), s.text, moves, verdict, s.id))
        carried = bool(part.sentences) and after_fault
    return plans


def _keeps_cancelled_day(s: Sentence, part: Part, a: Analysis, per_sentence: dict) -> bool:  # type: ignore[type-arg]
    """"Bis Donnerstag!" keeps a date beside the deferral, unless another sentence of the draft proposes that day
    itself ("Lass uns am Dienstag zwei Stunden blocken … Bis Dienstag!")."""
    day = dated_override(s.text, a.language)
    if day is None:
        return False
    st = style(a.language)
    faults = set(FAULT_MOVES)
    for other in a.letter.sentences():
        if other is s or other.start == s.start:
            continue
        if day.lower() in other.text.lower() and st.proposes(other.text) \
                and not per_sentence.get((other.start, other.end), set()) & faults \
                and not overrides_request(other.text, a.language):
            return False
    return True


def likely_faults(a: Analysis, checker: Checker) -> dict[tuple[int, int], str]:
    """Sentences of the own text the semantic layer scores as a fault though no finding says so (what the
    rewrite drops as well; ``[move.*] remove`` in knowledge/semantic/config.toml)."""
    layer = checker.semantic_layer()
    if layer is None or a.moves[_LATER]:
        return {}  # the draft itself leaves the decision open: no new offer for a doubtful sentence to contradict
    per_sentence = a.sentence_moves()
    sentences = a.letter.sentences()
    spans = [(s.start, s.end) for s in sentences]
    # a sentence that pushes back on the request ("ob wir wenigstens …", "Can you at least …") is doubtful earlier
    cued = {(s.start, s.end) for s in sentences if pushes_back(s.text, a.language)}
    st = style(a.language)
    parting = {(s.start, s.end) for s in sentences
               if st.parting(s.text) or st.closers.search(s.text) or _parting_wish(s.text, st)}
    return layer.likely_faults(a.letter.masked, spans, {s: per_sentence.get(s, set()) for s in spans}, a.language,
                               cued=cued, parting=parting)


@dataclass
class RulesOutcome:
    text: str
    letter: Letter
    choices: list[Choice] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: bool = False


class RulesRewriter:
    def __init__(self, checker: Checker, picker: PhrasingPicker, situations: Sequence[object]):
        self.checker = checker
        self.picker = picker
        self.situations = situations

    # ------------------------------------------------------------------ compose
    def compose(self, a: Analysis, client_message: str | None, variant: int = 0) -> RulesOutcome:
        """``variant`` > 0: another choice among the approved phrasings (the page's "another version")."""
        if a.report().moves.is_good and not any(
                p.verdict in ("override", "cut") for p in plan_sentences(a)):
            # a good draft goes as it is, unless a line still overrides the request ("Bit surprising, given how
            # strongly you pushed for March"): then only that line goes
            return RulesOutcome(text=a.draft, letter=a.letter.copy(), unchanged=True)
        outcome = self._compose(a, client_message, repair=True, variant=variant)
        after = self.checker.analyse(outcome.text, client_message=client_message, lang=a.language, own=True)
        if any(after.moves[m] for m in FAULT_MOVES):
            # a repaired clause still reads as a fault
            outcome = self._compose(a, client_message, repair=False, variant=variant)
        return outcome

    def _compose(self, a: Analysis, client_message: str | None, *, repair: bool, variant: int = 0) -> RulesOutcome:
        lang = a.language
        st = style(lang)
        letter = a.letter.copy()
        faults_by_sentence = self._fault_hits(a)
        removed: list[str] = []
        when: str | None = None
        for plan in plan_sentences(a, self._likely_faults(a)):
            if plan.verdict == "keep":
                continue
            if plan.verdict == "settles":
                # "dann war's das erstmal mit uns", "I've moved us to Q3": not beside the plan offer added below
                rest = _settled_rest(plan.text, lang)
                if rest:
                    letter.edit(plan.id, rest, why(lang, "override"))
                else:
                    letter.remove(plan.id, why(lang, "override"))
                    removed.append(plan.text)
                continue
            if plan.verdict == "fault":
                hits = faults_by_sentence.get(plan.id, [])
                fixed = self._repair(plan.text, hits, a, lang) if repair else None
                if not hits and not fixed:
                    fixed = _fact_rest(plan.text, lang)  # a doubtful sentence keeps the refund it also promised
                fault_moves = sorted({m for m in plan.moves if m in FAULT_MOVES})
                if fixed:
                    letter.edit(plan.id, fixed, why(lang, "clause", fault=fault_name(lang, fault_moves[0])))
                else:
                    letter.remove(plan.id, why(lang, fault_moves[0]))
                    if overrides_request(plan.text, lang) and _ROLES.accepts not in plan.moves:
                        # a fault that also kept a session's time; not the dates an acceptance cancelled ("Die
                        # Beratungstage am 11.03. … habe ich storniert")
                        when = when or when_of(plan.text, lang)
                removed.append(plan.text)
            elif plan.verdict == "cut":
                letter.edit(plan.id, cut_override(plan.text, lang) or _drop_override_clauses(plan.text, lang) or plan.text,
                            why(lang, "override"))
            elif plan.verdict == "override":
                kept = _fact_rest(plan.text, lang)
                if kept:  # "… removed the sessions from the calendar, and I will hold off on the May invoice"
                    letter.edit(plan.id, kept, why(lang, "override"))
                else:
                    letter.remove(plan.id, why(lang, "override"))
                removed.append(plan.text)
                # "keep our thursday call", "Bis Donnerstag!": the plan offer takes up that time
                when = when or when_of(plan.text, lang) or dated_when(plan.text, lang)
            else:
                letter.remove(plan.id, why(lang, "followup"))
                removed.append(plan.text)
        self._smooth(letter, lang)
        if when and _client_cancelled(when, client_message):
            when = None  # "need to postpone Thursday's session": no call offered on that very Thursday

        address = a.reply_address
        voice = voice_of(a.letter, lang, address)
        if a.address == "n/a" and voice.register == "chat" and voice.lowercase and address != "n/a" \
                and not (a.letter.greeting or "").strip():
            address = _informal(lang, address)  # "klar, schieb ich …": a lower-case chat with no pronoun is informal
            voice = voice_of(a.letter, lang, address)
        left = render(letter)
        present: set[str] = set()
        has_referral = False
        if left.strip():
            mid = self.checker.analyse(left, client_message=client_message, lang=lang, own=True)
            present = {m for m in GOOD_MOVES if mid.moves[m]}
            if _ACK not in present and any(words(x.text) > 3 and st.understands(x.text) and not is_echo(x.text, lang)
                                           for x in letter.sentences()):
                # "Selbstverständlich habe ich Verständnis": no "das kann ich gut verstehen" beside it (a bare "I
                # understand." is an echo instead: the added understanding takes its place)
                present.add(_ACK)
            has_referral = any(h.rule.rule.move == _REFERRAL for h in mid.hits) \
                or st.names_helper(" ".join(s.text for s in letter.sentences()))  # "… an eine Anwältin für Mietrecht"
        situation_item = situation_of(client_message, self.situations)
        scenario = a.scenario
        if scenario in (None, "unclear") and situation_item is not None and client_message \
                and getattr(situation_item, "scenario", "") == "shock" and not getattr(situation_item, "catch_all", False):
            scenario = "shock"  # "rückruf bei charge 2207, alles steht kopf": an event the scenario rules missed
        if scenario == "shock" and situation_item is None and st.keeps_reason_back(client_message):
            scenario = "unclear"  # "need to postpone Thursday's session, sorry. Will explain later.": no event named
        referral = referral_for(client_message, lang)
        settled = referral is not None and referral.is_settled(client_message or "")
        if settled:
            referral = None  # "we will be filing for insolvency next week": they have that help already
        if referral is not None and situation_item is not None and getattr(situation_item, "scenario", "") == "shock" \
                and scenario != "long_standing":
            referral = None  # a client's customer going bust is a shock to the client, not their own insolvency
        # a referral for a long-standing trouble, or for the client's own insolvency or eviction; none for a
        # shock (a customer going bust, a fire) or an unclear mail (knowledge/lang/<code>/referrals.yaml)
        refer = not settled and not has_referral and (
            scenario == "long_standing" or (referral is not None and referral.even_in_shock))
        needed = [m for m in _ADD_ORDER if (m not in present and m != _REFERRAL) or (m == _REFERRAL and refer)]

        # a death or a serious illness: condolence, time and support first; the next steps only "when you are ready"
        # (knowledge/situations.yaml `care`, phrasings of tone grief/health/care)
        care = str(getattr(situation_item, "care", "") or "")
        # the client's event by name when the mail makes it clear ("der Schlaganfall deines Vaters"), else the
        # broader situation; {event} phrasings only with a named event (knowledge/lang/<code>/events.yaml)
        named = event_for(client_message, lang, address)
        situation = named.subject if named else situation_phrase(client_message, self.situations, lang, address)
        event = named.dat if named else None
        named_text = named.nom if named else None  # once an added line has named it
        own_words = " ".join(s.text for s in letter.sentences()).lower()  # the writer's own lines, not the quote
        # the plan offer says what it is for ("einen Plan für die Wochen nach dem Einbruch"), also when the draft's
        # own sympathy named the event; an added line names it only once
        plan_event = named.dat if named is not None and named.after_ok else None
        if plan_event is None and named is not None:  # no "Plan für die Zeit nach …", but what the plan is about
            plan_event = named.plan_carrier
        if named is not None and named.key_word and named.key_word in own_words:
            situation = event = None  # the draft names it already ("der Brand tut mir leid"): not again
            if care or words(named.dat) > 3:
                plan_event = None  # after a death or an illness, or a long phrase, the draft's own words are enough
        # no retrieval here: the offline rewrite stays fast and independent of the index's state
        scores: dict[str, float] = {}
        seed = seed_of(a.draft, client_message) + variant  # variant: another choice among the approved phrasings
        per_span = a.sentence_moves()
        moves_of = {s.id: per_span.get((s.start, s.end), set()) for s in letter.sentences() if s.start >= 0}
        _split_trailing_closer(letter, st)  # "same time 👍 take care x": new text goes before "take care x"
        context = (a.draft + "\n" + (client_message or "")).lower()
        choices: list[Choice] = []
        # a short draft grows by at most its own length (or 30 words); what was removed makes room
        budget = max(voice.words, 30) - 5 + sum(words(t) for t in removed) if voice.words < 60 else 10_000
        registers = {voice.register, "chat"} if voice.words < 60 else {voice.register}
        covered: set[str] = set()  # moves an added sentence already makes ("…einen Plan machen, entscheiden müssen wir jetzt nichts")
        pause = st.asks_pause(client_message)
        request = request_for(client_message, lang)  # postpone, pause, one session, an end, an insolvency filed
        if request in ("session", "postpone"):
            when = None  # the client called that date off: the plan offer does not take it up
        short = voice.words < 60 or voice.register == "chat"
        for k, m in enumerate(needed):
            if m in covered:
                continue
            share = budget // max(1, len(needed) - k)
            if m == _REFERRAL and referral is not None:
                at = self._slot_for(letter, m, voice, st, moves_of, care)
                found = referral_text(client_message, lang, address, seed, short=voice.words < 60,
                                      named=None if event or situation else named_text,
                                      after_plan=_plan_before(at, moves_of))
                if found is not None:
                    choice = Choice(id=found.id, move=m, text=found.text, score=0.0)
                    self._place(letter, choice, m, voice, lang, st, why(lang, m, help=found.help), at=at)
                    choices.append(choice)
                    budget -= words(found.text)
                    continue
            if m == _PLAN and _call_with_agenda(letter, st):
                continue  # "Magst du Montag vorbeikommen? Zwei Stunden, wir machen zusammen eine Liste": no second offer
            part, index = self._slot_for(letter, m, voice, st, moves_of, care)
            neighbours = _neighbours(part, index)
            prev = part.sentences[index - 1] if index > 0 else None
            call = m == _PLAN and prev is not None and prev.live and prev.state != "added" \
                and _proposes_call(prev.text, st)
            both = m == _PLAN and _LATER in needed[k + 1:] and short and not call
            choice = None
            steps = _tone_steps(m, scenario, care, pause=pause, both=both)
            if m == _PLAN and when and not call and not care:  # no kept date pressed on a grieving client
                steps = [{"when_both"}, {"when"}] if _LATER in needed[k + 1:] else [{"when"}]
            avoid = _avoid(letter, neighbours, st)
            if m == _ACK and not _live_before(letter, part, index):
                # the letter opens with it: "… that this has to take priority" would have nothing for "this"
                avoid["markers"] = avoid.get("markers", set()) | set(_BARE_THIS)
            elif _live_before(letter, part, index):
                # "Before anything else, I'd like to offer …" only where nothing comes before it
                avoid["openings"] = avoid.get("openings", set()) | set(_FIRST_WORDS)
            for n_step, tones in enumerate(steps):
                choice = self.picker.pick(
                    m, lang=lang, address=address, scenario=scenario, situation=situation, scores=scores,
                    seed=seed_of(a.draft, client_message, m) + variant, after_call=call,
                    registers={voice.register} if tones & _BOTH else registers,
                    avoid=avoid, crisis_ok=scenario in ("shock", "long_standing"),
                    max_words=(share * 2 if tones & _BOTH else share) if voice.words < 60 else None,
                    present=present | {c.move for c in choices} | covered, tones=tones,
                    fits_context=lambda t: not st.foreign_service(t, context),
                    when=when if tones & _WHEN else None,
                    event=plan_event if m == _PLAN else event,
                    request=request,
                )
                rest = [n for n in needed[k + 1:] if n not in covered] if choice is not None else []
                if choice is not None and n_step < len(steps) - 1 and not (tones & _WHEN) and (
                        _jars(choice.text, avoid) or (voice.words < 60 and words(choice.text) + 10 * len(
                            [n for n in rest if not self.picker.makes(choice.text, n, lang)]) > budget)):
                    choice = None  # a preferred tone, but not at the price of "Ich verstehe … Ich verstehe" or length
                if choice is not None:
                    break
            if choice is None:
                continue
            if _names_event(self.picker.phrasing(choice.id)):
                situation = event = None  # the event is named once, not again in the plan offer
                plan_event = named.plan_carrier if named is not None else None  # what the plan is about, unnamed
            covered |= {n for n in needed[k + 1:] if self.picker.makes(choice.text, n, lang)}
            choices.append(choice)
            budget -= words(choice.text)
            help_name = referral.help if referral else ""
            self._place(letter, choice, m, voice, lang, st, why(lang, m, help=help_name) if m == _REFERRAL
                        else why(lang, m), at=(part, index))
        if voice.words < 60:
            self._shorten(letter, choices, a, client_message, address, situation, voice, context, st,
                          allowed=max(voice.words, 30) + sum(words(t) for t in removed), variant=variant,
                          care=care, scenario=scenario, event=event)
        if _LATER in present or _LATER in covered or any(c.move == _LATER for c in choices):
            self._drop_decision_requests(letter, lang)
        self._drop_fillers(letter, lang)
        self._drop_stub_echoes(letter, lang)
        self._drop_bare_ps_label(letter)
        self._keep_vocative_first(letter, lang, client_message or "")
        self._close_fragments(letter, lang, voice)
        self._fix_case(letter, voice, lang)
        return RulesOutcome(text=render(letter), letter=letter, choices=choices, removed=removed)

    def _shorten(self, letter: Letter, choices: list[Choice], a: Analysis, client_message: str | None,  # noqa: PLR0913
                 address: str, situation: str | None, voice: Voice, context: str, st, *, allowed: int,  # type: ignore[no-untyped-def]
                 variant: int = 0, care: str = "", scenario: str | None = None, event: str | None = None) -> None:
        """A draft of a few lines gets a line or two: swap the longest added lines for the shortest that fit."""
        order = sorted(range(len(choices)), key=lambda k: -words(choices[k].text))
        for i in order:
            if sum(words(c.text) for c in choices) <= allowed:
                return
            old = choices[i]
            phrasing = self.picker.phrasing(old.id)
            if phrasing is None or "{situation}" in phrasing.text or "{event}" in phrasing.text or "{plan}" in phrasing.text \
                    or getattr(phrasing, "tone", "") in _BOTH:
                continue  # a referral for the client's trouble, a line naming their event, or one for two moves
            at = next(((p, k) for p in letter.parts for k, s in enumerate(p.sentences)
                       if s.state == "added" and s.sources == [old.id]), None)
            avoid = _avoid(letter, [s for s in _neighbours(at[0], at[1]) if s.sources != [old.id]]
                           + _neighbours(at[0], at[1] + 1)[1:], st) if at else None
            new = self.picker.pick(
                old.move, lang=a.language, address=address, scenario=scenario, situation=situation, scores={},
                seed=seed_of(a.draft, client_message, old.move) + variant, avoid=avoid,
                registers={voice.register, "chat"}, crisis_ok=scenario in ("shock", "long_standing"),
                tones={phrasing.tone} if getattr(phrasing, "tone", "") in ("plain", "pause")
                else _tones(old.move, scenario, care),
                fits_context=lambda t: not st.foreign_service(t, context), shortest=words(old.text),
                after_call=bool(getattr(phrasing, "after_call", False)), event=event,
                request=(tuple(getattr(phrasing, "requests", ()) or ()) or (None,))[0],
            )
            if new is None:
                continue
            for s in letter.sentences():
                if s.state == "added" and s.sources == [old.id]:
                    s.text, s.sources = new.text, [new.id]
            choices[i] = new

    # ------------------------------------------------------------------ faults
    def _likely_faults(self, a: Analysis) -> dict[tuple[int, int], str]:
        return likely_faults(a, self.checker)

    @staticmethod
    def _fault_hits(a: Analysis) -> dict[str, list[tuple[int, int]]]:
        out: dict[str, list[tuple[int, int]]] = {}
        sentences = a.letter.sentences()
        for h in a.hits:
            if h.rule.rule.move not in FAULT_MOVES:
                continue
            for s in sentences:
                if s.start <= h.start < s.end:
                    out.setdefault(s.id, []).append((h.start - s.start, min(h.end, s.end) - s.start))
                    break
        return out

    def _repair(self, text: str, hits: list[tuple[int, int]], a: Analysis, lang: str) -> str | None:
        """The sentence without its faulty clauses, if what is left stands on its own; else the thanks it carried
        ("alles klar, dann war's das 🙂 Danke für die schöne Zeit und alles Gute!" keeps "Danke für die schöne Zeit.")."""
        return self._repair_clauses(text, hits, a, lang) or self._salvage_thanks(text, lang)

    def _salvage_thanks(self, text: str, lang: str) -> str | None:
        cuts = [0] + [m.end() for m in _CLAUSE_SPLIT.finditer(text)]
        ends = [m.start() for m in _CLAUSE_SPLIT.finditer(text)] + [len(text)]
        for k in range(1, len(cuts)):  # a thanks after the start (a thanks at the start is the clause repair's)
            if not _THANKS.match(text[cuts[k]:]):
                continue
            for j in range(len(ends) - 1, k - 1, -1):  # the longest run from the thanks that carries no fault
                piece = _END.sub("", text[cuts[k]:ends[j]].strip()).rstrip(" ,;:–-")
                if words(piece) < 3 or _EMOJI_END.search(piece):
                    continue
                end = _END.search(text.rstrip())
                fixed = piece[:1].upper() + piece[1:] + (end.group() if end and j == len(ends) - 1 else ".")
                check = self.checker.analyse(fixed, lang=lang, own=True)
                if not any(check.moves[m] for m in FAULT_MOVES):
                    return fixed
        return None

    def _repair_clauses(self, text: str, hits: list[tuple[int, int]], a: Analysis, lang: str) -> str | None:
        if not hits:
            return None
        st = style(lang)
        bounds = [0]
        seps = []
        for m in _CLAUSE_SPLIT.finditer(text):
            seps.append((m.start(), m.end()))
        chunks = []
        start = 0
        for s, e in seps:
            chunks.append((start, s))
            start = e
        chunks.append((start, len(text)))
        del bounds
        bad = [any(hs < ce and he > cs for hs, he in hits) for cs, ce in chunks]
        if all(bad) or not any(bad):
            return None
        # the longest run of clean clauses at the start or at the end
        if not bad[0]:
            k = bad.index(True)
            keep = chunks[:k]
            if re.match(r"\s*(?:[:]|\s[–-])", text[keep[-1][1]:]):
                # "I do have to remind you: …" introduces the fault; it goes with it, but what a chat writer put
                # before an emoji stays ("gute besserung 🙏 wegen pause: laut vertrag …")
                brk = [j for j in range(1, k) if _EMOJI_END.search(text[:chunks[j - 1][1]])]
                if not brk:
                    return None
                keep = chunks[:brk[-1]]
            rest = re.sub(r"^[\W]*(?:(?:though|yet|but|aber|doch|jedoch)\W+)*", "", text[chunks[k][0]:])
            if st.subordinator.match(rest):
                return None  # "I do have to remind you, though, that …": the fault completes the clause
            if _CONSEQUENCE.match(text[chunks[k][0]:]):
                return None  # "Das respektiere ich natürlich, dann beenden wir …": the premise goes with its fault
            if st.opens_clause.search(text[keep[0][0]:keep[-1][1]]):
                return None  # "Bitte beachten Sie, dass die gebuchten, aber …": the cut falls inside an open clause
        else:
            k = len(bad) - 1 - bad[::-1].index(True)
            keep = chunks[k + 1:]
            after_emoji = bool(_EMOJI_END.search(text[:chunks[k][1]].rstrip()))  # "… das ist ein muster 😉 lass uns …"
            if keep and not after_emoji and not _CONTRAST.match(text[chunks[k][1]:keep[0][0]] + text[keep[0][0]:]) \
                    and not st.states_fact(text[keep[0][0]:keep[-1][1]]):
                return None  # (a fact the client keeps stays: "… and I'll refund the deposit to the company card today")  # only a contrast survives its fault ("…, aber ich verstehe Sie"), not "– die Sessions …"
        if not keep:
            return None
        piece = text[keep[0][0]:keep[-1][1]].strip()
        piece = _END.sub("", piece).rstrip(" ,;:–-")
        piece = _drop_connector(piece, st)
        if len(piece.split()) < 4 or st.subordinator.match(piece) or is_followup(piece, lang) \
                or is_dangling(piece, lang) or overrides_request(piece, lang) or dated_override(piece, lang) \
                or pushes_back(piece, lang):  # "… 🙄 die location hab ich schon bezahlt": the rest presses too
            return None  # (nor "see you at 2?" left from "let's just keep thursday's check-in … 🙂 see you at 2?")
        if bad[0] and _PRONOUN_START.match(piece):
            return None  # "it can be put towards future sessions": "it" was the removed deposit
        end = _END.search(text.rstrip())
        punct = end.group() if end and keep[-1][1] == len(text) else ("" if _EMOJI_END.search(piece) else ".")
        lower_writer = text[:1].islower()  # "ugh that's brutal, so sorry 😬 no worries, …": the writer's own case
        piece = piece[0].upper() + piece[1:] if piece[0].islower() and not lower_writer \
            and not piece.startswith(("iPhone",)) else piece
        fixed = piece + punct
        check = self.checker.analyse(fixed, lang=lang, own=True)
        if any(check.moves[m] for m in FAULT_MOVES):
            return None
        return fixed

    @staticmethod
    def _smooth(letter: Letter, lang: str) -> None:
        """A sentence that followed a removed one loses its dangling "aber/but/dann/then"; short debris goes; a
        sentence that only announced the removed one ("I would gently push back, though.") goes with it."""
        st = style(lang)
        prev_removed = False
        for part in letter.parts:
            if not part.has_sentences:
                continue
            for k, s in enumerate(part.sentences):
                nxt = part.sentences[k + 1] if k + 1 < len(part.sentences) else _first_of_next(letter, part)
                if s.state == "kept" and nxt is not None and nxt.state == "removed" and is_dangling(s.text, lang):
                    letter.remove(s.id, why(lang, "debris"))  # "I must be candid." a paragraph before the reproach
            for s in part.sentences:
                if s.state == "removed":
                    prev_removed = True
                    continue
                if prev_removed and s.state in ("kept", "edited"):
                    stripped = _next_not_last(_drop_contrast_particle(_drop_connector(s.text, st), lang), lang)
                    if stripped != s.text and words(stripped) >= 3:
                        letter.edit(s.id, stripped[0].upper() + stripped[1:], why(lang, "connector"))
                prev_removed = False

    # ------------------------------------------------------------------ adding
    @classmethod
    def _slot_for(cls, letter: Letter, m: str, voice: Voice, st,  # type: ignore[no-untyped-def]
                  moves_of: dict[str, set[str]], care: str = "") -> tuple[Part, int]:
        """Where move `m` goes: the first fitting slot, moved past sentences that lean on the one before it."""
        part, index = cls._first_slot(letter, m, voice, st, moves_of, care)
        if m in (_PLAN, _LATER, _REFERRAL) and st.refers_back is not None:
            # "Sie müssen dafür nichts vorbereiten" stays next to the call it refers to
            while index < len(part.sentences) and part.sentences[index].live \
                    and part.sentences[index].state != "added" and (
                        st.refers_back.search(part.sentences[index].text)
                        or (index > 0 and _GOES_ON.match(part.sentences[index].text))
                        or (index > 0 and st.joint is not None and _proposes_call(part.sentences[index - 1].text, st)
                            and st.joint.search(part.sentences[index].text))):
                index += 1  # "Magst du Montag vorbeikommen? Zwei Stunden, wir machen zusammen …" belong together
        return part, index

    @staticmethod
    def _first_slot(letter: Letter, m: str, voice: Voice, st,  # type: ignore[no-untyped-def]
                    moves_of: dict[str, set[str]], care: str = "") -> tuple[Part, int]:
        """The paragraph and index where move `m` fits by its role (opening, after a call, before parting lines)."""
        body = [p for p in letter.body() if p.live_sentences() or p.added]
        if not body and letter.body():
            body = letter.body()[:1]  # every sentence went: the new ones take the old paragraph's place
        if body and all(_parting_paragraph(p, st) for p in body) and len(letter.body()) > 1 \
                and not any(p.added for p in body):
            # only "Halt die Ohren steif!" or "Keep me posted." is left of the body: it stays last, the new text
            # goes above it
            body = [_new_paragraph_after_greeting(letter)] + body
        tail = _tail_from(body, st)  # the run of parting paragraphs at the end ("Ich denke an Sie.")
        if m == _ACK:
            if not body:
                return _new_paragraph_after_greeting(letter), 0
            first = letter.body()[0]
            if first is not body[0] and not first.live_sentences() and not first.added:
                return first, len(first.sentences)  # every sentence of the first paragraph went: it keeps its place
            p = body[0]
            i = 0
            while i < len(p.sentences) and (not p.sentences[i].live or _THANKS.match(p.sentences[i].text)
                                            or (i == 0 and _short_reaction(p.sentences[i]))
                                            or (i == 0 and p.sentences[i].state != "added"
                                                and _HELLO_FIRST.match(p.sentences[i].text))):
                i += 1
            return p, i
        if m == _REFERRAL:
            if not body:
                return _new_paragraph_after_greeting(letter), 0
            plan_at = [(p, i) for p in body for i, s in enumerate(p.sentences)
                       if s.live and (s.move == _PLAN or (s.state != "added" and _PLAN in moves_of.get(s.id, ())))]
            if plan_at:  # the help adds to the plan: right after the plan offer and what belongs to it
                p, i = plan_at[-1]
                i += 1
                while i < len(p.sentences) and p.sentences[i].live and p.sentences[i].state != "added" \
                        and st.refers_back is not None and st.refers_back.search(p.sentences[i].text):
                    i += 1
                return p, i
            p = body[0]
            i = 0
            while i < len(p.sentences) and (not p.sentences[i].live or p.sentences[i].move == _ACK
                                            or _THANKS.match(p.sentences[i].text) or p.sentences[i].state == "added"):
                i += 1
            if i < len(p.sentences):
                i = len(p.sentences)
            if len(body) == 1 and (letter.part("closing") is None or voice.register == "chat"):
                i = _before_tail(p, st)  # not after "… alles Gute! Rico" in a one-paragraph chat
            return p, i
        # plan and defer: next to each other; after a call the draft proposes; else in an offer paragraph
        for p in reversed(body):
            for i in range(len(p.sentences) - 1, -1, -1):
                if p.sentences[i].state == "added" and p.sentences[i].move in (_PLAN, _LATER, _REFERRAL):
                    return p, i + 1  # after the plan offer and the help that adds to it
        partner = _LATER if m == _PLAN else _PLAN

        def after_call() -> tuple[Part, int] | None:
            for p in body:
                for i, s in enumerate(p.sentences):
                    if s.live and s.state != "added" and _proposes_call(s.text, st):
                        j = i + 1
                        while j < len(p.sentences) and p.sentences[j].state == "added":
                            j += 1
                        return p, j
            return None

        if m == _PLAN and (found := after_call()):
            return found  # the plan offer builds on the call the draft proposes
        if care and voice.register != "chat" and body:
            # after a death or a serious illness no business step beside the condolence: a paragraph of its own,
            # before a last paragraph that only wishes strength
            anchor = body[tail - 1]
            if anchor is body[-1]:
                k = _before_tail(anchor, st)
                if 0 < k < len(anchor.sentences):
                    # "… Your health comes first. Sending you so much strength x": the wish ends the paragraph and
                    # the letter, so the new lines go before it, not into a paragraph after the sign-off
                    return anchor, k
            return letter.new_paragraph(letter.parts.index(anchor) + 1), 0
        for p in body:  # next to the draft's own sentence making the partner move (a plan offer before it)
            for i, s in enumerate(p.sentences):
                if s.live and s.state != "added" and partner in moves_of.get(s.id, ()):
                    if m == _PLAN and not care:
                        return p, i
                    j = i + 1  # after the plan and what belongs to it: the help it names, a line leaning on it
                    while j < len(p.sentences) and p.sentences[j].state != "added" and (
                            not p.sentences[j].live or _REFERRAL in moves_of.get(p.sentences[j].id, ())
                            or _PLAN in moves_of.get(p.sentences[j].id, ())  # the offer goes on ("I'd like to help you map …")
                            or (st.joint is not None and st.joint.search(p.sentences[j].text))
                            or st.names_helper(p.sentences[j].text)
                            or (st.refers_back is not None and st.refers_back.search(p.sentences[j].text))):
                        j += 1
                    return p, j
        if found := after_call():
            return found
        offer = next((p for p in body if p.added and any(s.move in (_PLAN, _LATER)
                                                        for s in p.sentences)), None)
        if offer is not None:
            return offer, len(offer.sentences)
        if not body:
            return _new_paragraph_after_greeting(letter), 0
        if voice.register != "chat":
            # a paragraph whose sentences all went (the notice period, the invoice) is where the offer goes
            after = letter.parts.index(body[tail - 1])
            before = letter.parts.index(body[tail]) if tail < len(body) else len(letter.parts)
            emptied = next((p for p in letter.body()[::-1] if after < letter.parts.index(p) < before
                            and p.sentences and not p.live_sentences() and not p.added), None)
            if emptied is not None:
                return emptied, len(emptied.sentences)
        last = body[-1]
        if voice.register == "chat" or len(body) == 1 and len(body[0].live_sentences()) <= 2:
            target = body[tail - 1]
            if target is not last:
                return target, len(target.sentences)
            return target, _before_tail(target, st)
        anchor = body[tail - 1]
        at = letter.parts.index(anchor) + 1
        return letter.new_paragraph(at), 0

    def _place(self, letter: Letter, choice: Choice, m: str, voice: Voice, lang: str, st, reason: str,  # type: ignore[no-untyped-def]
               at: tuple[Part, int] | None = None) -> Sentence:
        part, index = at or self._slot_for(letter, m, voice, st, {})
        before = [s for s in part.sentences[:index] if s.live]
        after = [s for s in part.sentences[index:] if s.live]
        if m == _ACK and before and before[-1].state == "kept" and is_echo(before[-1].text, lang):
            letter.remove(before[-1].id, why(lang, "echo"))  # "Understood. I understand …": once
        elif m == _ACK and after and after[0].state == "kept" and is_echo(after[0].text, lang):
            letter.remove(after[0].id, why(lang, "echo"))  # "… I understand. I understand, thanks …": once
        sep = "\n" if voice.register == "chat" and _line_based(part) else None
        if 0 < index < len(part.sentences) and "\n" in part.sentences[index - 1].sep:
            sep = "\n"  # put between two lines of a chat ("fühl dich gedrückt." / "pass gut auf dich auf"): a line of its own
        return letter.insert(part, index, choice.text, why=reason, sources=[choice.id], move=m, sep=sep)

    @staticmethod
    def _drop_decision_requests(letter: Letter, lang: str) -> None:
        """Beside a deferral ("no need to decide anything now") a line that asks for the decision ("Please let me know
        how you would like to proceed") contradicts it: it goes (`decision` in knowledge/rewrite.toml)."""
        st = style(lang)
        for s in letter.sentences():
            if s.state != "added" and asks_decision(s.text, lang) and not _proposes_call(s.text, st):
                # (not the draft's own call offer: "would a 45-minute call help … and how you'd like to handle it?")
                letter.remove(s.id, why(lang, "decision"))

    @staticmethod
    def _drop_fillers(letter: Letter, lang: str) -> None:
        """A bare interjection ("naja.", "hm ok.", "na gut.") whose sentence before it went, or beside which a
        sentence was added, is left standing alone: it goes (`filler` in knowledge/rewrite.toml)."""
        for part in letter.parts:
            if not part.has_sentences:
                continue
            for k, s in enumerate(part.sentences):
                if s.state != "kept" or not is_filler(s.text, lang):
                    continue
                prev = part.sentences[k - 1] if k > 0 else None
                live = [x for x in part.sentences if x.live]
                at = live.index(s)
                near = live[max(0, at - 1):at] + live[at + 1:at + 2]
                if (prev is not None and prev.state == "removed") or any(x.state == "added" for x in near):
                    letter.remove(s.id, why(lang, "filler"))

    @staticmethod
    def _drop_bare_ps_label(letter: Letter) -> None:
        """A P.S. whose own text went, where the lines after a blank line are the signature block the P.S. ran
        into ("P.S. the fee … \n\nMere Tāwhiri | Director"): no bare "P.S." label before the signature."""
        for part in letter.parts:
            if part.kind != "ps" or not part.sentences or part.sentences[0].state != "removed":
                continue
            k = 0
            while k < len(part.sentences) and part.sentences[k].state == "removed":
                k += 1
            if k < len(part.sentences) and "\n\n" in part.sentences[k - 1].sep:
                part.lead = ""

    @staticmethod
    def _drop_stub_echoes(letter: Letter, lang: str) -> None:
        """A bare acknowledgment ("I hear you on pausing.", "Noted ma.") left as the only line of a paragraph whose
        other lines went, or standing before an added understanding with only a thanks between: it goes (`echo` in
        knowledge/rewrite.toml)."""
        for part in letter.parts:
            if not part.has_sentences:
                continue
            live = part.live_sentences()
            if len(live) == 1 and live[0].state == "kept" and is_echo(live[0].text, lang) \
                    and any(x.state == "removed" for x in part.sentences) and len(letter.body()) > 1:
                letter.remove(live[0].id, why(lang, "echo"))
                continue
            added_ack = next((k for k, x in enumerate(live) if x.state == "added" and x.move == _ACK), None)
            if added_ack is None:
                continue
            for x in live[:added_ack]:
                if x.state != "kept" or not (is_echo(x.text, lang) or _THANKS.match(x.text)):
                    break
                if is_echo(x.text, lang):
                    letter.remove(x.id, why(lang, "echo"))

    @staticmethod
    def _keep_vocative_first(letter: Letter, lang: str, client_message: str) -> None:
        """A draft that opens with the client's name ("Greta, let's hold off …") keeps it first: the name moves to
        the front of a line added before it ("Greta, losing that contract sounds awful …")."""
        body = [p for p in letter.body() if p.live_sentences()]
        if not body:
            return
        live = body[0].live_sentences()
        if len(live) < 2 or live[0].state != "added" or live[1].state == "added":
            return
        m = _VOCATIVE.match(live[1].text)
        if not m or not re.search(r"\b" + re.escape(m.group(1)) + r"\b", client_message):
            return  # only the client's own name ("Greta,"), not "Okay," or "Schade,"
        rest = live[1].text[m.end():]
        first = live[0].text
        keep_cap = re.match(r"(?:I\b|I'|Sie\b|Ihr|Ihnen\b)", first)
        live[0].text = m.group(1) + ", " + (first if keep_cap else first[:1].lower() + first[1:])
        letter.edit(live[1].id, rest[:1].upper() + rest[1:], why(lang, "case"))

    @staticmethod
    def _close_fragments(letter: Letter, lang: str, voice: Voice | None = None) -> None:
        """A kept line without a full stop ("sag bescheid wenn ihr wieder sortiert seid") gets one when new text
        follows it on the same line, so the two do not run into each other."""
        for part in letter.parts:
            if not part.has_sentences:
                continue
            live = [s for s in part.sentences if s.live]
            for a, b in zip(live, live[1:]):
                if b.state != "added" or a.state == "added" or "\n" in a.sep:
                    continue
                t = a.text.rstrip()
                t0 = t.rstrip("\ufe0f\u200d")
                if t0 and unicodedata.category(t0[-1]) in ("So", "Sk") and not _TERMINAL.search(t0):
                    if voice is None or (voice.register == "chat" and (len(letter.body()) <= 1 or _line_based(part))):
                        b.sep = "\n"  # "gute besserung 🙏" + a new line: the emoji ends the line, as in a chat
                    # in a mail's paragraph the emoji ends the sentence and the new one follows on the same line
                    continue
                if not t0 or _TERMINAL.search(t0):
                    continue
                letter.edit(a.id, t + ".", a.why or why(lang, "case"))

    @staticmethod
    def _fix_case(letter: Letter, voice: Voice, lang: str) -> None:
        first = True
        greeting = letter.part("greeting")
        body = [s for p in letter.parts if p.kind == "paragraph" for s in p.sentences if s.state != "added"]
        orig_first = body[0].id if body else ""
        for part in letter.parts:
            if not part.has_sentences:
                continue
            for s in part.live_sentences():
                after_greeting = first and greeting is not None and part.kind == "paragraph"
                text = fit_case(s.text, first_after_greeting=after_greeting, voice=voice)
                if s.state == "added":
                    text = fit_contractions(text, voice)  # no "I'd" in a letter that never contracts
                    if voice.register == "chat":
                        text = text.replace("; ", " – ")  # no semicolons in a chat
                    s.text = _all_lower(text, keep_i=voice.capital_i) if voice.lowercase else text
                elif voice.lowercase and s.state != "edited":
                    pass  # a lower-case writer's own sentences stay as they are
                elif text != s.text and (s.state == "edited" or after_greeting or s.id == orig_first):
                    letter.edit(s.id, text, s.why or why(lang, "case"))
                first = False

    # ------------------------------------------------------------------ result
    def rewrite(self, a: Analysis, client_message: str | None, notices: Sequence[Notice] = (),
                extra_sources: Sequence[Source] = (), variant: int = 0) -> RewriteResult:
        outcome = self.compose(a, client_message, variant=variant)
        notes = list(notices)
        if outcome.unchanged:
            notes.append(notice("sent_as_is", a.language))
            result = RewriteResult(mode="rules", rewrite=a.draft, before=a.report(), after=a.report(),
                                   sources=list(extra_sources), notices=notes, usage=None, changed=False, changes=[])
            result._letter = outcome.letter
            return result
        after = self.checker.check(outcome.text, client_message=client_message, lang=a.language, own=True)
        if outcome.removed:
            notes.append(notice("rewrite_removed", a.language, count=len(outcome.removed)))
        missing = [m for m in GOOD_MOVES if not getattr(after.moves, m)]
        if missing:
            notes.append(notice("rewrite_incomplete", a.language,
                                moves=", ".join(move(m).label(a.language) for m in missing)))
        sources = [c.as_source() for c in outcome.choices] + list(extra_sources)
        changes = changes_of(outcome.letter)
        result = RewriteResult(mode="rules", rewrite=outcome.text, before=a.report(), after=after, sources=sources,
                               notices=notes, usage=None, changed=outcome.text != a.draft, changes=changes)
        result._letter = outcome.letter
        return result


# where a chat sentence without full stops really ends: after an emoji, a semicolon or a spaced dash
_CHAT_BREAK = re.compile(r"(?<=[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F])\s+(?=\w)|;\s+|\s[–—]\s")


def _fact_rest(text: str, lang: str) -> str | None:
    """The last clause of an overriding sentence when it carries a fact the client keeps and overrides nothing
    ("…, and I will of course hold off on the May invoice" -> "I will of course hold off on the May invoice.")."""
    st = style(lang)
    if not st.states_fact(text):
        return None
    cuts = [m.end() for m in _CLAUSE_SPLIT.finditer(text)]
    if not cuts:
        return None
    piece = _drop_connector(text[cuts[-1]:].strip(), st)
    if words(piece) < 4 or not st.states_fact(piece) or overrides_request(piece, lang) or is_followup(piece, lang) \
            or st.subordinator.match(piece) or _PRONOUN_START.match(piece):
        return None
    if not _END.search(piece):
        piece += "."
    return piece[:1].upper() + piece[1:] if not text[:1].islower() else piece


_SETTLED_SPLIT = re.compile(r",\s+|;\s+|\s[–—-]\s+|\s*\n\s*")


def _settled_rest(text: str, lang: str) -> str | None:
    """What stays of a sentence that settles the pause: what came before the settling clause ("oh nein, das tut
    mir so leid für dich\nok dann war's das erstmal mit uns, …" -> "oh nein, das tut mir so leid für dich"), else a
    parting wish after it ("ok dann war's das erstmal mit uns, alles Gute dir!" -> "alles Gute dir!"), else None."""
    st = style(lang)
    spans, start = [], 0
    for m in _SETTLED_SPLIT.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    bad = [k for k, (a, b) in enumerate(spans) if settles(text[a:b], lang)]
    if not bad or len(spans) < 2:
        return None
    head = text[:spans[bad[0]][0]].rstrip(" ,;–—-\n")
    last = text[spans[bad[0] - 1][0]:spans[bad[0] - 1][1]] if bad[0] > 0 else ""
    if bad[0] > 0 and words(head) >= 3 and not settles(head, lang) \
            and not re.search(r"\b(?:if|unless|wenn|falls|sofern|ob)\b", last, re.I):  # not "I suppose if that's what you need" 
        return head
    tail = text[spans[bad[-1]][1]:].lstrip(" ,;–—-\n")
    if bad[0] == 0 and tail and not settles(tail, lang) and (
            st.parting(tail) or _parting_wish(tail, st)
            or re.search(r"\b(?:alles\s+gute|all\s+the\s+best|take\s+care)\b", tail, re.I)):
        return tail[:1].upper() + tail[1:] if text[:1].isupper() else tail
    return None


def _drop_override_clauses(text: str, lang: str) -> str | None:
    """"aber mal ehrlich, …, das ist ein muster 😉 lass uns morgen kurz telefonieren …": the overriding part goes,
    the call stays. None when no part or every part overrides, or what is left is not one contiguous run."""
    cuts = [(m.start(), m.end()) for m in _CHAT_BREAK.finditer(text)]
    if not cuts:
        return None
    chunks, start = [], 0
    for s, e in cuts:
        chunks.append((start, s))
        start = e
    chunks.append((start, len(text)))
    bad = [overrides_request(text[a:b], lang) for a, b in chunks]
    if all(bad) or not any(bad):
        return None
    good = [i for i, b in enumerate(bad) if not b]
    if good != list(range(good[0], good[-1] + 1)):
        return None
    piece = text[chunks[good[0]][0]:chunks[good[-1]][1]].strip()
    st = style(lang)
    if good[0] > 0 and piece[:1].islower() and not text[:1].islower() and not st.proposes_call(piece):
        return None  # "let's just keep Thursday — even 30 mins on Zoom": what only elaborates the override goes too
    piece = _drop_connector(piece, st)
    if words(piece) < 4 or is_followup(piece, lang) or dated_override(piece, lang):
        return None  # "… — I'll hold off on the work and we can pick it back up in April": it goes with the override
    if _END.search(text.rstrip()) and not _END.search(piece) and not _EMOJI_END.search(piece):
        piece += "."  # "…, wir lassen die Workshops ruhen – ich habe …": the kept part ends as a sentence
    return piece


# a German verb-second clause: after "Dann"/"Also" the verb comes first ("Dann würde ich sagen"); without the
# connector it would read as a question ("Würde ich sagen"), so such a connector stays
_INVERTING = re.compile(r"^\W*(?:dann|also|deshalb|daher|trotzdem|jedoch|so)\b", re.I)
_INVERTED = re.compile(r"^\S+\s+(?:ich|wir|du|sie|es|er|ihr|man)\b", re.I)


_DAY_TOKEN = re.compile(r"\b(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|tomorrow|morgen|montag|dienstag|mittwoch|"
                        r"donnerstag|freitag|samstag|sonntag|\d{1,2}(?:\.\d{1,2}\.?)?)", re.I)


def _client_cancelled(when: str, client_message: str | None) -> bool:
    """The time a removed sentence kept is the one the client's mail calls off ("Thursday", "am 12.03.")."""
    if not client_message:
        return False
    low = client_message.lower()
    return any(re.search(r"\b" + re.escape(t.lower().rstrip(".")) + r"\b", low) for t in _DAY_TOKEN.findall(when))


def _drop_connector(text: str, st) -> str:  # type: ignore[no-untyped-def]
    """The text without a leading "aber/but/dann/then", unless that leaves a German verb first."""
    stripped = st.connector.sub("", text, count=1)
    if stripped != text and st.lang == "de" and _INVERTING.match(text) and _INVERTED.match(stripped) \
            and not re.match(r"^\W*(?:ich|wir|du|sie|es|er|ihr|man|das|dies|lass\w*)\b", stripped, re.I):
        return text
    return stripped


# a contrast particle inside the sentence that only answered the removed one ("Die Termine habe ich freigegeben. …
# setzen wir uns aber nächste Woche zusammen", "…, though."): it goes with it
_CONTRAST_PARTICLE = {
    "de": re.compile(r"\b((?:wir|ich|du|uns|dich|dir|Sie|Ihnen|ihr|euch|man|es)\s)(?:aber|trotzdem|dennoch)\s+(?=\w)"),
    "en": re.compile(r",\s*though(?=\s*[.!?]*$)", re.I),
}


# "Diese letzte Sitzung könnten wir nutzen …" after the removed sentence that ended the work after that session: the
# session is the next one, not the last, and "diese" has nothing left to point at
_LAST_SESSION = {
    "de": re.compile(r"^(\W*)(?:Diese|Die|Unsere)(n|r|m)?\s+letzte(n|r|m)?\s+(?=(?:Sitzung|Session|Stunde|Einheit|"
                     r"Besprechung|Termin|Workshop|Coaching)\w*\b)"),
    "en": re.compile(r"^(\W*)(?:This|That|The|Our)\s+(?:last|final)\s+(?=(?:session|call|meeting|workshop)s?\b)", re.I),
}


def _next_not_last(text: str, lang: str) -> str:
    """"Diese letzte Sitzung …" -> "Unsere nächste Sitzung …" when the sentence that made it the last went."""
    pat = _LAST_SESSION.get(lang)
    if pat is None:
        return text
    if lang == "de":
        return pat.sub(lambda m: f"{m.group(1)}Unsere{m.group(2) or ''} nächste{m.group(3) or ''} ", text, count=1)
    return pat.sub(lambda m: f"{m.group(1)}Our next ", text, count=1)


def _drop_contrast_particle(text: str, lang: str) -> str:
    """The text without a contrast particle whose other side was removed ("setzen wir uns aber" -> "setzen wir uns")."""
    pat = _CONTRAST_PARTICLE.get(lang)
    return pat.sub(lambda m: m.group(1) if m.re.groups else "", text, count=1) if pat is not None else text


# a talk about the collaboration later is no call a plan offer can build on
_LATER_WORD = re.compile(r"\b(?:später|spaeter|later|once|whenever|calmer|settled|sobald|in (?:a few|ein paar|einigen) "
                         r"(?:weeks|Wochen))\b", re.I)


# "let's not make any call on our coaching": a decision, not a phone call
_DECISION_CALL = re.compile(r"\bmake\s+(?:any|a|the|that)\s+(?:\w+\s+)?call\s+(?:on|about)\b", re.I)


def _proposes_call(text: str, st) -> bool:  # type: ignore[no-untyped-def]
    return st.proposes_call(text) and not _LATER_WORD.search(text) and not _DECISION_CALL.search(text)


_KEEP_CASE = re.compile(r"\b(?:Sie|Ihnen|Ihr|Ihre|Ihren|Ihrem|Ihrer|Ihres|[A-ZÄÖÜ]{2,}\w*)\b")


_CAPITAL_I = re.compile(r"\bI(?:'m|'d|'ll|'ve)?\b")


def _all_lower(text: str, *, keep_i: bool = False) -> str:
    """An added line in an all-lower-case chat: lower case throughout, but "Sie/Ihnen" and acronyms stay, and
    "I" when the writer capitalises it ("I'm really sorry … i can" would mix the two)."""
    keep = {m.start(): m.group() for m in _KEEP_CASE.finditer(text)}
    if keep_i:
        keep.update({m.start(): m.group() for m in _CAPITAL_I.finditer(text)})
    out = text.lower()
    for start, word in keep.items():
        if start > 0:  # the first word follows the writer's own habit (fit_case)
            out = out[:start] + word + out[start + len(word):]
    return out


# a letter with no greeting line whose first sentence greets ("Hey Tom, ähm, kurz per Sprachnachricht …"): it stays first
_HELLO_FIRST = re.compile(r"(?:hey|hi|hallo|hello|hoi|servus|moin|grüß\s+dich|griaß\s+di|dear|liebe[rs]?)\s+[A-ZÄÖÜ][\w-]*\s*[,!]", re.I)
_VOCATIVE = re.compile(r"([A-ZÄÖÜ][\w-]+),\s+(?=[a-zäöü])")  # "Greta, let's …"
_TERMINAL = re.compile(r"[.!?…:;)\]\"'»“”]$")
_NAME_ONLY = re.compile(r"(?:[-–—~]\s*)?[A-ZÄÖÜ][\w'.-]*(?:\s+[A-ZÄÖÜ][\w'.-]*)?")  # "Rico", "- Dev", "Anna B."


def _first_of_next(letter: Letter, part: Part) -> Sentence | None:
    """The first sentence of the next part that has sentences (a paragraph), if it follows this one."""
    parts = letter.parts
    for p in parts[parts.index(part) + 1:]:
        if p.has_sentences and p.sentences:
            return p.sentences[0]
        if p.kind not in ("space",):
            return None
    return None


def _live_before(letter: Letter, part: Part, index: int) -> bool:
    """A sentence of the letter's body is still there before this spot."""
    for p in letter.body():
        if p is part:
            return any(x.live for x in p.sentences[:index])
        if any(x.live for x in p.sentences):
            return True
    return False


def _names_event(phrasing: object) -> bool:
    text = str(getattr(phrasing, "text", ""))
    return "{situation}" in text or "{event}" in text


def _plan_before(at: tuple[Part, int], moves_of: dict[str, set[str]]) -> bool:
    """A plan offer (added or the draft's own) comes just before this spot: the referral can add to it."""
    part, index = at
    prev = [s for s in part.sentences[:index] if s.live]
    return bool(prev) and (prev[-1].move == _PLAN or (prev[-1].state != "added" and _PLAN in moves_of.get(prev[-1].id, ())))


def _call_with_agenda(letter: Letter, st) -> bool:  # type: ignore[no-untyped-def]
    """The draft proposes a call or meeting and says what it will work out there together."""
    if st.joint is None:
        return False
    own = [s for p in letter.body() for s in p.sentences if s.live and s.state != "added"]
    for k, s in enumerate(own):
        if _proposes_call(s.text, st):
            following = own[k + 1].text if k + 1 < len(own) else ""
            if st.joint.search(s.text) or (following and st.joint.search(following)
                                           and not _proposes_call(following, st)):
                return True
    return False


def _before_tail(part: Part, st) -> int:  # type: ignore[no-untyped-def]
    """Where new text goes in a one-paragraph chat: before its closing wish and name ("lg mia", "alles Gute! Rico")."""
    live = [i for i, s in enumerate(part.sentences) if s.live]
    k = len(part.sentences)
    for j in reversed(live):
        s = part.sentences[j]
        if s.state == "added":
            break
        t = s.text
        if _signs_off(t, st) or (j == live[-1] and j != live[0] and (_NAME_ONLY.fullmatch(t.strip())
                                                                      or _parting_wish(t, st))) \
                or (j != live[0] and words(t) <= 8 and st.closers.search(t) and not _proposes_call(t, st)) \
                or (j != live[0] and words(t) <= 20 and st.parting(t) and not _proposes_call(t, st)):
            k = j
            continue
        break
    return k


def _signs_off(text: str, st) -> bool:  # type: ignore[no-untyped-def]
    return bool(_SIGNOFF.fullmatch(text.strip()) or (words(text) <= 4 and st.closers.search(text))
                or (words(text) <= 8 and _KISS_END.search(text)))


# a chat line that ends in a kiss ("heal up and look after yerself x", "take care xx"): the writer's sign-off
_KISS_END = re.compile(r"(?:^|\s)(?:x{1,3}|xo|xoxo)\s*[.!]?\s*$", re.I)
# where a chat's last sentence turns into its sign-off: after an emoji or a dash ("same time 👍 take care x")
_TURN = re.compile(r"(?:[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]+|\s[-–—])\s+(?=\w)")


def _split_trailing_closer(letter: Letter, st) -> None:  # type: ignore[no-untyped-def]
    """The last sentence of the body that runs into the sign-off after an emoji or a dash is cut there, so new text
    can go before the sign-off ("Ive moved you to tue 3rd march, same time 👍 | take care x")."""
    body = [p for p in letter.body() if p.live_sentences()]
    if not body:
        return
    last = body[-1].live_sentences()[-1]
    if last.state != "kept":
        return
    for m in reversed(list(_TURN.finditer(last.text))):
        tail = last.text[m.end():]
        if words(tail) <= 6 and words(last.text[:m.start()]) >= 3 and _signs_off(tail, st):
            letter.split(last.id, m.end())
        return


def _parting_wish(text: str, st) -> bool:  # type: ignore[no-untyped-def]
    """A short line that ends a letter: an exclamation ("Halt die Ohren steif!", "Bis Donnerstag, 17 Uhr!"), a
    line ending in a comma ("With every good wish for whatever comes next,"), a few words without a full stop
    ("In Gedanken bei Ihnen", "Mit stillem Gruß", "pass gut auf dich auf ❤️") or a closing wish ("Looking
    forward to hearing from you.")."""
    t = text.strip()
    if not t or t.endswith("?") or _proposes_call(t, st):
        return False
    n = words(t)
    return ((t.endswith("!") and n <= 6) or (t.endswith(",") and n <= 10)
            or (not re.search(r"[.!?…:;]\W*$", t) and n <= 5) or (n <= 6 and bool(st.closers.search(t))))


def _parting_paragraph(part: Part, st) -> bool:  # type: ignore[no-untyped-def]
    """Every line of the paragraph is a parting line of the draft ("Ich denke an Sie.", "Keep me posted.",
    "Whatever you decide, I'm in your corner.", "Für Rückfragen stehe ich gerne zur Verfügung.")."""
    live = part.live_sentences()
    if not live or part.added or any(s.state == "added" for s in live):
        return False
    return all(not _proposes_call(s.text, st) and words(s.text) <= 25 and (
        st.parting(s.text) or _parting_wish(s.text, st) or (len(live) <= 2 and st.closers.search(s.text)))
        for s in live)


def _tail_from(body: list[Part], st) -> int:  # type: ignore[no-untyped-def]
    """Where the body's tail of parting paragraphs begins (len(body) when there is none); one paragraph stays
    before it, so new text has a place."""
    k = len(body)
    while k > 1 and _parting_paragraph(body[k - 1], st):
        k -= 1
    return k


def _short_reaction(s: Sentence) -> bool:
    """"Okay, schade.", "Oh no!", "Das ist ja unglaublich.": a first reaction stays first (not a parting line such
    as "shout if anything changes.", which the understanding goes before)."""
    return s.state != "added" and len(s.text.split()) <= 5 and not _signs_off(s.text, style("de")) \
        and not style("de").parting(s.text) and not style("en").parting(s.text)


_EVERYDAY_TONES = frozenset({"warm", "neutral", "formal"})


_BOTH = frozenset({"both", "care_both", "when_both", "plain_both"})
_WHEN = frozenset({"when", "when_both"})


def _tone_steps(m: str, scenario: str | None, care: str, *, pause: bool, both: bool) -> list[set[str]]:
    """The tones to try, best first: one sentence for plan offer and deferral in a short draft; for a client who
    gave no reason, understanding for the request itself (a pause, when they ask for one) and a plain plan offer."""
    steps: list[set[str]] = []
    if m == _REFERRAL:
        return [{"plain"}, _tones(m, scenario, care)]  # no specific trouble named: the mild, general pointer first
    if both:
        if care:
            steps.append({"care_both"})
        elif scenario in (None, "unclear"):
            steps += [{"plain_both"}, {"both"}]  # "…einen Plan, wie es weitergeht": a plan for what, when no reason was given
        else:
            steps.append({"both"})
    if not care and scenario in (None, "unclear") and m in (_ACK, _PLAN):
        if m == _ACK and pause:
            steps.append({"pause"})  # "Ich verstehe gut, dass du eine Pause machen möchtest"
        steps.append({"plain"})
        if m == _ACK:  # never a burden the client did not name, even at the price of an alike opening
            return steps + [{"plain", "pause"} if pause else {"plain"}]
    steps.append(_tones(m, scenario, care))
    return steps


def _tones(m: str, scenario: str | None, care: str) -> set[str]:
    """The phrasing tones that fit: condolence or care after a death or an illness, neutral for an unclear mail."""
    if care:
        return {care} if m == _ACK else ({"care"} if m in (_PLAN, _LATER) else set(_EVERYDAY_TONES))
    if m == _ACK and scenario in (None, "unclear"):
        return {"neutral"}
    return set(_EVERYDAY_TONES)


def _jars(text: str, avoid: dict[str, set[str]]) -> bool:
    """The line would open like a neighbour or repeat one of its marker words."""
    first = (re.findall(r"\w+", text.lower())[:1] or [""])[0]
    return first in avoid.get("openings", set()) or any(m in text.lower() for m in avoid.get("markers", set()))


def _neighbours(part: Part, index: int) -> list[Sentence]:
    live = [(i, s) for i, s in enumerate(part.sentences) if s.live]
    before = [s for i, s in live if i < index][-1:]
    after = [s for i, s in live if i >= index][:1]
    return before + after


def _avoid(letter: Letter, neighbours: list[Sentence], st) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    opening = set()
    for s in neighbours:
        w = re.findall(r"\w+", s.text.lower())[:2]
        if w:
            opening.add(w[0])
    markers: set[str] = set()
    for s in neighbours:  # "sprechen … sprechen" jars next door, not three sentences apart
        markers |= st.markers_in(s.text)
    return {"openings": opening, "markers": markers}


def _informal(lang: str, formal: str) -> str:
    from coach.lang import language

    forms = language(lang).address.forms
    return forms[1] if len(forms) > 1 and formal == forms[0] else formal


def _line_based(part: Part) -> bool:
    seps = [s.sep for s in part.sentences[:-1] if s.state != "added"]
    return bool(seps) and all("\n" in x for x in seps)


def _new_paragraph_after_greeting(letter: Letter) -> Part:
    at = 0
    for i, p in enumerate(letter.parts):
        if p.kind in ("space", "greeting"):
            at = i + 1
        else:
            break
    return letter.new_paragraph(at)

