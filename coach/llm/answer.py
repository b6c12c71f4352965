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
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_raw_controls(text: str) -> str:
    """Escape raw control characters inside JSON strings (llama.cpp's grammars let raw newlines in).

    Outside strings they are whitespace and stay as they are; inside they become JSON escapes.
    """
    out: list[str] = []
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
            elif c < " ":
                c = _CONTROL_ESCAPES.get(c, f"\\u{ord(c):04x}")
        elif c == '"':
            in_string = True
        out.append(c)
    return "".join(out)


def _json_part(text: str) -> str:
    text = _FENCE.sub("", text.strip())
    return text


def parse_answer(content: str | None, *, plain_ok: bool) -> LLMAnswer:
    """Parse the model's content leniently; in plain-text mode a non-JSON answer is the reply itself."""
    import pydantic_core

    if content is None or not content.strip():
        raise LLMError("the model returned an empty answer")
    text = _json_part(content)
    if text.startswith("{"):
        try:
            data = pydantic_core.from_json(escape_raw_controls(text))
        except ValueError:
            # a JSON-looking answer that does not parse is garbled, in any mode
            raise LLMError("the model's answer was not the JSON asked for (it does not parse)") from None
        try:
            return LLMAnswer.model_validate(data)
        except ValidationError:
            raise LLMError("the model's answer was not the JSON asked for (no reply text in it)") from None
    if not plain_ok:
        raise LLMError("the model's answer was not the JSON asked for")
    return LLMAnswer(reply=text)


class ReplyReader:
    """The text of the "reply" field of a JSON answer while it is still being written.

    Uses pydantic-core's partial JSON parser, so escapes (also surrogate pairs: emoji) are decoded
    correctly; only text that can no longer change is handed out.
    """

    def __init__(self, plain: bool = False):
        self.buf = ""
        self.shown = ""
        self.plain = plain

    def feed(self, chunk: str) -> str:
        import pydantic_core

        self.buf += chunk
        if self.plain:
            reply = self.buf
        else:
            text = _json_part(self.buf) if self.buf.lstrip().startswith("`") else self.buf.lstrip()
            if not text.startswith("{"):
                return ""
            try:
                data = pydantic_core.from_json(escape_raw_controls(text), allow_partial="trailing-strings")
            except ValueError:
                return ""
            reply = data.get("reply") if isinstance(data, dict) else None
            if not isinstance(reply, str):
                return ""
            if not self._complete(text):
                # the last characters of a string still being written may be half an escape
                reply = reply[:-1] if reply and "\ud800" <= reply[-1] <= "\udbff" else reply
        if not reply.startswith(self.shown):
            return ""
        out, self.shown = reply[len(self.shown):], reply
        return out

    @staticmethod
    def _complete(text: str) -> bool:
        return text.rstrip().endswith("}")
