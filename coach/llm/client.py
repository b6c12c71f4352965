"""A small client over the openai SDK's Chat Completions API: bounded retries within one time budget."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from coach.errors import LLMError
from coach.secrets import scrub
from coach.settings import Settings

FORMATS = ("json_schema", "json_object", "plain")


@dataclass
class Completion:
    content: str
    prompt_tokens: int
    completion_tokens: int
    fmt: str


@dataclass
class StreamState:
    """Filled while a stream runs; read after it ends."""

    content: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    fmt: str = "json_schema"
    chunks: list[str] = field(default_factory=list)


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


class LLMClient:
    """One per Coach; remembers which response format the server understands."""

    def __init__(self, settings: Settings, schema: dict[str, Any]):
        self.settings = settings
        self.schema = schema
        self._fmt_index = 0
        self._sdk: Any = None

    @property
    def model(self) -> str:
        return self.settings.model

    def _client(self) -> Any:
        if self._sdk is None:
            import openai

            key = self.settings.openai_api_key.get_secret_value() if self.settings.openai_api_key else "not-needed"
            self._sdk = openai.OpenAI(api_key=key, base_url=self.settings.openai_base_url, max_retries=0,
                                      timeout=self.settings.llm_timeout)
        return self._sdk

    def _secret(self) -> str | None:
        return self.settings.openai_api_key.get_secret_value() if self.settings.openai_api_key else None

    def _format_args(self) -> dict[str, Any]:
        fmt = FORMATS[self._fmt_index]
        if fmt == "json_schema":
            return {"response_format": {"type": "json_schema", "json_schema": self.schema}}
        if fmt == "json_object":
            return {"response_format": {"type": "json_object"}}
        return {}

    @property
    def fmt(self) -> str:
        return FORMATS[self._fmt_index]

    def _call(self, deadline: Deadline, fn: Any) -> Any:
        """Run fn(timeout) with retries on 429/5xx/connection errors and format fallback on 400."""
        import openai

        attempt = 0
        while True:
            left = deadline.left()
            if left <= 0.05:
                raise LLMError(f"no answer from the model within {self.settings.llm_timeout:g} s")
            try:
                return fn(left)
            except openai.BadRequestError as exc:
                if self._fmt_index < len(FORMATS) - 1 and _about_format(exc):
                    self._fmt_index += 1  # the server does not do this response format: try the next one
                    continue
                raise LLMError(f"the LLM endpoint rejected the request: {self._msg(exc)}") from None
            except openai.APITimeoutError:
                raise LLMError(f"no answer from the model within {self.settings.llm_timeout:g} s") from None
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                attempt += 1
                wait = _retry_after(exc) or min(4.0, 0.25 * 2 ** (attempt - 1)) * (0.8 + 0.4 * random.random())
                if attempt > 4 or wait >= deadline.left():
                    raise LLMError(f"the LLM endpoint failed: {self._msg(exc)}") from None
                time.sleep(wait)
            except openai.APIStatusError as exc:
                raise LLMError(f"the LLM endpoint answered HTTP {exc.status_code}: {self._msg(exc)}") from None
            except (json.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
                raise LLMError(f"the LLM endpoint sent an unreadable answer ({type(exc).__name__})") from None

    def _msg(self, exc: Exception) -> str:
        text = getattr(exc, "message", None) or str(exc)
        return scrub(str(text), self._secret())[:300]

    def complete(self, messages: list[dict[str, str]], deadline: Deadline) -> Completion:
        def fn(timeout: float) -> Completion:
            resp = self._client().chat.completions.create(
                model=self.model, messages=messages, temperature=0.3, timeout=timeout, **self._format_args())
            if not hasattr(resp, "choices") or not resp.choices:
                raise LLMError("the LLM endpoint sent an answer without choices")
            msg = resp.choices[0].message
            if getattr(msg, "refusal", None):
                raise LLMError(f"the model refused: {scrub(str(msg.refusal))[:200]}")
            usage = getattr(resp, "usage", None)
            return Completion(
                content=msg.content or "",
                prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
                fmt=self.fmt,
            )

        return self._call(deadline, fn)

    def stream(self, messages: list[dict[str, str]], deadline: Deadline, state: StreamState) -> Iterator[str]:
        """Yield content deltas; fills `state` (content, usage, format) as it goes."""
        import openai

        def open_stream(timeout: float) -> Any:
            return self._client().chat.completions.create(
                model=self.model, messages=messages, temperature=0.3, timeout=timeout, stream=True,
                stream_options={"include_usage": True}, **self._format_args())

        stream = self._call(deadline, open_stream)
        state.fmt = self.fmt
        refusal = ""
        try:
            for chunk in stream:
                if deadline.left() <= 0:
                    raise LLMError(f"no answer from the model within {self.settings.llm_timeout:g} s")
                usage = getattr(chunk, "usage", None)
                if usage:
                    state.prompt_tokens = usage.prompt_tokens or 0
                    state.completion_tokens = usage.completion_tokens or 0
                for choice in getattr(chunk, "choices", None) or []:
                    delta = choice.delta
                    if getattr(delta, "refusal", None):
                        refusal += delta.refusal
                    if delta.content:
                        state.content += delta.content
                        yield delta.content
        except openai.APITimeoutError:
            raise LLMError(f"no answer from the model within {self.settings.llm_timeout:g} s") from None
        except openai.APIError as exc:
            raise LLMError(f"the LLM stream broke off: {self._msg(exc)}") from None
        except (json.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
            raise LLMError(f"the LLM endpoint sent an unreadable stream ({type(exc).__name__})") from None
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
        if refusal and not state.content:
            raise LLMError(f"the model refused: {scrub(refusal)[:200]}")


def _about_format(exc: Exception) -> bool:
    text = str(getattr(exc, "message", "") or exc).lower()
    return any(w in text for w in ("response_format", "json_schema", "json_object", "json mode", "not supported"))


def _retry_after(exc: Exception) -> float | None:
    resp = getattr(exc, "response", None)
    headers = getattr(resp, "headers", None)
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                return None
    return None
