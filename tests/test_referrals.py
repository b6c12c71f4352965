"""Referrals as data (knowledge/lang/<code>/referrals.yaml): every trigger, topic and sentence holds, and the
sentence names the adviser and only what the client wrote."""

from __future__ import annotations

import re

import pytest

from coach.api import Coach
from coach.moves import FAULT_MOVES, GOOD_MOVES
from coach.rewrite.referrals import all_texts, matching, referral_text, referrals
from helpers import warm_sentence_vectors

COACH = Coach(offline=True)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_referral_trigger_topic_and_own_adviser_example_holds(lang: str) -> None:
    for ref in referrals(lang):
        assert all(ref.matches(x) for x in ref.examples.match), ref.id
        assert not any(ref.matches(x) for x in ref.examples.no_match), ref.id
        for t in ref.topics:
            assert ref.topic_for(t.example) == t.text, (ref.id, t.example)
        for got in ref.already:
            assert re.search(got.pattern, got.example) and ref.already_for(got.example) is got, (ref.id, got.example)
        for o in ref.own:
            assert ref.adviser_for(o.example, "du" if lang == "de" else "n/a") != ref.adviser, (ref.id, o.example)
        for x in ref.examples.own_field:  # the client cancels this very help: no referral to it
            assert ref.is_own_field(x) and ref.is_settled(x), (ref.id, x)
        assert not any(ref.is_own_field(x) for x in ref.examples.match), ref.id


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_referral_sentence_is_read_as_a_referral_and_carries_no_fault(lang: str) -> None:
    texts = dict((text, rid) for rid, text in all_texts(lang))  # each distinct sentence once
    assert len(texts) > 20
    warm_sentence_vectors(texts)  # one batched model call, not one per sentence
    for text, rid in texts.items():
        a = COACH.checker.analyse(text, lang=lang)
        assert any(h.rule.rule.move == "referral" for h in a.hits), (rid, text)
        assert not any(a.moves[m] for m in FAULT_MOVES), (rid, text)
        assert not any(a.moves[m] for m in GOOD_MOVES), (rid, text)  # no second plan offer beside the plan
        assert "{" not in text, text


@pytest.mark.parametrize(("mail", "lang", "address", "wanted", "never"), [
    # prepayments and a cancelled overdraft: both named, no tax assessment the client never mentioned
    ("nach drei Verlustjahren hat uns die Sparkasse nun den Kontokorrentkredit gekündigt, und beim Finanzamt stehen "
     "noch Vorauszahlungen aus 2022 offen.", "de", "Sie",
     ["Vorauszahlungen", "Steuerberat", "Kontokorrentkredit", "Sanierungsberatung"], ["Steuerbescheid", "Ihr"]),
    # enforcement over arrears: a tax adviser, not "Ihr Steuerberater"
    ("das Finanzamt hat wegen der Rückstände aus den letzten zwei Jahren die Vollstreckung angekündigt.", "de", "Sie",
     ["Vollstreckung", "Steuerberat"], ["Steuerbescheid", "Ihre Steuerberat", "Ihr Steuerberat"]),
    ("Mein Steuerberater sagt, das Finanzamt will 30.000 € nachgezahlt haben.", "de", "Sie",
     ["Ihr Steuerberater"], ["eine Steuerberaterin"]),
    # a business loan called in: restructuring, not a tax adviser or private debt counselling
    ("die Bank hat uns den Kredit gekündigt, nachdem wir schon seit Monaten mit den Raten hinterherhängen.", "de", "du",
     ["Sanierungsberatung"], ["Steuerberat", "Schuldnerberatung"]),
    # private debts: Schuldnerberatung
    ("seit 2023 komm ich mit den Kreditraten nicht hinterher und jetzt hat die Bank gekündigt.", "de", "du",
     ["Schuldnerberatung"], ["Sanierung"]),
    ("der Vermieter hat wegen der Mietrückstände seit letztem Sommer Räumungsklage eingereicht.", "de", "Sie",
     ["Räumungsklage", "Mietrecht"], ["Steuerberat", "Schuldnerberatung"]),
    ("After four years of losses our bank has now called in the loan.", "en", "n/a",
     ["called-in loan", "restructuring adviser"], ["tax adviser"]),
    ("landlord's evicting us end of month, we've been behind on rent since last spring.", "en", "n/a",
     ["eviction", "tenancy lawyer"], ["tax adviser"]),
    ("A creditor has filed a winding-up petition against us.", "en", "n/a",
     ["winding-up petition", "insolvency practitioner"], ["tax adviser"]),
    ("HMRC has finally caught up with two years of unpaid VAT and we've got a payment demand.", "en", "n/a",
     ["unpaid VAT", "tax adviser"], ["your accountant", "your tax adviser"]),
    ("debt collectors have been calling for months and i just can't anymore.", "en", "n/a",
     ["debt collectors", "debt adviser"], []),
])
@pytest.mark.parametrize("short", [False, True])
def test_the_referral_names_the_adviser_and_only_what_the_client_wrote(
        mail: str, lang: str, address: str, wanted: list[str], never: list[str], short: bool) -> None:
    found = referral_text(mail, lang, address, seed=0, short=short)
    assert found is not None
    for w in wanted if not short else wanted[:2]:
        assert w in found.text, found.text
    for n in never:
        assert n not in found.text, found.text


def test_a_client_already_filing_for_insolvency_is_not_told_where_to_go_first() -> None:
    mail = "After years of mounting debts, we will be filing for insolvency next week."
    assert referral_text(mail, "en", "n/a", seed=0) is None  # settled: the help is in hand
    for seed in range(3):  # not yet decided: the help is offered without presuming it is missing
        text = referral_text("We may have to file for bankruptcy.", "en", "n/a", seed=seed).text  # type: ignore[union-attr]
        assert "first call" not in text and "should" not in text and "if" in text.lower()
    de = referral_text("wir werden wohl Insolvenz anmelden müssen", "de", "Sie", seed=0).text  # type: ignore[union-attr]
    assert "falls" in de


@pytest.mark.parametrize(("mail", "lang", "address"), [
    ("after three years of mounting debt we're finally meeting with an insolvency practitioner next week.", "en", "n/a"),
    ("Wir werden Insolvenz anmelden, nächste Woche haben wir einen Termin mit einem Fachanwalt für Insolvenzrecht.",
     "de", "Sie"),
])
def test_a_client_who_already_has_the_help_is_acknowledged(mail: str, lang: str, address: str) -> None:
    for short in (False, True):
        text = referral_text(mail, lang, address, seed=1, short=short).text  # type: ignore[union-attr]
        assert text.startswith(("It is good", "Good", "Gut, dass")), text


def test_no_referral_for_a_shock_or_an_unclear_mail_and_none_for_a_customers_insolvency() -> None:
    assert matching("Our main client went into administration, so we need to pause.", "en") == []
    assert matching("Unser größter Kunde ist insolvent.", "de") == []
    out = COACH.rewrite("Hi Rob,\n\nno problem, I've cancelled everything.\n\nBest,\nAmy",
                        "Hi Amy, we'd like to put the coaching on hold for now. Rob", offline=True).rewrite
    assert not any(w in out for w in ("adviser", "lawyer", "practitioner", "accountant"))


def test_the_referral_adds_to_the_plan_offer_not_glued_to_the_sympathy() -> None:
    out = COACH.rewrite(
        "Liebe Frau Lang,\n\ndas klingt nach einer enormen Last, und ich kann gut nachvollziehen, dass Sie gerade an "
        "allen Ecken sparen wollen. Über unsere Zusammenarbeit müssen wir jetzt nicht entscheiden – das besprechen "
        "wir, wenn sich die Lage etwas sortiert hat.\n\nGern setze ich mich nächste Woche mit Ihnen zusammen, damit "
        "wir gemeinsam die nächsten Schritte gegenüber dem Finanzamt planen.\n\nÜbrigens: Unser Sanierungspaket für "
        "4.900 € gibt es nur noch bis Ende dieses Monats – danach steigt der Preis deutlich.\n\nHerzliche Grüße\n"
        "Martin Albrecht",
        "Lieber Herr Albrecht,\ndas Finanzamt hat wegen der Rückstände aus den letzten zwei Jahren die Vollstreckung "
        "angekündigt. Ich weiß nicht, wie ich Ihr Honorar noch stemmen soll, und würde die Begleitung gern beenden.\n"
        "Herzliche Grüße\nBirgit Lang", offline=True).rewrite
    referral = out.index("Steuerberater")
    assert out.index("Gern setze ich mich") < referral  # right after the plan offer, adding to it
    assert "\n\n" not in out[out.index("Gern setze ich mich"):referral]
    assert "Parallel dazu" in out or "parallel" in out


@pytest.mark.parametrize(("mail", "lang", "never"), [
    ("die Mahnungen stapeln sich seit dem Frühjahr und jetzt droht das Finanzamt mit Pfändung.", "de", "Schuldnerberatung"),
    ("The HMRC debt we've been carrying for two years is now with enforcement.", "en", "debt adviser"),
    ("We've been juggling debts and our accountant now says we may be insolvent.", "en", "debt adviser"),
])
def test_one_trouble_is_not_sent_to_two_advisers(mail: str, lang: str, never: str) -> None:
    text = referral_text(mail, lang, "Sie" if lang == "de" else "n/a", seed=0, after_plan=True).text  # type: ignore[union-attr]
    assert never not in text, text


@pytest.mark.parametrize(("mail", "lang", "address", "wanted", "never"), [
    # a private person with a maxed-out card: debt advice, never "your accountant"
    ("Hi Janelle, sorry to do this but I can't afford the sessions anymore. I've been behind on pretty much "
     "everything since last year and the card's maxed.", "en", "n/a", ["debt adviser"], ["accountant"]),
    # a tax authority other than HMRC or the IRS
    ("Our SARS debt has grown over the last three years and SARS has now appointed our bank as third-party agent.",
     "en", "n/a", ["SARS", "tax adviser"], ["debt adviser"]),
    # private insolvency: a Schuldner- und Insolvenzberatung, not a law firm
    ("Meine Schulden aus der Selbstständigkeit sind mir über den Kopf gewachsen, ich werde Privatinsolvenz anmelden "
     "müssen.", "de", "Sie", ["Insolvenzberatungsstelle"], ["Kanzlei", "Steuerberat"]),
    # a sports club's deficits: the Landessportbund's Vereinsberatung, not a Steuerberater
    ("Der TSV Ahlen e. V. schreibt seit drei Spielzeiten rote Zahlen, die Rücklagen sind aufgebraucht.", "de", "Sie",
     ["Vereinsberatung", "Landessportbund"], ["Steuerberat"]),
    # an administrator already appointed is acknowledged
    ("Ich habe gestern den Insolvenzantrag gestellt. Ein vorläufiger Insolvenzverwalter ist bestellt.", "de", "Sie",
     ["Gut, dass", "Insolvenzverwalter"], ["Kanzlei"]),
    ("We're in administration; the administrators were appointed on Monday.", "en", "n/a",
     ["good that", "insolvency practitioner"], ["first call"]),
    # Canada: a proposal under the BIA runs through a Licensed Insolvency Trustee, not a financial adviser
    ("The bank called our operating line and our controller says we're heading for a proposal under the BIA.", "en",
     "n/a", ["Licensed Insolvency Trustee"], ["financial adviser", "tax adviser"]),
    # South Africa: business rescue with its practitioner already starting: acknowledged, not referred elsewhere
    ("The board has placed the company in business rescue; the BRP takes over next week.", "en", "n/a",
     ["good that", "business rescue practitioner"], ["financial adviser", "talk to first"]),
    # a client with a CPA keeps the CPA; the IRS is named as such, never "the tax office"
    ("We owe the IRS about $80k in payroll taxes and our CPA says we must cut costs.", "en", "n/a",
     ["your CPA", "payroll taxes"], ["tax office", "a tax adviser"]),
    # Switzerland: Betreibung, Überschuldungsanzeige: Swiss insolvency law; once filed, the procedure, not "beim Antrag"
    ("Seit Monaten laufen Betreibungen gegen uns, letzte Woche haben wir dem Gericht die Überschuldung angezeigt.",
     "de", "Sie", ["Schweizer", "Verfahren"], ["Antrag", "Finanzierungsberatung"]),
    ("Die Betreibungen häufen sich seit dem Frühjahr.", "de", "Sie", ["Betreibungen", "Schweizer"], ["Insolvenzrecht"]),
    # Germany: the application is already filed: the procedure, not help "beim Antrag"
    ("Wir haben gestern beim Amtsgericht Insolvenzantrag gestellt.", "de", "Sie", ["Verfahren", "Insolvenzrecht"],
     ["Antrag"]),
    # rent arrears and a threatened eviction: tenancy law, not Finanzierungsberatung
    ("Wir sind mit der Geschäftsmiete seit dem Winter im Rückstand, der Vermieter droht mit der Ausweisung.", "de",
     "Sie", ["Mietrecht"], ["Finanzierungsberatung", "Schuldnerberatung"]),
    # a business whose suppliers stopped giving credit: restructuring help, not a generic financial adviser
    ("Our receivables keep growing, our suppliers have stopped giving credit and the bank has flagged our account.",
     "en", "n/a", ["supplier credit", "restructuring adviser"], ["financial adviser"]),
    # unpaid bills: Schuldnerberatung
    ("ich hab seit Monaten Rechnungen offen und komm nicht mehr hinterher.", "de", "du", ["Schuldnerberatung",
     "offenen Rechnungen"], ["Finanzierungsberatung"]),
])
def test_the_referral_fits_who_the_client_is_and_what_they_have(
        mail: str, lang: str, address: str, wanted: list[str], never: list[str]) -> None:
    found = referral_text(mail, lang, address, seed=0)
    assert found is not None
    for w in wanted:
        assert w.lower() in found.text.lower(), found.text
    for n in never:
        assert n not in found.text, found.text


@pytest.mark.parametrize(("mail", "lang"), [
    # the client cancels the club consulting itself: no referral into the consultant's own field
    ("der Vorstand des SV Eichhorst 1921 e. V. hat beschlossen, die Vereinsberatung zu beenden. Wie Sie wissen, "
     "schreiben wir seit drei Spielzeiten rote Zahlen.", "de"),
    # a lawyer's "Mandat" with a loan called in: not sent to a second adviser
    ("Die Sparkasse hat uns nun mitgeteilt, dass sie die Darlehen fällig stellen wird. Ich würde das Mandat gern "
     "ruhen lassen.", "de"),
])
def test_no_referral_into_the_help_the_client_already_has_from_the_consultant(mail: str, lang: str) -> None:
    assert referral_text(mail, lang, "Sie", seed=0) is None


def test_the_fallback_referral_guesses_no_profession() -> None:
    import yaml

    from coach.paths import knowledge_dir

    for lang in ("de", "en"):
        items = yaml.safe_load((knowledge_dir() / "phrasings" / f"{lang}.yaml").read_text(encoding="utf-8"))
        plain = [p for p in items if p["move"] == "referral" and p["tone"] == "plain"]
        assert plain
        for p in plain:  # the first choice when no trouble the data knows is named
            assert not re.search(r"(?i)accountant|steuerberat|your bank|ihre bank", p["text"]), p["id"]


@pytest.mark.parametrize(("text", "lang", "names"), [
    ("I would strongly recommend that you speak to a registered tax practitioner about a deferral.", "en", True),
    ("In the meantime, a Licensed Insolvency Trustee offers a free initial consultation.", "en", True),
    ("Für den weiteren Weg möchte ich Ihnen eine anerkannte Schuldner- und Insolvenzberatungsstelle ans Herz legen.",
     "de", True),
    ("Die Vereinsberatung des Landessportbunds hilft bei den Finanzen.", "de", True),
    ("Let's have a quick call and make a plan together.", "en", False),
    ("Lass uns kurz telefonieren und gemeinsam einen Plan machen.", "de", False),
])
def test_a_draft_that_names_outside_help_is_recognised(text: str, lang: str, names: bool) -> None:
    from coach.rewrite.referrals import names_help

    assert names_help(text, lang) is names


@pytest.mark.parametrize(("mail", "lang", "wanted"), [
    ("der hofladen schreibt seit 3 jahren verluste und jetzt will die bank den kredit zurück.", "de",
     "Sanierungsberatung"),
    ("Die Lage im Autohaus ist seit Monaten angespannt, mehrere Lieferanten warten auf ihr Geld.", "de",
     "Sanierungsberatung"),
    ("jetzt hod uns d'brauerei d'lieferung gsperrt, weil ma mit de rechnungen so hint dran san.", "de",
     "Sanierungsberatung"),
])
def test_business_money_trouble_gets_restructuring_help_not_a_tax_adviser(mail: str, lang: str, wanted: str) -> None:
    found = referral_text(mail, lang, "Sie", seed=0)
    assert found is not None and wanted in found.text and "Steuerberat" not in found.text, found


@pytest.mark.parametrize("mail", [
    "I have to pause the turnaround coaching. We've been behind on the equipment loan for eighteen months and the "
    "bank has just put us into their restructuring unit.",
    "We will need to terminate the fractional CFO engagement; our line of credit is now fully drawn.",
])
def test_a_consultant_in_the_financial_field_is_not_told_to_send_the_client_elsewhere(mail: str) -> None:
    assert referral_text(mail, "en", "n/a", seed=0) is None
