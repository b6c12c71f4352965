"""Choosing approved phrasings for the moves a draft lacks: retrieved, filtered, varied, deterministic."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from coach.models import Source


class PhrasingLike(Protocol):
    id: str
    lang: str
    address: str
    move: str
    scenario: str
    text: str


@dataclass(frozen=True)
class Choice:
    id: str
    move: str
    text: str
    score: float

    def as_source(self) -> Source:
        return Source(id=self.id, kind="phrasing", title=f"approved phrasing: {self.move}", text=self.text,
                      score=round(self.score, 4), lang=self.id.split(".", 1)[0], move=self.move)


SLOT = "{situation}"
EVENT_SLOT = "{event}"  # the client's event mid-sentence (German dative), coach/rewrite/events.py
CLIENT_SLOT = "{client}"  # the client's name when someone else wrote for them ("whenever Rob is ready")
PLAN_SLOT = "{plan}"  # what the plan after the client's event is about ("wie Sie den Umsatzausfall … auffangen")
HEAVY = ("grave", "shock")  # the event weights a phrasing that names the event fits unless it says otherwise
# tones that speak to the person the event happened to ("take all the time you need"): never to a writer who wrote
# for the client, unless the phrasing is written for that case (`proxy: true`)
_SUFFERER_TONES = frozenset({"grief", "health", "care", "care_both"})


def _slotted(text: str) -> bool:
    return SLOT in text or EVENT_SLOT in text or CLIENT_SLOT in text or PLAN_SLOT in text


def _filled(text: str, situation: str | None, event: str | None, client: str | None = None) -> str:
    plan = getattr(event, "plan", None)
    if plan and PLAN_SLOT in text:
        text = text.replace(PLAN_SLOT, plan)
    if situation and SLOT in text:
        text = text.replace(SLOT, situation)
    if event and EVENT_SLOT in text:
        text = text.replace(EVENT_SLOT, event)
    if client and CLIENT_SLOT in text:
        text = text.replace(CLIENT_SLOT, client)
    return text


def weight_fits(p: Any, weight: str | None) -> bool:
    """A phrasing fits how heavy the client's event is: one that names the event or a crisis only the weights it
    lists (`weights`, default grave and shock); after a routine event (a budget freeze) no shock or care line."""
    listed = tuple(getattr(p, "weights", ()) or ())
    if listed:
        return weight in listed  # a line written for a routine cut only for one
    if weight is None:
        return True
    if weight == "routine":
        return not _slotted(p.text) and getattr(p, "scenario", "any") != "shock" \
            and getattr(p, "tone", "") not in _SUFFERER_TONES
    return True


def proxy_fits(p: Any, proxy: str | None) -> bool:
    """A writer who wrote for the client gets no line that tells them to take care of themselves; a line written for
    that case (`proxy: true`) only then, and one with {client} only with the client's name."""
    if bool(getattr(p, "proxy", False)) != (proxy is not None):
        return not getattr(p, "proxy", False) and getattr(p, "tone", "") not in _SUFFERER_TONES
    return proxy is None or CLIENT_SLOT not in p.text or bool(proxy)
WHEN = "{when}"  # the time the draft had kept a session for ("am Donnerstag", "our session on 12 May")
Ranker = Callable[[list[str], str, str, str | None, str], list[tuple[str, float]]]
"""(moves, lang, address, scenario, query) -> [(phrasing id, score)] best first, one retrieval for all moves."""


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def situation_of(client_message: str | None, situations: Sequence[Any]) -> Any | None:
    """The first situation (knowledge/situations.yaml) whose pattern matches the client's message."""
    if not client_message:
        return None
    for s in situations:
        if re.search(s.pattern, client_message):
            return s
    return None


# a title or greeting word: what follows is the person greeted (the consultant), never the client's lost customer
_TITLE = re.compile(r"(?i)\s*(?:herrn?|frau|mr|mrs|ms|miss|dr)\b")
_GREETED = re.compile(r"(?i)\b(?:herrn?|frau|mr|mrs|ms|miss|dr|dear|sehr geehrte[rn]?|hallo|hi|hey|liebe[rn]?|guten tag|"
                      r"moin|servus)\b\.?\s*$")


def situation_phrase(client_message: str | None, situations: Sequence[Any], lang: str, address: str) -> str | None:
    """The noun phrase naming the client's event ("Der Verlust Ihres wichtigsten Kunden"), if recognisable; a
    phrase with "{name}" takes the name the pattern's group ``name…`` found ("Der Verlust von Brenner Logistik")."""
    if not client_message:
        return None
    for s in situations:
        m = re.search(s.pattern, client_message)
        if m:
            phrase = str(s.en) if lang == "en" else str(s.de_du if address == "du" else s.de_sie)
            if "{name}" in phrase:
                name = next((v for k, v in m.groupdict().items() if k.startswith("name") and v), None)
                if not name or _TITLE.match(name) or _GREETED.search(client_message[max(0, m.start() - 40):m.start()]):
                    continue  # "Guten Tag Herr Albrecht, unser größter Kunde …": the person greeted, no customer
                phrase = phrase.replace("{name}", name.strip())
            return phrase
    return None


def seed_of(*texts: str | None) -> int:
    h = hashlib.sha256("\x1f".join(t or "" for t in texts).encode("utf-8")).digest()
    return int.from_bytes(h[:4], "big")


class PhrasingPicker:
    def __init__(self, phrasings: Sequence[PhrasingLike], detects: Callable[[str, str, str], bool],
                 ranker: Ranker | None = None):
        """`detects(text, move, lang)` says whether the checker finds the move in a phrasing."""
        self._all = list(phrasings)
        self._by_id = {p.id: p for p in self._all}
        self._detects = detects
        self._ranker = ranker
        self._verified: dict[tuple[str, str], bool] = {}

    def phrasing(self, phrasing_id: str) -> PhrasingLike | None:
        return self._by_id.get(phrasing_id)

    def _makes(self, text: str, move: str, lang: str) -> bool:
        key = (f"{lang}:{move}", text)
        if key not in self._verified:
            self._verified[key] = self._detects(text, move, lang)
        return self._verified[key]

    def makes(self, text: str, move: str, lang: str) -> bool:
        """The checker finds the move in this text (cached)."""
        return self._makes(text, move, lang)

    def _works(self, p: PhrasingLike, text: str) -> bool:
        key = (p.id, text)
        if key not in self._verified:
            self._verified[key] = self._detects(text, p.move, p.lang)
        return self._verified[key]

    def candidates(self, move: str, lang: str, address: str, scenario: str | None) -> list[PhrasingLike]:
        want_scen = {"any", scenario or "unclear"}
        return [p for p in self._all if p.move == move and p.lang == lang and p.address == address
                and p.scenario in want_scen]

    def scores(self, moves: list[str], *, lang: str, address: str, scenario: str | None,
               query: str) -> dict[str, float]:
        """Retrieval scores of the phrasings for these moves (empty without a ranker or when it fails)."""
        if self._ranker is None or not moves:
            return {}
        try:
            return dict(self._ranker(moves, lang, address, scenario, query))
        except Exception:  # ranking is a nicety; the local order still works
            return {}

    def pick(self, move: str, *, lang: str, address: str, scenario: str | None, situation: str | None,
             scores: dict[str, float], seed: int, registers: set[str] | None = None, after_call: bool = False,
             avoid: dict[str, set[str]] | None = None, crisis_ok: bool = True,
             max_words: int | None = None, is_crisis: Callable[[str], bool] | None = None,
             present: set[str] | None = None, tones: set[str] | None = None,
             fits_context: Callable[[str], bool] | None = None, shortest: int = 0,
             when: str | None = None, event: str | None = None, request: str | None = None,
             _widen: bool = False) -> Choice | None:
        """A phrasing for the move that fits the draft's register, does not open like its neighbours, repeats
        no marker word the letter already has, names no crisis the client did not describe; chosen by seed
        among the fitting ones (variety), the same for the same input. ``request`` is what the client asks for
        (``coach.rewrite.events.request_for``): a phrasing keyed to requests is used only for one of them, and
        one keyed to this request is preferred ("verschieben" gets a new date, not "eine Pause")."""
        from coach.rewrite.events import proxy_of, weight_of

        carriers = (event, situation, request)  # the event's words, or the request, carry its weight and the writer
        weight = next((w for w in map(weight_of, carriers) if w is not None), None)
        proxy = next((x for x in map(proxy_of, carriers) if x is not None), None)
        pool = self.candidates(move, lang, address, scenario)
        if weight == "routine":  # a budget freeze: the calm lines written for it, and those for the client's request
            pool += [p for p in self.candidates(move, lang, address, "unclear") if p not in pool]
            calm = [p for p in pool if "routine" in tuple(getattr(p, "weights", ()) or ())
                    or (request and request in tuple(getattr(p, "requests", ()) or ()))]
            if calm and not _widen:  # the calm lines first; only when none fits, any line that is not a crisis
                args = {k: v for k, v in locals().items() if k in _PICK_ARGS}
                return self._pick_from(calm, move, {**args, "weight": weight, "proxy": proxy}) \
                    or self.pick(move, **args, _widen=True)
        args = {k: v for k, v in locals().items() if k in _PICK_ARGS}
        return self._pick_from(pool, move, {**args, "weight": weight, "proxy": proxy})

    def _pick_from(self, pool: list[PhrasingLike], move: str, args: dict[str, Any]) -> Choice | None:
        """`pick` among these phrasings."""
        lang, scenario, situation, scores, seed = (args[k] for k in ("lang", "scenario", "situation", "scores", "seed"))
        registers, after_call, avoid, crisis_ok = (args[k] for k in ("registers", "after_call", "avoid", "crisis_ok"))
        max_words, is_crisis, present, tones = (args[k] for k in ("max_words", "is_crisis", "present", "tones"))
        fits_context, shortest, when, event, request = (args[k] for k in ("fits_context", "shortest", "when", "event",
                                                                           "request"))
        weight, proxy = args["weight"], args["proxy"]
        if not pool:
            return None
        avoid = avoid or {}
        openings = avoid.get("openings", set())
        markers = avoid.get("markers", set())
        if is_crisis is None:
            from coach.rewrite.followups import style

            is_crisis = style(lang).is_crisis
        exact = scenario or "unclear"

        def fill(t: str) -> str:
            t = _filled(t, situation, event, proxy)
            return t.replace(WHEN, when) if when and WHEN in t else t

        def fits(p: PhrasingLike, text: str, strict: int) -> bool:
            """strict 3: register, openings, marker words, length; 2: without length; 1: register only."""
            if SLOT in p.text and not situation:
                return False
            if EVENT_SLOT in p.text and not event:
                return False  # no event named in the client's mail: no phrasing that names one
            if PLAN_SLOT in p.text and not getattr(event, "plan", None):
                return False  # the event says nothing a plan would be about: no phrasing that needs it
            if not _for_request(p, request):
                return False
            if not weight_fits(p, weight) or not proxy_fits(p, proxy):
                return False
            if weight == "routine" and is_crisis(text):
                return False  # no crisis wording for a routine cut, whatever the scenario
            if (WHEN in p.text) != bool(when):
                return False  # a line for the draft's own date only when it had one, and then only such a line
            if not crisis_ok and is_crisis(text):
                return False
            if strict >= 1 and registers and not registers & set(getattr(p, "registers", ("letter", "mail"))):
                return False
            if strict >= 1 and bool(getattr(p, "after_call", False)) != after_call:
                return False
            if strict >= 1 and tones and getattr(p, "tone", "") not in tones:
                return False
            if strict >= 1 and fits_context is not None and not fits_context(text):
                return False
            first = re.findall(r"\w+", text.lower())[:1]
            if strict >= 2 and first and first[0] in openings:
                return False
            if strict >= 2 and markers and any(m in text.lower() for m in markers):
                return False
            if strict >= 3 and max_words is not None and _words(text) > max(max_words, 8) + (6 if _slotted(p.text) else 0):
                return False
            if strict >= 2 and present and any(m != move and self._makes(text, m, lang) for m in present):
                return False  # it would make a move the letter already makes ("After a blow like this" + empathy)
            return True

        def key(p: PhrasingLike) -> tuple[float, str]:
            bonus = 0.2 if _slotted(p.text) else 0.0
            bonus += 0.1 if p.scenario == exact else 0.0
            return (-(scores.get(p.id, 0.0) + bonus), p.id)

        ranked = sorted(pool, key=key)
        if shortest:  # a line under `shortest` words that fits register and context, not opening alike if possible
            def opens_apart(t: str) -> bool:
                return (re.findall(r"\w+", t.lower())[:1] or [""])[0] not in openings

            for level, apart in ((2, True),):  # never at the price of "danke … Danke" or alike openings
                fitting = [(p, fill(p.text)) for p in ranked]
                fitting = [(p, t) for p, t in fitting if _words(t) < shortest and fits(p, t, level)
                           and (opens_apart(t) or not apart) and self._works(p, t)]
                fitting = _suited_first(_keyed_first(fitting, request), weight, proxy)
                if fitting:
                    least = min(_words(t) for _, t in fitting)
                    near = [u for u in fitting if _words(u[1]) <= least + 1]
                    p, text = near[seed % len(near)]
                    return Choice(id=p.id, move=p.move, text=text, score=scores.get(p.id, 0.0))
            return None
        # a line keyed to the client's request, or one that says what the plan after their event is about (that fits
        # any request but an insolvency already filed)
        keyed = [p for p in ranked if request and (request in tuple(getattr(p, "requests", ()) or ())
                                                   or (PLAN_SLOT in p.text and request != "filed"))]
        # a line keyed to the client's request first (at the two strict levels), then any that fits
        for candidates, levels in ((keyed, (3, 2)), (ranked, (3, 2, 1, 0))):
            for strict in levels if candidates else ():
                usable: list[tuple[PhrasingLike, str]] = []
                for p in candidates:
                    text = fill(p.text)
                    if fits(p, text, strict) and self._works(p, text):
                        usable.append((p, text))
                # at any strictness: no word the neighbours have ("danke … Danke"), then no alike opening
                fresh = [u for u in usable if not any(m in u[1].lower() for m in markers)]
                usable = fresh or usable
                other = [u for u in usable if (re.findall(r"\w+", u[1].lower())[:1] or [""])[0] not in openings]
                usable = other or usable
                if usable and max_words is not None and strict <= 2:
                    shortest = min(_words(t) for _, t in usable)
                    usable = [u for u in usable if _words(u[1]) <= shortest + 2]  # a short draft gets short lines
                usable = _keyed_first(usable, request)
                if usable:
                    # a line written for this weight of event or for a writer who wrote for the client first, then
                    # a phrasing that names the client's event
                    usable = _suited_first(usable, weight, proxy)
                    slotted = [u for u in usable if _slotted(u[0].text)]
                    pool_ = slotted or usable
                    p, text = pool_[seed % len(pool_)]
                    return Choice(id=p.id, move=p.move, text=text, score=scores.get(p.id, 0.0))
        return None


def _for_request(p: PhrasingLike, request: str | None) -> bool:
    """A phrasing keyed to requests ("postpone", "end" …) fits only a client who asks for one of them."""
    keyed = tuple(getattr(p, "requests", ()) or ())
    return not keyed or request in keyed


_PICK_ARGS = frozenset({"lang", "address", "scenario", "situation", "scores", "seed", "registers", "after_call", "avoid",
                        "crisis_ok", "max_words", "is_crisis", "present", "tones", "fits_context", "shortest", "when",
                        "event", "request"})


def _suited_first(usable: list[tuple[Any, str]], weight: str | None, proxy: str | None) -> list[tuple[Any, str]]:
    """The phrasings written for this event's weight (`weights`) or for a proxy writer when there are any, else all."""
    if proxy is not None:
        written = [u for u in usable if getattr(u[0], "proxy", False)]
        if written:
            return written
    if weight is not None:
        written = [u for u in usable if weight in tuple(getattr(u[0], "weights", ()) or ())]
        if written:
            return written
    return usable


def _keyed_first(usable: list[tuple[Any, str]], request: str | None) -> list[tuple[Any, str]]:
    """The phrasings keyed to this request when there are any, else all."""
    if not request:
        return usable
    keyed = [u for u in usable if request in tuple(getattr(u[0], "requests", ()) or ())
             or (PLAN_SLOT in u[0].text and request != "filed")]
    return keyed or usable


def situation_query(client_message: str | None, draft: str, limit: int = 160) -> str:
    """A short retrieval query: the client's own words (greeting and signature left out), else the draft's.

    Embedding time grows with the query's length; the first lines of the client's mail say most.
    """
    from coach.mail import split_mail
    from coach.normalize import normalize

    for text in (client_message, draft):
        if text and text.strip():
            norm = normalize(text)
            parts = split_mail(norm)
            body = norm[parts.body_start:parts.body_end].strip() or norm.strip()
            return " ".join(body.split())[:limit]
    return ""
