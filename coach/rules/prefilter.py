"""Required literals of a regex: a rule whose literals are all absent from a text cannot match it.

Checking a few substrings is much cheaper than running a large alternation over every position, so
the checker skips such rules (the trick RE2 and Hyperscan call a prefilter).
"""

from __future__ import annotations

import re._constants as C  # noqa: N812
import re._parser as sre_parse

_UMLAUT_VARIANTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))
_MIN_LEN = 2


def _seq(items: list[tuple[object, object]]) -> set[str] | None:
    candidates: list[set[str]] = []
    run: list[str] = []
    for op, av in items:
        if op is C.LITERAL:
            run.append(chr(av))  # type: ignore[arg-type]
            continue
        if run:
            candidates.append({"".join(run)})
            run = []
        if op is C.SUBPATTERN:
            s = _seq(list(av[-1]))  # type: ignore[index]
            if s:
                candidates.append(s)
        elif op is C.BRANCH:
            sets = [_seq(list(alt)) for alt in av[1]]  # type: ignore[index]
            if sets and all(sets):
                candidates.append(set().union(*sets))  # type: ignore[arg-type]
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
            lo, _hi, sub = av  # type: ignore[misc]
            if lo >= 1:
                s = _seq(list(sub))
                if s:
                    candidates.append(s)
    if run:
        candidates.append({"".join(run)})
    good = [c for c in candidates if min(len(x) for x in c) >= _MIN_LEN]
    if not good:
        return None
    return max(good, key=lambda c: (min(len(x) for x in c), -len(c)))


def required_literals(pattern: str) -> set[str] | None:
    """Strings of which a match must contain one; None when nothing useful is required."""
    try:
        tree = sre_parse.parse(pattern)
    except Exception:
        return None
    found = _seq(list(tree))
    if found is None:
        return None
    out = set()
    for lit in found:
        out.add(lit)
        variant = lit
        for a, b in _UMLAUT_VARIANTS:
            variant = variant.replace(a, b)
        out.add(variant)
    return out


def rule_literals(patterns: list[str]) -> tuple[str, ...] | None:
    """The union of the patterns' required literals; None if any pattern requires nothing."""
    union: set[str] = set()
    for p in patterns:
        lits = required_literals(p)
        if lits is None:
            return None
        union |= lits
    # a literal that contains another one adds nothing
    minimal = {x for x in union if not any(y != x and y in x for y in union)}
    return tuple(sorted(minimal, key=len))
