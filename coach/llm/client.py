"""Chat Completions over the openai SDK, inside one wall-clock deadline.

The SDK does the retrying (429, 5xx, connection errors, Retry-After) with its own `max_retries`; this
module adds what the SDK cannot: a deadline enforced by a timer, not by the arrival of bytes. Every
SDK call runs in a worker thread; when the deadline passes, the caller stops waiting and the SDK's
HTTP client is closed, which ends the worker's connection. Half an answer followed by SSE keep-alive
comments, or a body trickled one byte at a time, therefore ends at the deadline like silence does.

It also negotiates the response format: `json_schema`, then `json_object`, then plain text, moving
on when the server answers 400, 422 or 500 with a body that names the format (llama.cpp's server
answers 500 to `json_schema`). What an endpoint supports is remembered for the session, per base
URL and model.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from coach.errors import LLMError
from coach.secrets import scrub
from coach.settings import Settings

FORMATS = ("json_schema", "json_object", "plain")
SDK_RETRIES = 2
MAX_ANSWER_TOKENS = 1200  # a letter and its change list fit easily; a model that rambles stops here
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "json mode", "schema", "grammar",
                 "not supported", "unsupported")

# what each endpoint (base URL, model) was found to support, for this process
_known_formats: dict[tuple[str | None, str], int] = {}
_confirmed: set[tuple[str | None, str]] = set()  # endpoints that have answered once in their format
_no_max_tokens: set[tuple[str | None, str]] = set()  # endpoints that refuse `max_tokens` (newer reasoning models)
_known_lock = threading.Lock()


@dataclass
class Completion:
    content: str
    prompt_tokens: int
    completion_tokens: int
    fmt: str
    finish_reason: str | None = None


@dataclass
class StreamState:
    """Filled while a stream runs; read after it ends."""

    content: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    fmt: str = "json_schema"
    finish_reason: str | None = None


class Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


class LLMTimeout(LLMError):
    """The deadline passed before the model's answer was complete."""


_DONE = object()


class LLMClient:
    """One per rewrite: owns an SDK client that it closes when done or when the deadline passes."""

    def __init__(self, settings: Settings, schema: dict[str, Any]):
        self.settings = settings
        self.schema = schema
        self._sdk: Any = None
        self._lock = threading.Lock()
        self.sent = False  # True once a request may have reached the endpoint (anything left the machine)

    # ------------------------------------------------------------------ plumbing
    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def _endpoint(self) -> tuple[str | None, str]:
        return (self.settings.openai_base_url, self.settings.model)

    @property
    def fmt(self) -> str:
        with _known_lock:
            return FORMATS[_known_formats.get(self._endpoint, 0)]

    def _next_format(self, failed: str) -> bool:
        with _known_lock:
            index = FORMATS.index(failed)
            if index >= len(FORMATS) - 1:
                return False
            _known_formats[self._endpoint] = max(_known_formats.get(self._endpoint, 0), index + 1)
            return True

    def _client(self) -> Any:
        with self._lock:
            if self._sdk is None:
                import openai

                secret = self._secret()
                self._sdk = openai.OpenAI(api_key=secret or "not-needed", base_url=self.settings.openai_base_url,
                                          max_retries=SDK_RETRIES, timeout=self.settings.llm_timeout)
            return self._sdk

    def prepare(self) -> None:
        """Import the SDK and build its client before the deadline starts (the first import takes a while)."""
        self._client()

    def close(self) -> None:
        """Close the HTTP client: a worker still reading from the endpoint gets its connection closed.

        Closing can wait on the connection a worker is reading from (until its next byte), so it runs
        in a daemon thread of its own: the caller never waits for it.
        """
        with self._lock:
            sdk, self._sdk = self._sdk, None
        if sdk is not None:
            threading.Thread(target=_close_quietly, args=(sdk,), name="coach-llm-close", daemon=True).start()

    def _secret(self) -> str | None:
        return self.settings.openai_api_key.get_secret_value() if self.settings.openai_api_key else None

    def _format_args(self, fmt: str) -> dict[str, Any]:
        with _known_lock:
            args: dict[str, Any] = {} if self._endpoint in _no_max_tokens else {"max_tokens": MAX_ANSWER_TOKENS}
        if fmt == "json_schema":
            args["response_format"] = {"type": "json_schema", "json_schema": self.schema}
        elif fmt == "json_object":
            args["response_format"] = {"type": "json_object"}
        return args

    def _timeout(self, deadline: Deadline) -> Any:
        import openai  # its Timeout is the one of the HTTP library the SDK uses

        left = max(0.05, deadline.left())
        return openai.Timeout(left, connect=min(left, 5.0))

    def _msg(self, exc: BaseException) -> str:
        text = getattr(exc, "message", None) or str(exc)
        return scrub(str(text), self._secret())[:300]

    def _timeout_error(self) -> LLMTimeout:
        return LLMTimeout(f"no complete answer from the model within {self.settings.llm_timeout:g} s")

    def _in_worker(self, deadline: Deadline, work: Callable[[Callable[[Any], None]], None]) -> Iterator[Any]:
        """Run `work(put)` in a daemon thread; yield what it puts until it ends or the deadline passes."""
        box: queue.Queue[tuple[str, Any]] = queue.Queue()

        def run() -> None:
            try:
                work(lambda item: box.put(("item", item)))
                box.put(("end", None))
            except BaseException as exc:  # handed to the waiting thread
                box.put(("error", exc))

        threading.Thread(target=run, name="coach-llm-call", daemon=True).start()
        while True:
            left = deadline.left()
            if left <= 0:
                self.close()
                raise self._timeout_error()
            try:
                kind, value = box.get(timeout=left)
            except queue.Empty:
                self.sent = True  # the request went out; only its answer did not come back in time
                self.close()
                raise self._timeout_error() from None
            if kind == "item":
                yield value
            elif kind == "end":
                return
            else:
                raise value

    def _attempts(self, deadline: Deadline, open_call: Callable[[str, int], Any]) -> Any:
        """Call `open_call(fmt, retries)` in the worker, moving to the next format when the server refuses one.

        While an endpoint's format is not confirmed, the first call goes without the SDK's retries, so a
        server that answers 500 to the format (llama.cpp) is not asked three times; any other failure
        is then asked again with the SDK's retries.
        """
        import openai

        retried = False
        while True:
            fmt = self.fmt
            with _known_lock:
                retries = SDK_RETRIES if (self._endpoint in _confirmed or retried) else 0
            try:
                result = next(self._in_worker(deadline, lambda put: put(open_call(fmt, retries))))
                with _known_lock:
                    _confirmed.add(self._endpoint)
                return fmt, result
            except openai.APIStatusError as exc:
                self.sent = True
                if exc.status_code in (400, 422) and "max_tokens" in _body_text(exc):
                    with _known_lock:
                        if self._endpoint not in _no_max_tokens:
                            _no_max_tokens.add(self._endpoint)
                            continue
                if exc.status_code in (400, 422, 500) and _about_format(exc) and self._next_format(fmt):
                    continue
                if not retried and retries == 0 and (exc.status_code in (408, 409, 429) or exc.status_code >= 500):
                    retried = True
                    continue
                if isinstance(exc, openai.BadRequestError):
                    raise LLMError(f"the LLM endpoint rejected the request: {self._msg(exc)}") from None
                raise LLMError(f"the LLM endpoint answered HTTP {exc.status_code}: {self._msg(exc)}") from None
            except openai.APITimeoutError:
                self.sent = True
                raise self._timeout_error() from None
            except openai.APIConnectionError as exc:
                if not _never_connected(exc):
                    self.sent = True
                if not retried and retries == 0:
                    retried = True
                    continue
                raise LLMError(f"the LLM endpoint could not be reached: {self._msg(exc)}") from None
            except LLMError:
                raise
            except (json.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
                self.sent = True
                raise LLMError(f"the LLM endpoint sent an unreadable answer ({type(exc).__name__})") from None

    # ------------------------------------------------------------------ calls
    def complete(self, messages: list[dict[str, str]], deadline: Deadline) -> Completion:
        def call(fmt: str, retries: int) -> Any:
            return self._client().with_options(max_retries=retries).chat.completions.create(
                model=self.model, messages=messages, temperature=0.3, timeout=self._timeout(deadline),
                **self._format_args(fmt))

        fmt, resp = self._attempts(deadline, call)
        self.sent = True
        if not hasattr(resp, "choices") or not resp.choices:
            raise LLMError("the LLM endpoint sent an answer without choices")
        msg = resp.choices[0].message
        if getattr(msg, "refusal", None):
            raise LLMError(f"the model refused: {scrub(str(msg.refusal))[:200]}")
        usage = getattr(resp, "usage", None)
        finish = getattr(resp.choices[0], "finish_reason", None)
        if finish == "length":
            raise LLMError(f"the model's answer was cut off at {MAX_ANSWER_TOKENS} tokens")
        return Completion(content=msg.content or "", prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                          completion_tokens=getattr(usage, "completion_tokens", 0) or 0, fmt=fmt,
                          finish_reason=finish)

    def stream(self, messages: list[dict[str, str]], deadline: Deadline, state: StreamState) -> Iterator[str]:
        """Yield content deltas until the answer is complete; fills `state` (content, usage, format)."""
        import openai

        def open_stream(fmt: str, retries: int) -> Any:
            return self._client().with_options(max_retries=retries).chat.completions.create(
                model=self.model, messages=messages, temperature=0.3, timeout=self._timeout(deadline),
                stream=True, stream_options={"include_usage": True}, **self._format_args(fmt))

        state.fmt, stream = self._attempts(deadline, open_stream)
        self.sent = True

        def read(put: Callable[[Any], None]) -> None:
            try:
                for chunk in stream:
                    put(chunk)
            finally:
                close = getattr(stream, "close", None)
                if close:
                    close()

        refusal = ""
        try:
            for chunk in self._in_worker(deadline, read):
                usage = getattr(chunk, "usage", None)
                if usage:
                    state.prompt_tokens = usage.prompt_tokens or 0
                    state.completion_tokens = usage.completion_tokens or 0
                for choice in getattr(chunk, "choices", None) or []:
                    state.finish_reason = getattr(choice, "finish_reason", None) or state.finish_reason
                    delta = choice.delta
                    if getattr(delta, "refusal", None):
                        refusal += delta.refusal
                    if delta.content:
                        state.content += delta.content
                        yield delta.content
        except openai.APITimeoutError:
            raise self._timeout_error() from None
        except openai.APIError as exc:
            raise LLMError(f"the LLM stream broke off: {self._msg(exc)}") from None
        except LLMError:
            raise
        except Exception as exc:  # a closed or garbled stream: httpx, json or SDK errors
            raise LLMError(f"the LLM endpoint sent an unreadable stream ({type(exc).__name__})") from None
        if refusal and not state.content:
            raise LLMError(f"the model refused: {scrub(refusal)[:200]}")
        if state.finish_reason == "length":
            raise LLMError(f"the model's answer was cut off at {MAX_ANSWER_TOKENS} tokens")


def _body_text(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    try:
        dumped = json.dumps(body) if body is not None else ""
    except (TypeError, ValueError):
        dumped = str(body)
    return f"{getattr(exc, 'message', '')} {dumped}".lower()


def _close_quietly(sdk: Any) -> None:
    try:
        sdk.close()
    except Exception:  # closing is best effort; the worker threads are daemons
        pass


def _about_format(exc: Exception) -> bool:
    """Does the error body blame the response format? (400/422 from OpenAI-like servers, 500 from llama.cpp)"""
    return any(w in _body_text(exc) for w in _FORMAT_WORDS)


def _never_connected(exc: BaseException) -> bool:
    """True when the error shows that no connection was made, so nothing left the machine."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        # httpx's and httpcore's ConnectError/ConnectTimeout (by name: the SDK may use httpx or a fork of it)
        if isinstance(cur, ConnectionRefusedError) or type(cur).__name__ in ("ConnectError", "ConnectTimeout"):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def forget_formats() -> None:
    """Forget what endpoints were found to support (tests; a server that was upgraded)."""
    with _known_lock:
        _known_formats.clear()
        _confirmed.clear()
        _no_max_tokens.clear()
