"""The letter model: parts of a draft, and a byte-for-byte round trip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from coach.letter import parse_letter, render
from coach.rewrite.diff import annotate, changes_of, undo

PIECES = ["Hallo Anna,", "Steve,", "Hoi Andrea", "Sehr geehrte Frau Roth,", "vielen Dank.", "Das tut mir leid!",
          "Lass uns reden?", "Mit freundlichen Grüßen", "Take care of yourself,", "Drück dich", "Pfiat di", "LG",
          "Cheers", "Anna Berger", "Tel. +49 30 123", "www.berger.de", "--", "P.S. Bis bald.", "PS: ok",
          "Sent from my iPhone", "Von meinem iPhone gesendet", "> quoted line", "On Mon, Ben wrote:",
          "Am 3. März schrieb Eva <e@x.de>:", "-----Ursprüngliche Nachricht-----", "From: A\nSent: today", "",
          " ", "\t", "\r\n", "\u00a0", "äöü ß", "Dr. med. X. ist da."]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=30), max_size=14),
       st.lists(st.sampled_from(["\n", "\n\n", " ", "", "\r\n"]), min_size=14, max_size=14))
def test_rendering_an_unedited_letter_gives_the_input_back(pieces: list[str], glue: list[str]) -> None:
    text = "".join(p + g for p, g in zip(pieces, glue, strict=False))
    assert render(parse_letter(text)) == text


def kinds(text: str) -> list[str]:
    return [p.kind for p in parse_letter(text).parts]


def test_parts_of_a_full_mail() -> None:
    text = ("Hallo Anna,\n\ndas tut mir leid. Lass uns reden.\n\nMit freundlichen Grüßen\nAnna Berger\nTel. 030 123\n"
            "www.berger.de\n\nP.S. Sie erreichen mich auch am Wochenende.\n\nVon meinem iPhone gesendet\n\n"
            "Am 3. März 2024 um 10:00 schrieb Eva <e@x.de>:\n> hallo")
    assert kinds(text) == ["greeting", "paragraph", "closing", "signature", "ps", "footer", "quoted"]
    letter = parse_letter(text)
    assert [s.text for s in letter.sentences()] == ["das tut mir leid.", "Lass uns reden.",
                                                    "Sie erreichen mich auch am Wochenende."]


def test_name_only_greetings_and_informal_closings() -> None:
    assert kinds("Steve,\n\nSo sorry.\n\nTake care of yourself,\nRachel")[:1] == ["greeting"]
    assert kinds("Hoi Andrea\n\nDas tut mir so leid.\n\nDrück dich\nSabine") == ["greeting", "paragraph", "closing",
                                                                                  "signature"]
    assert "closing" in kinds("Servus Franz,\n\nschade.\n\nPfiat di\nMichi")


def test_outlook_header_and_inline_reply() -> None:
    text = "Sorry.\n\nBest,\nDan\n\n-----Original Message-----\nFrom: Olivia\nSent: Tuesday\n\nHi Dan"
    assert kinds(text)[-1] == "quoted"
    inline = "Hi,\n\nOn Mon, Ben wrote:\n> Can we pause?\n\nOf course we can talk first.\n\nBest,\nAl"
    assert "quote" in kinds(inline) and kinds(inline).count("paragraph") == 1


def test_removing_and_undoing_sentences() -> None:
    text = "Hallo Anna,\n\nA eins. B zwei. C drei.\n\nLG"
    letter = parse_letter(text)
    letter.remove("s2")
    assert render(letter) == "Hallo Anna,\n\nA eins. C drei.\n\nLG"
    changes = changes_of(letter)
    assert [c.kind for c in changes] == ["removed"] and changes[0].before == "B zwei."
    assert render(undo(letter, [changes[0].id])) == text


def test_diff_of_two_letters_marks_added_edited_and_removed_sentences() -> None:
    before = parse_letter("Hi Ben,\n\nThanks for your note. No problem, I cancelled it. See you.\n\nBest,\nAl")
    after = parse_letter("Hi Ben,\n\nThanks for your note! I'm so sorry. See you.\n\nBest,\nAl")
    marked = annotate(before, after)
    kinds_ = [c.kind for c in changes_of(marked)]
    assert "added" in kinds_ and "removed" in kinds_ and "edited" in kinds_
    assert render(undo(marked, [c.id for c in changes_of(marked)])) == render(before)


def test_diff_texts_gives_a_letter_that_apply_can_undo() -> None:
    from coach.api import Coach
    from coach.rewrite.diff import diff_texts

    draft = "Hallo Anna,\n\nkein Problem, ich storniere alles.\n\nLG Ben"
    reply = "Hallo Anna,\n\ndas tut mir leid. Lass uns einen Plan machen.\n\nLG Ben"
    letter, changes = diff_texts(draft, reply)
    assert [c.kind for c in changes].count("added") == 2 and [c.kind for c in changes].count("removed") == 1
    coach = Coach(offline=True)
    result = coach.rewrite(draft, "Unser Laden ist abgebrannt.")
    result = result.model_copy(update={"rewrite": reply, "changes": changes})
    result._letter = letter
    back = coach.apply(result, rejected=[c.id for c in changes])
    assert back.rewrite == draft


def test_outlook_bold_labels_and_separator_lines_start_the_quoted_mail() -> None:
    assert kinds("Thanks.\n\nBest,\nAl\n\n*From:* Olivia Park\n*Sent:* Tuesday\n*To:* Al\n\nHi")[-1] == "quoted"
    assert kinds("Danke.\n\nLG\nAl\n\n________________________________\nVon: X\nGesendet: Montag")[-1] == "quoted"
    assert kinds("Ok.\n\n--------------------------------\nold text") == ["paragraph", "quoted"]


def test_a_contact_block_without_a_closing_is_the_signature() -> None:
    text = "Hallo X,\n\nDas tut mir leid.\n\nAnna Berger\nBerger Consulting\nTel. 030 123456\nwww.berger.de"
    assert kinds(text) == ["greeting", "paragraph", "signature"]
    assert kinds("Hi,\n\nSorry.\n\nCall me at +44 20 7946 0000 any time.")[-1] == "paragraph"


def test_a_sign_off_nobody_listed_is_the_closing_when_it_stands_above_the_name() -> None:
    for closing in ("Wishing you and the team every strength,", "Mit herzlichem Gruß aus dem Allgäu,"):
        text = f"Hi Ann,\n\nI am sorry to hear it. Of course.\n\n{closing}\nJo Park\nPark Advisory"
        letter = parse_letter(text)
        assert letter.closing == closing and letter.part("signature").raw == "Jo Park\nPark Advisory"
    chat = "Hi Ann,\n\nthanks, we will see,\nbut I think this is fine.\n\nBest\nJo"
    assert [p.raw for p in parse_letter(chat).parts if p.kind == "paragraph"] == ["thanks, we will see,\nbut I think this is fine."]


def test_greetings_with_academic_titles_stay_whole() -> None:
    for greeting in ("Grüß Gott Herr Ing. Gruber,", "Sehr geehrte Frau Mag. Huber,", "Sehr geehrter Herr Dipl.-Ing. Maier,",
                     "Sehr geehrter Herr Prof. Dr. Lenz,"):
        letter = parse_letter(f"{greeting}\n\ndas tut mir sehr leid.\n\nMit freundlichen Grüßen\nAnna Roth")
        assert letter.greeting == greeting


def test_a_bare_name_on_the_first_line_is_the_greeting_not_a_sentence() -> None:
    assert kinds("Thandi\n\nNoted, thanks.\n\nRegards\nJohan")[:2] == ["greeting", "paragraph"]
    assert kinds("Zanele\n\nWith respect, this is hard.\n\nAnton")[:1] == ["greeting"]
    # a one-word sentence of its own is no name
    assert "greeting" not in kinds("Thanks\n\nI will call you.\n\nAnton")
    assert "greeting" not in kinds("Sorry\n\nthat sounds awful.\n\nAnton")


def test_a_day_after_a_german_preposition_does_not_end_the_sentence() -> None:
    from coach.sentences import sentence_spans

    def split(t: str) -> list[str]:
        return [t[a:b] for a, b in sentence_spans(t)]

    assert split("Gib mir nur bis zum 15. Bescheid, wie du es machen willst.") == [
        "Gib mir nur bis zum 15. Bescheid, wie du es machen willst."]
    assert split("Das war am 3. Danach ging es weiter.") == ["Das war am 3.", "Danach ging es weiter."]
