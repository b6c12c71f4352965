"""Where a chat, a voice note or a letter without a closing line ends: the rewrite's new text goes before the
writer's sign-off, never after the signature or a kiss, and a transcript's label stays the first line."""

from __future__ import annotations

from coach.api import Coach
from coach.letter.parse import parse_letter
from coach.letter.render import render

COACH = Coach(offline=True)


def _rw(draft: str, client: str) -> str:
    return COACH.rewrite(draft, client_message=client).rewrite


def test_a_signature_without_closing_line_keeps_its_place_with_a_long_title_line() -> None:
    draft = ("Hey Dana,\n\nTotally understand. We'll wrap everything up by the end of the month and I'll send over "
             "all the files.\n\nIt was a real pleasure working with you all.\n\nMarc Oyelaran\n"
             "Founder, Oyelaran & Finch Studio | Leeds, West Yorkshire\n(0113) 496-0171")
    out = _rw(draft, "Hi Marc, our main funder pulled out yesterday, we have to stop the website project. Dana")
    assert out.rstrip().endswith("Founder, Oyelaran & Finch Studio | Leeds, West Yorkshire\n(0113) 496-0171")


def test_new_text_goes_before_a_chat_line_that_ends_in_a_kiss() -> None:
    out = _rw("oh no maya that's horrible, so sorry!! dont worry about the sessions, ive cancelled the rest. "
              "rest up and look after yourself x",
              "hi jo, i broke my leg skiing, cant do the sessions for a while. maya")
    assert out.rstrip().endswith("look after yourself x")


def test_a_sign_off_joined_to_the_last_sentence_after_an_emoji_stays_last() -> None:
    out = _rw("No worries!! Ive moved you to friday 6th june, same time 👍 take care x",
              "hey, can we move thursday? something came up. sam")
    assert out.rstrip().endswith("take care x")
    assert "6th june, same time 👍" in out


def test_cutting_a_sentence_in_two_renders_the_same_letter() -> None:
    text = "Hi Sam,\n\nIve moved you to friday, same time 👍 take care x"
    letter = parse_letter(text)
    last = letter.body()[-1].sentences[-1]
    second = letter.split(last.id, last.text.index("take"))
    assert second.text == "take care x" and render(letter) == text


def test_a_voice_note_label_stays_first_and_its_greeting_sentence_before_the_added_understanding() -> None:
    draft = ("[Sprachnachricht, 0:41, transkribiert]\nHey Jana, ähm, kurz aus dem Auto. Klar, ich trag die "
             "Termine dann erstmal aus. Ja, meld dich halt. Tschüss.")
    out = _rw(draft, "hi, mein vater hatte einen herzinfarkt, ich muss das coaching erstmal stoppen. jana")
    assert out.startswith("[Sprachnachricht, 0:41, transkribiert]\nHey Jana, ähm, kurz aus dem Auto.")
