"""The rule checker: finds the method's moves and faults in a draft, offline, in well under a millisecond."""

from __future__ import annotations

from dataclasses import dataclass, field

from coach.context import detect_address, detect_scenario
from coach.errors import InputError
from coach.html_text import html_to_text, looks_like_html
from coach.inputs import validate_text
from coach.lang.detect import detect_language
from coach.lang.load import language_codes, languages
from coach.letter import Letter, parse_letter
from coach.mail import MailParts
from coach.models import MOVE_NAMES, CheckReport, Finding, Moves
from coach.normalize import normalize
from coach.rules.loader import CompiledRule, RuleSet, default_rules
from coach.rules.matcher import Hit, SentenceIndex, find_hits

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass
class Analysis:
    """Everything the checker worked out about one draft; the rewriters build on it."""

    draft: str
    normalized: str
    masked: str
    letter: Letter
    sentences: list[tuple[int, int]]
    language: str
    address: str
    scenario: str | None
    hits: list[Hit]
    moves: dict[str, bool]
    findings: list[Finding] = field(default_factory=list)
    score: int = 100

    @property
    def parts(self) -> MailParts:
        """The spans of greeting, sign-off, quotes, P.S. and footer (the letter's mail layer)."""
        assert self.letter.mail is not None
        return self.letter.mail

    def report(self) -> CheckReport:
        return CheckReport(
            language=self.language,  # type: ignore[arg-type]
            address=self.address,  # type: ignore[arg-type]
            scenario=self.scenario,  # type: ignore[arg-type]
            score=self.score,
            moves=Moves(**self.moves),
            findings=self.findings,
        )

    def sentence_moves(self) -> dict[tuple[int, int], set[str]]:
        """The moves found in each sentence of the letter's own text."""
        index = SentenceIndex(self.sentences)
        out: dict[tuple[int, int], set[str]] = {}
        for h in self.hits:
            sent = index.around(h.start)
            if sent is not None:
                out.setdefault(sent, set()).add(h.rule.rule.move)
        return out


class Checker:
    def __init__(self, rules: RuleSet | None = None, *, rules_only: bool | None = None):
        self.rules = rules or default_rules()
        self.rules_only = rules_only  # None: COACH_RULES_ONLY decides (the semantic layer is on by default)
        self._semantic: object = None

    def semantic_layer(self):  # type: ignore[no-untyped-def]
        """The semantic layer beside the rules (coach.semantic), loaded on first use; None when off."""
        from coach.semantic.combine import load_layer, rules_only_by_default

        if self.rules_only or (self.rules_only is None and rules_only_by_default()):
            return None
        if self._semantic is None:
            self._semantic = load_layer(self.rules) or False
        return self._semantic or None

    def check(self, draft: str, client_message: str | None = None, lang: str | None = None, *,
              own: bool = False, rules_only: bool = False) -> CheckReport:
        return self.analyse(draft, client_message=client_message, lang=lang, own=own, rules_only=rules_only).report()

    def analyse(self, draft: str, client_message: str | None = None, lang: str | None = None, *,
                own: bool = False, rules_only: bool = False) -> Analysis:
        """`own=True` checks coach's own text (a rewrite): the input size limit does not apply to it.
        `rules_only=True` leaves the semantic layer out (the sub-millisecond path)."""
        if not own:
            draft = validate_text(draft, what="draft")
        elif not isinstance(draft, str) or not draft.strip():
            raise InputError("the rewrite is empty")
        if looks_like_html(draft):
            draft = validate_text(html_to_text(draft), what="draft")  # spans refer to the text shown
        if client_message is not None:
            client_message = validate_text(client_message, what="client message", allow_empty=True)
            if looks_like_html(client_message):
                client_message = html_to_text(client_message)
            if not client_message.strip():
                client_message = None
        if lang is not None and lang not in language_codes():
            raise InputError(f"unsupported language '{lang}': use {' or '.join(language_codes())}")

        letter = parse_letter(draft)  # the one parse of the draft; rewrite, redaction and verification share it
        normalized, masked, sentences, parts = letter.normalized, letter.masked, letter.spans, letter.mail
        assert parts is not None
        language = lang or detect_language(masked) or detect_language(normalized)
        if language is None and client_message:
            language = detect_language(normalize(client_message))
        if language is None:
            specs = languages().values()
            raise InputError(
                f"coach checks drafts in {' and '.join(s.name for s in specs)}, and this one looks like none of "
                f"them; pass {' or '.join('--lang ' + s.code for s in specs)} to check it anyway"
            )
        index = SentenceIndex(sentences)
        rules = self.rules.for_language(language)
        hits = find_hits(masked, index, rules, literals=self.rules.literal_index(language))
        greeting = normalized[parts.greeting[0]:parts.greeting[1]] if parts.greeting else None
        address = detect_address(masked, sentences, greeting, lang=language)
        scenario = detect_scenario(client_message, self.rules)
        semantic = None if rules_only else self.semantic_layer()
        if semantic is not None:
            hits = semantic.apply(masked, sentences, hits, language, address)
            scenario = semantic.scenario(client_message, scenario)

        fired = {h.rule.rule.move for h in hits}
        moves = {m: m in fired for m in MOVE_NAMES}
        analysis = Analysis(
            draft=draft, normalized=normalized, masked=masked, letter=letter, sentences=sentences,
            language=language, address=address, scenario=scenario, hits=hits, moves=moves,
        )
        self._findings(analysis, rules, fired)
        return analysis

    def _findings(self, a: Analysis, rules: tuple[CompiledRule, ...], fired: set[str]) -> None:
        findings: list[tuple[Finding, int]] = []
        for h in a.hits:
            r = h.rule.rule
            findings.append((self._finding(r.id, r.move, r.severity, h.start, h.end, a.draft, r.message, r.suggestion,
                                           h.layer), r.penalty))
        for cr in rules:
            r = cr.rule
            if r.kind == "absence":
                if r.when_scenario is not None and a.scenario != r.when_scenario:
                    continue
                if r.move not in fired:
                    findings.append((self._finding(r.id, r.move, r.severity, 0, 0, a.draft, r.message, r.suggestion),
                                     r.penalty))
            elif r.kind == "address_mixed" and a.address == "mixed":
                findings.append((self._finding(r.id, r.move, r.severity, 0, 0, a.draft, r.message, r.suggestion),
                                 r.penalty))
        worst: dict[str, int] = {}
        for f, penalty in findings:
            worst[f.move] = max(worst.get(f.move, 0), penalty)
        a.score = max(0, min(100, 100 - sum(worst.values())))
        a.findings = sorted((f for f, _ in findings), key=lambda f: (f.start, _SEVERITY_ORDER[f.severity], f.rule))

    @staticmethod
    def _finding(rule: str, move: str, severity: str, start: int, end: int, draft: str, message: str,
                 suggestion: str, layer: str = "rule") -> Finding:
        return Finding.model_construct(
            rule=rule, move=move, severity=severity, start=start, end=end, text=draft[start:end],
            message=message, suggestion=suggestion, layer=layer,
        )
