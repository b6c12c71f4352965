"""What a rewritten reply says, checked against the draft: nothing new that a consultant did not write.

A model (or an injection in the client's mail, or a user's own phrasing) must not add a link, an
email address, a phone number or an IBAN; a new date or time; a price, discount, refund or "free";
another greeting or sign-off, a second sign-off, or names swapped between greeting and signature;
markup (HTML, Markdown images and links), control, ANSI or bidi characters; brackets around the
whole letter; or runs of its instructions. Word lists per language live in
knowledge/lang/<lang>/content_checks.toml. The checks work on plain strings, so the offline rewrite
can use them too.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach.errors import KnowledgeError
from coach.llm.redact import EMAIL, PHONE, URL, iban_spans, phone_like
from coach.mail import split_mail
from coach.paths import knowledge_dir
from coach.patterns import Pattern


class WordGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    about: str = Field(min_length=1)
    patterns: list[Pattern] = Field(min_length=1)
    hits: list[str] = Field(min_length=1)
    passes: list[str] = Field(min_length=1)

    def finds(self, text: str) -> list[str]:
        return [m.group() for p in self.compiled for m in p.finditer(text)]

    @property
    def compiled(self) -> list[re.Pattern[str]]:
        return _compile(tuple(self.patterns))


class ContentChecks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date_time: WordGroup
    offer: WordGroup


@cache
def _compile(patterns: tuple[str, ...]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


@cache
def content_checks(lang: str) -> ContentChecks | None:
    """The word lists of a language (None for a language folder without content_checks.toml)."""
    path = knowledge_dir() / "lang" / lang / "content_checks.toml"
    if not path.exists():
        return None
    try:
        return ContentChecks.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise KnowledgeError(f"{path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(f"{path}: not valid TOML ({exc})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise KnowledgeError(f"{path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


@dataclass(frozen=True)
class Problem:
    code: str
    text: str  # an instruction the model can act on (English, like the prompts)


# ---------------------------------------------------------------- contact details and markup
_HTML = re.compile(r"</?[A-Za-z!?][^<>\n]{0,300}>|&(?:#\d+|#x[0-9a-f]+|[a-z]{2,8});", re.IGNORECASE)
_MD_LINK = re.compile(r"!?\[[^\]\n]*\]\([^)\n]*\)|!\[[^\]\n]*\]|<(?:https?|mailto|javascript|data):[^>\s]*>",
                      re.IGNORECASE)
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_WRAPPERS = {"<": ">", "[": "]", "{": "}", "(": ")", '"': '"', "'": "'", "„": "“", "“": "”", "«": "»", "`": "`"}
_WORD = re.compile(r"\w+")


def _squash(text: str) -> str:
    return re.sub(r"[\s()/.\-]", "", text).lower()


def contact_details(text: str) -> list[tuple[str, str]]:
    """(kind, value) of every link, email address, IBAN and phone number in `text`."""
    found: list[tuple[str, str]] = []
    rest = text
    for kind, pattern in (("email", EMAIL), ("link", URL)):
        found += [(kind, m.group()) for m in pattern.finditer(rest)]
        rest = pattern.sub(" ", rest)
    for s, e in iban_spans(rest):
        found.append(("IBAN", rest[s:e]))
    for m in PHONE.finditer(rest):
        if phone_like(m.group()):
            found.append(("phone number", m.group()))
    return found


def bad_characters(text: str) -> list[str]:
    """Control (other than newline and tab), ANSI escape, bidi-override and invisible characters."""
    bad = []
    for c in text:
        if c in "\n\t":
            continue
        if c in _BIDI or c in _INVISIBLE or unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs"):
            bad.append(f"U+{ord(c):04X}")
    return sorted(set(bad))


# ---------------------------------------------------------------- letter frame
def _block(text: str, span: tuple[int, int] | None) -> str:
    if span is None:
        return ""
    lines = [" ".join(line.split()) for line in text[span[0]:span[1]].split("\n")]
    return "\n".join(line for line in lines if line)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w[:1].isupper() and len(w) > 1}


def _frame_problems(reply: str, draft: str) -> list[Problem]:
    from coach.mail import _SIGNOFF  # the one list of sign-off phrases

    out: list[Problem] = []
    d, r = split_mail(draft), split_mail(reply)
    d_greet, r_greet = _block(draft, d.greeting), _block(reply, r.greeting)
    d_sign, r_sign = _block(draft, d.signoff), _block(reply, r.signoff)
    if d_greet and r_greet != d_greet:
        out.append(Problem("greeting", f'keep the greeting of the draft exactly: "{d_greet}"'))
    if d_sign and r_sign != d_sign:
        out.append(Problem("signoff", "keep the sign-off and signature of the draft exactly: "
                                      f'"{d_sign}"'))
    own_reply = reply[:min((s for s, _ in r.quoted), default=len(reply))]
    own_draft = draft[:min((s for s, _ in d.quoted), default=len(draft))]
    sign_lines = [line for line in d_sign.split("\n")[1:] if line.strip()]
    signer = sign_lines[0] if sign_lines else ""  # the line under the sign-off: the consultant's name
    if len(_SIGNOFF.findall(own_reply)) > max(1, len(_SIGNOFF.findall(own_draft))) or (
            signer and own_reply.count(signer) > own_draft.count(signer)):
        out.append(Problem("second_signoff", "end the letter with one sign-off only, the draft's"))
    # names swapped: the signature's names in the greeting, or the greeting's names in the signature
    sign_names = _words(d_sign) - _words(d_greet)
    greet_names = _words(d_greet) - _words(d_sign)
    if (r_greet and _words(r_greet) & sign_names) or (r_sign and _words(r_sign) & greet_names):
        out.append(Problem("names_swapped", "do not swap the names of the client and the consultant"))
    return out


# ---------------------------------------------------------------- instructions leaked
def _leaked_runs(reply: str, instructions: str, allowed: str, n: int = 5) -> int:
    """How many of the reply's words stand in runs of n+ words copied from the instructions."""
    words = [w.lower() for w in _WORD.findall(instructions)]
    grams = {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}
    ok_words = [w.lower() for w in _WORD.findall(allowed)]
    grams -= {tuple(ok_words[i:i + n]) for i in range(len(ok_words) - n + 1)}
    rw = [w.lower() for w in _WORD.findall(reply)]
    covered = [False] * len(rw)
    for i in range(len(rw) - n + 1):
        if tuple(rw[i:i + n]) in grams:
            for j in range(i, i + n):
                covered[j] = True
    return sum(covered)


# ---------------------------------------------------------------- all together
def check_content(reply: str, draft: str, client_message: str | None, lang: str, *,
                  instructions: str | None = None, allowed: str = "") -> list[Problem]:
    """What the reply says that it must not: an empty list when it is fine.

    `reply` and `draft` are the texts as the user sees them (placeholders restored); `allowed` is more
    text whose words count as known (the approved phrasings the reply was grounded in).
    """
    problems: list[Problem] = []
    known_text = f"{draft}\n{client_message or ''}"
    known_lower = known_text.lower()
    chars = bad_characters(reply)
    if chars:
        problems.append(Problem("characters", "use no control, escape, invisible or direction characters ("
                                + ", ".join(chars[:5]) + ")"))
    markup = [m.group() for p in (_HTML, _MD_LINK) for m in p.finditer(reply)]
    if markup:
        problems.append(Problem("markup", "write plain text: no HTML, no Markdown links or images ("
                                + ", ".join(repr(x[:40]) for x in markup[:3]) + ")"))
    stripped = reply.strip()
    if stripped[:1] in _WRAPPERS and stripped[-1:] == _WRAPPERS[stripped[:1]]:
        problems.append(Problem("wrapped", "write the letter itself, not wrapped in brackets or quotes"))
    known_contacts = {_squash(v) for _, v in contact_details(known_text)}
    new = [(k, v) for k, v in contact_details(reply) if _squash(v) not in known_contacts
           and _squash(v) not in _squash(known_text)]
    if new:
        problems.append(Problem("contact", "add no link, email address, phone number or IBAN that is not in the "
                                "draft (" + ", ".join(f"{k} {v!r}" for k, v in new[:3]) + ")"))
    checks = content_checks(lang)
    groups = [] if checks is None else [
        ("date_time", checks.date_time, "dates, days or times"),
        ("offer", checks.offer, "prices, discounts, refunds or anything for free")]
    for code, group, what in groups:
        hits = sorted({h for h in group.finds(reply) if " ".join(h.lower().split()) not in known_lower})
        if hits:
            problems.append(Problem(code, f"add no {what} that the draft does not mention ("
                                    + ", ".join(repr(h) for h in hits[:4]) + ")"))
    problems += _frame_problems(reply, draft)
    if instructions:
        copied = _leaked_runs(reply, instructions, f"{known_text}\n{allowed}")
        if copied >= 8:
            problems.append(Problem("instructions", "do not repeat your instructions"))
    return problems
