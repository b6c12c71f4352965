"""Sentence-level changes between two letters, and undoing some of them: shared by the rules rewrite
(which edits a Letter directly) and the LLM rewrite (which diffs the Letter of the draft with the Letter
of the reply)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable

from coach.letter.model import Letter, Part, Sentence
from coach.models import Change

_WS = re.compile(r"\s+")


def _key(text: str) -> str:
    return _WS.sub(" ", text).strip().lower()


def annotate(before: Letter, after: Letter) -> Letter:
    """`after`, its sentences marked added/edited against `before`, and before's lost sentences put back
    in place as removed ones; changes_of() then lists the changes and undo() can take any of them back."""
    out = after.copy()
    old = before.sentences()
    new = [(p, s) for p in out.parts if p.has_sentences for s in p.sentences]
    sm = difflib.SequenceMatcher(a=[_key(s.text) for s in old], b=[_key(s.text) for _, s in new], autojunk=False)
    for s_new in (s for _, s in new):
        s_new.orig, s_new.state = s_new.text, "kept"
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                s = new[j1 + k][1]
                s.orig = old[i1 + k].text
                if s.text != s.orig:
                    s.state = "edited"
            continue
        pairs = 0
        if tag == "replace":
            for k in range(min(i2 - i1, j2 - j1)):
                ratio = difflib.SequenceMatcher(a=_key(old[i1 + k].text), b=_key(new[j1 + k][1].text)).ratio()
                if ratio < 0.5:
                    break
                s = new[j1 + k][1]
                s.orig, s.state = old[i1 + k].text, "edited"
                pairs += 1
        for k in range(j1 + pairs, j2):
            s = new[k][1]
            s.orig, s.state = None, "added"
        gone = old[i1 + pairs:i2]
        if gone:
            anchor = new[j1 + pairs - 1] if j1 + pairs > 0 else (new[0] if new else None)
            _put_back(out, gone, anchor, before_anchor=j1 + pairs == 0)
    return out


def _put_back(letter: Letter, gone: list[Sentence], anchor: tuple[Part, Sentence] | None, *, before_anchor: bool) -> None:
    removed = [Sentence(id=f"r{g.id}", text=g.text, start=g.start, end=g.end, sep=g.sep, orig=g.text, state="removed")
               for g in gone]
    if anchor is None:
        body = letter.body()
        part = body[0] if body else None
        if part is None:
            at = next((i for i, p in enumerate(letter.parts) if p.kind not in ("space", "greeting")), len(letter.parts))
            part = letter.new_paragraph(at)
        part.sentences.extend(removed)
        return
    part, s = anchor
    i = part.sentences.index(s)
    part.sentences[i if before_anchor else i + 1:i if before_anchor else i + 1] = removed


def numbered(letter: Letter) -> list[tuple[str, Sentence]]:
    """The changed sentences in letter order with their change ids (c1, c2, ...)."""
    out = []
    for s in letter.sentences(live=False):
        if s.state != "kept":
            out.append((f"c{len(out) + 1}", s))
    return out


def changes_of(letter: Letter, why: Callable[[Sentence], str] | None = None) -> list[Change]:
    out = []
    for cid, s in numbered(letter):
        kind = {"removed": "removed", "added": "added", "edited": "edited"}[s.state]
        out.append(Change(id=cid, kind=kind, before="" if s.state == "added" else (s.orig or ""),
                          after="" if s.state == "removed" else s.text,
                          why=s.why or (why(s) if why else ""), sources=list(s.sources)))
    return out


def undo(letter: Letter, rejected: Iterable[str]) -> Letter:
    """A copy of the letter with the rejected changes taken back; the other changes stay."""
    rejected = set(rejected)
    out = letter.copy()
    ids = {id(s): cid for cid, s in numbered(letter)}
    originals = letter.sentences(live=False)
    copies = out.sentences(live=False)
    for s_old, s in zip(originals, copies, strict=True):
        cid = ids.get(id(s_old))
        if cid is None or cid not in rejected:
            continue
        if s.state == "added":
            found = out.find(s.id)
            if found:
                del found[0].sentences[found[1]]
        else:
            s.text, s.state, s.why, s.sources = s.orig or s.text, "kept", "", []
    return out


def diff_texts(draft: str, reply: str, why: Callable[[Sentence], str] | None = None) -> tuple[Letter, list[Change]]:
    """The reply as a Letter marked against the draft, and its changes: what an LLM rewrite hands to
    RewriteResult (`changes`, and `_letter` so that Coach.apply can take changes back)."""
    from coach.letter.parse import parse_letter

    marked = annotate(parse_letter(draft), parse_letter(reply))
    return marked, changes_of(marked, why)
