"""A local, scriptable, OpenAI-compatible HTTP server for tests.

Standard library only.  Typical use::

    from llm_server import FakeLLMServer, Reply

    with FakeLLMServer() as srv:
        srv.enqueue(Reply.content("hello"), Reply.status(429))
        client = OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0)
        ...
        assert srv.chat_requests()[0]["messages"][0]["content"] == "hi"

Endpoints (each also reachable without the ``/v1`` prefix):

* ``POST /v1/chat/completions`` -- answered from the FIFO queue filled by
  :meth:`FakeLLMServer.enqueue`; when the queue is empty the ``default`` reply
  (or callable) is used, and without a default the answer is a 500.
  Requests whose ``response_format`` the server is configured not to support
  get a 400 *without* consuming a queued reply.
* ``POST /v1/embeddings`` -- deterministic 64-dim trigram-hash embeddings
  (``encoding_format`` ``float`` or ``base64``; ``dimensions`` is honoured).
* ``GET /v1/models`` and ``GET /v1/models/{id}``.
* anything else -- 404 with an OpenAI-shaped error body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union
from collections.abc import Callable

__all__ = ["Reply", "RecordedRequest", "FakeLLMServer", "fake_embedding", "EMBEDDING_DIM"]

EMBEDDING_DIM = 64

_DISCONNECT_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)

_ERROR_TYPES = {
    400: ("invalid_request_error", None, "Bad request"),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided"),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Permission denied"),
    404: ("invalid_request_error", "not_found", "Not found"),
    408: ("invalid_request_error", "timeout", "Request timed out"),
    409: ("invalid_request_error", "conflict", "Conflict"),
    422: ("invalid_request_error", None, "Unprocessable entity"),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests"),
    500: ("server_error", None, "The server had an error while processing your request"),
    502: ("server_error", None, "Bad gateway"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later"),
    504: ("server_error", None, "Gateway timeout"),
}


def error_body(code: int, message: str | None = None, *, type: str | None = None,
               error_code: Any = "__default__", param: Any = None) -> dict:
    """An error body shaped like OpenAI's: ``{"error": {message, type, param, code}}``."""
    default_type, default_code, default_message = _ERROR_TYPES.get(
        code, ("server_error" if code >= 500 else "invalid_request_error", None, f"HTTP {code}")
    )
    return {
        "error": {
            "message": message if message is not None else default_message,
            "type": type if type is not None else default_type,
            "param": param,
            "code": default_code if error_code == "__default__" else error_code,
        }
    }


# --------------------------------------------------------------------------- replies


@dataclass
class Reply:
    """One scripted answer to a chat-completions request.  Build it with the static constructors."""

    kind: str  # "content" | "refusal" | "status" | "malformed" | "delay" | "stream_then_hang" | "keepalive" | "trickle"
    text: str = ""
    finish_reason: str = "stop"
    prompt_tokens: int = 100
    completion_tokens: int = 50
    chunk_size: int = 8
    status_code: int = 200
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    raw: bytes = b""
    content_type: str = "application/json"
    seconds: float = 0.0
    then: Reply | None = None
    sent_chars: int | None = None
    interval: float = 0.0

    @staticmethod
    def content(text: str, *, finish_reason: str = "stop", prompt_tokens: int = 100,
                completion_tokens: int = 50, chunk_size: int = 8) -> Reply:
        """A normal ``chat.completion`` (streamed as SSE chunks if the request has ``stream: true``)."""
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        return Reply("content", text=text, finish_reason=finish_reason, prompt_tokens=prompt_tokens,
                     completion_tokens=completion_tokens, chunk_size=chunk_size)

    @staticmethod
    def refusal(text: str, *, prompt_tokens: int = 100, completion_tokens: int = 50,
                chunk_size: int = 8) -> Reply:
        """``message.content`` is None and ``message.refusal`` is ``text`` (streamed as ``delta.refusal``)."""
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        return Reply("refusal", text=text, prompt_tokens=prompt_tokens,
                     completion_tokens=completion_tokens, chunk_size=chunk_size)

    @staticmethod
    def status(code: int, body: dict | None = None, headers: dict | None = None, *,
               message: str | None = None) -> Reply:
        """An HTTP error.  ``body`` defaults to an OpenAI-shaped ``{"error": {...}}`` for ``code``."""
        if body is None:
            body = error_body(code, message)
        return Reply("status", status_code=code, body=body, headers=dict(headers or {}))

    @staticmethod
    def malformed(raw: bytes = b"{not json", content_type: str = "application/json") -> Reply:
        """HTTP 200 with a broken body (always sent as a plain body, even for stream requests)."""
        return Reply("malformed", raw=bytes(raw), content_type=content_type)

    @staticmethod
    def delay(seconds: float, then: Reply) -> Reply:
        """Sleep ``seconds`` before answering with ``then``.

        The sleep ends early (and the connection is dropped without an answer)
        when the server is stopped or the client disconnects.
        """
        return Reply("delay", seconds=float(seconds), then=then)

    @staticmethod
    def stream_then_hang(text: str, seconds: float, *, sent_chars: int | None = None,
                         chunk_size: int = 8, finish_reason: str = "stop",
                         prompt_tokens: int = 100, completion_tokens: int = 50) -> Reply:
        """Stream the first ``sent_chars`` characters of ``text`` (default: half), stall ``seconds``,
        then send the rest and finish normally.

        For a non-stream request the JSON body is sent partially (with the full
        Content-Length), then stalls.  The stall ends early on server stop or
        client disconnect, in which case the connection is simply dropped.
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        return Reply("stream_then_hang", text=text, seconds=float(seconds), sent_chars=sent_chars,
                     chunk_size=chunk_size, finish_reason=finish_reason,
                     prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


    @staticmethod
    def keepalive(text: str, seconds: float, *, interval: float = 0.5, sent_chars: int | None = None,
                  chunk_size: int = 8) -> Reply:
        """Stream the first ``sent_chars`` characters of ``text`` (default: half), then send an SSE
        comment (``: keep-alive``) every ``interval`` seconds for ``seconds``, then the rest.

        For a non-stream request the headers go out, then a space (JSON whitespace) every
        ``interval`` seconds for ``seconds``, then the body: bytes keep arriving, the answer does not.
        """
        return Reply("keepalive", text=text, seconds=float(seconds), interval=float(interval),
                     sent_chars=sent_chars, chunk_size=chunk_size)

    @staticmethod
    def trickle(then: Reply, interval: float = 2.0) -> Reply:
        """Answer with ``then``, but send its body one byte every ``interval`` seconds (headers at once)."""
        return Reply("trickle", then=then, interval=float(interval))


DefaultReply = Union[Reply, Callable[[dict], Reply], None]


@dataclass
class RecordedRequest:
    method: str
    path: str  # request path without the query string, as sent (e.g. "/v1/chat/completions")
    headers: dict  # case-insensitive lookup: headers["authorization"] == headers["Authorization"]
    body: bytes
    json: Any  # parsed body, or None if empty / not JSON
    query: str = ""
    timestamp: float = 0.0

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)


class _HeaderDict(dict):
    """A plain dict with lower-cased keys and case-insensitive lookup."""

    def __init__(self, items=()):
        super().__init__()
        for k, v in items:
            k = k.lower()
            super().__setitem__(k, f"{self[k]}, {v}" if k in self else v)

    def __getitem__(self, key):
        return super().__getitem__(key.lower() if isinstance(key, str) else key)

    def __contains__(self, key):
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key, default=None):
        return super().get(key.lower() if isinstance(key, str) else key, default)


# --------------------------------------------------------------------------- embeddings


def fake_embedding(text: str, dim: int = EMBEDDING_DIM) -> list[float]:
    """Deterministic, L2-normalised embedding from hashed character trigrams (signed feature hashing)."""
    vec = [0.0] * dim
    padded = f"  {text}  "
    for i in range(len(padded) - 2):
        h = int.from_bytes(hashlib.blake2b(padded[i:i + 3].encode("utf-8"), digest_size=8).digest(), "little")
        vec[h % dim] += 1.0 if (h >> 40) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vec))
    if norm == 0.0:  # every trigram cancelled out: fall back to a fixed unit vector
        vec[0], norm = 1.0, 1.0
    return [x / norm for x in vec]


def _embedding_inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        if value and all(isinstance(x, int) for x in value):  # one token array
            return [" ".join(map(str, value))]
        out = []
        for item in value:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, list) and all(isinstance(x, int) for x in item):
                out.append(" ".join(map(str, item)))
            else:
                raise ValueError("'input' items must be strings or token arrays")
        return out
    raise ValueError("'input' must be a string or an array")


# --------------------------------------------------------------------------- server


class _Aborted(Exception):
    """The wait was cut short (server stopping or client gone): drop the connection."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, fake: FakeLLMServer):
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request, client_address):  # quiet
        import sys

        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, _DISCONNECT_ERRORS + (_Aborted, OSError)):
            self.fake.errors.append(exc)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeLLM/1.0"
    sys_version = ""
    server: _HTTPServer

    # ---- plumbing

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer, which would swamp what the bench measures
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.conn_lock:
            self.server.connections.add(self.connection)

    def finish(self):
        with self.server.conn_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except _DISCONNECT_ERRORS + (OSError,):
            pass

    def handle(self):
        try:
            super().handle()
        except _DISCONNECT_ERRORS + (_Aborted,):
            self.close_connection = True
        except OSError:
            self.close_connection = True

    def log_message(self, format, *args):  # quiet
        pass

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self):
        fake = self.server.fake
        body = self._read_body()
        raw_path, _, query = self.path.partition("?")
        try:
            parsed = json.loads(body) if body else None
        except (ValueError, UnicodeDecodeError):
            parsed = None
        fake._record(RecordedRequest(
            method=self.command, path=raw_path, headers=_HeaderDict(self.headers.items()),
            body=body, json=parsed, query=query, timestamp=time.time(),
        ))
        route = raw_path.rstrip("/") or "/"
        if route == "/v1" or route.startswith("/v1/"):
            route = route[3:] or "/"
        try:
            if self.command == "POST" and route == "/chat/completions":
                self._chat(body, parsed)
            elif self.command == "POST" and route == "/embeddings":
                self._embeddings(body, parsed)
            elif self.command == "GET" and route == "/models":
                self._send_json(200, {"object": "list", "data": [fake._model_obj()]})
            elif self.command == "GET" and route.startswith("/models/") and route[8:] == fake.model:
                self._send_json(200, fake._model_obj())
            elif self.command == "GET" and route.startswith("/models/"):
                self._send_json(404, error_body(
                    404, f"The model '{route[8:]}' does not exist or you do not have access to it.",
                    error_code="model_not_found"))
            else:
                self._send_json(404, error_body(
                    404, f"Invalid URL ({self.command} {raw_path})", error_code=None))
        except _DISCONNECT_ERRORS + (_Aborted,):
            self.close_connection = True
        except Exception as exc:  # a bug in a default callable or here: answer 500, remember it
            fake.errors.append(exc)
            try:
                self._send_json(500, error_body(500, f"fake server error: {exc!r}"))
            except Exception:
                self.close_connection = True

    # ---- low-level writers

    def _send_bytes(self, code: int, payload: bytes, content_type: str, headers: dict | None = None):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    def _send_json(self, code: int, obj: Any, headers: dict | None = None):
        self._send_bytes(code, json.dumps(obj).encode("utf-8"), "application/json", headers)

    def _start_sse(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.wfile.flush()

    def _sse(self, obj: Any):
        data = obj if isinstance(obj, str) else json.dumps(obj)
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    def _wait(self, seconds: float):
        """Sleep, but raise _Aborted as soon as the server stops or the client hangs up."""
        stopping = self.server.fake._stopping
        deadline = time.monotonic() + seconds
        while True:
            if stopping.is_set():
                raise _Aborted()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._peer_closed():
                raise _Aborted()
            stopping.wait(min(0.02, remaining))

    def _peer_closed(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    # ---- endpoints

    def _chat(self, body: bytes, req: Any):
        fake = self.server.fake
        if not isinstance(req, dict):
            self._send_json(400, error_body(
                400, "We could not parse the JSON body of your request.", error_code=None))
            return
        rf = req.get("response_format")
        rf_type = rf.get("type") if isinstance(rf, dict) else None
        if (rf_type == "json_schema" and not fake.supports_json_schema) or (
            rf_type == "json_object" and not fake.supports_json_mode
        ):
            self._send_json(400, error_body(
                400, f"response_format {rf_type} is not supported", param="response_format",
                error_code=None))
            return
        reply = fake._next_reply(req)
        if reply is None:
            self._send_json(500, error_body(
                500, "FakeLLMServer: no queued reply and no default configured", error_code=None))
            return
        self._render(reply, req)

    def _render(self, reply: Reply, req: dict):
        fake = self.server.fake
        stream = bool(req.get("stream"))
        model = req.get("model") or fake.model
        if reply.kind == "delay":
            self._wait(reply.seconds)
            if reply.then is None:
                raise _Aborted()
            self._render(reply.then, req)
        elif reply.kind == "trickle":
            raw = self.wfile
            self.wfile = _Trickle(self, raw, reply.interval)
            try:
                self._render(reply.then, req)
            finally:
                self.wfile = raw
        elif reply.kind == "keepalive":
            if stream:
                self._stream(reply, req, model)
            else:
                payload = json.dumps(fake._completion(reply, model)).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.close_connection = True
                end = time.monotonic() + reply.seconds
                while time.monotonic() < end:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    self._wait(reply.interval)
                self.wfile.write(payload)
                self.wfile.flush()
        elif reply.kind == "status":
            self._send_json(reply.status_code, reply.body, reply.headers)
        elif reply.kind == "malformed":
            self._send_bytes(200, reply.raw, reply.content_type)
        elif reply.kind in ("content", "refusal"):
            if stream:
                self._stream(reply, req, model)
            else:
                self._send_json(200, fake._completion(reply, model))
        elif reply.kind == "stream_then_hang":
            if stream:
                self._stream(reply, req, model)
            else:
                payload = json.dumps(fake._completion(reply, model)).encode("utf-8")
                cut = max(1, len(payload) // 2)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload[:cut])
                self.wfile.flush()
                self._wait(reply.seconds)
                self.wfile.write(payload[cut:])
                self.wfile.flush()
        else:  # pragma: no cover
            raise ValueError(f"unknown reply kind {reply.kind!r}")

    def _stream(self, reply: Reply, req: dict, model: str):
        fake = self.server.fake
        opts = req.get("stream_options")
        include_usage = isinstance(opts, dict) and bool(opts.get("include_usage"))
        cid, created = fake._new_id(), int(time.time())
        field_name = "refusal" if reply.kind == "refusal" else "content"

        def chunk(delta: dict, finish_reason: str | None = None) -> dict:
            obj = {
                "id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }
            if include_usage:
                obj["usage"] = None
            return obj

        text, size = reply.text, reply.chunk_size

        def split(t: str) -> list[str]:
            return [t[i:i + size] for i in range(0, len(t), size)]

        pieces, hang_after = split(text), None
        if reply.kind in ("stream_then_hang", "keepalive"):
            sent = len(text) // 2 if reply.sent_chars is None else max(0, min(reply.sent_chars, len(text)))
            head = split(text[:sent])
            pieces, hang_after = head + split(text[sent:]), len(head)

        self._start_sse()
        first = {"role": "assistant", "content": "", "refusal": None}
        if field_name == "refusal":
            first = {"role": "assistant", "content": None, "refusal": ""}
        self._sse(chunk(first))
        def stall() -> None:
            if reply.kind != "keepalive":
                self._wait(reply.seconds)
                return
            end = time.monotonic() + reply.seconds
            while time.monotonic() < end:
                self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                self._wait(reply.interval)

        for n, piece in enumerate(pieces):
            if n == hang_after:
                stall()
            self._sse(chunk({field_name: piece}))
        if hang_after is not None and hang_after >= len(pieces):
            stall()
        self._sse(chunk({}, reply.finish_reason))
        if include_usage:
            self._sse({
                "id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "system_fingerprint": "fp_fake", "choices": [], "usage": _usage(reply),
            })
        self._sse("[DONE]")

    def _embeddings(self, body: bytes, req: Any):
        fake = self.server.fake
        if not isinstance(req, dict) or "input" not in req:
            self._send_json(400, error_body(400, "'input' is a required property", param="input",
                                            error_code=None))
            return
        try:
            inputs = _embedding_inputs(req["input"])
        except ValueError as exc:
            self._send_json(400, error_body(400, str(exc), param="input", error_code=None))
            return
        dim = req.get("dimensions")
        dim = dim if isinstance(dim, int) and dim > 0 else fake.embedding_dim
        fmt = req.get("encoding_format") or "float"
        data = []
        for i, text in enumerate(inputs):
            vec: Any = fake_embedding(text, dim)
            if fmt == "base64":
                vec = base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode("ascii")
            data.append({"object": "embedding", "index": i, "embedding": vec})
        tokens = sum(max(1, math.ceil(len(t) / 4)) for t in inputs)
        self._send_json(200, {
            "object": "list", "data": data, "model": req.get("model") or fake.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        })


class _Trickle:
    """Stands in for a handler's wfile: headers pass at once, then every byte waits ``interval`` seconds."""

    def __init__(self, handler: _Handler, raw: Any, interval: float):
        self.handler, self.raw, self.interval = handler, raw, interval
        self.headers_sent = False

    def write(self, data: bytes) -> int:
        if not self.headers_sent:
            self.headers_sent = data.endswith(b"\r\n\r\n")
            return self.raw.write(data)
        for i in range(len(data)):
            self.raw.write(data[i:i + 1])
            self.raw.flush()
            self.handler._wait(self.interval)
        return len(data)

    def flush(self) -> None:
        self.raw.flush()


def _usage(reply: Reply) -> dict:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }


class FakeLLMServer:
    """A scriptable OpenAI-compatible server on 127.0.0.1:<free port>, served from a daemon thread."""

    def __init__(self, *, supports_json_schema: bool = True, supports_json_mode: bool = True,
                 default: DefaultReply = None, model: str = "test-model",
                 embedding_dim: int = EMBEDDING_DIM):
        self.supports_json_schema = supports_json_schema
        self.supports_json_mode = supports_json_mode
        self.default = default
        self.model = model
        self.embedding_dim = embedding_dim
        self.requests: list[RecordedRequest] = []
        self.errors: list[BaseException] = []  # unexpected exceptions inside the server (should stay empty)
        self._queue: list[Reply] = []
        self._lock = threading.Lock()
        self._ids = 0
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    def start(self) -> FakeLLMServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"FakeLLMServer:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with httpd.conn_lock:
            conns = list(httpd.connections)
        for conn in conns:  # wake handler threads blocked on keep-alive reads
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeLLMServer is not running; call start() first")
        return self._httpd.server_address[1]

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no ``/v1``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` -- pass as ``OpenAI(base_url=...)``."""
        return f"{self.root_url}/v1"

    # ---- scripting and inspection

    def enqueue(self, *replies: Reply) -> None:
        for r in replies:
            if not isinstance(r, Reply):
                raise TypeError(f"enqueue() takes Reply objects, got {type(r).__name__}")
        with self._lock:
            self._queue.extend(replies)

    @property
    def queued(self) -> int:
        """Number of scripted replies not yet consumed."""
        with self._lock:
            return len(self._queue)

    def chat_requests(self) -> list[dict]:
        """Parsed JSON bodies of every POST .../chat/completions, in arrival order."""
        with self._lock:
            reqs = list(self.requests)
        return [
            r.json for r in reqs
            if r.method == "POST" and r.path.rstrip("/").endswith("/chat/completions")
            and isinstance(r.json, dict)
        ]

    def reset(self) -> None:
        """Clear the reply queue, recorded requests and recorded errors."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.errors.clear()

    # ---- internals used by the handler

    def _record(self, rec: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(rec)

    def _next_reply(self, req: dict) -> Reply | None:
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
            default = self.default
        if default is None or isinstance(default, Reply):
            return default
        reply = default(req)
        if not isinstance(reply, Reply):
            raise TypeError(f"default callable returned {type(reply).__name__}, expected Reply")
        return reply

    def _new_id(self) -> str:
        with self._lock:
            self._ids += 1
            return f"chatcmpl-fake{self._ids:06d}"

    def _model_obj(self) -> dict:
        return {"id": self.model, "object": "model", "created": 1700000000, "owned_by": "fake-llm-server"}

    def _completion(self, reply: Reply, model: str) -> dict:
        refusal = reply.kind == "refusal"
        return {
            "id": self._new_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None if refusal else reply.text,
                    "refusal": reply.text if refusal else None,
                },
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }],
            "usage": _usage(reply),
        }
