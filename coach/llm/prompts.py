"""Prompt templates from prompts/ (Jinja2, StrictUndefined: a missing value is an error, not a blank)."""

from __future__ import annotations

from functools import cache
from typing import Any

from coach.errors import KnowledgeError
from coach.paths import prompts_dir

TEMPLATES = ("system.j2", "user.j2", "repair.j2")


@cache
def _env():  # type: ignore[no-untyped-def]
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(prompts_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=False,
    )


def render(name: str, **values: Any) -> str:
    import jinja2

    try:
        return _env().get_template(name).render(**values).strip()
    except jinja2.TemplateNotFound:
        raise KnowledgeError(f"prompt template {name} not found in {prompts_dir()}") from None
    except jinja2.UndefinedError as exc:
        raise KnowledgeError(f"prompt template {name}: {exc.message}") from None
