"""The page in a real Chromium: fill both fields, click, see the rewrite next to the draft.

Also the script that makes the README screenshot::

    python tests/test_ui_browser.py docs/screenshot.png

(uses $COACH_DATA_DIR when set, e.g. a folder where `coach index` has run, else a fresh temporary
one, in which case the first rewrite builds the index and the timing on the page shows it).

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
                 "--disable-component-update", "--disable-sync"]

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
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           "--client.toolbarMode", "minimal"]
    proc = subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
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


@contextlib.contextmanager
def chromium_page(width: int = 1440, height: int = 1000) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


def run_flow(page, url: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Open the page, fill both fields, click, wait for the result. Returns timings in seconds."""
    t0 = time.monotonic()
    page.goto(url, wait_until="domcontentloaded")
    button = page.get_by_role("button", name="Check and rewrite")
    button.wait_for(state="visible", timeout=30_000)
    client = page.get_by_role("textbox", name="The client's message")
    draft = page.get_by_role("textbox", name="Your draft reply")
    client.wait_for(state="visible")
    interactive = time.monotonic() - t0
    client.fill(CLIENT_MESSAGE)
    draft.fill(DRAFT)
    # Leave the text area so Streamlit commits its value before the click.
    draft.press("Tab")
    t1 = time.monotonic()
    button.click()
    page.locator(".coach-diff").wait_for(state="visible", timeout=60_000)
    page.get_by_text("Score of the rewrite").wait_for(state="visible")
    result = time.monotonic() - t1
    # Let the last deltas settle (status icon, fonts) before anyone looks at the page.
    page.wait_for_load_state("networkidle", timeout=10_000)
    page.wait_for_timeout(400)
    return {"interactive": interactive, "result": result}


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


def take_screenshot(out_path: str | os.PathLike[str], data_dir: Path | None = None) -> dict[str, float]:
    """Run the page in rules-only mode, do one check-and-rewrite, save a full-page PNG to out_path."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if data_dir is None and os.environ.get("COACH_DATA_DIR"):
        data_dir = Path(os.environ["COACH_DATA_DIR"])
    with streamlit_server(data_dir) as url:
        timings = {"health": streamlit_server.health_seconds}  # type: ignore[attr-defined]
        with chromium_page() as page:
            timings.update(run_flow(page, url))
            # The two columns side by side are what matters; check before taking the picture.
            draft_box = page.locator(".coach-text").nth(0)
            rewrite_box = page.locator(".coach-text").nth(1)
            a, b = draft_box.bounding_box(), rewrite_box.bounding_box()
            assert a and b and b["x"] > a["x"] + a["width"] - 1, "draft and rewrite are not side by side"
            _fit_viewport_to_content(page)
            page.screenshot(path=str(out), full_page=True)
    return timings


# ----------------------------------------------------------------------------- the test


def require_browser() -> None:
    """Skip, with the reason, where no Chromium is installed; CI sets COACH_REQUIRE_BROWSER=1 to make it a failure."""
    if Path(CHROMIUM).exists():
        return
    why = f"no Chromium at {CHROMIUM} (install Debian's chromium or set CHROMIUM=/path/to/chromium)"
    if os.environ.get("COACH_REQUIRE_BROWSER") == "1":
        pytest.fail(why)
    pytest.skip(why)


@pytest.mark.browser
def test_browser_flow_and_screenshot(tmp_path: Path, session_data_dir: Path) -> None:
    require_browser()
    out = tmp_path / "screenshot.png"
    timings = take_screenshot(out, data_dir=session_data_dir)
    assert out.is_file()
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000, "the screenshot is suspiciously small"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 1200 and height >= 1000
    assert timings["interactive"] < 15


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else str(REPO / "docs" / "screenshot.png")
    figures = take_screenshot(target)
    print(f"saved {target}: " + ", ".join(f"{k} {v:.2f} s" for k, v in figures.items()))
