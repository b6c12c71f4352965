"""Checking the model's reply before anyone sees it: moves, faults, language, facts, placeholders, content."""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.checker import Analysis, Checker
from coach.llm.content import check_content
from coach.llm.redact import Redaction
from coach.models import CheckReport
from coach.lang.load import language
from coach.moves import AID_MOVES, FAULT_MOVES, GOOD_MOVES, move

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_WORDY_FACTS = re.compile(
    r"\b(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|Monday|Tuesday|Wednesday|Thursday|Friday|"
    r"Saturday|Sunday|Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|January|"
    r"February|March|May|June|July|October|December)\b"
)


@dataclass
class Verdict:
    report: CheckReport
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _numbers(text: str) -> set[str]:
    return {n.rstrip(".,:") for n in _NUMBER.findall(text)}


def verify(reply: str, a: Analysis, checker: Checker, client_message: str | None, redaction: Redaction,
           instructions: str, *, keep: str, allowed: str = "") -> Verdict:
    """Check a reply (placeholders restored) against the analysis `a` of the original draft.

    `keep` is the text of the draft a rewrite must keep (greeting, fine sentences, sign-off): its facts
    must survive. `allowed` is grounding text (approved phrasings) whose words the reply may reuse.
    """
    if not reply.strip():
        raise ValueError("empty reply")
    report = checker.check(reply, client_message=client_message, lang=None)
    problems: list[str] = []
    for m in GOOD_MOVES:
        if not getattr(report.moves, m):
            problems.append(f"the reply must {move(m).instruction}")
    for m in FAULT_MOVES:
        if getattr(report.moves, m):
            problems.append(move(m).instruction)
    if report.language != a.language:
        problems.append(f"write in {language(a.language).name}, like the draft")
    if a.address in ("Sie", "du") and report.address != a.address:
        problems.append(f"address the client with \"{a.address}\" throughout, like the draft")
    if a.scenario == "long_standing":
        for aid in AID_MOVES:  # the help a consultant cannot give: pointed to in long-standing cases
            if any(f.rule.endswith(f"{aid}.missing") for f in report.findings):
                problems.append(move(aid).instruction)

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
    # placeholders the model made up ([NAME_7]) or left unrestorable
    stray = sorted(set(re.findall(r"\[[A-Z]+_\d+\]", reply)))
    if stray:
        problems.append("use only the placeholders of the draft: " + ", ".join(stray))
    problems += [p.text for p in check_content(reply, a.draft, client_message, a.language,
                                               instructions=instructions, allowed=allowed)]
    return Verdict(report, problems)
