"""knowledge/rewrite.toml: sentences that go with a removed fault, and the style of the offline rewrite
(call and closer patterns, crisis wording, repeated markers, connectors, the reasons changes give)."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coach.errors import KnowledgeError
from coach.paths import knowledge_dir
from coach.rules.patterns import compile_any, lower_text
from coach.rules.schema import Examples


class LinePatterns(BaseModel):
    """One language's patterns of a line table in knowledge/rewrite.toml: `followup` (a short line that points back
    at a removed fault), `parting` (lines that end the body, "Ich denke an Sie.", "Keep me posted.": nothing is
    added after a run of them), `dangling` and `echo`."""

    model_config = ConfigDict(extra="forbid")

    id: str
    lang: str
    patterns: list[str] = Field(min_length=1)
    examples: Examples


class Override(BaseModel):
    """A sentence that overrides the client's request or still carries out the cancellation ("Lass uns einfach wie
    geplant weitermachen", "let's just keep our thursday call", "this month will be our last"): next to the
    deferral and plan the rewrite keeps or adds, it would contradict them, so it goes (`patterns`), or only the
    matched words go (`cuts`: "Let us keep the engagement running and use our session …")."""

    model_config = ConfigDict(extra="forbid")

    id: str
    lang: str
    kind: Literal["request", "end"] = "request"  # "end": carries out the end; its dates are never taken up
    patterns: list[str] = Field(default_factory=list)
    cuts: list[str] = Field(default_factory=list)
    # a farewell to a date ("Bis Donnerstag!", "See you at 9."): it goes unless the draft proposes that day itself
    dated: list[str] = Field(default_factory=list)  # patterns with a group named "day"
    dated_examples: dict[str, str] = Field(default_factory=dict)  # sentence -> the day
    dated_when: str = ""  # how the plan offer takes up that day ("am {day}"); "" = not at all
    examples: Examples
    cut_examples: dict[str, str] = Field(default_factory=dict)  # sentence -> what is left after the cut
    # the time a removed sentence kept ("am Donnerstag", "our session on 12 May"): the plan offer takes it up
    when: list[str] = Field(default_factory=list)  # patterns with a group named "when"
    when_examples: dict[str, str] = Field(default_factory=dict)  # sentence -> the time taken up


class Style(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calls: list[str] = Field(min_length=1)
    proposals: list[str] = Field(min_length=1)  # a call word only counts when the sentence proposes it
    closers: list[str] = Field(min_length=1)
    closers_examples: list[str] = Field(default_factory=list)  # each must match: a line that ends a chat ("Bye.")
    crisis: list[str] = Field(min_length=1)
    markers: list[str]
    connectors: list[str]
    subordinators: list[str]
    services: list[str] = Field(default_factory=list)
    helpers: list[str] = Field(default_factory=list)  # words naming outside help: a draft naming one gets no second
    # a fact the client keeps even when the acceptance beside it goes ("I'll refund the deposit", "die Anzahlung
    # erstatte ich"): the clause that carries it stays (patterns)
    facts: list[str] = Field(default_factory=list)
    facts_examples: list[str] = Field(default_factory=list)  # each must match
    # the draft's own words of understanding ("Selbstverständlich habe ich Verständnis", "I get that completely"):
    # no second understanding is added beside them
    understanding: list[str] = Field(default_factory=list)
    understanding_examples: list[str] = Field(default_factory=list)  # each must match (a negated one must not)
    refers_back: list[str] = Field(default_factory=list)
    pause: list[str] = Field(default_factory=list)  # a client's mail asking for a pause or a postponement
    # a client's mail that keeps its reason for later ("Will explain later", "erkläre ich dir später"): no event to
    # be sorry about, whatever a weekday or a date made the scenario look like; each example must match
    no_reason: list[str] = Field(default_factory=list)
    no_reason_examples: list[str] = Field(default_factory=list)
    joint: list[str] = Field(default_factory=list)  # work done together ("wir machen zusammen eine Liste")  # a sentence leaning on the one before ("Sie müssen dafür …")


class Why(BaseModel):
    model_config = ConfigDict(extra="allow")  # one reason per move name (from knowledge/moves.toml)

    clause: str
    followup: str
    debris: str
    echo: str  # a bare "Understood." folded into the added understanding
    connector: str
    case: str
    fault_names: dict[str, str]


class Roles(BaseModel):
    """The part each move plays in the offline rewrite; the names come from knowledge/moves.toml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    acknowledge: str
    refer: str
    plan: str
    later: str
    accepts: str

    @model_validator(mode="after")
    def _known(self) -> Roles:
        from coach.moves import names

        unknown = [v for v in self.model_dump().values() if v not in names()]
        if unknown:
            raise ValueError(f"roles name unknown moves: {unknown}")
        return self


class RewriteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    followup: list[LinePatterns]
    override: list[Override] = Field(default_factory=list)
    parting: list[LinePatterns] = Field(default_factory=list)
    dangling: list[LinePatterns] = Field(default_factory=list)  # a cut sentence's piece that only announced the cut clause
    echo: list[LinePatterns] = Field(default_factory=list)  # a bare "Understood." the added understanding would echo
    filler: list[LinePatterns] = Field(default_factory=list)  # "naja.", "hm ok.": goes when its neighbours changed
    decision: list[LinePatterns] = Field(default_factory=list)  # "let me know how you'd like to proceed": not beside a deferral
    pushback: list[LinePatterns] = Field(default_factory=list)  # "ob wir wenigstens …": doubtful at a lower model bar
    settles: list[LinePatterns] = Field(default_factory=list)  # "dann war's das erstmal mit uns": not beside the added plan
    style: dict[str, Style]  # per language code; a language without its own falls back to English
    why: dict[str, Why]
    roles: Roles


def roles() -> Roles:
    return _file().roles


@cache
def _file() -> RewriteFile:
    path = knowledge_dir() / "rewrite.toml"
    try:
        return RewriteFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise KnowledgeError(f"cannot load {path.name}: {exc}") from None


def followups() -> dict[str, tuple[LinePatterns, re.Pattern[str]]]:
    return partings("followup")


@cache
def partings(table: str = "parting") -> dict[str, tuple[LinePatterns, re.Pattern[str]]]:
    """Per language: the entry and its compiled patterns of a table of knowledge/rewrite.toml ("followup",
    "parting", "dangling", "echo")."""
    out: dict[str, tuple[LinePatterns, re.Pattern[str]]] = {}
    for f in getattr(_file(), table):
        try:
            pattern = compile_any(f.patterns)
        except re.error as exc:
            raise KnowledgeError(f"rewrite.toml: {f.id}: invalid pattern: {exc}") from None
        assert pattern is not None
        out[f.lang] = (f, pattern)
    return out


def is_parting(sentence: str, lang: str) -> bool:
    """A wish, an open door or a last word that ends the body ("In Gedanken bei Ihnen", "Keep me posted.")."""
    entry = partings().get(lang)
    return bool(entry and entry[1].search(lower_text(sentence)))


def is_dangling(piece: str, lang: str) -> bool:
    """What is left of a cut sentence only announced the removed clause ("I do have to say")."""
    entry = partings("dangling").get(lang)
    return bool(entry and entry[1].search(lower_text(piece.strip())))


def is_echo(sentence: str, lang: str) -> bool:
    """A bare acknowledgment ("Understood.") that the added understanding would echo."""
    entry = partings("echo").get(lang)
    return bool(entry and entry[1].search(lower_text(sentence.strip())))


def is_filler(sentence: str, lang: str) -> bool:
    """A bare interjection ("naja.", "hm ok.") that carries nothing once its neighbours changed."""
    entry = partings("filler").get(lang)
    return bool(entry and entry[1].search(lower_text(sentence.strip())))


def asks_decision(sentence: str, lang: str) -> bool:
    """The line asks the client to decide ("Please let me know how you would like to proceed")."""
    entry = partings("decision").get(lang)
    return bool(entry and entry[1].search(lower_text(sentence)))


def pushes_back(sentence: str, lang: str) -> bool:
    """The line pushes back on the client's request or re-argues the decision ("ob wir wenigstens …", "at least")."""
    entry = partings("pushback").get(lang)
    return bool(entry and entry[1].search(lower_text(sentence)))


def settles(sentence: str, lang: str) -> bool:
    """The line settles the pause, a new date or the end ("dann war's das erstmal mit uns", "I've moved us to Q3"),
    or invites back only "once things calm down": beside the added plan offer it would contradict it."""
    entry = partings("settles").get(lang)
    return bool(entry and entry[1].search(lower_text(sentence)))


def is_followup(sentence: str, lang: str) -> bool:
    entry = followups().get(lang)
    return bool(entry and entry[1].search(lower_text(sentence)))


@cache
def overrides() -> dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None]]:
    """Per language: (sentence patterns, cut patterns) of knowledge/rewrite.toml's [[override]] entries."""
    pats: dict[str, list[str]] = {}
    cuts: dict[str, list[str]] = {}
    for o in _file().override:
        pats.setdefault(o.lang, []).extend(o.patterns)
        cuts.setdefault(o.lang, []).extend(o.cuts)
    out: dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None]] = {}
    for lang in set(pats) | set(cuts):
        try:
            out[lang] = (compile_any(pats.get(lang, [])) if pats.get(lang) else None,
                         re.compile("|".join(f"(?:{c})" for c in cuts[lang]), re.I) if cuts.get(lang) else None)
        except re.error as exc:
            raise KnowledgeError(f"rewrite.toml: override ({lang}): invalid pattern: {exc}") from None
    return out


@cache
def _when_patterns(lang: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for o in _file().override:
        if o.lang != lang:
            continue
        out.extend(_with_group(o.id, o.when, "when"))
    return tuple(out)


def _with_group(entry: str, patterns: list[str], group: str) -> list[re.Pattern[str]]:
    """Compile an override's `when`/`dated` patterns; each must name the group the rewrite reads."""
    out = []
    for text in patterns:
        try:
            pat = re.compile(text, re.I)
        except re.error as exc:
            raise KnowledgeError(f"rewrite.toml: {entry}: invalid {group} pattern: {exc}") from None
        if group not in pat.groupindex:
            raise KnowledgeError(f"rewrite.toml: {entry}: a pattern needs a group named '{group}'")
        out.append(pat)
    return out


@cache
def _override_tables(lang: str) -> tuple[re.Pattern[str] | None, tuple[re.Pattern[str], ...]]:
    """(patterns of the entries that carry out the end, the `dated` patterns) of one language."""
    ends: list[str] = []
    dated: list[re.Pattern[str]] = []
    for o in _file().override:
        if o.lang != lang:
            continue
        if o.kind == "end":
            ends.extend(o.patterns)
        dated.extend(_with_group(o.id, o.dated, "day"))
    try:
        return compile_any(ends), tuple(dated)
    except re.error as exc:
        raise KnowledgeError(f"rewrite.toml: override end ({lang}): invalid pattern: {exc}") from None


def ends_engagement(sentence: str, lang: str) -> bool:
    """The sentence carries out the end ("Die letzte Session wäre dann am 22.04.", "I've released the dates")."""
    pat = _override_tables(lang)[0]
    return bool(pat is not None and pat.search(lower_text(sentence)))


def dated_override(sentence: str, lang: str) -> str | None:
    """The day a farewell keeps ("Bis Donnerstag!" -> "Donnerstag"), or None."""
    for pat in _override_tables(lang)[1]:
        m = pat.search(sentence)
        if m:
            return m.group("day")
    return None


_WEEKDAY = re.compile(r"^(?:mon|tues|wednes|thurs|fri|satur|sun)day$|^tomorrow$|^(?:Montag|Dienstag|Mittwoch|Donnerstag|"
                      r"Freitag|Samstag|Sonntag)$", re.I)


def dated_when(sentence: str, lang: str) -> str | None:
    """The day of a farewell as the plan offer takes it up ("Bis Donnerstag, 17 Uhr!" -> "am Donnerstag")."""
    day = dated_override(sentence, lang)
    if not day or not _WEEKDAY.match(day):
        return None
    template = next((o.dated_when for o in _file().override if o.lang == lang and o.dated_when), "")
    if not template:
        return None
    day = day if day.lower() == "tomorrow" else day[:1].upper() + day[1:].lower()
    return template.format(day=day)


def when_of(sentence: str, lang: str) -> str | None:
    """The time an overriding sentence kept for a session ("am Donnerstag", "our thursday call"), if it names one;
    never a date the sentence releases or ends with ("die letzte Session am 22.04.", "Termine am 5. freigegeben")."""
    if ends_engagement(sentence, lang):
        return None
    for pat in _when_patterns(lang):
        m = pat.search(sentence)
        if m and m.group("when"):
            return m.group("when").strip()
    return None


def overrides_request(sentence: str, lang: str) -> bool:
    """The sentence overrides the client's request or carries out the cancellation (it goes as a whole)."""
    entry = overrides().get(lang)
    return bool(entry and entry[0] is not None and entry[0].search(lower_text(sentence)))


def cut_override(sentence: str, lang: str) -> str | None:
    """The sentence without its overriding words ("Let us keep the engagement running and use …" ->
    "Let us use …"), or None when nothing is to be cut."""
    entry = overrides().get(lang)
    if not entry or entry[1] is None:
        return None
    m = entry[1].search(sentence)
    if not m:
        return None
    out = (sentence[:m.start()] + sentence[m.end():]).strip()
    out = re.sub(r"\s{2,}", " ", out)
    return out[:1].upper() + out[1:] if out else None


class CompiledStyle:
    def __init__(self, s: Style, lang: str = "en"):
        self.raw = s
        self.lang = lang
        try:
            self._calls = re.compile("|".join(s.calls), re.I)
            self._proposals = re.compile("|".join(s.proposals), re.I)
            self.closers = re.compile("|".join(s.closers), re.I)
            self.refers_back = re.compile("|".join(s.refers_back), re.I) if s.refers_back else None
            self.joint = re.compile("|".join(s.joint), re.I) if s.joint else None
            self._pause = re.compile("|".join(s.pause), re.I) if s.pause else None
            self._no_reason = re.compile("|".join(s.no_reason), re.I) if s.no_reason else None
        except re.error as exc:
            raise KnowledgeError(f"rewrite.toml: invalid style pattern: {exc}") from None
        self.crisis = tuple(c.lower() for c in s.crisis)
        self.markers = tuple(m.lower() for m in s.markers)
        words = sorted(s.connectors, key=len, reverse=True)
        self.connector = re.compile(r"^(?:" + "|".join(re.escape(w) for w in words) + r")\b[,]?\s+", re.I)
        subs = sorted(s.subordinators, key=len, reverse=True)
        self.subordinator = re.compile(r"^\W*(?:" + "|".join(re.escape(w) for w in subs) + r")\b", re.I)
        # a subordinate clause opened after a comma ("Bitte beachten Sie, dass die …"): what follows completes it
        self.opens_clause = re.compile(r",\s*(?:" + "|".join(re.escape(w) for w in subs) + r")\b", re.I)

    def foreign_service(self, text: str, context: str) -> bool:
        """The phrasing names a kind of work ("Coaching") that the draft and client mail never mention."""
        low = text.lower()  # a word of its own ("Beratung", "Beratungstage"), not "Steuerberatung"
        return any(re.search(r"(?<![^\W\d_])" + re.escape(w), low) and w not in context for w in self.raw.services)

    def asks_pause(self, client_message: str | None) -> bool:
        """The client asks for a pause or a postponement ("pausieren", "on hold"), not for an end."""
        return bool(client_message and self._pause is not None and self._pause.search(client_message))

    def keeps_reason_back(self, client_message: str | None) -> bool:
        """The client says the reason comes later ("Will explain later"): they gave none yet."""
        return bool(client_message and self._no_reason is not None and self._no_reason.search(client_message))

    def parting(self, text: str) -> bool:
        """A line that ends the body (knowledge/rewrite.toml [[parting]])."""
        return is_parting(text, self.lang)

    def understands(self, text: str) -> bool:
        """The text already says it understands (not "I don't understand", "kann ich nicht nachvollziehen")."""
        if not self.raw.understanding:
            return False
        for m in re.finditer("|".join(f"(?:{u})" for u in self.raw.understanding), text, re.I):
            before = text[max(0, m.start() - 25):m.start()].lower()
            after = text[m.end():m.end() + 12].lower()
            if not re.search(r"\b(?:not|n't|don.t|never|nicht|kein\w*|nie)\b", before + " " + after):
                return True
        return False

    def states_fact(self, text: str) -> bool:
        """The clause carries a fact the client keeps (a refund, an invoice not sent)."""
        return bool(self.raw.facts) and bool(re.search("|".join(f"(?:{f})" for f in self.raw.facts), text, re.I))

    def names_helper(self, text: str) -> bool:
        """The text points to outside help already ("eine Anwältin für Mietrecht", "your accountant")."""
        low = text.lower()
        return any(h in low for h in self.raw.helpers)

    def proposes(self, text: str) -> bool:
        """The sentence proposes something ("Lass uns am Dienstag zwei Stunden blocken", "Shall we …?")."""
        return bool(self._proposals.search(text))

    def proposes_call(self, text: str) -> bool:
        """The sentence proposes a call or meeting ("Passt Ihnen ein Telefonat am Montag?", "Let's talk")."""
        return bool(self._calls.search(text) and self._proposals.search(text))

    def is_crisis(self, text: str) -> bool:
        low = text.lower()
        return any(c in low for c in self.crisis)

    def markers_in(self, text: str) -> set[str]:
        low = text.lower()
        return {m for m in self.markers if m in low}


@cache
def style(lang: str) -> CompiledStyle:
    styles = _file().style
    return CompiledStyle(styles.get(lang) or styles["en"], lang if lang in styles else "en")


def why(lang: str, key: str, **params: str) -> str:
    w = _file().why.get(lang) or _file().why["en"]
    text = getattr(w, key, None)
    if text is None:
        text = (w.model_extra or {}).get(key, "")
    return str(text).format(**params) if params else str(text)


def fault_name(lang: str, move_name: str) -> str:
    w = _file().why.get(lang) or _file().why["en"]
    return w.fault_names.get(move_name, move_name)
