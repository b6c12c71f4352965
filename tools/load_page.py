"""Server capacity of the page: many people clicking "Check and rewrite" at once on one server.

Two measurements against ONE `streamlit run ui/app.py` server (rules mode, COACH_OFFLINE=1):

1. Protocol sessions: N sessions (default 20), each in its own thread, speak Streamlit's own
   websocket protocol (/_stcore/stream, BackMsg/ForwardMsg protobufs) exactly like a browser tab:
   open the page (first run), fill the client message and the draft, press the button. The time
   is from sending the click to the server's "script finished" for that run, with the reply box
   among the elements it sent. No browser is started for these, so the 2 cores serve the page,
   not 20 Chromiums.
2. Real browsers: M pages (default 5) in one Debian Chromium (playwright), clicked together;
   the time is from the click until the reply box is visible.

    .venv/bin/python tools/load_page.py                 # 20 protocol sessions, then 5 browsers
    .venv/bin/python tools/load_page.py --sessions 20 --browsers 0 --json

It starts its own server on a free port (or uses --url) with a data folder of its own (or
$COACH_DATA_DIR), warms it with one click first (index build, model load), then measures.
"""

from __future__ import annotations

import argparse
import warnings
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

CLIENT = (
    "Sehr geehrter Herr Lorenz,\n\n"
    "unser Hauptlieferant hat überraschend alle Lieferungen eingestellt, die Produktion steht still. "
    "Wir müssen das Führungskräfte-Coaching deshalb leider absagen.\n\n"
    "Mit freundlichen Grüßen\nSabine Roth"
)
DRAFTS = (
    "Sehr geehrte Frau Roth,\n\nkein Problem, ich habe das Coaching storniert. Ehrlich gesagt halte ich das "
    "für eine Überreaktion. Laut Vertrag fällt allerdings eine Ausfallgebühr an.\n\nMit freundlichen Grüßen\n"
    "Markus Lorenz",
    "Hallo Sabine,\n\nalles klar, ich habe die Termine gestrichen. Schade, aber so ist es eben.\n\nViele Grüße\n"
    "Markus",
    "Dear Ms Roth,\n\nno problem, I have cancelled the coaching. Honestly, I think this is an overreaction. "
    "Under the contract a cancellation fee applies.\n\nKind regards\nMarkus Lorenz",
)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between the closest ranks."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


# ----------------------------------------------------------------------------- the protocol session

@dataclass
class Session:
    """One browser tab, spoken in Streamlit's websocket protocol."""

    url: str
    ws: object = None
    widget_ids: dict[str, str] = field(default_factory=dict)  # user key -> widget id
    seen: set[str] = field(default_factory=set)  # widget keys in the last run's elements
    errors: list[str] = field(default_factory=list)

    def connect(self) -> None:
        from websockets.sync.client import connect

        ws_url = self.url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # a long-lived connection, closed in close()
            self.ws = connect(ws_url, subprotocols=["streamlit"], max_size=64 * 2**20, open_timeout=30)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()  # type: ignore[attr-defined]

    def _send_rerun(self, states: list[object]) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        warnings.filterwarnings("ignore", category=DeprecationWarning, module="websockets")
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = ""
        msg.rerun_script.widget_states.widgets.extend(states)
        self.ws.send(msg.SerializeToString())  # type: ignore[attr-defined]

    def _read_run(self, timeout: float = 120.0) -> None:
        """Read ForwardMsgs until the run finishes; note the keyed widgets and any exception."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.seen = set()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the run did not finish in time")
            raw = self.ws.recv(timeout=left)  # type: ignore[attr-defined]
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                etype = element.WhichOneof("type")
                if etype == "exception":
                    self.errors.append(element.exception.message[:200])
                widget = getattr(element, etype) if etype else None
                wid = getattr(widget, "id", "") if widget is not None else ""
                if isinstance(wid, str) and wid.startswith("$$ID-"):
                    key = wid.rsplit("-", 1)[-1]
                    self.widget_ids[key] = wid
                    self.seen.add(key)
            elif kind == "script_finished":
                return

    def open(self) -> None:
        self.connect()
        self._send_rerun([])
        self._read_run()

    def click(self, draft: str, client: str) -> float:
        """Fill both fields and press the button; seconds until the run with the result has finished."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        states = []
        for key, value in (("client_message", client), ("draft", draft)):
            s = WidgetState(id=self.widget_ids[key])
            s.string_value = value
            states.append(s)
        s = WidgetState(id=self.widget_ids["run"])
        s.trigger_value = True
        states.append(s)
        t0 = time.monotonic()
        self._send_rerun(states)
        self._read_run()
        took = time.monotonic() - t0
        if "reply" not in self.seen:
            self.errors.append("no reply box after the click")
        return took


def protocol_sessions(url: str, n: int) -> dict[str, object]:
    """N sessions in N threads, opened first, then all clicking at the same moment."""
    sessions = [Session(url) for _ in range(n)]
    times: list[float | None] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        s = sessions[i]
        try:
            s.open()
            barrier.wait(timeout=120)
            times[i] = s.click(DRAFTS[i % len(DRAFTS)] + f"\n\n(#{i})", CLIENT)
        except Exception as exc:  # reported, not raised: one broken session must not hide the others
            s.errors.append(f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.abort()
        finally:
            s.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [t for t in times if t is not None]
    errors = [e for s in sessions for e in s.errors]
    return {"sessions": n, "completed": len(ok), "errors": errors[:5],
            "p50_s": round(statistics.median(ok), 2) if ok else None,
            "p95_s": round(percentile(ok, 95), 2) if ok else None,
            "max_s": round(max(ok), 2) if ok else None}


# ----------------------------------------------------------------------------- real browsers

def browser_sessions(url: str, n: int) -> dict[str, object]:
    """N pages in one Chromium, filled first, then clicked together (playwright's async API)."""
    import asyncio

    from playwright.async_api import async_playwright
    from test_ui_browser import CHROMIUM, CHROMIUM_ARGS

    ready: list[int] = []

    async def one(browser, i: int, start: asyncio.Event) -> float:  # type: ignore[no-untyped-def]
        ctx = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="de-DE")
        page = await ctx.new_page()
        page.set_default_timeout(120_000)
        await page.goto(url, wait_until="domcontentloaded")
        await page.locator(".st-key-draft textarea").wait_for()
        await page.locator(".st-key-client_message textarea").fill(CLIENT)
        await page.locator(".st-key-draft textarea").fill(DRAFTS[i % len(DRAFTS)] + f"\n\n(#{i})")
        await page.locator(".st-key-draft textarea").press("Tab")
        await page.wait_for_timeout(300)
        ready.append(i)
        await start.wait()
        t0 = time.monotonic()
        await page.locator(".st-key-run button").click()
        await page.locator(".st-key-reply textarea").wait_for(state="visible")
        took = time.monotonic() - t0
        await ctx.close()
        return took

    async def main() -> list[float]:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            start = asyncio.Event()
            tasks = [asyncio.create_task(one(browser, i, start)) for i in range(n)]
            for _ in range(1200):  # every page loaded and filled, then one common click
                if len(ready) == n or any(t.done() for t in tasks):
                    break
                await asyncio.sleep(0.1)
            start.set()
            out = await asyncio.gather(*tasks)
            await browser.close()
            return list(out)

    times = asyncio.run(main())
    return {"browsers": n, "p50_s": round(statistics.median(times), 2), "p95_s": round(percentile(times, 95), 2),
            "max_s": round(max(times), 2)}


# ----------------------------------------------------------------------------- rerun cost

def rerun_cost(chars: int = 19_200, runs: int = 5) -> dict[str, object]:
    """What typing costs after a long result: the page's rerun time (streamlit.testing.AppTest, in process)."""
    from streamlit.testing.v1 import AppTest

    os.environ.setdefault("COACH_OFFLINE", "1")
    para = ("Ich verstehe gut, dass das gerade schwer ist. Kein Problem, ich habe den Termin storniert. "
            "Wir können später über alles reden. ")
    body, n = [], 0
    while n < chars - 60:
        body.append(para * 3)
        n += len(para) * 3 + 2
    draft = "Sehr geehrte Frau Vogt,\n\n" + "\n\n".join(body) + "\n\nMit freundlichen Grüßen\nPeter Kraus"
    at = AppTest.from_file(str(REPO / "ui" / "app.py"), default_timeout=120).run()
    at.text_area(key="client_message").input(CLIENT)
    at.text_area(key="draft").input(draft)
    t0 = time.monotonic()
    at.button(key="run").click().run()
    click = time.monotonic() - t0
    times = []
    for i in range(runs):
        at.text_area(key="client_message").input(CLIENT + f" {i}")
        t0 = time.monotonic()
        at.run()
        times.append(time.monotonic() - t0)
    return {"draft_chars": len(draft), "click_s": round(click, 2),
            "rerun_ms_p50": round(statistics.median(times) * 1000, 1), "rerun_ms_max": round(max(times) * 1000, 1)}


# ----------------------------------------------------------------------------- main

def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds a process has used so far (Linux /proc), or None."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from test_ui_browser import streamlit_server

    data = os.environ.get("COACH_DATA_DIR")
    with contextlib.ExitStack() as stack:
        if not data:
            data = stack.enter_context(tempfile.TemporaryDirectory(prefix="coach-load-"))
        yield stack.enter_context(streamlit_server(Path(data)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20, help="protocol sessions clicking at once (default 20)")
    ap.add_argument("--browsers", type=int, default=5, help="real Chromium pages clicking at once (default 5; 0: none)")
    ap.add_argument("--url", help="an already running page (default: start one in rules mode)")
    ap.add_argument("--rerun-cost", action="store_true",
                    help="only measure what a rerun from typing costs after a 19,200-character result")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.rerun_cost:
        cost = rerun_cost()
        print(json.dumps(cost, indent=2) if args.json else
              f"rerun after typing, {cost['draft_chars']}-character draft: p50 {cost['rerun_ms_p50']} ms, "
              f"max {cost['rerun_ms_max']} ms (the click itself: {cost['click_s']} s)")
        return 0
    out: dict[str, object] = {"cpus": os.cpu_count()}
    with server(args.url) as url:
        warm = Session(url)
        warm.open()
        out["warm_click_s"] = round(warm.click(DRAFTS[0], CLIENT), 2)  # builds the index, loads the model
        warm.close()
        single = Session(url)
        single.open()
        out["one_session_s"] = round(single.click(DRAFTS[1], CLIENT), 2)
        single.close()
        pid = None if args.url else getattr(__import__("test_ui_browser").streamlit_server, "pid", None)
        if args.sessions:
            out["load_average_before"] = load_average()
            cpu0 = cpu_seconds(pid)
            out["protocol"] = protocol_sessions(url, args.sessions)
            cpu1 = cpu_seconds(pid)
            if cpu0 is not None and cpu1 is not None:
                # what the server itself spent per click, whatever else runs on the machine
                out["protocol"]["server_cpu_s_per_click"] = round((cpu1 - cpu0) / args.sessions, 3)  # type: ignore[index]
        if args.browsers:
            out["browser"] = browser_sessions(url, args.browsers)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"one session alone: {out['one_session_s']} s (warm-up click {out['warm_click_s']} s)")
        if "protocol" in out:
            p = out["protocol"]
            print(f"{p['sessions']} protocol sessions at once: p50 {p['p50_s']} s, p95 {p['p95_s']} s, "  # type: ignore[index]
                  f"max {p['max_s']} s, completed {p['completed']}, errors {p['errors']}; "  # type: ignore[index]
                  f"server CPU per click {p.get('server_cpu_s_per_click')} s; "  # type: ignore[union-attr]
                  f"load average before {out.get('load_average_before')}")
        if "browser" in out:
            b = out["browser"]
            print(f"{b['browsers']} Chromium pages at once: p50 {b['p50_s']} s, p95 {b['p95_s']} s, max {b['max_s']} s")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
