"""Loading and validating the rule files under knowledge/rules/, compiled once per process."""

from __future__ import annotations

import re
import threading
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from coach.errors import KnowledgeError
from coach.paths import knowledge_dir
from coach.rules.patterns import compile_any, lower_literals
from coach.rules.prefilter import rule_literals
from coach.rules.schema import Rule, RuleFile, ScenarioFile, ScenarioSignal


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    requires: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None
    # each pattern with the literals one of which must be in a text for it to match (None: no such literal)
    parts: tuple[tuple[re.Pattern[str], tuple[str, ...] | None], ...] = ()


@dataclass(frozen=True)
class CompiledSignal:
    signal: ScenarioSignal
    pattern: re.Pattern[str]
    requires: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None


class LiteralIndex:
    """One Aho-Corasick pass finds where the rules' required literals occur in a text."""

    def __init__(self, rules: tuple[CompiledRule, ...]):
        import ahocorasick

        self._auto = ahocorasick.Automaton()
        owners: dict[str, list[tuple[str, int]]] = {}
        for cr in rules:
            if cr.rule.case_sensitive:
                continue
            for i, (_, lits) in enumerate(cr.parts):
                for lit in lits or ():
                    owners.setdefault(lit, []).append((cr.rule.id, i))
        for lit, keys in owners.items():
            self._auto.add_word(lit, (len(lit), tuple(keys)))
        self._empty = not owners
        if not self._empty:
            self._auto.make_automaton()

    def occurrences(self, text: str) -> dict[str, list[tuple[int, int]]]:
        """rule id -> (start offset, pattern number) of every literal of its patterns found in `text`."""
        out: dict[str, list[tuple[int, int]]] = {}
        if self._empty:
            return out
        for end, (length, keys) in self._auto.iter(text):
            start = end - length + 1
            for rid, part in keys:
                out.setdefault(rid, []).append((start, part))
        return out


class RuleSet:
    """Validated rules; each language's regexes are compiled on first use (so a check compiles one)."""

    def __init__(self, rules: tuple[tuple[Rule, str], ...], signals: tuple[tuple[ScenarioSignal, str], ...]):
        self._raw_rules = rules
        self._raw_signals = signals
        self._compiled: dict[str, tuple[CompiledRule, ...]] = {}
        self._indexes: dict[str, LiteralIndex] = {}
        self._signals: tuple[CompiledSignal, ...] | None = None
        self._lock = threading.Lock()

    @property
    def rules(self) -> tuple[CompiledRule, ...]:
        from coach.lang.load import language_codes

        return tuple(r for code in language_codes() for r in self.for_language(code))

    @property
    def signals(self) -> tuple[CompiledSignal, ...]:
        with self._lock:
            if self._signals is None:
                out = []
                for s, where in self._raw_signals:
                    pat = _compile(s.patterns, where)
                    assert pat is not None
                    out.append(CompiledSignal(s, pat, _compile_each(s.requires, where), _compile(s.unless, where)))
                self._signals = tuple(out)
            return self._signals

    def for_language(self, lang: str) -> tuple[CompiledRule, ...]:
        with self._lock:
            if lang not in self._compiled:
                self._compiled[lang] = tuple(_compile_rule(r, where) for r, where in self._raw_rules if r.lang == lang)
            return self._compiled[lang]

    def literal_index(self, lang: str) -> LiteralIndex:
        rules = self.for_language(lang)
        with self._lock:
            if lang not in self._indexes:
                self._indexes[lang] = LiteralIndex(rules)
            return self._indexes[lang]


def _compile_rule(r: Rule, where: str) -> CompiledRule:
    parts = tuple(
        (compiled, None if r.case_sensitive else rule_literals([lower_literals(p)]))
        for p, compiled in zip(r.patterns, _compile_each(r.patterns, where, r.case_sensitive), strict=True)
    )
    return CompiledRule(
        rule=r,
        requires=_compile_each(r.requires, where, r.case_sensitive),
        unless=_compile(r.unless, where, r.case_sensitive),
        parts=parts,
    )


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError(f"cannot read rule file {path.name}: {exc}") from None


def _compile(patterns: list[str], where: str, case_sensitive: bool = False) -> re.Pattern[str] | None:
    try:
        return compile_any(patterns, case_sensitive=case_sensitive)
    except re.error as exc:
        raise KnowledgeError(f"{where}: invalid pattern: {exc}") from None


def _compile_each(patterns: list[str], where: str, case_sensitive: bool = False) -> tuple[re.Pattern[str], ...]:
    out = []
    for p in patterns:
        c = _compile([p], where, case_sensitive)
        assert c is not None
        out.append(c)
    return tuple(out)


def load_rules(directory: Path | None = None) -> RuleSet:
    """Read every *.toml under knowledge/rules (rules) and knowledge/rules/scenarios.toml (signals)."""
    directory = directory or knowledge_dir() / "rules"
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise KnowledgeError(f"no rule files found in {directory}")
    rules: list[tuple[Rule, str]] = []
    signals: list[tuple[ScenarioSignal, str]] = []
    seen: set[str] = set()
    for path in files:
        data = _read_toml(path)
        try:
            if "signal" in data:
                signals += [(s, f"{path.name}: {s.id}") for s in ScenarioFile.model_validate(data).signal]
                continue
            parsed = RuleFile.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise KnowledgeError(f"{path.name}: {loc}: {first['msg']}") from None
        for r in parsed.rule:
            if r.id in seen:
                raise KnowledgeError(f"{path.name}: duplicate rule id {r.id}")
            seen.add(r.id)
            rules.append((r, f"{path.name}: {r.id}"))
    return RuleSet(tuple(rules), tuple(signals))


@cache
def default_rules() -> RuleSet:
    return load_rules()
