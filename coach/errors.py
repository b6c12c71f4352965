"""One error hierarchy for coach; the CLI and the page turn these into clear messages."""

from __future__ import annotations


class CoachError(Exception):
    """Base of every error coach raises on purpose."""

    exit_code: int = 1


class InputError(CoachError, ValueError):
    """The text given cannot be checked: empty, not text, too long, unsupported."""

    exit_code = 2


class UsageError(CoachError):
    """A command was called the wrong way (unknown flag, missing file)."""

    exit_code = 2


class ConfigError(CoachError):
    """The configuration does not work: unreachable Chroma server, unusable data folder."""

    exit_code = 3


class KnowledgeError(ConfigError):
    """A file under knowledge/ (rules, passages, phrasings, prompts) is invalid."""


class LLMError(CoachError):
    """The LLM call failed; the rules rewrite takes over with a notice."""
