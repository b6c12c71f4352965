"""Turning what a user gives (str, bytes, a file, stdin) into text coach can check."""

from __future__ import annotations

import sys
from pathlib import Path

from coach.errors import InputError, UsageError

MAX_CHARS = 20_000
"""The documented limit for a draft or a client message, in characters (about 8 pages)."""


def validate_text(text: object, *, what: str = "draft", allow_empty: bool = False) -> str:
    """Return the text if coach can check it; raise InputError with a plain reason otherwise."""
    if isinstance(text, bytes | bytearray):
        text = decode_bytes(bytes(text), what=what)
    if not isinstance(text, str):
        raise InputError(f"the {what} must be text, not {type(text).__name__}")
    if "\x00" in text:
        raise InputError(f"the {what} looks like binary data, not text")
    if len(text) > MAX_CHARS:
        raise InputError(f"the {what} is {len(text):,} characters long; the limit is {MAX_CHARS:,}")
    if not allow_empty and not text.strip():
        raise InputError(f"the {what} is empty")
    return text


def decode_bytes(data: bytes, *, what: str = "draft") -> str:
    if b"\x00" in data:
        raise InputError(f"the {what} looks like binary data, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"the {what} is not valid UTF-8 text (save it as UTF-8 and try again)") from None
    return text


def read_input(path: str, *, what: str = "draft") -> str:
    """Read a file path, or standard input for '-', as UTF-8 text."""
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        p = Path(path)
        if not p.exists():
            raise UsageError(f"no such file: {path}")
        if p.is_dir():
            raise UsageError(f"{path} is a folder, not a file")
        if p.stat().st_size > MAX_CHARS * 4 + 16:
            raise InputError(f"the {what} file {path} is larger than the {MAX_CHARS:,}-character limit")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    return validate_text(decode_bytes(data, what=what), what=what)
