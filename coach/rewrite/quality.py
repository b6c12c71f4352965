"""Measuring rewrites against what issues #4 and #13 promise a user (used by tests, eval and bench).

`coach eval FILE.jsonl --rewrites [--json]` runs the offline rewrite on every row
({"id", "draft", "client_message", "fault_phrases": [...], "must_keep": [...]}) and reports:
layout kept (greeting, closing, signature lines, P.S., quoted lines as their own lines, in place), good drafts
byte-identical, fault phrases gone, must-keep facts kept, no move added twice, no crisis wording for an unclear
mail, short drafts grow at most by their own length (or 30 words), no two neighbouring sentences open alike,
and the most used phrasing's share.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from coach.checker import Analysis, Checker
from coach.models import FAULT_MOVES, GOOD_MOVES, RewriteResult
from coach.rewrite.followups import asks_decision, is_echo, is_filler, roles, style
from coach.rewrite.rules_rewriter import likely_faults, plan_sentences
from coach.rewrite.voice import words

_WORD1 = re.compile(r"\w+")


class RewriteCheck(BaseModel):
    id: str = ""
    good_moves: bool
    no_faults: bool
    greeting_kept: bool
    signature_kept: bool
    quotes_kept: bool
    language_kept: bool
    address_kept: bool
    fine_sentences_kept: bool
    faulty_dropped: bool

    @property
    def ok(self) -> bool:
        return all(v for k, v in self.model_dump().items() if k != "id")

    def failures(self) -> list[str]:
        return [k for k, v in self.model_dump().items() if k != "id" and v is False]


def _contains(haystack: str, sentence: str) -> bool:
    s = sentence.strip()
    if not s:
        return True
    return s in haystack or (s[0].swapcase() + s[1:]) in haystack


def assess(a: Analysis, result: RewriteResult, checker: Checker) -> RewriteCheck:
    text = result.rewrite
    after = result.after
    plans = plan_sentences(a, likely_faults(a, checker))
    edited = {c.before for c in result.changes if c.kind == "edited"}
    moves_of = {src.id: src.move for src in result.sources}
    added_understanding = any(c.kind == "added" and any(moves_of.get(i) == roles().acknowledge for i in c.sources)
                              for c in result.changes)
    removed = {c.before.strip() for c in result.changes if c.kind == "removed"}
    fine = [p.text for p in plans if p.verdict == "keep" and p.text not in edited
            and not (added_understanding and is_echo(p.text, a.language))  # "verstehe." folded into the added line
            and not (p.text.strip() in removed and _follows_its_neighbours(p.text, a.language))]
    faulty = [p.text for p in plans if p.verdict == "fault"]
    want_address = a.address if a.address in ("Sie", "du") else after.address
    return RewriteCheck(
        good_moves=all(getattr(after.moves, m) for m in GOOD_MOVES),
        no_faults=not any(getattr(after.moves, m) for m in FAULT_MOVES),
        greeting_kept=text.startswith(a.letter.greeting.strip()) if a.letter.greeting else True,
        signature_kept=all(line in _lines(text) for line in layout_lines(a) if line),
        quotes_kept=all(a.draft[s:e] in text for s, e in a.parts.quoted),
        language_kept=after.language == a.language,
        address_kept=after.address == want_address,
        fine_sentences_kept=all(_contains(text, f) for f in fine),
        faulty_dropped=not any(f.strip() in text for f in faulty),
    )


def _follows_its_neighbours(sentence: str, lang: str) -> bool:
    """A fine sentence the rewrite may drop because of what changed around it: a bare interjection ("schade!",
    "naja.") left alone once its neighbours went, or a request for a decision ("let me know how you would like to
    proceed") that would contradict the added deferral."""
    return is_filler(sentence, lang) or asks_decision(sentence, lang)


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.split("\n")}


def layout_lines(a: Analysis) -> list[str]:
    """The draft's greeting, closing, signature, P.S., footer and quoted lines, in order."""
    out = []
    for p in a.letter.parts:
        if p.kind == "greeting" and not p.trail.startswith("\n"):
            continue  # "hey tim, puh ..." on one line: the greeting is not a line of its own
        if p.kind in ("greeting", "closing", "signature", "ps", "footer", "quote", "quoted"):
            out.extend(line.strip() for line in p.raw.split("\n") if line.strip())
    return out


def _layout_in_place(a: Analysis, text: str, removed: Sequence[str] = ()) -> bool:
    """Every layout line is a line of the rewrite, in the draft's order (a P.S. line the rewrite removed as a
    fault, "P.S. the invoice still goes out", is not layout that was lost)."""
    lines = [line.strip() for line in text.split("\n")]
    gone = [r.strip() for r in removed if len(r.strip()) >= 15]
    pos = 0
    for want in layout_lines(a):
        if any(want in g or g in want for g in gone):
            continue
        try:
            pos = lines.index(want, pos) + 1
        except ValueError:
            return False
    return True


def _openings_alike(result: RewriteResult, checker: Checker, lang: str) -> int:
    """Neighbouring sentences that open with the same word, where the rewrite made one of them."""
    a = checker.analyse(result.rewrite, lang=lang, own=True)
    made = {c.after for c in result.changes if c.kind in ("added", "edited")}
    n = 0
    for p in a.letter.parts:
        firsts = [((_WORD1.findall(s.text.lower()) or [""])[0], s.text in made) for s in p.sentences]
        n += sum(1 for x, y in zip(firsts, firsts[1:], strict=False) if x[0] and x[0] == y[0] and (x[1] or y[1]))
    return n


def _moves_added_twice(result: RewriteResult, checker: Checker, lang: str) -> bool:
    added = [c.after for c in result.changes if c.kind == "added"]
    if not added:
        return False
    a = checker.analyse(result.rewrite, lang=lang, own=True)
    per = a.sentence_moves()
    by_text = {a.draft[s:e]: moves for (s, e), moves in per.items()}
    added_moves = Counter(m for t in added for m in by_text.get(t, set()) if m in GOOD_MOVES)
    if any(v > 1 for v in added_moves.values()):
        return True
    others = {m for t, ms in by_text.items() if t not in added for m in ms}
    return any(m in others for m in added_moves)


def measure(rows: list[dict[str, Any]], coach: Any) -> dict[str, Any]:
    """`coach`: a coach.api.Coach (offline); passed in, since the API sits above this layer."""
    checker: Checker = coach.checker
    per_row = []
    phrasing_use: Counter[str] = Counter()
    n_rewrites = 0
    times = []
    for row in rows:
        draft, client = row["draft"], row.get("client_message")
        a = checker.analyse(draft, client_message=client)
        t0 = time.perf_counter()
        r = coach.rewrite(draft, client_message=client, offline=True)
        times.append(time.perf_counter() - t0)
        text = r.rewrite
        good = a.report().moves.is_good
        faults = row.get("fault_phrases") or []
        keep = row.get("must_keep") or []
        flagged_text = " ".join(p.text for p in plan_sentences(a) if p.verdict != "keep")
        flagged = [f for f in faults if f in flagged_text]
        dw = words(" ".join(s.text for s in a.letter.sentences()))
        growth = words(text) - words(draft)
        added = [c.after for c in r.changes if c.kind == "added"]
        crisis = (a.scenario in (None, "unclear")) and any(style(a.language).is_crisis(t) for t in added)
        if r.changed:
            n_rewrites += 1
            phrasing_use.update({s.id for s in r.sources if s.kind == "phrasing"})
        per_row.append({
            "id": row.get("id", ""),
            "good": good,
            "good_unchanged": (not good) or (text == draft and not r.changed),
            "layout_kept": _layout_in_place(a, text, removed=[c.before for c in r.changes if c.kind == "removed"]),
            "faults_total": len(faults),
            "faults_gone": sum(1 for f in faults if f not in text),
            "flagged_total": len(flagged),
            "flagged_gone": sum(1 for f in flagged if f not in text),
            "keep_total": len(keep),
            "keep_kept": sum(1 for k in keep if k in text),
            "no_move_twice": not _moves_added_twice(r, checker, a.language),
            "crisis_for_unclear": crisis,
            "short": dw < 60,
            "growth_ok": dw >= 60 or growth <= max(dw, 30),
            "openings_alike": _openings_alike(r, checker, a.language) if r.changed else 0,
            "after_good": r.after.moves.is_good,
        })
    n = len(per_row) or 1
    faults_total = sum(x["faults_total"] for x in per_row)
    keep_total = sum(x["keep_total"] for x in per_row)
    changed = max(n_rewrites, 1)
    times.sort()
    return {
        "n": len(per_row),
        "layout_kept": sum(x["layout_kept"] for x in per_row) / n,
        "good_drafts": sum(x["good"] for x in per_row),
        "good_unchanged": sum(x["good_unchanged"] for x in per_row if x["good"]) / max(1, sum(x["good"] for x in per_row)),
        "fault_phrases_gone": sum(x["faults_gone"] for x in per_row) / faults_total if faults_total else 1.0,
        # of the fault phrases the checker flagged: what the rewrite itself is answerable for
        "flagged_fault_phrases_gone": (sum(x["flagged_gone"] for x in per_row) / sum(x["flagged_total"] for x in per_row)
                                       if sum(x["flagged_total"] for x in per_row) else 1.0),
        "must_keep_kept": sum(x["keep_kept"] for x in per_row) / keep_total if keep_total else 1.0,
        "no_move_added_twice": sum(x["no_move_twice"] for x in per_row) / n,
        "crisis_for_unclear": sum(x["crisis_for_unclear"] for x in per_row),
        "short_growth_ok": sum(x["growth_ok"] for x in per_row if x["short"]) / max(1, sum(x["short"] for x in per_row)),
        "openings_alike": sum(x["openings_alike"] for x in per_row),
        "after_good": sum(x["after_good"] for x in per_row) / n,
        "top_phrasing_share": (phrasing_use.most_common(1)[0][1] / changed) if phrasing_use else 0.0,
        "top_phrasing": phrasing_use.most_common(1)[0][0] if phrasing_use else "",
        "rewrite_ms_p50": round(times[len(times) // 2] * 1000, 2) if times else 0.0,
        "rows": per_row,
    }


def load_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                from coach.errors import InputError

                raise InputError(f"{path}:{i}: not JSON: {exc}") from None
    return rows


def format_measure(out: dict[str, Any]) -> str:
    lines = [f"{k:27} {v}" for k, v in out.items() if k != "rows"]
    bad = [r["id"] for r in out["rows"] if not (r["layout_kept"] and r["good_unchanged"] and r["no_move_twice"]
                                                 and r["growth_ok"] and not r["crisis_for_unclear"]
                                                 and r["faults_gone"] == r["faults_total"]
                                                 and r["keep_kept"] == r["keep_total"])]
    lines.append(f"{'rows with a miss':27} {', '.join(bad) or '-'}")
    return "\n".join(lines) + "\n"
