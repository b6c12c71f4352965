"""The Streamlit page: paste the client's message and a draft reply, get the reply to send first.

Run it with ``coach ui`` or ``streamlit run ui/app.py``. Page logic lives here, HTML in
:mod:`coach.web.render`, interface strings in ``knowledge/lang/<xx>/ui.toml`` (:mod:`coach.web.i18n`).

Work happens once per click: the check, the rewrite, the comparison and the highlighted texts are
computed then and kept in ``st.session_state``; a rerun from typing only re-sends them. Accepting
or rejecting a change calls ``Coach.apply`` (no model call); editing the reply calls ``Coach.check``.
One Coach serves every session (``st.cache_resource``); the LLM's reachability is probed with a
short timeout and cached for a minute (``st.cache_data``).
"""

from __future__ import annotations

import os

# A page server runs many sessions at once: one thread per embedding (the model's OpenMP threads,
# busy-waiting on two cores, cost 7x the CPU per click). Set before the embedding library loads;
# an explicit setting in the environment wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "10000")  # a short spin before sleeping (see coach/e5.py)

import hashlib  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any  # noqa: E402

import streamlit as st  # noqa: E402

from coach.web import render
from coach.web.examples import EXAMPLES, get_example
from coach.web.i18n import UI_LANGS, Strings, native_name, pick_ui_lang, strings
from coach.web.probe import Probe, probe

if TYPE_CHECKING:
    from coach.api import Coach
    from coach.models import CheckReport, RewriteResult

LANG_OPTIONS = ("auto", "de", "en")

# Widget and state keys (the user's text lives in st.session_state under these and survives reruns).
K_CLIENT, K_DRAFT, K_LANG, K_EXAMPLE, K_RUN, K_OUTCOME = (
    "client_message", "draft", "lang", "example", "run", "outcome")
K_UI, K_REPLY, K_ANOTHER, K_ALL_CHANGES = "ui_lang", "reply", "another", "all_changes"
CHANGES_SHOWN = 25  # changes listed before "show all"
FAVICON = Path(__file__).with_name("favicon.png")
RESULT_KEY = "coach_result"  # the result container's key: its CSS class is st-key-coach_result

_ENV_FOR_COACH = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COACH_MODEL", "COACH_OFFLINE", "COACH_LLM_TIMEOUT",
                  "COACH_EMBEDDINGS", "COACH_DATA_DIR", "CHROMA_HOST", "CHROMA_PORT", "COACH_REDACT")
# Notices the page shows in its own way (badge, "send it as it is", Details), not as a box.
_SHOWN_ELSEWHERE = frozenset({"offline_requested", "offline_mode", "llm_not_configured", "llm_model", "usage",
                              "prompt_tokens", "sent_as_is"})


# ----------------------------------------------------------------------------- the shared Coach

def _config_fingerprint() -> str:
    """A hash of the settings' sources, so a changed environment or .env gets a fresh Coach.

    Hashed, so that no key ends up in Streamlit's cache keys in the clear.
    """
    h = hashlib.sha256()
    for name in _ENV_FOR_COACH:
        h.update(f"{name}={os.environ.get(name, '')}\0".encode())
    try:
        st_env = os.stat(".env")
        h.update(f"{os.path.abspath('.env')}:{st_env.st_mtime_ns}:{st_env.st_size}".encode())
    except OSError:
        pass
    return h.hexdigest()


@st.cache_resource(show_spinner=False)
def _shared_coach(fingerprint: str) -> Coach:  # noqa: ARG001 - the argument is the cache key
    from coach.api import Coach

    return Coach()


def get_coach() -> Coach:
    """The one Coach all sessions share (per configuration)."""
    return _shared_coach(_config_fingerprint())


@st.cache_data(ttl=60, show_spinner=False)
def _probe_cached(fingerprint: str) -> Probe:  # noqa: ARG001 - the argument is the cache key
    try:
        settings = get_coach().settings
    except Exception:
        return Probe("unconfigured")
    timeout = min(1.5, float(getattr(settings, "llm_timeout", 1.5)))
    return probe(settings, timeout=timeout)


def llm_probe() -> Probe:
    """Whether the LLM answers, asked at most once a minute per configuration."""
    return _probe_cached(_config_fingerprint())


def _scrub(text: str) -> str:
    """Mask the API key (also one that came from .env rather than the environment) and key-like strings."""
    from coach.secrets import scrub

    key = None
    try:
        secret = get_coach().settings.openai_api_key
        key = secret.get_secret_value() if secret is not None else None
    except Exception:  # an unreadable configuration has no key to hide beyond what scrub finds itself
        pass
    return scrub(text, key)


def _alert(text: str, level: str) -> None:
    """A warning or error box whose text stays text. Not st.warning: that reads Markdown, which turns
    a URL quoted from a model's answer into a link even when escaped; this is escaped HTML only."""
    st.html(render.alert_html(text, level))


def _describe(exc: BaseException) -> str:
    msg = str(exc).strip() or "-"
    return _scrub(f"{type(exc).__name__}: {msg}")[:500]


# ----------------------------------------------------------------------------- state

@dataclass
class Outcome:
    """What the last click produced, with everything derived from it computed once."""

    draft: str
    client_message: str | None
    lang: str | None
    report: CheckReport
    result: RewriteResult | None = None
    probe_state: str = "offline"
    variant: int = 0
    rejected: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    click: int = 0  # counts the clicks of this session (widget keys of a result carry it)
    another_same: bool = False
    # derived, once per click or per accept/reject
    draft_html: str = ""
    draft_list: str = ""
    letter: str = ""
    letter_report: CheckReport | None = None
    rows: list[render.Row] = field(default_factory=list)
    flagged: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)  # kept sentence, (move, why)
    reply_html: str = ""
    reply_list: str = ""
    apply_error: str | None = None
    # the last edited text the user checked, and its report
    edited_text: str | None = None
    edited_report: CheckReport | None = None
    edited_html: str = ""
    edited_list: str = ""

    @property
    def draft_lang(self) -> str:
        return self.report.language

    @property
    def sent_as_is(self) -> bool:
        r = self.result
        if r is None:
            return False
        if (not r.changed) or any(n.code == "sent_as_is" for n in r.notices) or r.rewrite.strip() == self.draft.strip():
            return True
        # the checker finds nothing to mend: the draft itself is the reply, whatever a rewrite would polish
        return self.report.moves.is_good and not any(f.severity != "info" for f in self.report.findings)


def _t() -> Strings:
    return strings(st.session_state.get(K_UI) or "de")


def _load_example() -> None:
    """on_change of the example select: put the example's texts into the widgets."""
    ex = get_example(st.session_state.get(K_EXAMPLE) or "")
    if ex is None:
        return
    st.session_state[K_CLIENT] = ex.client_message
    st.session_state[K_DRAFT] = ex.draft
    st.session_state[K_LANG] = ex.lang if ex.lang in LANG_OPTIONS else "auto"
    st.session_state.pop(K_OUTCOME, None)


# ----------------------------------------------------------------------------- derived views

def _apply(coach: Coach, outcome: Outcome) -> tuple[str, CheckReport]:
    """The letter with the rejected changes undone (Coach.apply: no model call) and its check."""
    result = outcome.result
    assert result is not None
    if outcome.sent_as_is:
        return outcome.draft, outcome.report
    if not outcome.rejected:
        return result.rewrite, result.after
    applied: Any = coach.apply(result, rejected=list(outcome.rejected))  # type: ignore[attr-defined]
    letter = applied if isinstance(applied, str) else applied.rewrite
    report = getattr(applied, "after", None)
    if report is None:
        report = coach.check(letter, client_message=outcome.client_message, lang=outcome.draft_lang)
    return letter, report


def _refresh(coach: Coach, outcome: Outcome) -> None:
    """Recompute what depends on the accepted changes; put the letter into the reply box."""
    if outcome.result is None:
        return
    try:
        letter, report = _apply(coach, outcome)
        outcome.apply_error = None
    except Exception as exc:  # keep the full rewrite rather than show a broken letter
        outcome.apply_error = _describe(exc)
        outcome.rejected = []
        letter, report = outcome.result.rewrite, outcome.result.after
    outcome.letter, outcome.letter_report = letter, report
    placed, _ = render.place_findings(letter, [f for f in report.findings if f.severity != "info"])
    rows = render.compare_rows(outcome.draft, letter, [(p.start, p.end) for p in placed])
    outcome.rows = rows
    outcome.flagged = render.flagged_sentences(letter, placed)
    outcome.reply_html = render.highlight_html(letter, report.findings, outcome.draft_lang)
    outcome.reply_list = render.findings_list_html(letter, report.findings, outcome.draft_lang)
    outcome.edited_text, outcome.edited_report = None, None
    st.session_state[K_REPLY] = letter


def _current(coach: Coach, outcome: Outcome) -> tuple[str, CheckReport, bool]:
    """The reply as it stands in the box, its check (cached per text) and whether the user edited it."""
    text = st.session_state.get(K_REPLY)
    if text is None or text == outcome.letter or outcome.letter_report is None:
        return outcome.letter, outcome.letter_report, False  # type: ignore[return-value]
    if outcome.edited_text != text:
        try:
            report = coach.check(text, client_message=outcome.client_message, lang=outcome.draft_lang)
        except Exception:  # an emptied box: keep showing the last check
            return text, outcome.edited_report or outcome.letter_report, True  # type: ignore[return-value]
        outcome.edited_text, outcome.edited_report = text, report
        outcome.edited_html = render.highlight_html(text, report.findings, outcome.draft_lang)
        outcome.edited_list = render.findings_list_html(text, report.findings, outcome.draft_lang)
    return text, outcome.edited_report, True  # type: ignore[return-value]


# ----------------------------------------------------------------------------- header and inputs

def _header(t: Strings, pr: Probe) -> None:
    left, right = st.columns([3, 2], vertical_alignment="top")
    with left:
        st.title(t("title"), anchor=False)
        st.caption(t("tagline"))
    with right:
        st.radio(t("ui_lang_label"), UI_LANGS, key=K_UI, horizontal=True, format_func=native_name,
                 label_visibility="collapsed")
        if pr.state == "up":
            st.badge(t("badge_llm", model=pr.model), icon=":material/smart_toy:", color="green")
        elif pr.state == "down":
            st.badge(t("badge_llm_down"), icon=":material/cloud_off:", color="orange")
            st.caption(t("mode_llm_down", endpoint=pr.endpoint, reason=pr.reason))
        else:
            st.badge(t("badge_offline"), icon=":material/cloud_off:", color="gray")


def _inputs(t: Strings) -> bool:
    """The input form; returns True when the button was clicked in this run."""
    top_l, top_r = st.columns([3, 1], vertical_alignment="bottom")
    with top_l:
        st.selectbox(t("examples_label"), [e.title for e in EXAMPLES], index=None, key=K_EXAMPLE,
                     placeholder=t("examples_placeholder"), on_change=_load_example, help=t("examples_help"))
    with top_r:
        if st.session_state.get(K_LANG) not in LANG_OPTIONS:
            st.session_state[K_LANG] = "auto"
        names = {"auto": t("draft_lang_auto"), "de": t("lang_de"), "en": t("lang_en")}
        st.selectbox(t("draft_lang_label"), LANG_OPTIONS, key=K_LANG, format_func=names.get)
    col_client, col_draft = st.columns(2)
    with col_client:
        st.text_area(t("client_label"), key=K_CLIENT, height=200, placeholder=t("client_placeholder"),
                     help=t("client_help"))
    with col_draft:
        st.text_area(t("draft_label"), key=K_DRAFT, height=200, placeholder=t("draft_placeholder"))
    return st.button(t("run_button"), key=K_RUN, type="primary", icon=":material/edit_note:")


# ----------------------------------------------------------------------------- the click

def _reads_as_neither(draft: str) -> bool:
    """A language chosen by hand must not make coach check a French letter as German: refuse a text of
    a dozen words or more in which neither language's function words show."""
    from coach.lang.detect import detect_language

    return len(draft.split()) >= 12 and detect_language(draft) is None


def _rules_rewrite(coach: Coach, outcome: Outcome, pr: Probe, variant: int = 0) -> RewriteResult:
    """The rules rewrite. With the LLM known to be down, it is asked for offline (no 12 s wait)
    and says so with a true notice instead of "offline was asked for"."""
    from coach.notices import notice

    llm_configured = pr.state in ("up", "down")
    kwargs: dict[str, Any] = {"client_message": outcome.client_message, "lang": outcome.lang,
                              "offline": True if llm_configured else None}
    if variant:
        kwargs["variant"] = variant
    result = coach.rewrite(outcome.draft, **kwargs)
    if llm_configured:  # nobody asked for offline: the page chose it, and says why
        notices = [n for n in result.notices if n.code != "offline_requested"]
        if pr.state == "down":
            notices.insert(0, notice("llm_unreachable", outcome.draft_lang, endpoint=pr.endpoint,
                                     reason=pr.reason))
        result = result.model_copy(update={"notices": notices})
    return result


def _run(coach: Coach, pr: Probe, t: Strings) -> None:
    """Check and rewrite the current inputs; store the outcome in session_state."""
    previous = st.session_state.pop(K_OUTCOME, None)
    draft = st.session_state.get(K_DRAFT) or ""
    client = st.session_state.get(K_CLIENT) or ""
    lang_choice = st.session_state.get(K_LANG) or "auto"
    lang = None if lang_choice == "auto" else lang_choice
    if not draft.strip():
        st.info(t("empty_draft"), icon=":material/info:")
        return
    client_message = client if client.strip() else None

    from coach.errors import InputError

    if lang is not None and _reads_as_neither(draft):
        st.warning(t("neither_language"), icon=":material/warning:")
        return
    try:
        report = coach.check(draft, client_message=client_message, lang=lang)
    except InputError as exc:
        reason = _scrub(str(exc)).replace("pass --lang de or --lang en", t("choose_lang_hint"))
        _alert(t("cannot_check", reason=reason), "warning")
        return
    except Exception as exc:
        _alert(t("check_failed", reason=_describe(exc)), "warning")
        return

    outcome = Outcome(draft=draft, client_message=client_message, lang=lang, report=report,
                      probe_state=pr.state, click=(getattr(previous, "click", 0) or 0) + 1)
    outcome.draft_html = render.highlight_html(draft, report.findings, report.language)
    outcome.draft_list = render.findings_list_html(draft, report.findings, report.language)
    started = time.monotonic()
    if pr.state == "up":
        _rewrite_streamed(coach, outcome, pr, t)
    else:
        status = st.status(t("status_rules"), expanded=False)
        try:
            outcome.result = _rules_rewrite(coach, outcome, pr)
            status.update(label=t("status_ready"), state="complete")
        except Exception as exc:
            outcome.error = t("rewrite_failed", reason=_describe(exc))
            status.update(label=t("status_failed"), state="error")
    outcome.seconds = time.monotonic() - started
    st.session_state[K_OUTCOME] = outcome
    _refresh(coach, outcome)


def _rewrite_streamed(coach: Coach, outcome: Outcome, pr: Probe, t: Strings) -> None:
    """Stream the model's text into an escaped plain-text box; the verified result replaces it.

    The box shows text only (st.code), never Markdown or HTML, placeholders ("[NAME_1]") as they
    come. A StreamReset (repair or fallback) clears it at once; at the end the final, verified
    letter (or the rules rewrite) takes its place.
    """
    status = st.status(t("status_llm"), expanded=True)
    with status:
        caption, box = st.empty(), st.empty()
    result = None
    try:
        parts: list[str] = []
        last = 0.0
        for item in coach.rewrite_stream(outcome.draft, client_message=outcome.client_message, lang=outcome.lang):
            if isinstance(item, str):
                if not parts:
                    status.update(label=t("status_writing"))
                    caption.caption(t("stream_caption"))
                parts.append(item)
                now = time.monotonic()
                if now - last > 0.08:
                    box.code("".join(parts), language=None, wrap_lines=True)
                    last = now
            elif hasattr(item, "rewrite"):
                result = item
            else:  # a StreamReset: what streamed so far will not be the reply (repair or fallback)
                parts = []
                box.empty()
                caption.empty()
                status.update(label=t("status_llm"))
        if result is None:
            raise RuntimeError("the stream ended without a result")
    except Exception as exc:
        outcome.warnings.append(t("llm_failed", reason=_describe(exc)))
        _probe_cached.clear()  # the badge must not stay green on the next run if the server went away
        try:
            result = _rules_rewrite(coach, outcome, pr)  # offline: the model is not asked twice
        except Exception as exc2:
            outcome.error = t("rewrite_failed", reason=_describe(exc2))
    caption.empty()
    box.empty()
    if result is not None and result.mode != "llm":
        _probe_cached.clear()
    outcome.result = result
    status.update(label=t("status_ready") if result is not None else t("status_failed"),
                  state="complete" if result is not None else "error", expanded=False)


def _another() -> None:
    """on_click of "another version": other approved phrasings (rules) or a new model answer."""
    outcome: Outcome | None = st.session_state.get(K_OUTCOME)
    if outcome is None or outcome.result is None:
        return
    coach, pr = get_coach(), llm_probe()
    try:
        if outcome.result.mode == "llm" and pr.state == "up":
            new = coach.rewrite(outcome.draft, client_message=outcome.client_message, lang=outcome.lang)
            variant = outcome.variant
        else:
            variant = outcome.variant + 1
            new = _rules_rewrite(coach, outcome, pr, variant=variant)
    except Exception as exc:
        outcome.warnings.append(_t()("rewrite_failed", reason=_describe(exc)))
        return
    outcome.another_same = new.rewrite == outcome.result.rewrite
    outcome.variant = variant
    ids = {c.id for c in new.changes}
    outcome.rejected = [cid for cid in outcome.rejected if cid in ids]  # the user's choices stay where they can
    outcome.result = new
    _refresh(coach, outcome)


def _toggle(cid: str, key: str) -> None:
    """on_change of a change's checkbox: undo or redo that change at once (no model call)."""
    outcome: Outcome | None = st.session_state.get(K_OUTCOME)
    if outcome is None:
        return
    keep = bool(st.session_state.get(key))
    rejected = [c for c in outcome.rejected if c != cid]
    if not keep:
        rejected.append(cid)
    outcome.rejected = rejected
    _refresh(get_coach(), outcome)


def _undo_edits() -> None:
    outcome: Outcome | None = st.session_state.get(K_OUTCOME)
    if outcome is not None:
        st.session_state[K_REPLY] = outcome.letter


# ----------------------------------------------------------------------------- the result

def _copy_button(text: str, t: Strings) -> None:
    """A visible copy button (works on touch): copies what is in the reply box right now.

    It reads the box in the page (same origin) and falls back to the text it was given; where the
    Clipboard API is blocked (plain http on another host) it selects and copies the old way.
    """
    payload = json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    labels = json.dumps({"copy": t("copy_button"), "copied": t("copied"), "failed": t("copy_failed")}
                        ).replace("<", "\\u003c")
    st.iframe(f"""<!doctype html><html><head><meta charset="utf-8"><style>
body{{margin:0;font-family:"Source Sans Pro","Source Sans 3",sans-serif;}}
button{{min-height:40px;padding:0.35rem 0.9rem;font-size:1rem;border-radius:0.5rem;cursor:pointer;
border:1px solid #ff4b4b;background:#ff4b4b;color:#fff;font-weight:600;}}
button:active{{opacity:0.8;}} #m{{margin-left:0.5rem;font-size:0.9rem;color:#555;}}
</style></head><body><button id="b" type="button" data-testid="coach-copy"></button><span id="m" role="status"></span>
<script>
const fallback = {payload}; const L = {labels};
const b = document.getElementById('b'), m = document.getElementById('m');
b.innerHTML = '<svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" style="vertical-align:-3px;margin-right:6px"><path fill="currentColor" d="M16 1H4a2 2 0 0 0-2 2v14h2V3h12V1zm3 4H8a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h11a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2zm0 16H8V7h11v14z"/></svg>';
b.appendChild(document.createTextNode(L.copy));
function current() {{
  try {{ const ta = window.parent.document.querySelector('.st-key-{K_REPLY} textarea');
        if (ta) return ta.value; }} catch (e) {{}}
  return fallback;
}}
function oldWay(v) {{
  const ta = document.createElement('textarea'); ta.value = v; ta.setAttribute('readonly', '');
  ta.style.position = 'fixed'; ta.style.opacity = '0'; document.body.appendChild(ta);
  ta.select(); ta.setSelectionRange(0, v.length); let ok = false;
  try {{ ok = document.execCommand('copy'); }} catch (e) {{}}
  document.body.removeChild(ta); return ok;
}}
b.addEventListener('click', async () => {{
  const v = current(); let ok = false;
  try {{ if (navigator.clipboard && window.isSecureContext) {{ await navigator.clipboard.writeText(v); ok = true; }} }} catch (e) {{}}
  if (!ok) ok = oldWay(v);
  m.textContent = ok ? L.copied : L.failed;
  setTimeout(() => {{ m.textContent = ''; }}, 4000);
}});
</script></body></html>""", height=46)  # html is ours; the text is a JSON literal


def _scroll_to_result(nonce: int) -> None:
    """Bring the result into view once after a click (on a phone it starts far below)."""
    st.iframe(f"""<script>/* {nonce} */
let tries = 0;
const go = () => {{
  const el = window.parent.document.querySelector('.st-key-{RESULT_KEY}');
  if (el) {{ el.scrollIntoView({{block: 'start'}}); }} else if (tries++ < 40) {{ setTimeout(go, 50); }}
}};
go();
</script>""", height=1)


def _notices(outcome: Outcome) -> None:
    """Warnings and errors as boxes by level; information as a quiet line. Never matched on text."""
    for w in outcome.warnings:
        _alert(_scrub(w), "warning")
    result = outcome.result
    if result is None:
        return
    infos = []
    for n in result.notices:
        if n.code in _SHOWN_ELSEWHERE:
            continue
        text = _scrub(n.text)
        if n.level == "error":
            _alert(text, "error")
        elif n.level == "warning":
            _alert(text, "warning")
        else:
            infos.append(f'<div style="font-size:0.9em;opacity:0.8;">ℹ {render.esc(text)}</div>')
    if infos:
        st.html("".join(infos))


def _changes(outcome: Outcome, coach: Coach, t: Strings) -> None:
    result = outcome.result
    assert result is not None
    st.subheader(t("changes_title"), anchor=False)
    if not result.changes:
        st.caption(t("changes_none") if outcome.sent_as_is else t("changes_unavailable"))
        _flagged(outcome, t)
        return
    can_apply = hasattr(coach, "apply")
    st.caption(t("changes_help") if can_apply else t("changes_unavailable"))
    if outcome.apply_error:
        _alert(outcome.apply_error, "warning")
    sources = {s.id: s for s in result.sources}
    _flagged(outcome, t)
    shown = result.changes
    if len(shown) > CHANGES_SHOWN and not st.session_state.get(K_ALL_CHANGES):
        # a long letter can have hundreds: every rerun (each keystroke elsewhere) would draw them all
        shown = [c for c in shown if c.id in outcome.rejected] + \
            [c for c in shown if c.id not in outcome.rejected][:CHANGES_SHOWN]
        shown = [c for c in result.changes if c in shown]
    for ch in shown:
        with st.container(border=True, key=f"change_{ch.id}"):
            parts = [f'<span class="coach-tag">{render.esc(t("kind_" + ch.kind))}</span>']
            if ch.before:
                parts.append(f'<div style="text-decoration:line-through;opacity:0.75;white-space:pre-wrap;">'
                             f'{render.esc(ch.before)}</div>')
            if ch.after:
                parts.append(f'<div style="white-space:pre-wrap;">{render.esc(ch.after)}</div>')
            if ch.why:
                parts.append(f'<div style="font-size:0.9em;opacity:0.85;"><b>{render.esc(t("change_why"))}:</b> '
                             f'{render.esc(ch.why)}</div>')
            titles = [sources[s].title if s in sources else s for s in ch.sources]
            if titles:
                parts.append(f'<div style="font-size:0.85em;opacity:0.7;">{render.esc(t("change_source"))}: '
                             f'{render.esc("; ".join(titles))}</div>')
            st.html("".join(parts))
            if can_apply:
                key = f"keep_{outcome.click}_{outcome.variant}_{ch.id}"
                st.session_state[key] = ch.id not in outcome.rejected
                st.checkbox(t("change_keep"), key=key, on_change=_toggle, args=(ch.id, key))
    if len(result.changes) > CHANGES_SHOWN:
        st.toggle(t("changes_all", count=len(result.changes)), key=K_ALL_CHANGES)


def _flagged(outcome: Outcome, t: Strings) -> None:
    """Sentences the reply keeps although the checker has a note on them, with the note (not those the
    user brought back by unticking a change: that change already says why)."""
    restored = {c.before.strip() for c in (outcome.result.changes if outcome.result else [])
                if c.id in outcome.rejected and c.before}
    for sentence, notes in outcome.flagged:
        if sentence.strip() in restored:
            continue
        parts = [f'<span class="coach-tag">{render.esc(t("kind_flagged"))}</span>',
                 f'<div style="white-space:pre-wrap;">{render.esc(sentence)}</div>']
        for _move, why in notes:
            parts.append(f'<div style="font-size:0.9em;opacity:0.85;"><b>{render.esc(t("change_why"))}:</b> '
                         f'{render.esc(why)}</div>')
        with st.container(border=True):
            st.html("".join(parts))


def _details(outcome: Outcome, pr: Probe, t: Strings, current_report: CheckReport) -> None:
    """For those who want them: mode, rule ids, sources, notices with codes, timing."""
    result = outcome.result
    with st.expander(t("details_title"), expanded=False):
        mode = {"offline": "COACH_OFFLINE=1", "unconfigured": "no OPENAI_API_KEY / OPENAI_BASE_URL",
                "up": f"LLM {pr.model} at {pr.endpoint} ({pr.ms} ms)",
                "down": f"LLM {pr.model} at {pr.endpoint}: {pr.reason}"}.get(pr.state, pr.state)
        lines = [t("details_mode", mode=mode), t("took", seconds=f"{outcome.seconds:.1f}")]
        if result is not None and result.usage is not None:
            lines.append(t("tokens", prompt=result.usage.prompt_tokens, completion=result.usage.completion_tokens))
        rules = sorted({f.rule for f in outcome.report.findings} | {f.rule for f in current_report.findings})
        if rules:
            lines.append(f"{t('details_rule')}: " + ", ".join(rules))
        if result is not None:
            lines += [f"{n.code} ({n.level}): {_scrub(n.text)}" for n in result.notices]
        st.code("\n".join(lines), language=None, wrap_lines=True)
        if result is None:
            return
        st.markdown(f"**{render.esc(t('sources_title', count=len(result.sources)))}**")
        if not result.sources:
            st.caption(t("sources_none"))
        blocks = []
        for s in result.sources:
            kind = t("source_phrasing") if s.kind == "phrasing" else t("source_passage")
            blocks.append(f'<div style="margin-bottom:0.6rem;"><b>{render.esc(s.title)}</b> '
                          f'<span style="opacity:0.65;font-size:0.85em;">{render.esc(kind)} · {render.esc(s.id)} · '
                          f'{render.esc(s.lang)} · {s.score:.2f}</span>'
                          f'<div style="{render.QUOTE_STYLE}">{render.esc(s.text)}</div></div>')
        if blocks:
            st.html("".join(blocks))


def _results(coach: Coach, outcome: Outcome, pr: Probe, t: Strings) -> None:
    report, result = outcome.report, outcome.result
    with st.container(key=RESULT_KEY):
        # first in the container, the same on every rerun: its script runs (and scrolls) once per click
        with st.container(key="coach_scroll"):
            _scroll_to_result(outcome.click)
        st.subheader(t("result_title"), anchor=False)
        if outcome.error:
            _alert(outcome.error, "warning")
        client_now = (st.session_state.get(K_CLIENT) or "").strip()
        if (st.session_state.get(K_DRAFT) or "") != outcome.draft or client_now != (outcome.client_message or "").strip():
            st.caption(t("stale_inputs"))
        if result is None:
            st.html(outcome.draft_html + (outcome.draft_list or render.esc(t("nothing"))))
            return
        text, now_report, edited = _current(coach, outcome)
        if outcome.sent_as_is:
            st.success(f"**{t('sent_as_is_title')}.** {t('sent_as_is_body')}", icon=":material/check_circle:")
        score = t("score_line", before=report.score, after=now_report.score,
                  now_label=t("now_edited") if edited else t("now_rewrite"))
        if outcome.sent_as_is:
            st.caption(score)
        else:
            by = t("by_llm", model=pr.model or "LLM") if result.mode == "llm" else t("by_rules")
            st.caption(f"{by} · {score}")
        st.text_area(t("rewrite_label"), key=K_REPLY, height=300, help=t("rewrite_help"))
        c1, c2, c3 = st.columns([1, 1, 1.3], vertical_alignment="center")
        with c1, st.container(key="coach_copy"):
            _copy_button(text, t)
        with c2:
            st.download_button(t("download_button"), data=text.encode("utf-8"), file_name="reply.txt",
                               mime="text/plain", on_click="ignore", icon=":material/download:")
        with c3:
            if not outcome.sent_as_is:
                label = t("another_llm") if result.mode == "llm" and pr.state == "up" else t("another_rules")
                st.button(label, key=K_ANOTHER, on_click=_another, icon=":material/autorenew:")
        if outcome.another_same:
            st.caption(t("another_same"))
        if edited:
            st.info(t("edited_note"), icon=":material/edit:")
            st.button(t("undo_edits"), key="undo_edits", on_click=_undo_edits)
        _notices(outcome)

    left, right = st.columns([3, 2], gap="medium")
    with left:
        if not outcome.sent_as_is:
            _changes(outcome, coach, t)
    with right:
        st.subheader(t("checklist_title"), anchor=False)
        scen = t("scen_" + report.scenario) if report.scenario else t("scen_none")
        lang_name = t("lang_" + report.language)
        if report.address in ("Sie", "du", "mixed"):
            summary = t("summary_address", lang=lang_name, address=t("addr_" + report.address), scenario=scen)
        else:
            summary = t("summary", lang=lang_name, scenario=scen)
        st.html(render.checklist_html(report.moves, now_report.moves, t)
                + f'<p style="font-size:0.875rem;opacity:0.65;margin-top:0.5rem;">{render.esc(summary)}</p>')

    if not outcome.sent_as_is:
        st.subheader(t("compare_title"), anchor=False)
        st.html(f'<p style="font-size:0.875rem;opacity:0.65;">{render.esc(t("compare_help"))}</p>'
                + render.compare_html(outcome.rows, t))

    f_left, f_right = st.columns(2, gap="medium")
    with f_left:
        st.html(f"<p><b>{render.esc(t('findings_title'))}</b></p>" + outcome.draft_html
                + (outcome.draft_list or render.esc(t("nothing"))))
    with f_right:
        head = f"<p><b>{render.esc(t('findings_reply'))}</b></p>"
        if edited:
            st.html(head + outcome.edited_html + (outcome.edited_list or render.esc(t("nothing"))))
        else:
            st.html(head + outcome.reply_html + (outcome.reply_list or render.esc(t("nothing"))))
    _details(outcome, pr, t, now_report)


# ----------------------------------------------------------------------------- main

def _server_settings() -> None:
    """Server settings .streamlit/config.toml holds, also for `coach ui` started from another folder.

    No full garbage collection after every script run: with the models loaded it costs ~65 ms of CPU
    per run (two runs per visit), a third of what a visit costs the server. Python's own generational
    collector still runs. Set through Streamlit's config module, as a command-line flag would be."""
    try:
        from streamlit import config

        if config.get_option("runner.postScriptGC"):
            config.set_option("runner.postScriptGC", False, "coach.web.page")
    except Exception:  # an older or newer Streamlit without the option: keep its default
        pass


def _default_ui_lang() -> str:
    try:
        locale = st.context.locale
    except Exception:
        locale = None
    try:
        accept = st.context.headers.get("Accept-Language")
    except Exception:
        accept = None
    return pick_ui_lang(locale, accept)


def main() -> None:
    # production settings also when served from elsewhere than the repository (.streamlit/config.toml
    # says the same): no Deploy button or developer menu, no tracebacks shown to users
    st.set_option("client.toolbarMode", "minimal")
    st.set_option("client.showErrorDetails", "none")
    _server_settings()
    if st.session_state.get(K_UI) not in UI_LANGS:
        st.session_state[K_UI] = _default_ui_lang()
    t = _t()
    # a local icon: an emoji or :material: page icon makes the browser fetch it from fonts.gstatic.com
    st.set_page_config(page_title=t("page_title"), page_icon=str(FAVICON), layout="wide")
    st.html(render.PAGE_CSS)
    try:
        coach = get_coach()
        coach.settings  # noqa: B018 - a bad value in the environment shows here, not mid-click
    except Exception as exc:
        st.title(t("title"), anchor=False)
        _alert(t("config_unreadable", reason=_describe(exc)), "warning")
        return
    pr = llm_probe()
    _header(t, pr)
    if _inputs(t):
        _run(coach, pr, t)
    outcome = st.session_state.get(K_OUTCOME)
    if outcome is not None and hasattr(outcome, "letter_report"):  # survives a module reload in development
        _results(coach, outcome, pr, t)
