"""The page's interface strings (knowledge/lang/<xx>/ui.toml) and the choice of interface language.

English is the schema: its keys define a pydantic model (extra="forbid", every value a non-empty
string) that every other language must fill exactly, with the same {placeholders}. Pure Python,
no Streamlit import.
"""

from __future__ import annotations

import re
import string
import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from coach.errors import KnowledgeError
from coach.paths import knowledge_dir

# The interface languages: every language folder that has a ui.toml (de, en).
UI_LANGS: tuple[str, ...] = tuple(sorted(p.parent.name for p in (knowledge_dir() / "lang").glob("*/ui.toml")))
SCHEMA_LANG = "en"
DEFAULT_LANG = "de"  # most users write German



def ui_path(lang: str) -> Path:
    return knowledge_dir() / "lang" / lang / "ui.toml"


def _read(lang: str) -> dict[str, object]:
    path = ui_path(lang)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"{path}: {exc}") from None


def _fields(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@cache
def _schema() -> type[BaseModel]:
    raw = _read(SCHEMA_LANG)
    bad = [k for k, v in raw.items() if not isinstance(v, str)]
    if bad:
        raise KnowledgeError(f"{ui_path(SCHEMA_LANG)}: not a string: {', '.join(bad)}")
    return create_model(  # type: ignore[call-overload, no-any-return]
        "UIStrings", __config__=ConfigDict(extra="forbid", frozen=True),
        **{k: (str, Field(min_length=1)) for k in raw})


class Strings:
    """The strings of one interface language; ``t("key", name=value)`` fills the placeholders."""

    def __init__(self, lang: str, values: dict[str, str]):
        self.lang = lang
        self._values = values

    def __call__(self, key: str, **params: object) -> str:
        text = self._values[key]
        return text.format(**params) if params else text

    def keys(self) -> frozenset[str]:
        return frozenset(self._values)


@cache
def strings(lang: str) -> Strings:
    """The validated strings of ``lang`` (``de`` or ``en``); a KnowledgeError names what is wrong."""
    if lang not in UI_LANGS:
        lang = SCHEMA_LANG
    schema = _schema()
    raw = _read(lang)
    try:
        model = schema.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise KnowledgeError(f"{ui_path(lang)}: {problems}") from None
    values = model.model_dump()
    if lang != SCHEMA_LANG:
        english = _read(SCHEMA_LANG)
        odd = [k for k, v in values.items() if _fields(v) != _fields(str(english[k]))]
        if odd:
            raise KnowledgeError(f"{ui_path(lang)}: placeholders differ from English in: {', '.join(odd)}")
    return Strings(lang, values)


_TAG = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def pick_ui_lang(locale: str | None = None, accept_language: str | None = None) -> str:
    """The interface language for a browser: its locale (``de-DE``), else Accept-Language, else German.

    Accept-Language entries are taken by their q weight; the first one coach speaks wins.
    """
    if locale:
        m = _TAG.match(locale)
        if m and m.group(1).lower() in UI_LANGS:
            return m.group(1).lower()
    if accept_language:
        ranked: list[tuple[float, int, str]] = []
        for i, part in enumerate(accept_language.split(",")[:20]):
            m = _TAG.match(part)
            if not m:
                continue
            try:
                q = float(m.group(2)) if m.group(2) else 1.0
            except ValueError:
                continue
            ranked.append((-q, i, m.group(1).lower()))
        for _, _, lang in sorted(ranked):
            if lang in UI_LANGS:
                return lang
    return DEFAULT_LANG


def native_name(lang: str) -> str:
    """The language's own name for the switch ("Deutsch", "English")."""
    from coach.lang import language

    try:
        return language(lang).native_name
    except (KeyError, KnowledgeError):
        return lang


def quote(text: str, lang: str) -> str:
    """``text`` in the quotation marks of ``lang`` (the draft's language: knowledge/lang/<xx>/language.toml)."""
    from coach.lang import language

    try:
        return language(lang).quote(text)
    except (KeyError, KnowledgeError):
        return f"“{text}”"
