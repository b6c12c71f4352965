"""coach: a reply coach for consultants whose clients want to cancel, pause or postpone.

    from coach import Coach
    report = Coach(offline=True).check(draft, client_message)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coach.errors import CoachError, ConfigError, InputError, KnowledgeError, LLMError

__version__ = "0.1.0"
__all__ = [
    "CheckReport", "Coach", "CoachError", "ConfigError", "Finding", "InputError", "KnowledgeError", "LLMError",
    "Moves", "RewriteResult", "Source",
]

if TYPE_CHECKING:
    from coach.api import Coach
    from coach.models import CheckReport, Finding, Moves, RewriteResult, Source


def __getattr__(name: str) -> Any:  # lazy, so `import coach` stays cheap
    if name == "Coach":
        from coach.api import Coach

        return Coach
    if name in {"CheckReport", "Finding", "Moves", "RewriteResult", "Source"}:
        from coach import models

        return getattr(models, name)
    raise AttributeError(f"module 'coach' has no attribute {name!r}")
