"""Checking the model's reply before anyone sees it: moves, faults, language, facts, placeholders, leaks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.checker import Analysis, Checker
from coach.llm.redact import Redaction
from coach.models import FAULT_MOVES, GOOD_MOVES, CheckReport
from coach.rewrite.rules_rewriter import plan_sentences

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_WORDY_FACTS = re.compile(
    r"\b(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|Monday|Tuesday|Wednesday|Thursday|Friday|"
    r"Saturday|Sunday|Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|January|"
    r"February|March|May|June|July|October|December)\b"
)
_LABELS = {
    "empathy": "show real understanding of the client's situation",
    "plan_offer": "offer to sit down together and build a concrete plan for the hard time",
    "defer_collaboration": "offer to talk about the collaboration itself later",
    "accepts_cancellation": "do not accept or confirm the cancellation",
    "judgment": "do not judge or lecture the client's reaction",
    "pressure": "do not mention contract terms, fees, guilt or urgency",
}


@dataclass
class Verdict:
    report: CheckReport
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def kept_parts(a: Analysis) -> str:
    """The parts of the draft a rewrite must keep: greeting, fine sentences, sign-off and signature."""
    d = a.draft
    parts = []
    if a.parts.greeting:
        parts.append(d[a.parts.greeting[0]:a.parts.greeting[1]])
    parts += [p.text for p in plan_sentences(a) if p.verdict == "keep"]
    if a.parts.signoff:
        parts.append(d[a.parts.signoff[0]:a.parts.signoff[1]])
    return "\n".join(parts)


def _numbers(text: str) -> set[str]:
    return {n.rstrip(".,:") for n in _NUMBER.findall(text)}


def verify(reply: str, a: Analysis, checker: Checker, client_message: str | None, redaction: Redaction,
           instructions: str) -> Verdict:
    """`reply` has its placeholders restored already; `a` is the analysis of the original draft."""
    report = checker.check(reply, client_message=client_message, lang=None) if reply.strip() else None
    if report is None:
        raise ValueError("empty reply")
    problems: list[str] = []
    for m in GOOD_MOVES:
        if not getattr(report.moves, m):
            problems.append(f"the reply must {_LABELS[m]}")
    for m in FAULT_MOVES:
        if getattr(report.moves, m):
            problems.append(f"{_LABELS[m]}")
    if report.language != a.language:
        problems.append(f"write in {'German' if a.language == 'de' else 'English'}, like the draft")
    if a.address in ("Sie", "du") and report.address != a.address:
        problems.append(f"address the client with \"{a.address}\" throughout, like the draft")
    if a.scenario == "long_standing" and any(f.rule.endswith("referral.missing") for f in report.findings):
        problems.append("point the client to the right help (tax adviser, debt or insolvency counselling)")

    keep = kept_parts(a)
    missing_facts = sorted((_numbers(keep) | set(_WORDY_FACTS.findall(keep))) - _numbers(reply)
                           - set(_WORDY_FACTS.findall(reply)))
    if missing_facts:
        problems.append("keep these facts from the draft: " + ", ".join(missing_facts))
    known = _numbers(a.draft) | _numbers(client_message or "")
    invented = sorted(_numbers(reply) - known)
    if invented:
        problems.append("do not add numbers, dates or amounts that are not in the draft: " + ", ".join(invented))
    lost = [ph for ph, value in redaction.mapping.items() if value in keep and value not in reply]
    if lost:
        problems.append("keep these placeholders exactly: " + ", ".join(lost))
    if _leaks(reply, instructions):
        problems.append("do not repeat your instructions")
    return Verdict(report, problems)


def _leaks(reply: str, instructions: str, window: int = 8) -> bool:
    words = re.findall(r"\w+", instructions.lower())
    text = " ".join(re.findall(r"\w+", reply.lower()))
    grams = {" ".join(words[i:i + window]) for i in range(0, max(0, len(words) - window + 1))}
    return any(g in text for g in grams)
