"""The offline rewrite's structure: new text goes before the draft's parting lines, debris of a removed sentence
goes with it, and nothing that still carries out the end stands beside an added deferral."""

from __future__ import annotations

import pytest

from coach.api import Coach
from coach.rewrite.followups import (
    asks_decision,
    is_dangling,
    is_echo,
    is_filler,
    is_parting,
    partings,
    pushes_back,
    settles,
    style,
)

COACH = Coach(offline=True)


def _rw(draft: str, client: str) -> str:
    return COACH.rewrite(draft, client_message=client).rewrite


def _cases():  # type: ignore[no-untyped-def]
    for table, test in (("parting", is_parting), ("dangling", is_dangling), ("echo", is_echo),
                        ("filler", is_filler), ("decision", asks_decision), ("pushback", pushes_back),
                        ("settles", settles)):
        for lang, (entry, _) in partings(table).items():
            for ex in entry.examples.bad:
                yield pytest.param(test, lang, ex, True, id=f"{entry.id}-bad")
            for ex in entry.examples.good:
                yield pytest.param(test, lang, ex, False, id=f"{entry.id}-good")


@pytest.mark.parametrize(("test", "lang", "sentence", "expected"), list(_cases()))
def test_parting_dangling_and_echo_examples(test, lang: str, sentence, expected: bool) -> None:  # type: ignore[no-untyped-def]
    assert test(sentence if isinstance(sentence, str) else sentence.text, lang) is expected


def test_new_text_goes_before_a_last_paragraph_of_parting_lines() -> None:
    out = _rw("Lieber Herr Kern,\n\ndas ist ja schrecklich. Ich bin froh, dass niemand verletzt wurde, und ahne, was "
              "der Wasserschaden in Ihrer Werkstatt für Sie bedeutet.\n\nIch denke an Sie.\n\nBeste Grüße\nJana Ott",
              "Liebe Frau Ott, bei uns ist die Werkstatt unter Wasser gestanden, ich muss den Termin nächste Woche "
              "absagen. Viele Grüße, Paul Kern")
    body = out.split("Beste Grüße")[0].rstrip()
    assert body.endswith("Ich denke an Sie.")
    assert out.index("Plan") < out.index("Ich denke an Sie.")


def test_a_stranded_offer_of_questions_stays_last_and_the_offer_takes_the_emptied_paragraph() -> None:
    out = _rw("Sehr geehrter Herr Lenz,\n\nIhr Schreiben habe ich erhalten.\n\nIch weise Sie auf die Kündigungsfrist "
              "von drei Monaten hin. Die Pauschalen werden bis dahin weiter in Rechnung gestellt.\n\n"
              "Für Rückfragen stehe ich gerne zur Verfügung.\n\nMit freundlichen Grüßen\nDr. Eva Maier",
              "Sehr geehrte Frau Dr. Maier, wir müssen die Beratung leider beenden, die Bank hat uns den Kredit "
              "gekündigt. Mit freundlichen Grüßen, Jonas Lenz")
    assert "Kündigungsfrist" not in out
    body = out.split("Mit freundlichen Grüßen")[0].rstrip()
    assert body.endswith("Für Rückfragen stehe ich gerne zur Verfügung.")


def test_english_offer_goes_before_keep_me_posted_and_a_corner_line() -> None:
    out = _rw("Hi Tom,\n\nThat's awful news about the warehouse, I'm so sorry.\n\nWhatever you decide, I'm in your "
              "corner.\n\nKeep me posted.\n\nAnna",
              "Anna, a fire destroyed our warehouse last night. We have to cancel the workshop next week. Tom")
    body = out.split("\n\nAnna")[0].rstrip()
    assert body.endswith("Whatever you decide, I'm in your corner.\n\nKeep me posted.")
    assert len(body) > len("Hi Tom,\n\nThat's awful news about the warehouse, I'm so sorry.\n\nWhatever you decide, "
                           "I'm in your corner.\n\nKeep me posted.")


def test_debris_of_a_removed_fee_sentence_goes_with_it() -> None:
    out = _rw("Dear Mr Hall,\n\nThank you for your email.\n\nI would draw your attention to clause 7 of our agreement, "
              "which requires 60 days' notice. Fees will therefore continue until June. I would be grateful if you "
              "could confirm you have noted this.\n\nYours sincerely,\nMark Rye",
              "Dear Mr Rye, we have to suspend the project, our main customer went bust. Regards, Ian Hall")
    assert "noted this" not in out and "clause 7" not in out


def test_an_echoing_understood_goes_when_understanding_is_added() -> None:
    out = _rw("Hi Kim,\n\nUnderstood. Just so you know, the discount only holds until Friday, after that the day "
              "rate goes up 15%, so you should sign this week.\n\nNikhil",
              "Hi Nikhil, we need to put the training on hold for now. Kim")
    assert "Understood." not in out
    assert "Thanks for letting me know" in out or "understand" in out.lower() or "get that" in out.lower(), out


def test_a_sentence_that_keeps_the_cancelled_date_does_not_stand_beside_the_deferral() -> None:
    out = _rw("Amy,\n\nThat's a lot, I'm sorry.\n\nSee you at 9.\n\nLou",
              "Lou, my cofounder just quit. I need to cancel Friday's session. Amy")
    assert "See you at 9" not in out
    de = _rw("Hi Max,\n\noh wow, das ist ein Schlag.\n\nDie letzte Session wäre dann am 22.04., die schick ich dir "
             "noch als Einladung.\n\nAlles Liebe\nLeonie",
             "Hi Leonie, mein Mitgründer steigt aus, ich muss das Coaching zum 30.04. beenden. Max")
    assert "letzte Session" not in de
    bis = _rw("Hi Jana,\n\nokay. Ich sage den Workshop ab, die Rechnung kommt trotzdem.\n\nBis Donnerstag, 17 Uhr!\n\nLG\nTim",
              "Unser Lager ist abgebrannt, wir müssen den Workshop am Donnerstag absagen.")
    assert "Bis Donnerstag" not in bis and "LG\nTim" in bis


def _dated_cases():  # type: ignore[no-untyped-def]
    import tomllib

    from coach.paths import knowledge_dir

    for o in tomllib.loads((knowledge_dir() / "rewrite.toml").read_text(encoding="utf-8"))["override"]:
        for sentence, day in o.get("dated_examples", {}).items():
            yield pytest.param(o["lang"], sentence, day, id=o["id"])


@pytest.mark.parametrize(("lang", "sentence", "day"), list(_dated_cases()))
def test_dated_examples(lang: str, sentence: str, day: str) -> None:
    from coach.rewrite.followups import dated_override

    assert (dated_override(sentence, lang) or "").lower() == day.lower()


def test_a_farewell_to_the_day_the_draft_proposes_itself_stays() -> None:
    out = _rw("Hey Basti,\n\ndas ist richtig viel auf einmal.\n\nLass uns am Dienstag zwei Stunden blocken und zusammen "
              "die Struktur für den Sanierungsplan aufsetzen.\n\nBis Dienstag!\nLukas",
              "Hi Lukas, die Bank hat mir eine Frist gesetzt, ich muss das Coaching erstmal beenden. Basti")
    assert "Bis Dienstag!" in out


def test_a_released_date_is_not_offered_for_the_call() -> None:
    out = _rw("Sehr geehrte Frau Kessler,\n\nvielen Dank für Ihre Rückmeldung. Ich habe die Termine am 5. und 19. März "
              "schon freigegeben, dann sind Sie flexibel.\n\nBeste Grüße\nDr. Ulrike Hanisch",
              "Sehr geehrte Frau Dr. Hanisch, wir müssen die Termine im März leider absagen. Anja Kessler")
    assert "freigegeben" not in out and "am 5." not in out


def test_a_draft_that_already_points_to_outside_help_gets_no_second_referral() -> None:
    out = _rw("Liebe Frau Berg,\n\ndanke, dass Sie mir das anvertrauen.\n\nIch schlage vor, dass wir uns am Mittwoch eine "
              "Stunde nehmen und gemeinsam aufschreiben, was jetzt dringend ist. Für die rechtliche Seite wenden Sie "
              "sich bitte an eine Anwältin für Mietrecht.\n\nHerzliche Grüße\nMonika Hofer",
              "Liebe Frau Hofer, seit acht Monaten sind wir mit der Miete im Rückstand, jetzt hat der Vermieter eine "
              "Räumungsklage eingereicht. Ich muss das Coaching beenden. Grüße, Anna Berg")
    assert out.lower().count("mietrecht") == 1
    # the added deferral follows the plan and the help that belongs to it
    assert out.index("Anwältin für Mietrecht") < out.index("Herzliche Grüße")


def test_a_removed_farewell_leaves_thanks_for_the_time_together() -> None:
    # "Danke für die schöne Zeit und alles Gute" is itself a farewell (de.accepts_cancellation.goodbye): it goes with
    # "dann war's das", and the added understanding thanks for the time instead
    out = _rw("Hi Steffi,\nalles klar, dann war's das mit uns 🙂 Danke für die schöne Zeit und alles Gute für dich und "
              "dein Team!\nBene",
              "Hi Bene, wir haben uns entschieden, das Coaching zu beenden. Danke für alles! Steffi")
    assert "dann war's das" not in out and "alles Gute für dich und dein Team" not in out
    assert "anke" in out and "Zeit" in out


def test_a_german_connector_that_leaves_the_verb_first_stays_and_an_override_elaboration_goes() -> None:
    from coach.rewrite.followups import style
    from coach.rewrite.rules_rewriter import _drop_connector

    assert _drop_connector("Dann würde ich sagen, wir warten.", style("de")) == "Dann würde ich sagen, wir warten."
    assert _drop_connector("Aber ich verstehe Sie gut.", style("de")) == "ich verstehe Sie gut."
    out = _rw("No dramas mate, but let's just keep Thursday — even 30 mins on Zoom. Same link as always. B",
              "Hey B, can we push Thursday? Things are mad here. Cheers, Tom")
    assert "30 mins" not in out and "Same link" not in out


def test_a_follow_up_in_the_next_paragraph_goes_and_a_call_keeps_its_dates_together() -> None:
    out = _rw("Hi Kate,\n\nJust so you know: the 2025 pricing only holds until 28 February, after that the day rate "
              "goes up 15%, so you'd better sign this week.\n\nHappy to send over a revised quote.\n\nNikhil",
              "Hi Nikhil, we're going to have to postpone the workshop, budget's frozen. Kate")
    assert "revised quote" not in out
    letter = _rw("Dear Mr Hale,\n\nThank you for your letter.\n\nMight I suggest a 45-minute call with you and the two "
                 "directors to map out together what the managers need over the next quarter? I have availability on "
                 "24 and 26 February.\n\nYours sincerely,\nAdaeze Okafor",
                 "Dear Ms Okafor, we need to postpone the management programme for internal reasons. Richard Hale")
    assert "next quarter? I have availability on 24 and 26 February." in letter


def test_leftovers_without_words_or_with_only_a_date_go_with_the_removed_sentence() -> None:
    out = _rw("Hi Sam,\n\nTotally hear you, but honestly this is exactly the moment to double down, not pull back. 🚀"
              "\n\nAlex",
              "Hi Alex, our bank pulled the credit line, we have to stop the programme. Sam")
    assert "🚀" not in out and "double down" not in out


def test_no_call_is_offered_on_the_day_the_client_called_off() -> None:
    out = _rw("No dramas mate, but let's just keep Thursday — even 30 mins on Zoom. Same link as always. B",
              "Hey Brendan, need to postpone Thursday's session, sorry. Will explain later.")
    assert "Thursday" not in out
    kept = _rw("Declan,\n\nThat's a lot to carry.\n\nWe're on for Tuesday at 10 as usual.\n\nSiobhán",
               "Hi Siobhán, the bank has called in the overdraft. I don't think I can keep paying for coaching. Declan")
    assert "Tuesday" in kept and "as usual" not in kept


def test_a_sentence_that_only_announced_a_removed_one_goes_and_guilt_about_the_consultants_loss_goes() -> None:
    out = _rw("Dear Graham,\n\nThank you for your email.\n\nI would gently push back, though. A leader who drops his "
              "coaching the moment things get hard is sending a message.\n\nWarm regards,\nHelen",
              "Dear Helen, we have had to make layoffs and I need to pause the coaching. Graham")
    assert "push back" not in out and "sending a message" not in out
    de = _rw("Lieber Herr Wendt,\n\ndas tut mir wirklich leid.\n\nEin Ausfall trifft mich als Einzelunternehmerin daher "
             "ziemlich hart.\n\nHerzliche Grüße\nUte Schuster",
             "Liebe Frau Schuster, das Hochwasser hat unser Büro getroffen, wir müssen den Workshop absagen. Wendt")
    assert "trifft mich" not in de


def test_a_draft_with_every_move_still_loses_a_line_that_overrides_the_request() -> None:
    draft = ("Dear Sunil,\n\nThank you for letting me know, I can imagine this is a heavy period for the team. "
             "Bit surprising, I must say, given how strongly you pushed for March.\n\nWould a 40-minute call next week "
             "help us make a plan together for the coming month? The offsite itself we can decide on later.\n\n"
             "Warm regards,\nMeera")
    r = COACH.rewrite(draft, client_message="Dear Meera, we will have to postpone the offsite. Regards, Sunil")
    assert r.changed and "Bit surprising" not in r.rewrite and "Would a 40-minute call" in r.rewrite


# ---------------------------------------------------------------- rw8: what a demanding reader still refused


def test_a_chat_sign_off_stays_last_when_care_lines_are_added() -> None:
    out = _rw("Maya, I'm so sorry. That's so much to take in, and I'm glad they found it early. Honestly it's a bit "
              "of a blow on my end too, I'd planned the autumn group around you 😔 but your health comes first of "
              "course. Sending you so much strength x",
              "Hi Ben, I've been diagnosed with breast cancer and start treatment next week. I need to stop the "
              "coaching for now. Maya")
    assert out.rstrip().endswith("Sending you so much strength x")
    assert len(out) > 120 and "\n\nSending" not in out


def test_a_closer_that_asks_for_a_decision_goes_beside_an_added_deferral() -> None:
    out = _rw("Dear Mr Hale,\n\nThank you for your note. I was sorry to hear about the recall at your plant; it "
              "puts an enormous strain on your whole team.\n\nPlease let me know how you would like to proceed."
              "\n\nSincerely,\n\nGrace Lin\nLin Operations LLC",
              "Grace, we issued a recall of our kettle line yesterday. I need to stop the lean engagement "
              "immediately. Tom Hale")
    assert "how you would like to proceed" not in out
    assert "\n\nSincerely,\n\nGrace Lin\nLin Operations LLC" in out
    assert style("en").names_helper(out) or "decide" in out or "later" in out


def test_the_deferral_does_not_split_a_meeting_offer_from_its_time_slots() -> None:
    out = _rw("Guten Tag Herr Sommer,\n\ndanke für die Info. Hätten Sie nächste Woche 45 Minuten für ein Gespräch? "
              "Ich würde gern mit Ihnen gemeinsam festlegen, welche Schritte das Team in den kommenden Wochen selbst "
              "gehen kann. Ich könnte Dienstag ab 14 Uhr oder Mittwochvormittag.\n\nViele Grüße\nAnna Roth",
              "Hallo Frau Roth, wir müssen den Workshop im März leider verschieben. Gruß, Kai Sommer")
    plan = "selbst gehen kann."
    assert out.index("Ich könnte Dienstag") == out.index(plan) + len(plan) + 1


def test_bare_interjections_go_when_the_sentences_beside_them_change() -> None:
    out = _rw("hey jule, hm ok. na gut. ich nehm dich dann aus dem kalender raus.",
              "hi mara, wir haben einen ausgabenstopp, ich muss das coaching leider absagen. lg jule")
    assert "hm ok" not in out and "na gut" not in out
    assert out.startswith("hey jule, ")


def test_a_sentence_that_leans_on_a_removed_reproach_goes_with_it() -> None:
    out = _rw("Dear Ms Baptiste,\n\nThank you for your letter, and I am truly sorry to hear of the funder's decision."
              "\n\nI must be candid that this leaves me in a difficult position: I turned down two other "
              "assignments to keep that week free for you. I trust you will keep that in mind when the board "
              "plans next year.\n\nWith kind regards,\n\nPaul Obi",
              "Dear Mr Obi, our main funder has withdrawn and we must cancel the strategy retreat in March. "
              "Regards, Claire Baptiste")
    assert "keep that in mind" not in out and "turned down" not in out
    assert "With kind regards,\n\nPaul Obi" in out


def test_the_rest_of_a_cut_sentence_that_only_has_a_pronoun_for_the_removed_part_goes() -> None:
    out = _rw("Dear Sam,\n\nI'm so sorry to hear about your father, and relieved he is stable.\n\nWarm wishes,\n"
              "Claire\n\nP.S. As per our agreement, the deposit is non-refundable, but it can be put towards "
              "future sessions within twelve months.",
              "Hi Claire, my father had a stroke and I need to put the coaching on hold. Sam")
    assert "it can be put towards" not in out.lower()
    assert "Warm wishes,\nClaire" in out


def test_a_refund_survives_when_the_acceptance_beside_it_goes() -> None:
    out = _rw("Dana, thank you for telling me, and I'm so sorry. Please give Rob my very best. I've cancelled the "
              "workshop series and I'll refund the deposit to the company card today.",
              "Hi Nina, Rob had a heart attack on Sunday. We have to cancel the workshop series. Dana")
    assert "refund the deposit to the company card today" in out


def test_no_second_understanding_beside_the_drafts_own() -> None:
    out = _rw("Sehr geehrte Frau Brandt,\n\nselbstverständlich habe ich Verständnis, und ich bedanke mich für Ihre "
              "frühzeitige Nachricht.\n\nDen Termin am 12.03. habe ich aus dem Kalender genommen.\n\n"
              "Mit freundlichen Grüßen\nDr. Jan Ott",
              "Sehr geehrter Herr Dr. Ott, wir müssen die Beratung vorerst aussetzen. Mit freundlichen Grüßen, "
              "Eva Brandt")
    assert "verstehen" not in out and "nachvollziehen" not in out
    assert "selbstverständlich habe ich Verständnis" in out


def test_a_farewell_wish_goes_beside_the_deferral() -> None:
    out = _rw("Hi Wren,\n\nOh gosh, that's awful, I'm so sorry. It's been such a joy working with you and the "
              "whole crew. All the best for whatever comes next!\n\nTamsin",
              "Hi Tamsin, the council closed our building after engineers found cracks. We have to stop the "
              "marketing work. Wren")
    assert "joy working with you" not in out and "whatever comes next" not in out
    assert out.rstrip().endswith("Tamsin")


def test_an_emoji_in_a_mail_paragraph_does_not_break_the_line_before_added_text() -> None:
    out = _rw("Lorna,\n\nOh wow. What a start to the week for you and the whole team 😟\n\nGiven the circumstances I've "
              "moved the kickoff to May and updated the plan accordingly.\n\nBest,\nViktor",
              "Hi Viktor, we got hit with ransomware on Monday. Please postpone the pricing project kickoff. Lorna")
    body = out.split("\n\nBest,")[0]
    assert "moved the kickoff" not in body and len(body) > len("Lorna,\n\nOh wow. What a start to the week for you")
    assert "😟\n" not in body  # the paragraph goes on after the emoji on the same line, as in a mail


def test_an_understanding_that_opens_the_letter_does_not_point_back_with_a_bare_this() -> None:
    draft = ("Dear Mr. Lowry,\n\nI acknowledge receipt of your letter, which I will treat as formal notice of "
             "termination. Under Section 12 of our agreement the engagement will accordingly conclude on May 15, "
             "and fees will continue through that date.\n\nSincerely,\n\nLinnea Albright\nAlbright Advisors\n"
             "(651) 555-0163")
    client = ("Dear Ms. Albright,\n\nI'm writing on behalf of the board. We have not been able to pay your last "
              "invoices; our reserves have been shrinking since the county cut our grant in 2024, and we simply cannot "
              "continue the consulting. We need to end the engagement now. I'm sorry it has come to this.\n\n"
              "Respectfully,\nDavid Lowry")
    for variant in range(8):  # every other version too: "this" would have nothing to point at
        out = COACH.rewrite(draft, client_message=client, variant=variant).rewrite
        first = out.split("\n\n")[1].lower()
        assert "that this " not in first and "why this " not in first and "Section 12" not in out


def test_the_plan_offer_never_takes_up_a_date_the_draft_cancelled() -> None:
    out = _rw("Sehr geehrter Herr Kiefer,\n\ndas ist eine furchtbare Nachricht, und es tut mir aufrichtig leid, dass "
              "Ihre Werkstatt so getroffen wurde.\n\nSelbstverständlich komme ich Ihrer Bitte nach: Die drei offenen "
              "Beratungstage am 11.03., 25.03. und 08.04. habe ich heute storniert.\n\nMit freundlichen Grüßen\n"
              "Marlene Wendt",
              "Sehr geehrte Frau Wendt, in unserer Werkstatt hat es gebrannt. Bitte sagen Sie die Termine ab. "
              "Mit freundlichen Grüßen, Otto Kiefer")
    assert "storniert" not in out and "11.03." not in out


def test_a_we_closer_stays_last_like_its_i_form() -> None:
    out = _rw("Sehr geehrter Herr Born,\n\ndanke für Ihre Rückmeldung.\n\nFür Rückfragen stehen wir Ihnen gern zur "
              "Verfügung.\n\nMit freundlichen Grüßen\nDr. Eva Kamp",
              "Sehr geehrte Frau Dr. Kamp, leider müssen wir die Workshops im März pausieren. Mit freundlichen "
              "Grüßen, Jens Born")
    body = out.split("\n\nMit freundlichen Grüßen")[0]
    assert body.endswith("Für Rückfragen stehen wir Ihnen gern zur Verfügung.") and len(body) > 120


def test_an_invoice_notice_and_a_forwarding_request_go_with_the_removed_fee() -> None:
    out = _rw("Sehr geehrter Herr Voß,\n\nIhre Absage habe ich erhalten.\n\nGemäß meinen AGB wird eine Ausfallgebühr "
              "von 50 % fällig, in Ihrem Fall 3.150,00 € zzgl. MwSt. Die Rechnung erhalten Sie in den nächsten "
              "Tagen.\n\nMit freundlichen Grüßen\nPetra Wend\n\nP.S. Die Rechnung Nr. 2026-041 über 4.760,00 € vom "
              "12. Februar ist noch offen. Ich bitte um Weiterleitung an Ihre Buchhaltung.",
              "Sehr geehrte Frau Wend, wir müssen das Teamtraining im Mai absagen, der Auftrag ist weggebrochen. "
              "Mit freundlichen Grüßen, Jan Voß")
    assert "MwSt" not in out and "Rechnung" not in out and "Weiterleitung" not in out
    assert "Mit freundlichen Grüßen\nPetra Wend" in out


def test_a_thanks_after_a_short_lead_in_stays_first_and_a_dash_greeting_runs_on_in_lower_case() -> None:
    out = _rw("alles klar, danke fürs bescheid sagen! dann lassen wir das coaching halt sein.",
              "hi tom, ich muss das coaching leider beenden, mir wächst gerade alles über den kopf. lg sara")
    assert out.startswith("alles klar, danke fürs bescheid sagen!")
    out = _rw("Dana — done. Project paused, invoices stopped.\nO.",
              "Hi Olaf, we need to pause the project for now, sorry. Dana")
    assert out.startswith("Dana — ") and not out.startswith("Dana — That") and out.rstrip().endswith("O.")


def test_nothing_is_put_between_a_sentence_and_the_one_that_goes_on_from_it_with_und() -> None:
    out = _rw("oh nein, liebe luisa 😢 das ist so viel, was du da schon so lang mit dir rumträgst. aber lass uns am "
              "freitag mal 1 std telefonieren und zusammen aufschreiben, was die nächsten schritte mit der bank sind. "
              "und ich schick dir die nummer von der familienberatung, die helfen auch bei schulden.",
              "hallo karin, wir haben seit jahren schulden bei der bank, jetzt droht die kündigung des kredits. ich "
              "muss das coaching leider beenden. lg luisa")
    plan = "mit der bank sind."
    assert out.index("und ich schick dir") == out.index(plan) + len(plan) + 1


@pytest.mark.parametrize("lang", ["de", "en"])
def test_fact_and_understanding_examples(lang: str) -> None:
    st = style(lang)
    for ex in st.raw.facts_examples:
        assert st.states_fact(ex), ex
    for ex in st.raw.understanding_examples:
        assert st.understands(ex), ex
    for ex in st.raw.closers_examples:
        assert st.closers.search(ex), ex
    assert not st.understands("I don't understand why." if lang == "en" else "Das kann ich nicht nachvollziehen.")


@pytest.mark.parametrize(("lang", "sentence"), [
    ("de", "Ich könnte Dienstag ab 14 Uhr oder Mittwochvormittag."), ("de", "Nur weil es gerade so viel ist."),
    ("en", "I can hold Thursday, March 12 at 10:00 or Friday at 2pm."), ("en", "Only because decisions like this can look different later."),
])
def test_time_slots_and_because_lean_on_the_sentence_before(lang: str, sentence: str) -> None:
    assert style(lang).refers_back.search(sentence)


def test_a_before_anything_else_opening_never_comes_after_the_letter_has_begun() -> None:
    draft = ("Dear Mr. Shankar,\n\nGreetings from Coimbatore.\n\nWe are indeed sorry to learn of the order cancellation "
             "from your buyer; it must be a very difficult time for you and your workforce.\n\nPerhaps you may kindly "
             "reconsider continuing at least the 5S phase.\n\nAwaiting your kind response.\n\nThanks and regards,\n\n"
             "R. Bala\nPrakriya LLP\nPh: +91 422 555 0139")
    client = ("Dear Bala, our German buyer has cancelled the whole order for the season. We must put the lean programme "
              "on hold. Regards, V. Shankar")
    for variant in range(6):
        out = COACH.rewrite(draft, client_message=client, variant=variant).rewrite
        assert "Before anything else" not in out and "reconsider" not in out
        assert out.split("\n\nThanks and regards,")[0].endswith("Awaiting your kind response.")


def test_a_bare_name_greeting_stays_on_its_own_line_when_text_is_added() -> None:
    out = _rw("Zanele\n\nCome in Thursday at 9 and bring the SARS letter and your bank statements.\n\nAnton",
              "Hi Anton, SARS has sent a final demand and I can't pay it, so I have to stop our sessions for now. "
              "Zanele")
    assert out.startswith("Zanele\n\n")
    assert not out.startswith("Zanele.")


@pytest.mark.parametrize(("draft", "client", "gone"), [
    ("Hi Liam,\n\nOh mate, what a week. An allergen recall is about the worst thing that can happen to a food "
     "business.\n\nI can hang on to your Tuesday 7am spot until the end of the month, but I've got a couple of "
     "people on the waitlist, so after that I'd need to offer it to them. Just let me know!\n\nGood luck,\nKate",
     "Hi Kate, we've had to recall a product for an undeclared allergen and I need to pause our sessions. Liam",
     "Just let me know!"),
    ("Liebe Sanne,\n\npuh, das klingt nach einer zermürbenden Zeit.\n\nDann pausieren wir ab sofort, die monatliche "
     "Abbuchung habe ich schon gestoppt. Du musst dich um nichts kümmern.\n\nUmarmung\nCarla",
     "Liebe Carla, mir droht die Räumungsklage, ich muss das Coaching pausieren. Sanne",
     "Du musst dich um nichts kümmern."),
    ("Hey Jana,\n\nmist, verdammt. Das fühlt sich bestimmt an wie ein Schlag in die Magengrube.\n\nLass uns am "
     "Donnerstag eine Stunde hinsetzen und durchrechnen, wie lange euer Runway reicht.\n\nKleine Bitte noch: Könntest "
     "du die beiden offenen Rechnungen vom Januar diese Woche noch anweisen? Bei mir ist es gerade auch knapp.\n\nTobi",
     "Hi Tobi, die Finanzierungsrunde ist geplatzt, wir müssen das Coaching erst mal stoppen. Jana",
     "Bei mir ist es gerade auch knapp."),
])
def test_an_aside_that_only_went_with_the_removed_sentence_goes_with_it(draft: str, client: str, gone: str) -> None:
    assert gone not in _rw(draft, client)


def test_a_contrast_particle_goes_when_its_other_side_was_removed() -> None:
    out = _rw("Lieber Felix,\n\nich bin ganz erschrocken, deinen Vater so plötzlich zu verlieren.\n\nUnsere Termine für "
              "März und April habe ich schon freigegeben, da musst du dich um nichts kümmern.\n\nWenn du magst, setzen "
              "wir uns aber nächste Woche eine Stunde zusammen und sortieren, was in der Bäckerei ansteht.\n\nFranzi",
              "Liebe Franzi, mein Vater ist gestorben, ich muss die Termine absagen. Felix")
    assert "freigegeben" not in out
    assert "setzen wir uns nächste Woche" in out


def test_a_farewell_to_the_postponed_date_goes_with_the_overriding_clause() -> None:
    out = _rw("ah that's annoying! tbh I'd say let's just keep thursday's check-in anyway, it's only 30 min and I've "
              "already done the prep on your Q2 OKRs so it'd be a shame to waste it 🙂 see you at 2?",
              "hey Aisha, heads up, finance just froze all discretionary spend so we need to postpone the coaching "
              "til further notice. sorry!!")
    assert "see you at 2" not in out
    assert "keep thursday" not in out


def test_a_new_meeting_the_draft_proposes_stays_with_what_to_bring_to_it() -> None:
    out = _rw("Mick,\n\nRight. Four months is a big hole.\n\nLet's do Monday 10am at the shop. Bring the lease, the "
              "landlord's letter and the last six months of sales, and we'll work out what you can offer him.\n\nSteve",
              "Hi Steve, landlord's issued a notice to vacate over the rent arrears. I think I need to pull the pin "
              "on the mentoring. Mick")
    assert "Let's do Monday 10am at the shop. Bring the lease" in out


def test_keeping_the_date_the_client_paused_goes_and_so_does_its_wink() -> None:
    out = _rw("Hey Max,\n\noh shit. So ein Angriff ist der GAU.\n\nGerade jetzt brauchst du einen klaren Kopf. Wir "
              "bleiben bei Montag, 9 Uhr, ok? 😉\n\nNico",
              "Hi Nico, wir hatten einen Hackerangriff, ich muss das Coaching erst mal auf Eis legen. Max")
    assert "bleiben bei Montag" not in out
    assert "😉" not in out


def test_an_announced_candid_remark_goes_with_the_reproach_it_announced() -> None:
    out = _rw("Sehr geehrter Herr Reinhardt,\n\ndas ist eine schwere Nachricht.\n\nErlauben Sie mir trotzdem eine "
              "offene Bemerkung: Drei Jahre Verluste kommen nicht über Nacht. Wenn man die Zahlen so lange nur dem "
              "Bankberater erklärt, statt selbst gegenzusteuern, darf man sich nicht wundern.\n\nIch schlage einen "
              "Termin am Montag vor, an dem wir die Unterlagen für das Bankgespräch aufbereiten.\n\nMit freundlichen "
              "Grüßen\nDr. Andrea Wolff",
              "Sehr geehrte Frau Dr. Wolff, die Bank hat uns die Kreditlinie gekündigt, wir müssen die Beratung "
              "aussetzen. Mit freundlichen Grüßen, Reinhardt")
    assert "offene Bemerkung" not in out
    assert "über Nacht" not in out


def test_the_last_session_becomes_the_next_when_the_sentence_ending_the_work_went() -> None:
    out = _rw("Sehr geehrte Frau Kaiser,\n\ndie Sorge, die aus Ihren Zeilen spricht, kann ich gut nachvollziehen.\n\n"
              "Ich würde vorschlagen, dass wir die Begleitung nach unserer Sitzung am 12. März auslaufen lassen, es "
              "sei denn, Sie sehen das anders. Diese letzte Sitzung könnten wir nutzen, um gemeinsam einen Fahrplan "
              "für die Gespräche mit der Bank zu erarbeiten.\n\nMit freundlichen Grüßen\nDr. Ulrike Hoffmann",
              "Sehr geehrte Frau Dr. Hoffmann, der Vorstand hat beschlossen, die Beratung zu beenden, die Gehälter "
              "sind gefährdet. Mit freundlichen Grüßen, Kaiser")
    assert "auslaufen" not in out
    assert "Diese letzte Sitzung" not in out
    assert "Unsere nächste Sitzung könnten wir nutzen" in out


def test_a_line_pushing_back_goes_though_the_check_does_not_report_it() -> None:
    out = _rw("Hi Morgan,\n\nthanks for the note.\n\nCould you at least tell me which part of the budget was cut?\n\n"
              "Best,\nRiley",
              "Hi Riley, we have to pause the leadership programme, the budget was cut. Morgan")
    assert "at least" not in out
    assert "Riley" in out


def test_a_ps_whose_text_went_leaves_no_bare_label_before_the_signature_block() -> None:
    out = _rw("Hi Sam,\n\nThat's awful news, I'm so sorry.\n\nWarmly,\nAri\n\nP.S. Just so you know, the venue deposit "
              "of $900 is non-refundable under our terms.\n\nAri Lenz | Founder\nLenz Studio, Auckland",
              "Hi Ari, our warehouse flooded, we need to postpone the offsite. Sam")
    assert "non-refundable" not in out
    assert "P.S." not in out
    assert "\nAri Lenz | Founder\nLenz Studio, Auckland" in out
