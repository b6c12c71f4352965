"""Offset-preserving normalisation: the matched text has exactly the draft's length."""

from __future__ import annotations

import re

_ONE_TO_ONE = {
    # quotes and apostrophes
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2039": '"', "\u203a": '"',
    # dashes and hyphens
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    # spaces
    "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u202f": " ", "\u200a": " ", "\u2002": " ", "\u2003": " ",
    "\u200b": " ", "\u200c": " ", "\u200d": " ", "\ufeff": " ", "\t": " ",
    # line ends: a lone CR becomes a newline, CR before LF becomes a space
    "\u2028": "\n", "\u2029": "\n", "\x0b": "\n", "\x0c": "\n", "\x85": "\n",
    # the German sharp s written as capital
    "\u1e9e": "\u00df",
}
_SPECIAL = re.compile("[" + re.escape("".join(_ONE_TO_ONE)) + "]")


def normalize(text: str) -> str:
    """Map typographic quotes, dashes, odd spaces and line ends to plain ones, one char for one."""
    out = _SPECIAL.sub(lambda m: _ONE_TO_ONE[m.group()], text)  # faster than str.translate: few hits
    if "\r" in out:
        out = out.replace("\r\n", " \n").replace("\r", "\n")
    return out
