"""chromadb's HTTP client with connect and read timeouts.

chromadb 1.5 builds its ``httpx.Client`` with ``timeout=None`` and offers no setting for it
(chroma-core/chroma#5805): a server that accepts the connection and never answers would hang
every call. So the server is first asked for its heartbeat with our own timeouts (a silent
server fails here, quickly), then the client is made and its session given the same timeouts
for every later request.
"""

from __future__ import annotations

from typing import Any

import httpx


def heartbeat(host: str, port: int, *, connect: float, read: float) -> None:
    """GET /api/v2/heartbeat within the timeouts; httpx errors (timeout, refused, HTTP status) pass up."""
    url = f"http://{host}:{port}/api/v2/heartbeat"
    resp = httpx.get(url, timeout=httpx.Timeout(read, connect=connect))
    resp.raise_for_status()


def http_client(host: str, port: int, settings: Any, *, connect: float, read: float) -> Any:
    import chromadb

    heartbeat(host, port, connect=connect, read=read)
    client = chromadb.HttpClient(host=host, port=port, settings=settings)
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(read, connect=connect)
    return client


def has_timeouts(client: Any) -> bool:
    session = getattr(getattr(client, "_server", None), "_session", None)
    return isinstance(session, httpx.Client) and session.timeout.read is not None
