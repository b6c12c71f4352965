"""Pure rendering helpers for the Streamlit page: no Streamlit import, easy to test.

Everything that comes from the user or a model (draft, client message, rewrite, the text a
finding quotes, a change's reason) is escaped before it goes into HTML. The HTML is built on one
line (newlines become ``<br>``) and characters Markdown or Streamlit give a meaning to (``*``,
``_``, ``$``, ``:``, ...) are written as numeric entities, so it stays inert wherever it lands.
Explanations open on a tap (a focusable mark, CSS ``:focus``), not on hover, so they work on a phone.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from coach.sentences import sentence_spans
from coach.web.i18n import Strings, quote

# ----------------------------------------------------------------------------- escaping

# After html.escape, the characters Markdown and Streamlit's extensions (:emoji:, :color[...],
# $math$, ~~strike~~) could pick up become numeric entities too. html.escape's own output only
# holds & # x ; letters and digits, none of which are in this set.
_MD_ENTITIES = {ord(c): f"&#{ord(c)};" for c in "\\`*_[]{}$:~|"}


def esc(text: str) -> str:
    """Escape user text for HTML: entities for markup, ``<br>`` for line breaks."""
    out = html.escape(text, quote=True).translate(_MD_ENTITIES)
    return out.replace("\r\n", "<br>").replace("\r", "<br>").replace("\n", "<br>")


def esc_attr(text: str) -> str:
    """Escape text for an HTML attribute value."""
    out = html.escape(text, quote=True).translate(_MD_ENTITIES)
    return out.replace("\r\n", "&#10;").replace("\r", "&#10;").replace("\n", "&#10;")


# ----------------------------------------------------------------------------- page style

# One style sheet for the whole page (st.html keeps <style>); classes below use it.
PAGE_CSS = """<style>
.st-key-coach_scroll{display:none;}
.coach-text{white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.7;padding:0.75rem 1rem;
 border:1px solid rgba(128,128,128,0.35);border-radius:0.5rem;}
.coach-text mark{padding:0 1px;border-radius:2px;}
mark.coach-error{background:#ffd9d6;color:#5c0b05;border-bottom:2px solid #d93025;}
mark.coach-warning{background:#fff0c2;color:#4d3800;border-bottom:2px solid #e0a800;}
mark.coach-info{background:#d9f2dd;color:#0d4a1c;border-bottom:2px solid #2e9e4f;}
.coach-note{cursor:pointer;border-radius:2px;}
.coach-note:focus{outline:none;}
.coach-note:focus mark{outline:2px solid #1a73e8;outline-offset:1px;}
.coach-note .coach-explain{display:none;}
.coach-note:focus .coach-explain,.coach-note:focus-within .coach-explain{display:block;}
.coach-num{font-size:0.7em;font-weight:600;color:#6b6b6b;margin-left:1px;vertical-align:super;}
.coach-explain{display:block;white-space:normal;margin:0.3rem 0 0.5rem 0;padding:0.4rem 0.6rem;
 border-left:3px solid #1a73e8;background:rgba(26,115,232,0.08);border-radius:0.25rem;font-size:0.92em;}
.coach-explain p{margin:0 0 0.25rem 0;}
.coach-findings{padding-left:0;margin:0.25rem 0;}
.coach-findings li{margin-bottom:0.45rem;list-style:none;}
.coach-sug{opacity:0.85;}
table.coach-compare{width:100%;border-collapse:collapse;table-layout:fixed;}
table.coach-compare th{text-align:left;font-weight:600;padding:0.3rem 0.5rem;}
table.coach-compare td{vertical-align:top;padding:0.35rem 0.5rem;border-top:1px solid rgba(128,128,128,0.25);
 white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.55;width:50%;}
tr.coach-removed td.coach-before{background:#ffe4e1;color:#5c0b05;}
tr.coach-added td.coach-after{background:#ddf4e0;color:#0d4a1c;}
tr.coach-edited td.coach-before{background:#ffe4e1;color:#5c0b05;}
tr.coach-edited td.coach-after{background:#ddf4e0;color:#0d4a1c;}
tr.coach-flagged td.coach-after{background:#fff5d1;color:#4d3800;}
table.coach-checklist th,table.coach-checklist td{padding:0.15rem 0.45rem;vertical-align:top;}
table.coach-checklist th:first-child,table.coach-checklist td:first-child{padding-left:0;}
.coach-alert{padding:0.75rem 1rem;border-radius:0.5rem;margin:0.25rem 0;line-height:1.5;overflow-wrap:anywhere;}
.coach-alert-warning{background:rgba(255,189,69,0.2);color:#926c05;}
.coach-alert-error{background:rgba(255,43,43,0.09);color:#7d353b;}
.coach-tag{display:inline-block;font-size:0.72em;font-weight:600;padding:0 0.35rem;margin-right:0.35rem;
 border-radius:0.6rem;background:rgba(128,128,128,0.18);white-space:nowrap;}
@media (max-width:640px){
 table.coach-compare thead{display:none;}
 table.coach-compare td{display:block;width:auto;}
 table.coach-compare td.coach-after{border-top:none;}
 table.coach-compare tr.coach-kept td.coach-before{display:none;}
}
</style>"""


# ----------------------------------------------------------------------------- findings

_SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}
QUOTE_STYLE = ("white-space:pre-wrap;border-left:3px solid rgba(128,128,128,0.45);padding:0.1rem 0.75rem;"
               "margin-top:0.2rem;opacity:0.9;")


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch in "-’'"


def snap(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span to whole words, so a mark never stops in the middle of one."""
    while start > 0 and start < len(text) and _is_word(text[start - 1]) and _is_word(text[start]):
        start -= 1
    while 0 < end < len(text) and _is_word(text[end - 1]) and _is_word(text[end]):
        end += 1
    return start, end


def locate(text: str, f: Any) -> tuple[int, int] | None:
    """Where finding ``f`` sits in ``text``: its span when that holds the words it quotes, else the
    nearest place those words occur, else its span as given; None when there is nowhere to point."""
    n = len(text)
    try:
        start, end = int(_get(f, "start")), int(_get(f, "end"))
    except (TypeError, ValueError):
        return None
    quoted = str(_get(f, "text") or "")
    start, end = max(0, min(start, n)), max(0, min(end, n))
    if quoted and text[start:end] != quoted:
        hits = [m.start() for m in re.finditer(re.escape(quoted), text)]
        if hits:
            s = min(hits, key=lambda h: abs(h - start))
            start, end = s, s + len(quoted)
    if end <= start:
        return None
    return snap(text, start, end)


@dataclass(frozen=True)
class Placed:
    """A finding that has a non-empty span inside the text, numbered in reading order."""

    number: int
    start: int
    end: int
    finding: Any

    @property
    def severity(self) -> str:
        return str(_get(self.finding, "severity"))


def place_findings(text: str, findings: Iterable[Any]) -> tuple[list[Placed], list[Any]]:
    """Split findings into those with a span in ``text`` (numbered by position) and general ones."""
    spans: list[tuple[int, int, Any]] = []
    general: list[Any] = []
    for f in findings:
        where = locate(text, f)
        if where is None:
            general.append(f)
        else:
            spans.append((where[0], where[1], f))
    spans.sort(key=lambda s: (s[0], -s[1]))
    return [Placed(i + 1, s, e, f) for i, (s, e, f) in enumerate(spans)], general


@dataclass
class _Cluster:
    start: int
    end: int
    members: list[Placed] = field(default_factory=list)


def _clusters(placed: Sequence[Placed]) -> list[_Cluster]:
    """Overlapping spans form one cluster: one tap target, its numbers together at its end."""
    out: list[_Cluster] = []
    for p in placed:
        if out and p.start < out[-1].end:
            out[-1].end = max(out[-1].end, p.end)
            out[-1].members.append(p)
        else:
            out.append(_Cluster(p.start, p.end, [p]))
    return out


def _explain(items: Sequence[Placed], draft_lang: str) -> str:
    parts = []
    for p in items:
        msg = esc(str(_get(p.finding, "message") or ""))
        sug = str(_get(p.finding, "suggestion") or "")
        line = f"<b>{p.number}</b> {msg}"
        if sug and p.severity != "info":
            line += f'<br><span class="coach-sug">→ {esc(sug)}</span>'
        parts.append(f"<p>{line}</p>")
    return f'<span class="coach-explain">{"".join(parts)}</span>'


def _segment(text: str, a: int, b: int) -> str:
    segment = text[a:b]
    if segment.endswith("\r") and text[b:b + 1] == "\n":
        segment = segment[:-1]  # a CRLF cut by a span boundary is still one line break
    return segment


def highlight_html(text: str, findings: Iterable[Any], draft_lang: str = "de") -> str:
    """The text as escaped HTML with every finding's words marked.

    Overlapping findings form one tappable cluster; inside it each piece is coloured by the most
    severe finding covering it, and the numbers of all its findings follow the cluster together.
    A tap (or keyboard focus) on a cluster opens its reasons and suggestions right below it
    (CSS ``:focus``, no hover and no script), so it works on a phone.
    """
    placed, _general = place_findings(text, findings)
    out: list[str] = []
    pos = 0
    for c in _clusters(placed):
        out.append(esc(_segment(text, pos, c.start)))
        cuts = sorted({c.start, c.end, *(p.start for p in c.members), *(p.end for p in c.members)})
        inner: list[str] = []
        for a, b in zip(cuts, cuts[1:]):
            active = [p for p in c.members if p.start <= a and p.end >= b]
            seg = esc(_segment(text, a, b))
            if not active:
                inner.append(seg)
                continue
            worst = max(active, key=lambda p: _SEVERITY_RANK.get(p.severity, 0)).severity
            worst = worst if worst in _SEVERITY_RANK else "warning"
            inner.append(f'<mark class="coach-{worst}">{seg}</mark>')
        nums = ",".join(str(p.number) for p in c.members)
        out.append(f'<span class="coach-note" tabindex="0" role="button">{"".join(inner)}'
                   f'<span class="coach-num">{nums}</span>{_explain(c.members, draft_lang)}</span>')
        pos = c.end
    out.append(esc(_segment(text, pos, len(text))))
    return f'<div class="coach-text">{"".join(out)}</div>'


_SEVERITY_ICON = {"error": "✗", "warning": "!", "info": "✓"}
_ICON_COLOR = {"error": "#d93025", "warning": "#c98a00", "info": "#2e9e4f"}


def _finding_item(f: Any, number: int | None, draft_lang: str) -> str:
    sev = str(_get(f, "severity"))
    icon = _SEVERITY_ICON.get(sev, "•")
    color = _ICON_COLOR.get(sev, "#888")
    head = f'<span style="color:{color};font-weight:700;">{icon}</span> '
    if number is not None:
        head += f'<span class="coach-num">{number}</span> '
    quoted = str(_get(f, "text") or "")
    if quoted:
        head += f"<b>{esc(quote(quoted, draft_lang))}</b> – "
    body = f"{head}{esc(str(_get(f, 'message') or ''))}"
    sug = str(_get(f, "suggestion") or "")
    if sug and sev != "info":
        body += f'<br><span class="coach-sug">→ {esc(sug)}</span>'
    return f"<li>{body}</li>"


def findings_list_html(text: str, findings: Iterable[Any], draft_lang: str = "de") -> str:
    """Every finding with its message and suggestion: faults first, then missing moves, then good notes.

    No rule ids here: those are for the Details expander."""
    placed, general = place_findings(text, findings)
    items: list[tuple[int, int, str]] = []
    for p in placed:
        items.append((-_SEVERITY_RANK.get(p.severity, 0), p.number, _finding_item(p.finding, p.number, draft_lang)))
    for i, f in enumerate(general):
        sev = str(_get(f, "severity"))
        items.append((-_SEVERITY_RANK.get(sev, 0), 10_000 + i, _finding_item(f, None, draft_lang)))
    if not items:
        return ""
    items.sort(key=lambda t: (t[0], t[1]))
    return '<ul class="coach-findings">' + "".join(i[2] for i in items) + "</ul>"


# ----------------------------------------------------------------------------- sentence comparison

@dataclass(frozen=True)
class Row:
    """One row of the side-by-side comparison: ``kind`` is kept, flagged, removed, added or edited."""

    kind: str
    before: str
    after: str


def _units(text: str) -> list[tuple[int, int]]:
    return sentence_spans(text)


def _key(s: str) -> str:
    return " ".join(s.split())


_LOOKAHEAD = 6
ALIKE = 0.65  # share of characters in common for "edited" (0.5 paired sentences that only share a noun)


def _alike(a: str, b: str) -> bool:
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sm.real_quick_ratio() >= ALIKE and sm.quick_ratio() >= ALIKE and sm.ratio() >= ALIKE


def compare_rows(old: str, new: str, flagged: Iterable[tuple[int, int]] = ()) -> list[Row]:
    """Sentence-by-sentence alignment of the draft and the reply.

    Within a run of sentences that differ, a draft sentence and the next alike reply sentence (two
    thirds of their characters in common, a few places ahead at most) are "edited"; the rest are "removed"
    or "added".
    A kept sentence of the reply that overlaps a ``flagged`` span is "flagged". Cost grows with
    the number of sentences, not characters (a 20,000-character letter has a few hundred).
    """
    a_spans, b_spans = _units(old), _units(new)
    a = [_key(old[s:e]) for s, e in a_spans]
    b = [_key(new[s:e]) for s, e in b_spans]
    flags = sorted(flagged)

    def is_flagged(span: tuple[int, int]) -> bool:
        return any(fs < span[1] and fe > span[0] for fs, fe in flags)

    rows: list[Row] = []
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                before, after = old[slice(*a_spans[i1 + k])], new[slice(*b_spans[j1 + k])]
                rows.append(Row("flagged" if is_flagged(b_spans[j1 + k]) else "kept", before, after))
            continue
        olds = [old[slice(*a_spans[i])] for i in range(i1, i2)]
        news = [new[slice(*b_spans[j])] for j in range(j1, j2)]
        j = 0
        for before in olds:
            # the first alike sentence a few places ahead is this one, edited; what it skips was added
            match = next((k for k in range(j, min(j + _LOOKAHEAD, len(news))) if _alike(before, news[k])), None)
            if match is None:
                rows.append(Row("removed", before, ""))
                continue
            rows.extend(Row("added", "", news[k]) for k in range(j, match))
            rows.append(Row("edited", before, news[match]))
            j = match + 1
        rows.extend(Row("added", "", news[k]) for k in range(j, len(news)))
    return rows


def flagged_sentences(text: str, placed: Sequence[Placed]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The sentences of ``text`` that carry a placed finding: (sentence, [(move, message)]) in order."""
    out: dict[tuple[int, int], list[tuple[str, str]]] = {}
    spans = sentence_spans(text)
    for p in placed:
        span = next((sp for sp in spans if sp[0] <= p.start < sp[1]), None)
        if span is None:
            continue
        note = (str(_get(p.finding, "move") or ""), str(_get(p.finding, "message") or ""))
        if note not in out.setdefault(span, []):
            out[span].append(note)
    return [(text[a:b], notes) for (a, b), notes in sorted(out.items())]


def compare_html(rows: Sequence[Row], t: Strings) -> str:
    """The comparison as a two-column table (stacked on a phone); changed rows carry a tag."""
    head = (f'<thead><tr><th>{esc(t("compare_draft"))}</th><th>{esc(t("compare_reply"))}</th></tr></thead>')
    body: list[str] = []
    for r in rows:
        tag = "" if r.kind == "kept" else f'<span class="coach-tag">{esc(t("kind_" + r.kind))}</span>'
        before = esc(r.before)
        after = esc(r.after)
        if r.kind == "removed":
            before = tag + before
        elif r.kind in ("added", "edited", "flagged"):
            after = tag + after
        body.append(f'<tr class="coach-{r.kind}"><td class="coach-before">{before}</td>'
                    f'<td class="coach-after">{after}</td></tr>')
    return f'<table class="coach-compare">{head}<tbody>{"".join(body)}</tbody></table>'


def alert_html(text: str, level: str) -> str:
    """A warning or error box: the text escaped, no Markdown (so no autolinked URLs), no markup."""
    level = level if level in ("warning", "error") else "warning"
    icon = "⚠" if level == "warning" else "✖"
    return (f'<div class="coach-alert coach-alert-{level}" role="alert">{icon} '
            f'{esc(text.replace(chr(13), " ").replace(chr(10), " "))}</div>')


# ----------------------------------------------------------------------------- moves and mode

def checklist(moves: Any, t: Strings) -> list[tuple[str, str, bool]]:
    """(move, label, ok) for the six moves in the interface language: ok is "as the method wants"."""
    from coach.moves import FAULT_MOVES, GOOD_MOVES, move

    out = []
    for m in GOOD_MOVES + FAULT_MOVES:
        present = bool(_get(moves, m))
        out.append((m, move(m).label(t.lang), present if m in GOOD_MOVES else not present))
    return out


_YES = '<span style="color:#1e8e3e;font-weight:700;" title="{t}" aria-label="{t}">✓</span>'
_NO = '<span style="color:#d93025;font-weight:700;" title="{t}" aria-label="{t}">✗</span>'


def checklist_html(before: Any, now: Any, t: Strings) -> str:
    """The checklist for the draft and the reply as it stands now, as an HTML table."""
    rows_b, rows_n = checklist(before, t), checklist(now, t)
    yes, no = _YES.format(t=esc_attr(t("yes"))), _NO.format(t=esc_attr(t("no")))
    lines = [f'<table class="coach-checklist" style="width:100%;border-collapse:collapse;"><thead><tr>'
             f'<th style="text-align:left;">{esc(t("col_move"))}</th><th>{esc(t("col_draft"))}</th>'
             f'<th>{esc(t("col_now"))}</th></tr></thead><tbody>']
    for (m, label, ok_b), (_, _, ok_n) in zip(rows_b, rows_n):
        lines.append(f'<tr data-move="{html.escape(m, quote=True)}" data-ok="{int(ok_n)}"><td>{esc(label)}</td>'
                     f'<td style="text-align:center;">{yes if ok_b else no}</td>'
                     f'<td style="text-align:center;">{yes if ok_n else no}</td></tr>')
    lines.append("</tbody></table>")
    return "".join(lines)


def endpoint(url: str | None) -> str:
    """scheme://host[:port] of a URL, never its user info, path or query (they may hold secrets)."""
    if not url:
        return "https://api.openai.com"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return f"{parts.scheme}://{host}" if parts.scheme and host else "?"
    except ValueError:
        return "?"
