"""The page's interface strings: both languages complete and alike, validated, chosen from the browser."""

from __future__ import annotations

import string
import tomllib
from pathlib import Path

import pytest

from coach.errors import KnowledgeError
from coach.web import i18n

LANG_DIR = Path(__file__).resolve().parents[1] / "knowledge" / "lang"


def _raw(lang: str) -> dict[str, str]:
    return tomllib.loads((LANG_DIR / lang / "ui.toml").read_text(encoding="utf-8"))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_german_and_english_have_the_same_keys_and_placeholders() -> None:
    de, en = _raw("de"), _raw("en")
    assert set(de) == set(en)
    for key in en:
        assert _fields(de[key]) == _fields(en[key]), key
    assert i18n.UI_LANGS == ("de", "en")


def test_every_string_loads_and_is_not_left_in_english() -> None:
    de, en = i18n.strings("de"), i18n.strings("en")
    assert de.keys() == en.keys()
    assert de("run_button") == "Prüfen und umformulieren" and en("run_button") == "Check and rewrite"
    same = [k for k in en.keys() if de(k) == en(k) and k not in {"title", "details_title"}]
    assert same == [], f"not translated: {same}"


def test_a_bad_language_file_is_refused_with_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for lang in ("de", "en"):
        (tmp_path / "lang" / lang).mkdir(parents=True)
        (tmp_path / "lang" / lang / "ui.toml").write_text(
            (LANG_DIR / lang / "ui.toml").read_text(encoding="utf-8"), encoding="utf-8")
    extra = tmp_path / "lang" / "de" / "ui.toml"
    extra.write_text(extra.read_text(encoding="utf-8") + '\nnot_in_english = "x"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "knowledge_dir", lambda: tmp_path)
    i18n.strings.cache_clear()
    i18n._schema.cache_clear()
    try:
        with pytest.raises(KnowledgeError, match="not_in_english"):
            i18n.strings("de")
        extra.write_text((LANG_DIR / "de" / "ui.toml").read_text(encoding="utf-8").replace(
            'took = "Prüfen und Umformulieren dauerte {seconds} s."', 'took = "dauerte {sekunden} s."'),
            encoding="utf-8")
        with pytest.raises(KnowledgeError, match="placeholders differ.*took"):
            i18n.strings("de")
    finally:
        i18n.strings.cache_clear()
        i18n._schema.cache_clear()


@pytest.mark.parametrize(("locale", "accept", "expected"), [
    ("de-DE", None, "de"),
    ("en-US", "de-DE,de;q=0.9", "en"),
    (None, "fr-FR,fr;q=0.9,en-GB;q=0.8,de;q=0.7", "en"),
    (None, "en;q=0.5, de-AT;q=0.9", "de"),
    ("fr-FR", "fr", "de"),
    (None, None, "de"),
    (None, "garbage;;q=x", "de"),
])
def test_interface_language_follows_the_browser(locale: str | None, accept: str | None, expected: str) -> None:
    assert i18n.pick_ui_lang(locale, accept) == expected


def test_quotes_follow_the_drafts_language() -> None:
    assert i18n.quote("kein Problem", "de") == "„kein Problem“"
    assert i18n.quote("no problem", "en") == "“no problem”"
    assert i18n.native_name("de") == "Deutsch" and i18n.native_name("en") == "English"
