"""The Streamlit page: paste the client's message and a draft reply, get a check and a rewrite.

Run it with ``coach ui`` or ``streamlit run ui/app.py``. All page logic lives here; the HTML is
made by :mod:`coach.web.render`. Heavy parts (the retriever, the embedding model, the LLM client)
are imported and built only when the first rewrite needs them, so the page is up at once.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st

from coach.web import render
from coach.web.examples import EXAMPLES, get_example

if TYPE_CHECKING:
    from coach.api import Coach
    from coach.models import CheckReport, RewriteResult

BUTTON_LABEL = "Check and rewrite"
LANG_OPTIONS = ("auto", "de", "en")
LANG_LABELS = {"auto": "detect automatically", "de": "Deutsch", "en": "English"}
EXAMPLE_PLACEHOLDER = "Load an example …"

# Widget keys (the user's text lives in st.session_state under these and survives reruns).
K_CLIENT, K_DRAFT, K_LANG, K_EXAMPLE, K_RUN, K_OUTCOME = (
    "client_message", "draft", "lang", "example", "run", "outcome")

_ENV_FOR_COACH = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COACH_MODEL", "COACH_OFFLINE", "COACH_LLM_TIMEOUT",
                  "COACH_EMBEDDINGS", "COACH_DATA_DIR", "CHROMA_HOST", "CHROMA_PORT", "COACH_REDACT")


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


def _describe(exc: BaseException) -> str:
    msg = str(exc).strip() or "no details"
    return _scrub(f"{type(exc).__name__}: {msg}")[:500]


# ----------------------------------------------------------------------------- state

@dataclass
class Outcome:
    """What the last click produced; kept in session_state so it survives reruns."""

    draft: str
    client_message: str | None
    lang: str | None
    report: CheckReport
    result: RewriteResult | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


def _load_example() -> None:
    """on_change of the example select: put the example's texts into the widgets."""
    ex = get_example(st.session_state.get(K_EXAMPLE) or "")
    if ex is None:
        return
    st.session_state[K_CLIENT] = ex.client_message
    st.session_state[K_DRAFT] = ex.draft
    st.session_state[K_LANG] = ex.lang if ex.lang in LANG_OPTIONS else "auto"
    st.session_state.pop(K_OUTCOME, None)


# ----------------------------------------------------------------------------- sections

def _header(coach: Coach) -> bool:
    """Title and the mode badge; returns whether the LLM mode is on."""
    try:
        settings = coach.settings
    except Exception as exc:  # a bad value in the environment: say which, never show it
        left, right = st.columns([3, 2], vertical_alignment="bottom")
        left.title("coach")
        right.badge("offline: rules only", icon=":material/cloud_off:", color="gray")
        st.warning(f"The configuration could not be read ({_describe(exc)}). Fix it and restart the page; "
                   "until then coach can check drafts but not rewrite them.", icon=":material/warning:")
        return False
    label, why, llm_on = render.mode_badge(settings)
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        st.title("coach", anchor=False)
        st.caption("Your client wants to cancel, pause or push the project after bad news. "
                   "Paste their message and your draft reply: coach checks it against the method "
                   "and rewrites it.")
    with right:
        if llm_on:
            st.badge(label, icon=":material/smart_toy:", color="green")
        else:
            st.badge(label, icon=":material/cloud_off:", color="gray")
        st.caption(f"Mode: {why}")
    return llm_on


def _inputs() -> bool:
    """The input form; returns True when the button was clicked in this run."""
    top_l, top_r = st.columns([3, 1], vertical_alignment="bottom")
    with top_l:
        st.selectbox("Example cases", [e.title for e in EXAMPLES], index=None, key=K_EXAMPLE,
                     placeholder=EXAMPLE_PLACEHOLDER, on_change=_load_example,
                     help="Fills both fields with an invented case (German Sie, German du, English).")
    with top_r:
        if st.session_state.get(K_LANG) not in LANG_OPTIONS:
            st.session_state[K_LANG] = "auto"
        st.selectbox("Language of the draft", LANG_OPTIONS, key=K_LANG,
                     format_func=lambda v: LANG_LABELS.get(v, v))
    col_client, col_draft = st.columns(2)
    with col_client:
        st.text_area("The client's message", key=K_CLIENT, height=240,
                     placeholder="Paste the message in which the client cancels, pauses or postpones …",
                     help="Optional, but it lets coach tell a sudden shock from trouble that built up "
                          "over years.")
    with col_draft:
        st.text_area("Your draft reply", key=K_DRAFT, height=240,
                     placeholder="Paste the reply you want to send …")
    return st.button(BUTTON_LABEL, key=K_RUN, type="primary", icon=":material/edit_note:")


def _run(coach: Coach, llm_on: bool) -> None:
    """Check and rewrite the current inputs; store the outcome in session_state."""
    st.session_state.pop(K_OUTCOME, None)
    draft = st.session_state.get(K_DRAFT) or ""
    client = st.session_state.get(K_CLIENT) or ""
    lang_choice = st.session_state.get(K_LANG) or "auto"
    lang = None if lang_choice == "auto" else lang_choice
    if not draft.strip():
        st.info("Paste your draft reply first (and, if you have it, the client's message); "
                "then click “Check and rewrite”.", icon=":material/info:")
        return
    client_message = client if client.strip() else None

    from coach.errors import InputError

    try:
        report = coach.check(draft, client_message=client_message, lang=lang)
    except InputError as exc:
        reason = _scrub(str(exc)).replace("pass --lang de or --lang en",
                                          "choose Deutsch or English under “Language of the draft”")
        st.warning(f"coach cannot check this text: {reason}", icon=":material/warning:")
        return
    except Exception as exc:
        st.warning(f"The check failed: {_describe(exc)}", icon=":material/warning:")
        return

    outcome = Outcome(draft=draft, client_message=client_message, lang=lang, report=report)
    started = time.monotonic()
    if llm_on:
        _rewrite_streamed(coach, outcome)
    else:
        _rewrite_rules(coach, outcome)
    outcome.seconds = time.monotonic() - started
    st.session_state[K_OUTCOME] = outcome


def _rewrite_rules(coach: Coach, outcome: Outcome, *, status: Any = None) -> None:
    """The offline rules rewrite (also the fallback when the LLM path failed: then ``status`` is given)."""
    own_status = status is None
    if own_status:
        status = st.status("Retrieving approved phrasings …", expanded=False)
    try:
        outcome.result = coach.rewrite(outcome.draft, client_message=outcome.client_message,
                                       offline=None if own_status else True, lang=outcome.lang)
    except Exception as exc:
        outcome.error = f"The rewrite failed, so only the check is shown: {_describe(exc)}"
        status.update(label="Rewrite failed", state="error", expanded=False)
        return
    if own_status:
        status.update(label="Rewrite ready (rules)", state="complete", expanded=False)


def _rewrite_streamed(coach: Coach, outcome: Outcome) -> None:
    """Stream the LLM rewrite; on any failure fall back to the rules rewrite with a notice."""
    status = st.status("Retrieving guidance from the knowledge base …", expanded=True)
    holder: dict[str, Any] = {}

    def chunks() -> Iterator[str]:
        first = True
        for item in coach.rewrite_stream(outcome.draft, client_message=outcome.client_message,
                                         lang=outcome.lang):
            if isinstance(item, str):
                if first:
                    status.update(label="Writing the rewrite …")
                    first = False
                yield item
            else:
                holder["result"] = item

    with status:
        box = st.empty()
    try:
        with box.container():
            st.write_stream(chunks())
        if "result" not in holder:
            raise RuntimeError("the LLM stream ended without a result")
    except Exception as exc:
        box.empty()
        status.update(label="LLM rewrite failed: the rules took over", expanded=False)
        outcome.warnings.append(f"The LLM rewrite failed ({_describe(exc)}); showing the rules rewrite "
                                "instead.")
        _rewrite_rules(coach, outcome, status=status)
        if outcome.result is not None:
            status.update(label="Rewrite ready (rules, after the LLM failed)", state="complete",
                          expanded=False)
        return
    outcome.result = holder["result"]
    if outcome.result.mode != "llm":
        box.empty()  # half an answer from a failed LLM call is no use to anyone
    mode = "LLM" if outcome.result.mode == "llm" else "rules"
    status.update(label=f"Rewrite ready ({mode})", state="complete", expanded=False)


_SHOWN_ELSEWHERE = frozenset({"offline_requested", "offline_mode", "llm_not_configured", "llm_model", "usage"})


def _notices(outcome: Outcome, llm_on: bool) -> None:
    """Fallbacks and failures as warnings; redaction, prompt size and token use as information."""
    warned = False
    for w in outcome.warnings:
        st.warning(_scrub(w), icon=":material/warning:")
        warned = True
    result = outcome.result
    if result is None:
        return
    infos: list[str] = []
    for n in result.notices:
        if n.code in _SHOWN_ELSEWHERE:
            continue  # the mode badge and the token line below say so already
        text = _scrub(n.text)
        if n.level != "info":  # the LLM failed, retrieval is down, ...
            st.warning(text, icon=":material/warning:")
            warned = True
        else:
            infos.append(text)
    if llm_on and result.mode == "rules" and not warned:
        st.warning("The LLM did not deliver this rewrite; it comes from the rules.", icon=":material/warning:")
    for text in infos:
        st.info(text, icon=":material/info:")
    if result.usage is not None:
        st.info(f"Token use: {result.usage.prompt_tokens} prompt + {result.usage.completion_tokens} "
                f"completion tokens.", icon=":material/token:")


def _results(outcome: Outcome, llm_on: bool) -> None:
    report, result = outcome.report, outcome.result
    st.divider()
    if outcome.error:
        st.warning(outcome.error, icon=":material/warning:")
    if (st.session_state.get(K_DRAFT) or "") != outcome.draft:
        st.caption("The results below are for the draft as it was when you clicked; click again after "
                   "editing.")

    scenario = {"shock": "sudden shock", "long_standing": "long-standing trouble",
                "unclear": "unclear"}.get(report.scenario or "", "no client message")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Score of your draft", f"{report.score}/100")
    if result is not None:
        m2.metric("Score of the rewrite", f"{result.after.score}/100",
                  delta=result.after.score - report.score)
        m3.metric("Rewritten by", "LLM" if result.mode == "llm" else "rules")
    m4.metric("Situation", scenario, help="Sudden shock: the method's reply. Long-standing trouble: point to the "
              "right help (tax adviser, debt or insolvency counselling).")

    check_col, notes_col = st.columns([3, 2], gap="medium")
    with check_col:
        st.subheader("Checklist", anchor=False)
        st.markdown(render.checklist_markdown(report.moves, result.after.moves if result else None))
    with notes_col:
        st.subheader("Notes", anchor=False)
        took = f" Check and rewrite took {outcome.seconds:.1f}\u00a0s." if result is not None else ""
        st.caption(f"Draft in {LANG_LABELS.get(report.language, report.language)}, address "
                   f"“{report.address}”; situation: {scenario}.{took}")
        _notices(outcome, llm_on)

    left, right = st.columns(2, gap="medium")
    with left:
        st.subheader("Your draft", anchor=False)
        st.markdown(render.highlight_html(outcome.draft, report.findings), unsafe_allow_html=True)
        st.caption("Hover a highlight for the reason and a suggestion; all findings are listed below.")
    with right:
        st.subheader("Rewrite", anchor=False)
        if result is not None:
            st.markdown(render.highlight_html(result.rewrite, result.after.findings), unsafe_allow_html=True)
            st.caption("Green marks the moves the checker found in the rewrite.")
        else:
            st.caption("No rewrite this time (see the notice above).")

    f_left, f_right = st.columns(2, gap="medium")
    with f_left:
        st.markdown("**What the checker found in your draft**")
        listing = render.findings_list_html(outcome.draft, report.findings)
        st.markdown(listing or "Nothing to remark.", unsafe_allow_html=bool(listing))
    if result is None:
        return
    with f_right:
        st.markdown("**What the checker finds in the rewrite**")
        listing = render.findings_list_html(result.rewrite, result.after.findings)
        st.markdown(listing or "Nothing to remark.", unsafe_allow_html=bool(listing))

    st.subheader("What changed", anchor=False)
    st.markdown(render.diff_html(outcome.draft, result.rewrite), unsafe_allow_html=True)

    st.subheader("Copy or download the rewrite", anchor=False)
    st.code(result.rewrite, language=None, wrap_lines=True)
    st.download_button("Download the rewrite (.txt)", data=result.rewrite.encode("utf-8"),
                       file_name="rewrite.txt", mime="text/plain", on_click="ignore",
                       icon=":material/download:")

    with st.expander(f"Sources the rewrite drew on ({len(result.sources)})", expanded=False):
        if not result.sources:
            st.caption("No sources were used.")
        for s in result.sources:
            kind = "approved phrasing" if s.kind == "phrasing" else "passage"
            st.markdown(f'<div style="margin-bottom:0.6rem;"><b>{render.esc(s.title)}</b> '
                        f'<span style="opacity:0.65;font-size:0.85em;">{kind} · {render.esc(s.id)} · '
                        f'{render.esc(s.lang)} · score {s.score:.2f}</span>'
                        f'<div style="{render.QUOTE_STYLE}">{render.esc(s.text)}</div></div>',
                        unsafe_allow_html=True)


# ----------------------------------------------------------------------------- main

def main() -> None:
    st.set_page_config(page_title="coach: reply coach", page_icon=":material/forum:", layout="wide")
    try:
        coach = get_coach()
    except Exception as exc:
        st.title("coach", anchor=False)
        st.warning(f"coach could not start: {_describe(exc)}", icon=":material/warning:")
        return
    st.html("<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem;}</style>")
    llm_on = _header(coach)
    clicked = _inputs()
    if clicked:
        _run(coach, llm_on)
    outcome = st.session_state.get(K_OUTCOME)
    if outcome is not None and hasattr(outcome, "report"):  # survives a module reload in development
        _results(outcome, llm_on)
