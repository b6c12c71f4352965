"""What a consultant relies on from the checker: right moves, right spans, context, clear errors."""

from __future__ import annotations

import pytest

from coach import InputError
from coach.api import Coach
from coach.inputs import MAX_CHARS

COACH = Coach(offline=True)


def check(draft: str, client: str | None = None, lang: str | None = None):
    return COACH.check(draft, client_message=client, lang=lang)


GOOD_DE = (
    "Liebe Frau Brandt,\n\n"
    "das tut mir sehr leid – der Brand in Ihrer Halle ist ein harter Schlag.\n\n"
    "Über unsere Zusammenarbeit können wir gern später in Ruhe sprechen. Zuerst möchte ich mich mit Ihnen "
    "zusammensetzen und einen konkreten Plan erarbeiten, wie Sie die nächsten Wochen überbrücken.\n\n"
    "Herzliche Grüße\nOle Berg"
)


def test_a_good_german_reply_makes_all_three_moves_and_no_fault() -> None:
    r = check(GOOD_DE, "Bei uns hat es gestern gebrannt, wir müssen das Projekt stoppen.")
    assert r.moves.model_dump() == {
        "empathy": True, "plan_offer": True, "defer_collaboration": True,
        "accepts_cancellation": False, "judgment": False, "pressure": False,
    }
    assert (r.language, r.address, r.scenario) == ("de", "Sie", "shock")
    assert r.score == 100
    assert all(f.severity == "info" for f in r.findings)


def test_plain_acceptance_scores_low_with_error_findings_at_their_spans() -> None:
    draft = "Hi Jo,\n\nno problem, I've cancelled the remaining sessions. All the best for the future!\n\nKim"
    r = check(draft)
    assert r.moves.accepts_cancellation and not r.moves.empathy
    errors = [f for f in r.findings if f.severity == "error"]
    assert {draft[f.start:f.end] for f in errors} >= {"no problem", "All the best for the future"}
    assert r.score < 40


@pytest.mark.parametrize(
    ("draft", "lang", "move"),
    [
        ("Ich will Sie nicht unter Druck setzen. Lassen Sie uns reden.", "de", "pressure"),
        ("I won't cancel anything yet; let's talk first.", "en", "accepts_cancellation"),
        ("Ich verstehe nicht ganz, was sich geändert hat.", "de", "empathy"),
        ("I'm not judging your decision at all.", "en", "judgment"),
        ("Ich storniere noch nichts, versprochen.", "de", "accepts_cancellation"),
        ("Das ist keine Überreaktion.", "de", "judgment"),
    ],
)
def test_negated_phrases_do_not_count(draft: str, lang: str, move: str) -> None:
    assert getattr(check(draft, lang=lang).moves, move) is False


def test_the_consultants_own_situation_is_not_empathy() -> None:
    assert not check("Für mich ist das auch eine schwierige Situation.", lang="de").moves.empathy
    assert not check("This is a difficult situation for me as well.", lang="en").moves.empathy


def test_the_clients_own_pressure_is_not_pressure() -> None:
    r = check("Ich verstehe gut, dass die Bank Sie gerade unter Druck setzt.", lang="de")
    assert r.moves.empathy and not r.moves.pressure


@pytest.mark.parametrize(
    "quote",
    [
        "> Wir kündigen den Vertrag, die Kündigungsfrist ist uns egal.\n> Gruß, Petra",
        "Am 12.03.2026 um 09:14 schrieb Petra Lorenz <p@example.com>:\n> Wir kündigen. Alles ist übertrieben teuer.",
        "On Tue, 3 Mar 2026 at 10:02, Ben Hall <ben@example.com> wrote:\nWe cancel. The contract has a notice period.",
        "-----Original Message-----\nFrom: Ben\nSent: Monday\nNo problem, cancel everything, overreaction.",
    ],
)
def test_quoted_mail_does_not_count(quote: str) -> None:
    draft = "Hallo Petra,\n\ndanke für deine Nachricht, ich melde mich morgen.\n\nViele Grüße\nTom\n\n" + quote
    r = check(draft, lang="de")
    assert not (r.moves.accepts_cancellation or r.moves.pressure or r.moves.judgment)
    assert all(f.start < draft.index(quote.splitlines()[0]) or f.end == 0 for f in r.findings)


def test_umlauts_written_as_ae_oe_ue_and_typographic_quotes_are_understood() -> None:
    r = check("Ich kann gut nachvollziehen, wie sehr dich das beschaeftigt. Lass uns ueber die Zusammenarbeit "
              "spaeter sprechen \u2013 \u201ezuerst\u201c setzen wir uns zusammen und machen einen Plan fuer "
              "die naechsten Wochen.", lang="de")
    assert r.moves.empathy and r.moves.defer_collaboration and r.moves.plan_offer
    r2 = check("I\u2019ve cancelled the sessions \u2014 sorry.", lang="en")
    assert r2.moves.accepts_cancellation


def test_german_inflection_and_compounds() -> None:
    r = check("Gern biete ich Ihnen ein Planungsgespräch an, in dem wir einen Krisenplan erstellen. "
              "Die Kündigungsfristen spielen laut Vertrag keine Rolle.", lang="de")
    assert r.moves.plan_offer
    assert r.moves.pressure  # bringing up contract terms is pressure, even to dismiss them vaguely


def test_greeting_and_signature_do_not_count_as_moves() -> None:
    r = check("Alles Liebe,\n\ndanke dir.\n\nAlles Gute\nMia", lang="de")
    assert not r.moves.accepts_cancellation


@pytest.mark.parametrize(
    ("draft", "address"),
    [
        ("Hallo Herr Weber,\n\nich verstehe Ihre Sorge gut.\n\nGrüße", "Sie"),
        ("Hallo Tim,\n\nich verstehe deine Sorge gut. Lass uns reden.\n\nLG", "du"),
        ("Hallo Jan,\n\nich verstehe Ihre Sorge gut. Lass uns telefonieren, was dir hilft.\n\nLG", "mixed"),
        ("Sehr geehrter Herr Dr. Brandt,\n\nich halte das für keine gute Idee.\n\nMit freundlichen Grüßen", "Sie"),
    ],
)
def test_form_of_address(draft: str, address: str) -> None:
    r = check(draft, lang="de")
    assert r.address == address
    assert any(f.rule == "de.address.mixed" for f in r.findings) == (address == "mixed")


def test_english_has_no_form_of_address_and_lang_override_wins() -> None:
    assert check("I'm so sorry to hear that.").address == "n/a"
    assert check("I'm so sorry to hear that.", lang="de").language == "de"


@pytest.mark.parametrize(
    ("client", "scenario"),
    [
        ("Unsere Liquidität ist seit zwei Jahren angespannt, jetzt hat die Bank den Kredit gekündigt.", "long_standing"),
        ("We've owed the tax office money for years and now they want it all.", "long_standing"),
        ("Gestern ist unser wichtigster Kunde abgesprungen.", "shock"),
        ("Our warehouse flooded last night.", "shock"),
        ("Wir möchten das Projekt vorerst aussetzen.", "unclear"),
    ],
)
def test_scenario_from_the_client_message(client: str, scenario: str) -> None:
    assert check("Danke für Ihre Nachricht.", client, lang="de").scenario == scenario


def test_no_client_message_means_no_scenario() -> None:
    assert check("Danke für Ihre Nachricht.", lang="de").scenario is None


def test_long_standing_case_without_referral_gets_a_suggestion() -> None:
    client = "Seit Jahren haben wir Schulden, jetzt droht das Finanzamt mit Pfändung."
    r = check(GOOD_DE, client)
    ref = [f for f in r.findings if f.rule == "de.referral.missing"]
    assert ref and "Schuldnerberatung" in ref[0].suggestion
    with_referral = GOOD_DE.replace("Herzliche", "Bitte sprechen Sie zuerst mit Ihrer Steuerberaterin.\n\nHerzliche")
    assert not any(f.rule == "de.referral.missing" for f in check(with_referral, client).findings)


def test_spans_index_the_draft_as_given_even_with_crlf_and_nbsp() -> None:
    draft = "Hi\u00a0Jo,\r\n\r\nHonestly,\u00a0that\u2019s an overreaction.\r\n\r\nKim"
    r = check(draft, lang="en")
    f = next(f for f in r.findings if f.move == "judgment")
    assert draft[f.start:f.end] == f.text == "overreaction"


@pytest.mark.parametrize(
    "bad",
    ["", "   \n\t ", "abc\x00def", "x" * (MAX_CHARS + 1), b"\xff\xfe\x00", 42],
)
def test_input_that_cannot_be_checked_raises_input_error(bad: object) -> None:
    with pytest.raises(InputError):
        COACH.check(bad)  # type: ignore[arg-type]


def test_input_error_is_a_value_error_with_a_plain_message() -> None:
    with pytest.raises(ValueError, match="empty"):
        COACH.check("  ")


def test_a_draft_in_an_unsupported_language_gets_a_clear_message() -> None:
    with pytest.raises(InputError, match="German and English"):
        COACH.check("Bonjour Marie, je suis vraiment désolée pour votre entreprise, nous allons en parler bientôt.")
