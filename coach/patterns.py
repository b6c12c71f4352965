"""One pydantic type for a regular expression written in knowledge/ (it must compile when the file loads)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator


def _compiles(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"pattern does not compile: {exc}") from None
    return value


Pattern = Annotated[str, AfterValidator(_compiles)]
"""A str field that holds a regular expression; loading fails with a clear message if it does not compile."""
