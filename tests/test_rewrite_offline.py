"""The offline rewrite: a better reply from the rules and approved phrasings alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.api import Coach
from coach.evaluation import load_labeled
from coach.rewrite.followups import followups, is_followup
from coach.rewrite.quality import assess

COACH = Coach(offline=True)


def _needs_rewrite(row) -> bool:  # type: ignore[no-untyped-def]
    a = COACH.checker.analyse(row.draft, client_message=row.client_message)
    return not a.report().moves.is_good


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


@pytest.mark.slow  # 120 rewrites; `make test-slow` and CI run it (tests/data/rewrite_dev_drafts.jsonl stays in `make test`)
def test_every_own_draft_that_is_not_good_gets_a_rewrite_that_keeps_its_promises(own_drafts_file: Path) -> None:
    assert _assess_file(own_drafts_file) == []


@pytest.mark.slow  # 240 rewrites; `make test-slow` and CI run it (the own drafts above stay in `make test`)
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
    # the draft proposes a call: the plan offer builds on it instead of proposing a second one
    rest = text[question:text.index("Viele Grüße")]
    assert "telefonieren" not in rest and "Termin" not in rest
    assert r.changed and [c.kind for c in r.changes][:2] == ["removed", "removed"]


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


GOOD_DE = (
    "Hallo Herr Brandt,\n\nschade, dass Sie pausieren müssen, aber ich verstehe das gut.\n\n"
    "Lassen Sie uns gern nächste Woche telefonieren und gemeinsam einen Plan machen, wie es für Sie weitergehen kann. "
    "Über unsere Zusammenarbeit sprechen wir dann in Ruhe später.\n\nViele Grüße\nKarin Meier"
)


def test_a_good_draft_comes_back_byte_identical_with_a_send_as_it_is_notice() -> None:
    r = COACH.rewrite(GOOD_DE, "Wir müssen leider pausieren.")
    assert r.rewrite == GOOD_DE and r.changed is False and r.changes == []
    assert any(n.code == "sent_as_is" for n in r.notices)


def test_layout_survives_line_by_line_ps_footer_signature_and_quote() -> None:
    draft = ("Steve,\n\nNo worries, I've cancelled the rest of the sessions.\n\nTake care of yourself,\nRachel\n"
             "Rachel Moss Coaching\n+44 20 7946 0000\nhttps://rachelmoss.example/book\n\n"
             "P.S. The workbook is in the shared folder.\n\nSent from my iPhone\n\n"
             "On Mon, 3 Mar 2025 at 09:14, Steve <s@example.org> wrote:\n> We got a winding-up petition.")
    r = COACH.rewrite(draft, "We got a winding-up petition from a supplier, I have to stop the coaching.")
    lines = r.rewrite.split("\n")
    assert lines[0] == "Steve,"
    order = ["Take care of yourself,", "Rachel", "Rachel Moss Coaching", "+44 20 7946 0000",
             "https://rachelmoss.example/book", "P.S. The workbook is in the shared folder.", "Sent from my iPhone",
             "On Mon, 3 Mar 2025 at 09:14, Steve <s@example.org> wrote:", "> We got a winding-up petition."]
    assert [lines.index(x) for x in order] == sorted(lines.index(x) for x in order)
    closing = lines.index("Take care of yourself,")
    assert all(c.after not in "\n".join(lines[closing:]) for c in r.changes if c.kind == "added")
    assert "cancelled" not in r.rewrite
    assert "insolvency" in r.rewrite.lower()  # the help that fits a winding-up petition


def test_a_faulty_clause_goes_and_the_fine_fact_stays() -> None:
    draft = "Hi Jo,\n\nI hear you, that sounds really stressful. The contract runs until June, but I understand.\n\nBest,\nSam"
    r = COACH.rewrite(draft, "A key engineer quit, I need to pause.")
    assert "contract" not in r.rewrite
    assert "I hear you, that sounds really stressful." in r.rewrite


def test_a_cut_inside_an_open_subordinate_clause_takes_the_whole_sentence() -> None:
    draft = ("Sehr geehrter Herr Kühn,\n\nvielen Dank für Ihre Nachricht.\n\nBitte beachten Sie, dass die bereits "
             "reservierten, aber nicht genutzten acht Tage laut Vertrag mit der Schlussrechnung berechnet werden.\n\n"
             "Mit freundlichen Grüßen\nIna Frey")
    r = COACH.rewrite(draft, "Wir beenden den Beratungsvertrag.")
    assert "Bitte beachten Sie" not in r.rewrite and "reservierten" not in r.rewrite


def test_dangling_connector_goes_with_the_removed_sentence() -> None:
    draft = ("Hallo Frau Roth,\n\nich bestätige die Kündigung zum Monatsende. Aber lassen Sie uns vorher noch einmal "
             "telefonieren.\n\nViele Grüße\nJan Ott")
    r = COACH.rewrite(draft, "Wir kündigen, unser größter Kunde ist weg.")
    assert "Aber lassen" not in r.rewrite and "Lassen Sie uns vorher noch einmal telefonieren." in r.rewrite


def test_lowercase_chat_stays_lowercase_and_short() -> None:
    draft = "hey jonas,\noh nein, das ist ja furchtbar!!\nkein ding, ich storniere dann einfach die restlichen termine.\nlg lena"
    r = COACH.rewrite(draft, "Unser Laden ist abgebrannt, ich muss das Coaching absagen.")
    added = [c.after for c in r.changes if c.kind == "added"]
    assert added and all(a[0].islower() for a in added)
    assert len(r.rewrite.split()) - len(draft.split()) <= 30
    assert r.rewrite.rstrip().endswith("lg lena")


def test_unclear_mail_gets_no_crisis_wording() -> None:
    from coach.rewrite.followups import style

    r = COACH.rewrite("Hi Owen,\n\nFine, then we'll just stop after this month.\n\nBest,\nClaire",
                      "I'm not sure we can continue next month, things are a bit complicated.")
    assert r.after.scenario == "unclear"
    assert not any(style("en").is_crisis(c.after) for c in r.changes if c.kind == "added")


def test_apply_rejecting_every_change_gives_the_draft_back_and_rejecting_one_keeps_the_others() -> None:
    r = COACH.rewrite(DRAFT_DE, client_message=CLIENT_DE)
    back = COACH.apply(r, rejected=[c.id for c in r.changes])
    assert back.rewrite == DRAFT_DE and back.changed is False and back.changes == []
    first = r.changes[0]
    partial = COACH.apply(r, rejected=[first.id])
    assert first.before in partial.rewrite
    assert all(c.after in partial.rewrite for c in r.changes if c.kind == "added")
    assert len(partial.changes) == len(r.changes) - 1


def test_apply_refuses_unknown_change_ids() -> None:
    from coach.errors import InputError

    r = COACH.rewrite(DRAFT_DE, client_message=CLIENT_DE)
    with pytest.raises(InputError):
        COACH.apply(r, rejected=["c999"])


def test_a_draft_near_the_input_limit_rewrites() -> None:
    from coach.inputs import MAX_CHARS

    para = "Kein Problem, ich storniere alles. Das ist bedauerlich, ich verstehe es aber gut.\n\n"
    body = para * ((MAX_CHARS - 200) // len(para))
    draft = "Hallo Frau Roth,\n\n" + body + "Viele Grüße\nJan"
    draft = draft + " " * (MAX_CHARS - 3 - len(draft))
    assert MAX_CHARS - 10 < len(draft) <= MAX_CHARS
    r = COACH.rewrite(draft, CLIENT_DE)
    assert "storniere" not in r.rewrite and r.after.moves.is_good


def test_every_phrasing_is_detected_as_its_move_and_carries_no_fault() -> None:
    from coach.kb.loader import load_knowledge
    from coach.moves import FAULT_MOVES

    failures = []
    for p in load_knowledge().phrasings:
        text = p.text.replace("{situation}", "Der Verlust Ihres Kunden" if p.lang == "de" else "Losing your client")
        a = COACH.checker.analyse(text, lang=p.lang)
        found = any(h.rule.rule.move == p.move for h in a.hits)
        if not found or any(a.moves[m] for m in FAULT_MOVES):
            failures.append(p.id)
    assert failures == []


def test_dev_rewrites_keep_the_measured_promises() -> None:
    from coach.rewrite.quality import load_rows, measure

    out = measure(load_rows(Path(__file__).parent / "data" / "rewrite_dev_drafts.jsonl"), COACH)
    assert out["layout_kept"] == 1.0
    assert out["good_unchanged"] == 1.0
    assert out["must_keep_kept"] == 1.0
    assert out["no_move_added_twice"] >= 0.95
    assert out["crisis_for_unclear"] == 0
    assert out["flagged_fault_phrases_gone"] == 1.0  # every fault the checker finds is gone
    assert out["short_growth_ok"] >= 0.9
    assert out["openings_alike"] == 0
    assert out["top_phrasing_share"] <= 0.2  # no phrasing in more than a fifth of the rewrites


@pytest.mark.parametrize(("client", "draft", "wanted"), [
    ("Das Finanzamt fordert nach der Betriebsprüfung 80.000 € nach, seit Jahren kämpfen wir mit Schulden.",
     "Hallo Herr Albers,\n\nich bestätige die Kündigung.\n\nViele Grüße\nC. Weber", "Steuerberat"),
    ("Unser Vermieter hat uns die Räume fristlos gekündigt, die Räumungsklage läuft.",
     "Hallo Frau Hahn,\n\nich nehme Ihre Kündigung an.\n\nViele Grüße\nA. Yilmaz", "Mietrecht"),
    ("Seit Jahren haben wir Schulden, jetzt kommt das Inkassobüro.",
     "Hallo Herr Krause,\n\nich bestätige die Kündigung.\n\nViele Grüße\nM. Becker", "Schuldnerberatung"),
    ("A creditor filed a winding-up petition against us; our debts go back years.",
     "Hi Dave,\n\nNo problem, I've cancelled everything.\n\nBest,\nMark", "insolvency"),
    ("Our landlord served an eviction notice and we are behind on rent arrears for months.",
     "Hi Maya,\n\nNo problem, I've cancelled everything.\n\nBest,\nRuth", "tenancy"),
])
def test_the_help_pointed_to_fits_the_trouble(client: str, draft: str, wanted: str) -> None:
    r = COACH.rewrite(draft, client)
    assert wanted.lower() in r.rewrite.lower()
    assert "Steuerberat" not in r.rewrite or wanted == "Steuerberat"


def test_a_customer_going_bust_is_no_reason_to_send_the_client_to_an_insolvency_adviser() -> None:
    r = COACH.rewrite("Hello Kevin,\n\nJust so you know, the deposit is non-refundable.\n\nBest regards,\nRuth",
                      "Our main client went into administration, so we need to put the workshops on hold.")
    assert "insolvency" not in r.rewrite.lower()


def test_changes_give_their_reason_in_the_drafts_language() -> None:
    r = COACH.rewrite(DRAFT_DE, client_message=CLIENT_DE)
    assert all(c.why for c in r.changes)
    assert any(c.why.startswith("Entfernt") for c in r.changes if c.kind == "removed")
    assert any(c.why.startswith("Ergänzt") for c in r.changes if c.kind == "added")
    assert all(c.sources for c in r.changes if c.kind == "added")


GREETINGS = ["Hallo Frau Roth,", "Steve,", "Hoi Andrea", "Sehr geehrter Herr Albers,", "Hi Tom,", ""]
BODIES = [
    "Kein Problem, ich habe alle Termine storniert.", "Das tut mir sehr leid.", "Ich melde mich im Januar wieder.",
    "No worries, I've cancelled the rest.", "That's a real blow, I'm sorry.", "You should have told me earlier.",
    "Die Stornogebühr von 30 % wird fällig.", "Passt Ihnen ein Telefonat am Montag?", "Echt jetzt?",
]
CLOSINGS = ["Viele Grüße\nJan Ott\nTel. +49 30 1234567\nwww.ott.de", "Take care of yourself,\nRachel", "Drück dich\nSabine",
            "LG Mia", "Best,\nMark\n--\nMark Hill | Coaching\nhttps://calendly.com/mhill", ""]
TAILS = ["", "\n\nP.S. Die Unterlagen sind unterwegs.", "\n\nSent from my iPhone",
         "\n\nAm 3. März 2025 um 10:00 schrieb Eva <e@x.de>:\n> Wir müssen leider absagen."]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(GREETINGS), st.lists(st.sampled_from(BODIES), min_size=1, max_size=4),
       st.sampled_from(CLOSINGS), st.sampled_from(TAILS))
def test_layout_lines_survive_in_place_and_nothing_is_added_after_the_closing(
        greeting: str, body: list[str], closing: str, tail: str) -> None:
    from coach.errors import InputError
    from coach.rewrite.quality import _layout_in_place

    draft = "\n\n".join(x for x in (greeting, " ".join(body), closing) if x) + tail
    try:
        a = COACH.checker.analyse(draft, client_message="Wir müssen das Coaching leider absagen.")
    except InputError:
        return
    r = COACH.rewrite(draft, client_message="Wir müssen das Coaching leider absagen.")
    assert _layout_in_place(a, r.rewrite), r.rewrite
    closing_part = a.letter.part("closing") or a.letter.part("signature")
    if closing_part is not None:
        after_closing = r.rewrite[r.rewrite.rindex(closing_part.raw):]
        assert not any(c.after and c.after in after_closing for c in r.changes if c.kind == "added"), r.rewrite


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(GREETINGS), st.lists(st.sampled_from(BODIES), min_size=1, max_size=4),
       st.sampled_from(CLOSINGS), st.data())
def test_apply_takes_back_any_subset_of_changes(greeting: str, body: list[str], closing: str, data) -> None:  # type: ignore[no-untyped-def]
    draft = "\n\n".join(x for x in (greeting, " ".join(body), closing) if x)
    r = COACH.rewrite(draft, client_message="Wir müssen das Coaching leider absagen.")
    rejected = data.draw(st.lists(st.sampled_from([c.id for c in r.changes]), unique=True)) if r.changes else []
    partial = COACH.apply(r, rejected=rejected)
    kept_added = [c.after for c in r.changes if c.kind == "added" and c.id not in rejected]
    assert all(a in partial.rewrite for a in kept_added)
    assert all(c.before in partial.rewrite for c in r.changes if c.kind == "removed" and c.id in rejected)
    assert COACH.apply(r, rejected=[c.id for c in r.changes]).rewrite == draft


def test_taking_back_every_addition_of_a_rewrite_that_removed_everything_leaves_an_empty_letter() -> None:
    r = COACH.rewrite("Kein Problem, ich habe alle Termine storniert.", client_message="Wir müssen das Coaching absagen.")
    partial = COACH.apply(r, rejected=[c.id for c in r.changes if c.kind == "added"])
    assert partial.rewrite.strip() == "" and not any(partial.after.moves.model_dump().values())
    assert COACH.apply(r, rejected=[c.id for c in r.changes]).rewrite == "Kein Problem, ich habe alle Termine storniert."


# ---------------------------------------------------------------- issue 13: true to the client's situation, no stacking
def _rw(draft: str, client: str) -> str:
    return COACH.rewrite(draft, client_message=client, offline=True).rewrite


def test_a_death_gets_condolence_and_time_not_shock_wording_or_a_plan_meeting_this_week() -> None:
    out = _rw("Sehr geehrter Herr Ostermann,\n\nhiermit bestätige ich die Absage der Strategieklausur am 24. April.\n\n"
              "Mit freundlichen Grüßen\nMaria Leitner",
              "Sehr geehrte Frau Leitner,\nunser Mitinhaber ist am Dienstag tödlich verunglückt. Wir müssen die "
              "Strategieklausur absagen.\nMit freundlichen Grüßen\nHarald Ostermann")
    assert "Beileid" in out and "Schock" not in out and "diese Woche" not in out


def test_a_burnout_gets_care_and_the_closing_wish_stays() -> None:
    out = _rw("Hallo Sven,\noh nein, das tut mir wirklich leid.\nAber mal ehrlich, ich hab dir im Januar schon gesagt, "
              "dass du zu viel machst. Das war jetzt leider absehbar.\nWerd bald gesund!\nBettina",
              "Hallo Bettina, ich bin zusammengeklappt, Burnout sagt der Arzt, sechs Wochen krankgeschrieben. "
              "Das Coaching muss ich aussetzen. Sven")
    assert "Werd bald gesund!" in out and "Ich nehm mir gern eine Stunde" not in out
    assert out.rstrip().endswith("Werd bald gesund!\nBettina")


def test_the_event_is_named_as_the_client_told_it() -> None:
    fire = _rw("Hi Alice,\n\nNo problem, I've cancelled the shoot.\n\nAll the best,\nJoe",
               "Hi Joe,\nA fire at our supplier has wiped out our stock for the season. We have to cancel the shoot.\nAlice")
    assert "fire at your business" not in fire
    contract = _rw("Greta, ok, cancelled.\nLeon",
                   "Hi Leon, the hospital is closing our unit, so the contract we depend on is gone from next month. "
                   "I need to cancel the business plan project. Greta")
    assert "health news" not in contract


def test_new_text_goes_before_a_one_line_chats_closing_wish_and_name() -> None:
    out = _rw("Hey Dominik, das tut mir echt leid, das klingt nach einer schweren Zeit. Ich hab dein Abo gekündigt, "
              "ab Mai wird nichts mehr abgebucht. Pass auf dich auf und alles Gute! Rico",
              "Hey Rico, seit 2023 komm ich mit den Kreditraten nicht hinterher und jetzt hat die Bank gekündigt. "
              "Ich muss das Coaching beenden. Dominik")
    assert out.rstrip().endswith("Pass auf dich auf und alles Gute! Rico")
    assert "Schuldnerberatung" in out and "Finanzierungsberatung" not in out


def test_a_kept_fragment_gets_a_full_stop_before_new_text_and_a_lower_case_chat_stays_lower_case() -> None:
    out = _rw("wow. na super timing 🙄 ok, verschoben. sag bescheid wenn ihr wieder sortiert seid",
              "hi paul, unser CTO ist heute raus. wir müssen das architecture review verschieben. mira")
    assert "sortiert seid." in out
    added = out.split("sortiert seid.", 1)[1]
    assert added.strip() and added == added.lower()


def test_nothing_is_put_between_a_call_and_the_sentence_that_leans_on_it() -> None:
    out = _rw("Sehr geehrte Frau Reinhardt,\n\ndas tut mir unendlich leid.\n\nWenn es Ihnen hilft, telefonieren wir "
              "eine halbe Stunde mit Herrn Kunz und legen gemeinsam fest, was im Betrieb ohne Sie weiterlaufen kann. "
              "Sie müssen dafür nichts vorbereiten.\n\nMit freundlichen Grüßen\nThomas Amann",
              "Sehr geehrter Herr Amann,\nunser Sohn liegt auf der Intensivstation. Wir müssen das Projekt stoppen.\n"
              "Mit freundlichen Grüßen\nClaudia Reinhardt")
    assert "weiterlaufen kann. Sie müssen dafür nichts vorbereiten." in out


def test_no_second_plan_offer_beside_a_meeting_with_its_own_agenda() -> None:
    out = _rw("Hey Rafael,\nwas für eine Scheiße, das tut mir echt leid.\nMagst du Montag vorbeikommen? Zwei Stunden, "
              "wir machen zusammen eine Liste, was jetzt zuerst kommt: Bank, Anwalt, Kunden informieren.\nSina",
              "Hey Sina, mein Geschäftspartner ist mit der Kasse abgehauen. Ich muss das Branding-Projekt abblasen. Rafael")
    assert out.count("Plan") == 0 and "Magst du Montag vorbeikommen? Zwei Stunden" in out


@pytest.mark.parametrize(("client", "help_word"), [
    ("Hi Gwen, I need to cancel. I haven't filed accounts for two years and Companies House is threatening to "
     "strike us off. Dan", "accountant"),
    ("Hi Judith, I have to pull out. The firm's been losing money for years and the bank wants a restructuring "
     "plan by June. Peter", "restructuring adviser"),
])
def test_the_referral_fits_the_trouble(client: str, help_word: str) -> None:
    out = _rw("Hi, sorry to hear that.\nBest", client)
    assert help_word in out


def test_a_draft_opening_with_the_clients_name_keeps_the_name_first() -> None:
    out = _rw("Greta, let's hold off on cancelling. We can talk about the project in a couple of weeks.\nLeon",
              "Hi Leon, the hospital is closing our unit, so the contract we depend on is gone from next month. "
              "I need to cancel the business plan project. Greta")
    assert out.startswith("Greta, ") and ". Greta," not in out


def test_a_parting_exclamation_stays_the_last_line_of_the_body() -> None:
    for draft in ("Hi Jana,\n\nkein Problem, ich sage den Workshop ab.\n\nHalt die Ohren steif!\n\nLG\nTim",
                  "Hi Jana,\n\nokay. Ich sage den Workshop ab, die Rechnung kommt trotzdem.\n\nAlles Gute fürs Aufräumen!\n\nLG\nTim"):
        # ("Bis Donnerstag, 17 Uhr!" keeps a date beside the added deferral: it goes, tests/test_rewrite_structure.py)
        r = COACH.rewrite(draft, "Unser Lager ist abgebrannt, wir müssen den Workshop absagen.")
        body = r.rewrite.split("\n\nLG")[0]
        last = draft.split("\n\n")[2]
        assert body.endswith(last) and any(c.kind == "added" for c in r.changes)


def test_a_fee_ps_after_the_name_goes_without_leaving_blank_lines() -> None:
    draft = ("Hi Jess,\n\nI'm so sorry about your mom.\n\nTake care,\nTom\n\n"
             "P.S. The retainer has a 30-day notice clause, so the March invoice still goes out.")
    r = COACH.rewrite(draft, "My mom is in hospital, we need to pause March.")
    assert "notice clause" not in r.rewrite and r.rewrite.endswith("Take care,\nTom")


def test_a_sentence_only_the_model_reads_as_acceptance_goes_unless_the_draft_already_defers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The rewrite is more careful than the check ([move.*] remove): an unreported sentence the model scores as
    acceptance is not left beside the new offer; a draft that leaves the decision open itself keeps it."""
    layer = COACH.checker.semantic_layer()
    doubtful = "Mal sehen, wie es im Herbst bei euch aussieht."
    real = layer.sentence_probs

    def probs(text, sentences):  # type: ignore[no-untyped-def]
        scored, out = real(text, sentences)
        for s in scored:
            if text[s[0]:s[1]] == doubtful:
                out[s] = {**{m: 0.0 for m in out[s]}, "accepts_cancellation": 0.9}
        return scored, out

    monkeypatch.setattr(layer, "sentence_probs", probs)
    client = "Unser Hauptinvestor ist abgesprungen, wir müssen das Projekt stoppen."
    plain = COACH.rewrite(f"Hallo Mara,\n\ndas tut mir leid. {doubtful}\n\nViele Grüße\nOla", client)
    assert doubtful not in plain.rewrite and any(c.before == doubtful for c in plain.changes if c.kind == "removed")
    assert not COACH.check(f"Hallo Mara,\n\ndas tut mir leid. {doubtful}\n\nViele Grüße\nOla", client).moves.accepts_cancellation
    defers = COACH.rewrite(f"Hallo Mara,\n\ndas tut mir leid. {doubtful} Über unsere Zusammenarbeit reden wir "
                           "später in Ruhe.\n\nViele Grüße\nOla", client)
    assert doubtful in defers.rewrite


def test_a_short_last_line_above_the_name_stays_last() -> None:
    de = ("Sehr geehrte Frau Ott,\n\ndas tut mir sehr leid.\n\nIch storniere den Workshop.\n\n{closing}\nDr. Helga Baum",
          "Unser Geschäftsführer hatte einen Herzinfarkt, wir müssen den Workshop absagen.")
    en = ("Dear Ms Ott,\n\nI am so sorry.\n\nI have cancelled the workshop.\n\n{closing}\nDr. Helga Baum",
          "Our managing director had a heart attack; we have to cancel the workshop.")
    for closing, (template, client) in (("In Gedanken bei Ihnen", de), ("Mit stillem Gruß", de),
                                        ("Looking forward to hearing from you.", en),
                                        ("With every good wish for whatever comes next,", en)):
        r = COACH.rewrite(template.format(closing=closing), client)
        assert r.rewrite.rstrip().endswith(f"{closing}\nDr. Helga Baum") and any(c.kind == "added" for c in r.changes)


def test_a_signature_with_a_bracketed_phone_and_a_booking_domain_is_not_written_into() -> None:
    draft = ("Hi Pat,\n\nSure thing, I've released April 22.\n\nAlan\n\nAlan Brooks Training | Denver, CO\n(303) 555-0147\n"
             "Book time with me: calendly.com/alanbrooks")
    r = COACH.rewrite(draft, "We need to postpone the workshop on April 22.")
    assert r.rewrite.endswith("Alan\n\nAlan Brooks Training | Denver, CO\n(303) 555-0147\nBook time with me: calendly.com/alanbrooks")


def test_a_short_sentence_pointing_back_at_a_removed_fault_goes_with_it() -> None:
    draft = ("Hallo Mia,\n\noh nein, das tut mir wirklich leid. Die Rechnung für März kommt trotzdem. Ich schick dir "
             "das gleich per Mail.\n\nLG\nTom")
    r = COACH.rewrite(draft, "Unser Laden ist abgebrannt, ich muss das Coaching absagen.")
    assert "Rechnung" not in r.rewrite and "Ich schick dir das gleich" not in r.rewrite
    assert "das tut mir wirklich leid" in r.rewrite
