"""Is the language model reachable right now? One short GET /models, so the page's badge tells the truth.

No Streamlit here: the page caches the answer for a minute. The API key goes in the header only
and never into the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

DEFAULT_BASE = "https://api.openai.com/v1"


@dataclass(frozen=True)
class Probe:
    state: str  # "offline" (switched off), "unconfigured", "up" or "down"
    model: str = ""
    endpoint: str = ""
    ms: int = 0
    reason: str = ""  # for "down": a short, key-free reason

    @property
    def llm_usable(self) -> bool:
        return self.state == "up"


def probe(settings: Any, timeout: float = 1.5) -> Probe:
    """Ask the endpoint for its models within ``timeout`` seconds.

    Any HTTP answer below 500 other than 401/403 counts as reachable (some servers have no
    /models route and answer 404); a refused or timed-out connection, a 5xx or a rejected key
    counts as down.
    """
    from coach.web.render import endpoint

    if getattr(settings, "offline", False):
        return Probe("offline")
    if not getattr(settings, "llm_enabled", False):
        return Probe("unconfigured")
    import httpx

    base = (getattr(settings, "openai_base_url", None) or DEFAULT_BASE).rstrip("/")
    where = endpoint(getattr(settings, "openai_base_url", None))
    model = str(getattr(settings, "model", "") or "")
    headers = {}
    key = getattr(settings, "openai_api_key", None)
    if key is not None:
        headers["Authorization"] = f"Bearer {key.get_secret_value()}"
    started = time.monotonic()
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False) as client:
            resp = client.get(f"{base}/models", headers=headers)
    except httpx.TimeoutException:
        return Probe("down", model, where, reason=f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return Probe("down", model, where, reason=type(exc).__name__)
    except Exception as exc:  # a malformed URL and the like
        return Probe("down", model, where, reason=type(exc).__name__)
    ms = int((time.monotonic() - started) * 1000)
    if resp.status_code in (401, 403):
        return Probe("down", model, where, ms, reason=f"HTTP {resp.status_code}: key rejected")
    if resp.status_code >= 500:
        return Probe("down", model, where, ms, reason=f"HTTP {resp.status_code}")
    return Probe("up", model, where, ms)
