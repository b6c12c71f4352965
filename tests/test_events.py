"""The client's real event, named from the client's mail (knowledge/lang/<code>/events.yaml), or not at all."""

from __future__ import annotations

import pytest

from coach.api import Coach
from coach.moves import FAULT_MOVES
from coach.rewrite.events import event_for, event_phrasings, lexicon, request_for
from helpers import warm_sentence_vectors

COACH = Coach(offline=True)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_event_example_gives_its_phrase_or_none(lang: str) -> None:
    f = lexicon(lang)
    assert f is not None and len(f.events) >= 15
    for e in f.events:
        for ex in e.examples:
            got = event_for(ex.mail, lang, "Sie" if lang == "de" else "n/a")
            want = ex.nom if lang == "de" else ex.np
            assert (got.nom if got else None) == want, (e.id, ex.mail, got)
            if ex.plan is not None:
                assert got is not None and got.plan == ex.plan, (e.id, ex.mail, got)
            if want is not None:
                assert got is not None and got.id == e.id


def test_the_relative_is_named_only_when_the_mail_names_one_and_du_gets_du_forms() -> None:
    father = event_for("hey jonas, mein vater hatte gestern nen schlaganfall 😞", "de", "du")
    assert father is not None and father.dat == "dem Schlaganfall deines Vaters"
    own = event_for("Ich hatte letzte Woche einen Schlaganfall.", "de", "Sie")
    assert own is not None and own.dat == "dem Schlaganfall" and "Vater" not in own.nom
    assert event_for("Mein Vater hilft mir. Ich hatte einen Schlaganfall.", "de", "Sie").nom == "der Schlaganfall"  # type: ignore[union-attr]
    assert event_for("Meine Mutter ist gestern gestorben.", "de", "du").subject == "Der Tod deiner Mutter"  # type: ignore[union-attr]
    assert event_for("Jemand ist gestorben.", "de", "Sie") is None  # a death with no one named: stay neutral


@pytest.mark.parametrize(("mail", "lang"), [
    ("Hi Mara,\nich würde das Mentoring gern für eine Weile pausieren.\nLG Tim", "de"),
    ("Hi Sven,\nwir möchten das Projekt zum Quartalsende beenden.\nGruß Petra", "de"),
    ("können wir die nächsten termine verschieben? bin grad raus", "de"),
    ("Hi Rob,\nWe'd like to put the coaching on hold for now.\nThanks,\nAmy", "en"),
    ("can we push next week's session? something came up", "en"),
    ("Dear Mr Patel,\nPlease terminate our consulting agreement effective the end of this month.\nLaura Kim", "en"),
])
def test_an_unclear_mail_names_no_event(mail: str, lang: str) -> None:
    assert event_for(mail, lang, "Sie" if lang == "de" else "n/a") is None


def test_a_name_from_the_mail_is_copied_only_as_a_few_capitalised_words() -> None:
    brenner = event_for("Herr Kaya, kurze Info: Brenner Logistik, unser größter Kunde, hat gestern gekündigt.", "de")
    assert brenner is not None and brenner.dat == "dem Verlust von Brenner Logistik"
    harlow = event_for("hey dana, our biggest client (Harlow Foods) just went under.", "en")
    assert harlow is not None and harlow.nom == "Harlow Foods going under"
    odd = event_for("our biggest client (<script>alert(1)</script>) just went under.", "en")
    assert odd is not None and "<" not in odd.nom and odd.nom == "your biggest client going under"


def _filled(text: str, lang: str) -> str:
    sample = {"de": ("Der Schlaganfall Ihres Vaters", "dem Schlaganfall Ihres Vaters"),
              "en": ("Your father's stroke", "your father's stroke")}[lang]
    if "du" in text or " dir " in text or "dich" in text:
        sample = (sample[0].replace("Ihres", "deines"), sample[1].replace("Ihres", "deines"))
    plan = {"de": "wie Sie die Liquiditätslücke überbrücken", "en": "how to bridge the cash gap"}[lang]
    if "du" in text or " dir " in text or "dich" in text:
        plan = "wie du die Liquiditätslücke überbrückst"
    return text.replace("{situation}", sample[0]).replace("{event}", sample[1]).replace("{client}", "Rob") \
        .replace("{plan}", plan)


def test_every_event_phrasing_makes_its_move_and_no_fault() -> None:
    items = event_phrasings()
    assert {p.lang for p in items} == {"de", "en"} and len(items) >= 20
    warm_sentence_vectors(_filled(p.text, p.lang) for p in items)  # one batched model call
    for p in items:
        text = _filled(p.text, p.lang)
        a = COACH.checker.analyse(text, lang=p.lang)
        assert a.moves[p.move], (p.id, text)
        assert not any(a.moves[m] for m in FAULT_MOVES), (p.id, text)


def test_the_rewrite_names_the_fathers_stroke_once() -> None:
    r = COACH.rewrite("oh mann, das tut mir echt leid 😔 kein ding, ich storniere die beiden termine am 14. und 21.",
                      "hey jonas, mein vater hatte gestern nen schlaganfall 😞 ich muss die workshops erstmal absagen",
                      offline=True)
    assert r.rewrite.lower().count("schlaganfall deines vaters") <= 1


def test_the_rewrite_names_the_flooded_warehouse_and_not_again_in_the_plan() -> None:
    out = COACH.rewrite(
        "Sehr geehrter Herr Huber,\n\nvielen Dank für Ihre Nachricht. Ich storniere die Termine.\n\n"
        "Mit freundlichen Grüßen\nClaudia Schröder",
        "Sehr geehrte Frau Schröder,\ndas Hochwasser hat unser Lager in Passau komplett geflutet. Wir müssen die "
        "Beratung vorerst aussetzen.\nFreundliche Grüße\nGeorg Huber", offline=True).rewrite
    assert out.count("Hochwasser in Ihrem Lager in Passau") == 1, out
    assert "Überschwemmung in Ihren Räumen" not in out


def test_an_unclear_mail_gets_no_event_phrasing() -> None:
    r = COACH.rewrite("Hi Amy,\n\nok, I've cancelled everything.\n\nBest,\nRob",
                      "Hi Rob,\nWe'd like to put the coaching on hold for now.\nThanks,\nAmy", offline=True)
    assert not any(s.id.startswith(("en.event.", "de.event.")) for s in r.sources)


def test_greetings_and_lookalike_names_are_not_taken_for_an_event_or_a_name() -> None:
    assert event_for("Hi Ellen, our biggest customer went bankrupt last week.", "en").nom == \
        "your biggest client going under"  # type: ignore[union-attr]
    assert event_for("Hello Ruth, our biggest client left yesterday.", "en").nom == "losing your biggest client"  # type: ignore[union-attr]
    assert event_for("Sehr geehrte Frau Dr. Brandes, seit Jahren haben wir Probleme mit der Zahlungsmoral.", "de") is None
    assert event_for("unser Mitinhaber ist am Dienstag tödlich verunglückt.", "de").nom == "der Tod Ihres Mitinhabers"  # type: ignore[union-attr]


def test_a_gerund_event_is_kept_out_of_a_plan_for_the_weeks_after_it() -> None:
    assert not event_for("our lead investor pulled out this morning.", "en").after_ok  # type: ignore[union-attr]
    assert event_for("We lost our largest customer on Monday.", "en").after_ok  # type: ignore[union-attr]
    assert event_for("A fire destroyed our main warehouse.", "en").after_ok  # type: ignore[union-attr]


def test_an_event_the_draft_already_names_is_not_named_again() -> None:
    r = COACH.rewrite("Hallo Jonas,\n\nder Schlaganfall deines Vaters tut mir so leid. Ich storniere die Workshops.\n\n"
                      "Viele Grüße\nLena",
                      "Hallo Lena,\nmein Vater hatte gestern einen Schlaganfall. Ich muss die Workshops absagen.\nJonas",
                      offline=True)
    assert r.rewrite.count("Schlaganfall") == 1, r.rewrite


# ---------------------------------------------------------------- what the client asks for (`requests`)
@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_request_example_gives_its_kind(lang: str) -> None:
    f = lexicon(lang)
    assert f is not None and {r.kind for r in f.requests} == {"postpone", "pause", "session", "end", "filed"}
    assert len(f.request_examples) >= 10
    for ex in f.request_examples:
        assert (request_for(ex.mail, lang) or None) == ex.kind, ex.mail


def test_every_phrasing_keyed_to_a_request_makes_its_move_and_no_fault() -> None:
    keyed = [p for p in _all_phrasings() if p.requests]
    assert {k for p in keyed for k in p.requests} == {"postpone", "pause", "session", "end", "filed"}
    warm_sentence_vectors(p.text for p in keyed)  # one batched model call
    for p in keyed:
        a = COACH.checker.analyse(p.text, lang=p.lang)
        assert a.moves[p.move], (p.id, p.text)
        assert not any(a.moves[m] for m in FAULT_MOVES), (p.id, p.text)
        if p.tone.endswith("both"):  # one sentence for the plan offer and the deferral: it makes both
            assert a.moves["plan_offer"] and a.moves["defer_collaboration"], (p.id, p.text)


def _all_phrasings() -> list:  # type: ignore[type-arg]
    from coach.kb.loader import load_knowledge

    return list(load_knowledge().phrasings) + list(event_phrasings())


_REQUEST_CASES = [
    # (draft, client mail, words the rewrite must not have, words it must have)
    ("Hallo Kerstin,\n\nok, dann streiche ich den Termin.\n\nViele Grüße\nSven",
     "Hallo Sven, wir müssen das Teamtraining im April leider verschieben. Gruß, Kerstin",
     ("Pause", "Wunsch", "möchtest"), ()),
    ("Guten Tag Herr Brenner,\n\nich habe den Termin storniert.\n\nFreundliche Grüße\nBirgit Wiesinger",
     "Guten Tag Frau Wiesinger, leider müssen wir das Kommunikationstraining morgen absagen. Es ist etwas "
     "dazwischengekommen. Gruß, M. Brenner",
     ("Wunsch", "Pause"), ("neuen Termin",)),
    ("Sehr geehrte Frau Sommer,\n\nich habe Ihre Nachricht erhalten und die Kündigung vermerkt.\n\n"
     "Mit freundlichen Grüßen\nRainer Hartung",
     "Sehr geehrter Herr Hartung, wir möchten den Coachingvertrag kündigen. Gründe möchte ich an dieser Stelle "
     "nicht nennen. Mit freundlichen Grüßen, Ingrid Sommer",
     ("Wunsch", "entscheiden müssen"), ("Tür",)),
    ("Sehr geehrte Frau Krüger,\n\nich habe Ihre Nachricht erhalten und das Projekt beendet.\n\n"
     "Mit freundlichen Grüßen\nJ. Wendt",
     "Sehr geehrter Herr Wendt, leider muss ich Ihnen mitteilen, dass wir am Montag Insolvenzantrag stellen werden. "
     "Das Projekt kann ich daher nicht fortsetzen. Mit freundlichen Grüßen, Sabine Krüger",
     ("entscheiden müssen wir jetzt nichts",), ()),
    ("Hi Nikhil,\n\nok, I've taken the workshop out of the calendar.\n\nNikhil",
     "Hi Nikhil, we're going to have to postpone the presentation skills workshop. Sorry about this. Kate",
     ("on hold", "your wish", "pause"), ("plan",)),
    ("hey marcus, np, I've cancelled our sessions", "hey Marcus can we pause coaching for a bit? just need a breather",
     ("you'd like to", "your wish"), ()),
]


@pytest.mark.parametrize(("draft", "mail", "never", "always"), _REQUEST_CASES)
def test_the_added_lines_fit_what_the_client_asks_for(draft: str, mail: str, never: tuple[str, ...],
                                                     always: tuple[str, ...]) -> None:
    r = COACH.rewrite(draft, mail, offline=True)
    added = " ".join(c.after or "" for c in r.changes if c.kind == "added")
    assert added, r.rewrite
    for w in never:
        assert w.lower() not in added.lower(), (w, r.rewrite)
    for w in always:
        assert w.lower() in r.rewrite.lower(), (w, r.rewrite)


def test_the_time_of_a_cancelled_session_is_not_taken_up_by_the_plan_offer() -> None:
    r = COACH.rewrite("Hi Tim! Ach komm, lass uns den Donnerstag einfach trotzdem machen 😊 Bis Donnerstag!",
                      "Hi Carla, ich glaub ich muss unser Coaching am Donnerstag absagen, es passt grad einfach nicht.",
                      offline=True)
    added = " ".join(c.after or "" for c in r.changes if c.kind == "added")
    assert "Donnerstag" not in added, r.rewrite


def test_the_plan_offer_says_what_it_is_for_when_the_draft_named_the_event_itself() -> None:
    r = COACH.rewrite("Moin Jens,\n\nnach so einem Einbruch fühlt man sich ja ausgeliefert – tut mir echt leid. "
                      "Ich hab den Workshop storniert.\n\nBeste Grüße\nImke",
                      "Moin Imke, bei uns wurde am Wochenende eingebrochen, alle Laptops und der Server sind weg. "
                      "Den Social-Media-Workshop am Donnerstag müssen wir canceln. Jens", offline=True)
    added = " ".join(c.after or "" for c in r.changes if c.kind == "added")
    assert "nach dem Einbruch" in added, r.rewrite


def test_a_copied_name_gets_the_article_it_needs() -> None:
    f = lexicon("de")
    assert f is not None and f.name_articles
    import re

    for a in f.name_articles:
        assert re.search(a.pattern, a.example), a.example
    got = event_for("Riesenmist: Unser größter Kunde, die Haberkorn-Gruppe, hat uns heute gekündigt.", "de", "du")
    assert got is not None and got.dat == "dem Verlust von der Haberkorn-Gruppe"
    brenner = event_for("Brenner Logistik, unser größter Kunde, hat gestern gekündigt.", "de")
    assert brenner is not None and brenner.nom == "der Verlust von Brenner Logistik"


def test_a_plan_offer_says_what_the_plan_is_about_after_the_event_was_named() -> None:
    r = COACH.rewrite("Sehr geehrte Frau Vogt,\n\nvielen Dank für Ihre Nachricht. Ich storniere das Seminar am 4.03. "
                      "und gebe den Raum im Hotel am Markt zurück. Die Unterlagen für die Teilnehmenden habe ich "
                      "schon gedruckt; ich bewahre sie auf, bis wir einen neuen Termin finden. Die Rechnung für den "
                      "Februar schicke ich Ihnen wie gewohnt zum Monatsende, die Reisekosten entfallen.\n\n"
                      "Mit freundlichen Grüßen\nKarl Dietz",
                      "Sehr geehrter Herr Dietz,\ndie Spedition Marquardt, unser größter Kunde, hat uns zum Monatsende "
                      "gekündigt. Das Seminar am 4.03. müssen wir absagen.\nMit freundlichen Grüßen\nSabine Vogt",
                      offline=True)
    added = " ".join(c.after or "" for c in r.changes if c.kind == "added")
    assert "Verlust von der Spedition Marquardt" in added, r.rewrite
    assert "wegfallenden Umsatz" in added, r.rewrite  # the plan says what it is for, without naming it again
    assert added.count("Marquardt") == 1, r.rewrite


def test_every_plan_clause_reads_in_its_address() -> None:
    for lang in ("de", "en"):
        f = lexicon(lang)
        assert f is not None
        clauses = [e.plan for e in f.events if e.plan is not None]
        assert len(clauses) >= 12
        for c in clauses:
            if lang == "de":
                assert c.text.startswith("wie Sie ") and c.du is not None and c.du.startswith("wie du "), c
            else:
                assert c.text.startswith("how to "), c
