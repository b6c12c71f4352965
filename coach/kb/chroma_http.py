"""chromadb's HTTP client with connect and read timeouts.

chromadb 1.5 builds its ``httpx.Client`` with ``timeout=None``: a server that accepts the
connection and never answers would hang every call. ``chroma_api_impl`` (a documented
chromadb setting) names the class that talks to the server; this subclass only sets the
timeouts on the session it made. The values come from ``set_timeouts`` (per host and port),
so nothing else of chromadb's settings changes.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
from chromadb.api.fastapi import FastAPI

_timeouts: dict[tuple[str, int], tuple[float, float]] = {}
_lock = threading.Lock()
DEFAULT = (3.0, 10.0)  # connect, read (seconds)


def set_timeouts(host: str, port: int, *, connect: float, read: float) -> None:
    with _lock:
        _timeouts[(str(host), int(port))] = (float(connect), float(read))


def timeouts_for(host: str, port: int) -> tuple[float, float]:
    with _lock:
        return _timeouts.get((str(host), int(port)), DEFAULT)


class TimedFastAPI(FastAPI):
    def __init__(self, system: Any) -> None:
        super().__init__(system)
        connect, read = timeouts_for(str(system.settings.chroma_server_host),
                                     int(system.settings.chroma_server_http_port or 8000))
        self._session.timeout = httpx.Timeout(read, connect=connect)


IMPL = f"{__name__}.TimedFastAPI"
