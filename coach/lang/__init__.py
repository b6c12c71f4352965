"""Languages: one folder per language under knowledge/lang/, loaded and validated once."""

from coach.lang.load import LanguageSpec, language, language_codes, languages

__all__ = ["LanguageSpec", "language", "language_codes", "languages"]
