"""Read one language's YAML knowledge file (`knowledge/lang/<code>/<name>`) into its pydantic model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from coach.errors import KnowledgeError
from coach.paths import knowledge_dir

M = TypeVar("M", bound=BaseModel)


def load_lang_yaml(lang: str, name: str, model: type[M], ids: Callable[[M], list[str]]) -> M | None:
    """The validated file, or None for a language without it; a broken file or an id given twice is a
    KnowledgeError naming the file."""
    import yaml

    path = knowledge_dir() / "lang" / lang / name
    if not path.exists():
        return None
    try:
        f = model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise KnowledgeError(f"lang/{lang}/{name}: {exc}") from None
    found = ids(f)
    if len(set(found)) != len(found):
        raise KnowledgeError(f"lang/{lang}/{name}: an id occurs twice")
    return f
