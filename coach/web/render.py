"""Pure rendering helpers for the Streamlit page: no Streamlit import, easy to test.

Everything that comes from the user (draft, client message, rewrite, the text a finding quotes)
is escaped before it goes into HTML. The HTML is built on one line (newlines become ``<br>``)
so that Streamlit's Markdown parser sees one raw HTML block and never reads the user's text as
Markdown; characters Markdown or Streamlit give a meaning to (``*``, ``_``, ``$``, ``:``, ...)
are written as numeric entities as well.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# ----------------------------------------------------------------------------- escaping

# After html.escape, the characters Markdown and Streamlit's extensions (:emoji:, :color[...],
# $math$, ~~strike~~) could pick up become numeric entities too. html.escape's own output only
# holds & # x ; letters and digits, none of which are in this set.
_MD_ENTITIES = {ord(c): f"&#{ord(c)};" for c in "\\`*_[]{}$:~|"}


def esc(text: str) -> str:
    """Escape user text for HTML inside st.markdown: entities for markup, ``<br>`` for line breaks."""
    out = html.escape(text, quote=True).translate(_MD_ENTITIES)
    return out.replace("\r\n", "<br>").replace("\r", "<br>").replace("\n", "<br>")


def esc_attr(text: str) -> str:
    """Escape text for an HTML attribute value (tooltips keep their line breaks as entities)."""
    out = html.escape(text, quote=True).translate(_MD_ENTITIES)
    return out.replace("\r\n", "&#10;").replace("\r", "&#10;").replace("\n", "&#10;")


# ----------------------------------------------------------------------------- findings

_SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}

# Colours with explicit text colour, so highlights stay readable in the dark theme too.
_MARK_STYLE = {
    "error": "background:#ffd9d6;color:#5c0b05;border-bottom:2px solid #d93025;",
    "warning": "background:#fff0c2;color:#4d3800;border-bottom:2px solid #e0a800;",
    "info": "background:#d9f2dd;color:#0d4a1c;border-bottom:2px solid #2e9e4f;",
}
QUOTE_STYLE = ("white-space:pre-wrap;border-left:3px solid rgba(128,128,128,0.45);padding:0.1rem 0.75rem;"
               "margin-top:0.2rem;opacity:0.9;")
_SUP_STYLE = "font-size:0.7em;font-weight:600;color:#8a8a8a;margin-left:1px;"
_BOX_STYLE = ("white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.65;padding:0.75rem 1rem;"
              "border:1px solid rgba(128,128,128,0.35);border-radius:0.5rem;")


def _get(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, Mapping) else getattr(obj, name)


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
    """Split findings into those with a span in ``text`` (numbered by position) and general ones.

    Spans are clamped to the text; a zero-length or out-of-range span makes a finding general
    (for example "the draft never offers a plan", which has nowhere to point).
    """
    n = len(text)
    spans: list[tuple[int, int, Any]] = []
    general: list[Any] = []
    for f in findings:
        try:
            start, end = int(_get(f, "start")), int(_get(f, "end"))
        except (TypeError, ValueError, KeyError, AttributeError):
            general.append(f)
            continue
        start, end = max(0, min(start, n)), max(0, min(end, n))
        if end <= start:
            general.append(f)
        else:
            spans.append((start, end, f))
    spans.sort(key=lambda s: (s[0], -s[1]))
    placed = [Placed(i + 1, s, e, f) for i, (s, e, f) in enumerate(spans)]
    return placed, general


def _tooltip(items: Sequence[Placed]) -> str:
    parts = []
    for p in items:
        msg = str(_get(p.finding, "message"))
        sug = str(_get(p.finding, "suggestion") or "")
        parts.append(f"[{p.number}] {msg}" + (f"\n→ {sug}" if sug else ""))
    return "\n\n".join(parts)


def highlight_html(text: str, findings: Iterable[Any]) -> str:
    """The text as escaped HTML with every finding's span marked; tooltips carry message and suggestion.

    Overlapping spans are cut into segments; each segment is coloured by the most severe finding
    covering it, and its tooltip lists all of them. A small number after the end of each span
    refers to the list that :func:`findings_list_html` renders.
    """
    placed, _general = place_findings(text, findings)
    cuts = sorted({0, len(text), *(p.start for p in placed), *(p.end for p in placed)})
    out: list[str] = []
    for a, b in zip(cuts, cuts[1:]):
        segment = text[a:b]
        if segment.endswith("\r") and text[b:b + 1] == "\n":
            segment = segment[:-1]  # a CRLF cut by a span boundary is still one line break
        active = [p for p in placed if p.start <= a and p.end >= b]
        if not active:
            out.append(esc(segment))
        else:
            worst = max(active, key=lambda p: _SEVERITY_RANK.get(p.severity, 0)).severity
            style = _MARK_STYLE.get(worst, _MARK_STYLE["warning"])
            out.append(f'<mark class="coach-{esc_attr(worst)}" style="{style}padding:0 1px;" '
                       f'title="{esc_attr(_tooltip(active))}">{esc(segment)}</mark>')
        for p in placed:
            if p.end == b:
                out.append(f'<sup style="{_SUP_STYLE}">{p.number}</sup>')
    return f'<div class="coach-text" style="{_BOX_STYLE}">{"".join(out)}</div>'


_SEVERITY_LABEL = {"error": "fault", "warning": "missing", "info": "good"}
_SEVERITY_ICON = {"error": "✗", "warning": "!", "info": "✓"}
_ICON_COLOR = {"error": "#d93025", "warning": "#c98a00", "info": "#2e9e4f"}


def _finding_item(f: Any, number: int | None) -> str:
    sev = str(_get(f, "severity"))
    icon = _SEVERITY_ICON.get(sev, "•")
    color = _ICON_COLOR.get(sev, "#888")
    head = f'<span style="color:{color};font-weight:700;">{icon}</span> '
    if number is not None:
        head += f'<sup style="{_SUP_STYLE}">{number}</sup> '
    quote = str(_get(f, "text") or "")
    if quote:
        head += f"<b>„{esc(quote)}“</b> – "
    msg = esc(str(_get(f, "message")))
    sug = str(_get(f, "suggestion") or "")
    body = f"{head}{msg}"
    if sug and sev != "info":
        body += f'<br><span style="opacity:0.8;">→ {esc(sug)}</span>'
    rule = esc(str(_get(f, "rule")))
    return (f'<li style="margin-bottom:0.45rem;list-style:none;" title="{esc_attr(str(_get(f, "rule")))}">'
            f'{body} <code style="font-size:0.7em;opacity:0.6;">{rule}</code></li>')


def findings_list_html(text: str, findings: Iterable[Any]) -> str:
    """Every finding with its message and suggestion: faults first, then missing moves, then good notes."""
    placed, general = place_findings(text, findings)
    items: list[tuple[int, int, str]] = []
    for p in placed:
        items.append((-_SEVERITY_RANK.get(p.severity, 0), p.number, _finding_item(p.finding, p.number)))
    for i, f in enumerate(general):
        sev = str(_get(f, "severity"))
        items.append((-_SEVERITY_RANK.get(sev, 0), 10_000 + i, _finding_item(f, None)))
    if not items:
        return ""
    items.sort(key=lambda t: (t[0], t[1]))
    return ('<ul class="coach-findings" style="padding-left:0;margin:0.25rem 0;">'
            + "".join(i[2] for i in items) + "</ul>")


# ----------------------------------------------------------------------------- diff

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
_INS_STYLE = "background:#d9f2dd;color:#0d4a1c;text-decoration:none;border-radius:2px;"
_DEL_STYLE = "background:#ffd9d6;color:#5c0b05;border-radius:2px;margin-right:2px;"


def tokens(text: str) -> list[str]:
    """Word-level tokens: runs of word characters, single punctuation marks, and whitespace runs."""
    return _TOKEN.findall(text)


def diff_ops(old: str, new: str) -> list[tuple[str, str, str]]:
    """(tag, old_text, new_text) chunks with tag 'equal', 'delete', 'insert' or 'replace'.

    Whitespace or a single word that is all that stands between two changes is folded into them,
    so a rewritten sentence reads as one deletion and one insertion instead of a word-by-word
    patchwork.
    """
    a, b = tokens(old), tokens(new)
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    raw = [(tag, "".join(a[i1:i2]), "".join(b[j1:j2])) for tag, i1, i2, j1, j2 in sm.get_opcodes()]
    merged: list[tuple[str, str, str]] = []
    for i, (tag, x, y) in enumerate(raw):
        between_changes = (tag == "equal" and len(x.split()) <= 1 and 0 < i < len(raw) - 1
                           and raw[i - 1][0] != "equal" and raw[i + 1][0] != "equal")
        if between_changes:
            tag = "replace"
        if merged and tag != "equal" and merged[-1][0] != "equal":
            _, px, py = merged[-1]
            merged[-1] = ("replace", px + x, py + y)
        else:
            merged.append((tag, x, y))
    return [(("delete" if not y else "insert" if not x else t) if t == "replace" else t, x, y)
            for t, x, y in merged]


def diff_html(old: str, new: str) -> str:
    """A word-level diff of ``old`` and ``new`` as escaped HTML with ``<del>`` and ``<ins>``."""
    out: list[str] = []
    for tag, x, y in diff_ops(old, new):
        if tag == "equal":
            out.append(esc(x))
            continue
        if x:
            out.append(f'<del style="{_DEL_STYLE}">{esc(x)}</del>')
        if y:
            out.append(f'<ins style="{_INS_STYLE}">{esc(y)}</ins>')
    return f'<div class="coach-diff" style="{_BOX_STYLE}">{"".join(out)}</div>'


# ----------------------------------------------------------------------------- moves and mode

GOOD_MOVES = ("empathy", "plan_offer", "defer_collaboration")
FAULT_MOVES = ("accepts_cancellation", "judgment", "pressure")
MOVE_LABELS = {
    "empathy": "shows understanding for the situation",
    "plan_offer": "offers to build a concrete plan together",
    "defer_collaboration": "leaves the collaboration for a later talk",
    "accepts_cancellation": "does not simply accept the cancellation",
    "judgment": "does not judge the client's reaction",
    "pressure": "puts on no pressure (contract, fees, guilt)",
}


def checklist(moves: Any) -> list[tuple[str, str, bool]]:
    """(move, label, ok) for the six moves: a good move is ok when present, a fault when absent."""
    out = []
    for m in GOOD_MOVES + FAULT_MOVES:
        present = bool(_get(moves, m))
        out.append((m, MOVE_LABELS[m], present if m in GOOD_MOVES else not present))
    return out


# Streamlit's bundled Material icons render everywhere (no colour-emoji font needed).
YES = ":green[:material/check_circle:]"
NO = ":red[:material/cancel:]"


def _mark(ok: bool) -> str:
    return YES if ok else NO


def checklist_markdown(before: Any, after: Any | None = None) -> str:
    """A Markdown table of the checklist for the draft (and the rewrite). Labels are static text."""
    rows_b = checklist(before)
    if after is None:
        lines = ["| | the reply … |", "|:-:|:--|"]
        lines += [f"| {_mark(ok)} | {label} |" for _, label, ok in rows_b]
        return "\n".join(lines)
    rows_a = checklist(after)
    lines = ["| the reply … | draft | rewrite |", "|:--|:-:|:-:|"]
    for (_, label, ok_b), (_, _, ok_a) in zip(rows_b, rows_a):
        lines.append(f"| {label} | {_mark(ok_b)} | {_mark(ok_a)} |")
    return "\n".join(lines)


def _endpoint(url: str) -> str:
    """scheme://host[:port] of a URL, never its user info, path or query (they may hold secrets)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return f"{parts.scheme}://{host}" if parts.scheme and host else "a custom endpoint"
    except ValueError:
        return "a custom endpoint"


def mode_badge(settings: Any) -> tuple[str, str, bool]:
    """(badge text, why, llm_on) for the page's mode badge. Never includes the API key."""
    if getattr(settings, "offline", False):
        return "offline: rules only", "COACH_OFFLINE=1", False
    if not getattr(settings, "llm_enabled", False):
        return "offline: rules only", "no OPENAI_API_KEY or OPENAI_BASE_URL set", False
    model = str(getattr(settings, "model", "") or "LLM")
    base = getattr(settings, "openai_base_url", None)
    why = f"OpenAI-compatible endpoint at {_endpoint(base)}" if base else "OpenAI API (OPENAI_API_KEY set)"
    return f"LLM: {model}", why, True
