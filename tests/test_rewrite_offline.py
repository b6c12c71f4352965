"""The offline rewrite: a better reply from the rules and approved phrasings alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coach.api import Coach
from coach.evaluation import load_labeled
from coach.rewrite.followups import followups, is_followup
from coach.rewrite.quality import assess

COACH = Coach(offline=True)


def _needs_rewrite(row) -> bool:  # type: ignore[no-untyped-def]
    a = COACH.checker.analyse(row.draft, client_message=row.client_message)
    has_referral = any(h.rule.rule.move == "referral" for h in a.hits)
    return not a.report().moves.is_good or (a.scenario == "long_standing" and not has_referral)


def _assess_file(path: Path) -> list[tuple[str, list[str]]]:
    failures = []
    for row in load_labeled(path):
        if not _needs_rewrite(row):
            continue
        a = COACH.checker.analyse(row.draft, client_message=row.client_message)
        result = COACH.rewrite(row.draft, client_message=row.client_message)
        assert result.mode == "rules" and result.usage is None
        q = assess(a, result, COACH.checker)
        if not q.ok:
            failures.append((row.id, q.failures()))
    return failures


def test_every_own_draft_that_is_not_good_gets_a_rewrite_that_keeps_its_promises(own_drafts_file: Path) -> None:
    assert _assess_file(own_drafts_file) == []


@pytest.mark.parametrize("name", ["holdout_drafts.jsonl", "blind_drafts.jsonl", "blind2_drafts.jsonl", "blind3_drafts.jsonl", "blind4_de_drafts.jsonl", "blind4_en_drafts.jsonl"])
def test_every_later_labeled_draft_that_is_not_good_gets_a_rewrite_that_keeps_its_promises(name: str) -> None:
    assert _assess_file(Path(__file__).parent / "data" / name) == []


DRAFT_DE = (
    "Hallo Frau Roth,\n\n"
    "vielen Dank für Ihre Nachricht. Kein Problem, ich habe alle Termine storniert. Ich melde mich im Januar wieder.\n\n"
    "Passt Ihnen ein Telefonat am 14. März um 9:30 Uhr?\n\n"
    "Viele Grüße\nJan Ott\nTel. +49 30 1234567\n\n"
    "> Wir müssen das Projekt leider stoppen, unser größter Kunde ist abgesprungen."
)
CLIENT_DE = "Hallo Herr Ott, wir müssen das Projekt leider stoppen, unser größter Kunde ist abgesprungen. Grüße, Eva Roth"


def test_faults_and_their_follow_ups_go_the_rest_stays_verbatim_in_a_natural_order() -> None:
    r = COACH.rewrite(DRAFT_DE, client_message=CLIENT_DE)
    text = r.rewrite
    assert "storniert" not in text and "Januar" not in text
    assert text.startswith("Hallo Frau Roth,")
    assert "vielen Dank für Ihre Nachricht." in text
    assert "Passt Ihnen ein Telefonat am 14. März um 9:30 Uhr?" in text
    assert "Viele Grüße\nJan Ott\nTel. +49 30 1234567" in text
    assert "> Wir müssen das Projekt leider stoppen" in text
    assert r.after.moves.is_good and r.after.address == "Sie" and r.after.language == "de"
    # acknowledge, then defer and plan, then the question, then the sign-off
    ack = text.index("vielen Dank")
    question = text.index("Passt Ihnen")
    assert ack < question < text.index("Viele Grüße")
    assert any("Kunde" in s.text for s in r.sources if s.kind == "phrasing" and ".empathy." in s.id) or \
        "Kunden" in text
    assert any(n.code == "rewrite_removed" for n in r.notices)


def test_du_drafts_stay_du_and_english_stays_english() -> None:
    r = COACH.rewrite("Hi Tim,\n\nkein Problem, dann pausieren wir.\n\nLG Mia", "Wasserschaden im Laden, ich muss abbrechen.")
    assert r.after.address == "du" and r.after.moves.is_good
    r2 = COACH.rewrite("Hi Omar,\n\nOf course, no problem at all. I've moved the series to January.\n\nBest,\nRachel")
    assert r2.after.language == "en" and r2.after.moves.is_good and "January" not in r2.rewrite


def test_long_standing_case_gets_a_pointer_to_the_right_help() -> None:
    client = "Seit zwei Jahren haben wir Schulden, jetzt fordert das Finanzamt eine Nachzahlung. Ich kündige."
    r = COACH.rewrite("Sehr geehrter Herr Kühn,\n\nich bestätige die Kündigung.\n\nMit freundlichen Grüßen\nA. Berg", client)
    assert r.after.scenario == "long_standing"
    assert not any(f.rule == "de.referral.missing" for f in r.after.findings)


def test_same_input_gives_the_same_rewrite() -> None:
    a = COACH.rewrite(DRAFT_DE, client_message=CLIENT_DE)
    b = Coach(offline=True).rewrite(DRAFT_DE, client_message=CLIENT_DE)
    assert a.rewrite == b.rewrite and [s.id for s in a.sources] == [s.id for s in b.sources]


def test_phrasings_vary_from_draft_to_draft(own_drafts_file: Path) -> None:
    used: set[str] = set()
    for row in load_labeled(own_drafts_file)[:60]:
        used |= {s.id for s in COACH.rewrite(row.draft, client_message=row.client_message).sources}
    assert len(used) >= 15


def test_rewrite_json_shape_and_cli(tmp_path: Path) -> None:
    d = tmp_path / "d.txt"
    d.write_text("Hi Omar,\n\nNo problem, I've cancelled it.\n\nRachel\n", encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "coach", "rewrite", str(d), "--offline", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(data) == {"mode", "rewrite", "before", "after", "sources", "notices", "usage", "changed", "changes"}
    assert data["mode"] == "rules" and data["usage"] is None
    assert data["after"]["moves"]["accepts_cancellation"] is False
    assert all(s["kind"] in ("passage", "phrasing") for s in data["sources"])


def _followup_cases():
    for lang, (f, _) in followups().items():
        for ex in f.examples.bad:
            yield pytest.param(lang, ex, True, id=f"{f.id}-bad")
        for ex in f.examples.good:
            yield pytest.param(lang, ex, False, id=f"{f.id}-good")


@pytest.mark.parametrize(("lang", "sentence", "expected"), list(_followup_cases()))
def test_followup_examples(lang: str, sentence: str, expected: bool) -> None:
    assert is_followup(sentence if isinstance(sentence, str) else sentence.text, lang) is expected
