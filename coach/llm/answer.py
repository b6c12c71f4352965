"""The model's structured answer, parsed from JSON (or plain text where the server cannot do JSON)."""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach.errors import LLMError


class Change(BaseModel):
    model_config = ConfigDict(extra="ignore")

    what: str = ""
    why: str = ""
    sources: list[str] = Field(default_factory=list)


class LLMAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reply: str = Field(min_length=1)
    changes: list[Change] = Field(default_factory=list)


def answer_schema() -> dict[str, object]:
    """The JSON schema sent as response_format (strict mode wants every property required)."""
    return {
        "name": "coach_rewrite",
        "strict": True,
        "schema": {
            "type": "object",
            "additionalProperties": False,
            "required": ["reply", "changes"],
            "properties": {
                "reply": {"type": "string"},
                "changes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["what", "why", "sources"],
                        "properties": {
                            "what": {"type": "string"},
                            "why": {"type": "string"},
                            "sources": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        },
    }


_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.I)


def parse_answer(content: str | None, *, plain_ok: bool) -> LLMAnswer:
    """Parse the model's content; in plain-text mode a non-JSON answer is the reply itself."""
    if content is None or not content.strip():
        raise LLMError("the model returned an empty answer")
    text = _FENCE.sub("", content.strip())
    if text.startswith("{"):
        try:
            return LLMAnswer.model_validate(json.loads(text))
        except (json.JSONDecodeError, ValidationError):
            if not plain_ok:
                raise LLMError("the model's answer was not the JSON asked for") from None
    elif not plain_ok:
        raise LLMError("the model's answer was not the JSON asked for")
    return LLMAnswer(reply=text)


class ReplyStreamExtractor:
    """Pull the text of the "reply" field out of a JSON answer while it is still being written."""

    _START = re.compile(r'"reply"\s*:\s*"')
    _ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

    def __init__(self, plain: bool = False):
        self.buf = ""
        self.pos: int | None = 0 if plain else None
        self.plain = plain
        self.done = False

    def feed(self, chunk: str) -> str:
        self.buf += chunk
        if self.plain:
            out, self.pos = self.buf[self.pos or 0:], len(self.buf)
            return out
        if self.done:
            return ""
        if self.pos is None:
            m = self._START.search(self.buf)
            if not m:
                if len(self.buf) > 40 and not self.buf.lstrip().startswith(("{", "`")):
                    self.plain, self.pos = True, 0  # the server ignored the JSON request
                    return self.feed("")
                return ""
            self.pos = m.end()
        out = []
        i = self.pos
        while i < len(self.buf):
            c = self.buf[i]
            if c == '"':
                self.done = True
                i += 1
                break
            if c == "\\":
                if i + 1 >= len(self.buf):
                    break
                e = self.buf[i + 1]
                if e == "u":
                    if i + 6 > len(self.buf):
                        break
                    try:
                        out.append(chr(int(self.buf[i + 2:i + 6], 16)))
                    except ValueError:
                        pass
                    i += 6
                    continue
                out.append(self._ESCAPES.get(e, e))
                i += 2
                continue
            out.append(c)
            i += 1
        self.pos = i
        return "".join(out)
