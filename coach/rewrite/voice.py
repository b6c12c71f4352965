"""The draft's voice: register (letter / mail / chat), lower-case chat, length, and the case of a
sentence start after a German comma greeting."""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.letter.model import Letter

_FORMAL = re.compile(
    r"Sehr geehrte|Dear (?:Mr|Ms|Mrs|Miss|Dr|Prof|Sir|Madam)\b|Mit freundlichen|Freundliche Gr|Hochachtungsvoll|"
    r"Kind regards|Yours sincerely|Yours faithfully|Sincerely|Best regards|Mit besten Gr|Beste Gr(?:ü|ue)(?:ß|ss)e",
    re.I,
)
_CHAT_CLOSING = re.compile(r"^\W*(?:LG|VG|Cheers|Thx|Danke|Bis dann|Bis bald|Ciao|Tschüss|x+|Best|Drück dich|Pfiat di)\W*$", re.I)
_WORD = re.compile(r"\w+")
_DE_LOWER_FIRST = frozenset(
    """ich das der die dem den des es wir zunächst zuerst gerne gern danke vielen herzlichen über wie bevor bitte
    natürlich oh was wenn mir mich dass auch lass lassen wollen sollen können könnten würde wäre ganz erst
    eine ein einen einem einer so dabei deshalb daher und aber damit schön gut es
    mein meine meinen sobald um alles
    tut für gerade ob dann da in verständlich sag sprich sprechen puh übers klar entscheiden nimm nehmen du""".split()
)  # small words (no nouns) a sentence may start with: lower case after "Hallo Anna," when the writer does that
_FORMAL_PRONOUNS = frozenset({"Sie", "Ihnen", "Ihr", "Ihre", "Ihren", "Ihrem", "Ihrer", "Ihres", "I", "I'm", "I'd", "I'll", "I've"})


@dataclass(frozen=True)
class Voice:
    lang: str
    address: str
    register: str  # letter, mail or chat
    lowercase: bool  # the writer starts sentences in lower case
    words: int  # words of the writer's own text
    lower_after_greeting: bool  # German: "Hallo Anna,\n\nvielen Dank ..."
    capital_i: bool = False  # a lower-case English chat that still writes "I'm"
    contracts: bool = True  # English: the writer's own text has contractions ("I'm", "don't"); a letter that has none
    # gets none in the added lines either ("Dear Mr Sharma … Yours faithfully" does not say "I'd" or "you're")


def words(text: str) -> int:
    return len(_WORD.findall(text))


def voice_of(letter: Letter, lang: str, address: str) -> Voice:
    sentences = letter.sentences()
    own = " ".join(s.text for s in sentences)
    n = words(own)
    greeting, closing = letter.greeting, letter.closing
    sig = letter.part("signature")
    sig_lines = sig.raw.count("\n") + 1 if sig else 0
    starts = [s.text.lstrip("-–•*> \"'(") for s in sentences]
    starts = [t for t in starts if t and t[0].isalpha()]
    comma_greeting = greeting.rstrip().endswith((",", "—", "–", " -"))  # "Dana — done." runs on like "Dana, done."
    greeting_part = letter.part("greeting")
    # "Hi Ralf, tut mir leid …" on one line: the body runs on from the greeting and starts lower case
    run_on = bool(greeting_part and "\n" not in greeting_part.trail and comma_greeting)
    counted = starts[1:] if comma_greeting and len(starts) > 1 else starts
    lower = sum(1 for t in counted if t[0].islower())
    lowercase = (len(counted) >= 2 and lower * 10 >= len(counted) * 6) or bool(greeting and greeting.strip()[0].islower()) \
        or (len(counted) == 1 and lower == 1 and not greeting and n < 40)  # "klar, schieb ich auf september 👍"
    # after a comma greeting the first body sentence keeps the draft's own convention. A body that runs on from the
    # greeting on the same line starts lower case ("Hi Ralf, tut mir leid …", "Hi Ralf, thanks …"). On a new line
    # English starts with a capital; German follows the draft: lower case when it starts so ("Hallo Anna,\n\nvielen
    # Dank", "Hi Ralf,\n\nok, verstehe"), capital when it capitalises a small word ("Vielen Dank", "Tut mir leid");
    # "Ihre Kündigung …" says nothing either way, and the letter rule (lower case) holds
    first_word = re.match(r"[\w']+", starts[0]).group() if starts and re.match(r"[\w']+", starts[0]) else ""
    capital_small_word = first_word[:1].isupper() and first_word.lower() in _DE_LOWER_FIRST \
        and first_word not in _FORMAL_PRONOUNS
    lower_after = comma_greeting and (run_on or (lang == "de" and not capital_small_word))
    if _FORMAL.search(greeting + "\n" + closing) or sig_lines >= 3:
        register = "letter"
    elif lowercase or (n < 50 and (not closing or _CHAT_CLOSING.match(closing))):
        register = "chat"
    else:
        register = "mail"
    capital_i = bool(re.search(r"\bI(?:'m|'d|'ll|'ve)?\b", own))
    return Voice(lang=lang, address=address, register=register, lowercase=lowercase, words=n,
                 lower_after_greeting=lower_after, capital_i=capital_i, contracts=bool(_CONTRACTION.search(own)))


_CONTRACTIONS = {
    "i'm": "I am", "i'd": "I would", "i'll": "I will", "i've": "I have", "you're": "you are", "you'll": "you will",
    "you've": "you have", "you'd": "you would", "we're": "we are", "we'll": "we will", "we've": "we have",
    "it's": "it is", "that's": "that is", "there's": "there is", "what's": "what is", "don't": "do not",
    "doesn't": "does not", "isn't": "is not", "aren't": "are not", "can't": "cannot", "won't": "will not",
    "wouldn't": "would not", "haven't": "have not", "hasn't": "has not", "didn't": "did not",
}
_CONTRACTION = re.compile(r"(?i)\b(?:" + "|".join(re.escape(k).replace("'", "['’]") for k in _CONTRACTIONS) + r")\b")


def fit_contractions(text: str, voice: Voice) -> str:
    """An added English line in the writer's formality: a letter without a single contraction gets none ("I am
    glad", not "I'm glad"); any other voice keeps the line as written."""
    if voice.lang != "en" or voice.register != "letter" or voice.contracts:
        return text

    def full(m: re.Match[str]) -> str:
        word = _CONTRACTIONS[m.group().lower().replace("’", "'")]
        return word[:1].upper() + word[1:] if m.group()[:1].isupper() else word

    return _CONTRACTION.sub(full, text)


def fit_case(text: str, *, first_after_greeting: bool, voice: Voice) -> str:
    """The case of a sentence's first letter as this writer would have it."""
    m = re.match(r"[\W_]*", text)
    i = m.end() if m else 0
    if i >= len(text) or not text[i].isalpha():
        return text
    word = re.match(r"[\w']+", text[i:])
    w = word.group() if word else ""
    if voice.lowercase or (first_after_greeting and voice.lower_after_greeting):
        if w in _FORMAL_PRONOUNS or (voice.lang == "de" and w.lower() not in _DE_LOWER_FIRST and not voice.lowercase):
            return text
        return text[:i] + text[i].lower() + text[i + 1:]
    if first_after_greeting and voice.lang == "de" and not voice.lower_after_greeting:
        return text[:i] + text[i].upper() + text[i + 1:]
    if text[i].islower():
        return text[:i] + text[i].upper() + text[i + 1:]
    return text
