"""Load and validate the bundled knowledge files (passages, phrasings, situations), cached.

A broken file is a ``KnowledgeError`` naming the file, the item id and the reason; nothing
here imports chromadb, so the checker and the rewriter can use it cheaply.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from coach.errors import KnowledgeError
from coach.kb.schema import Document, Passage, Phrasing, Situation, make_document
from coach.lang.load import language
from coach.moves import GOOD_MOVES, move

PASSAGE_FILES = ("passages/de.yaml", "passages/en.yaml")
PHRASING_FILES = ("phrasings/de.yaml", "phrasings/en.yaml")
SITUATION_FILE = "situations.yaml"

M = TypeVar("M", bound=BaseModel)


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
        msg = err.get("msg", "invalid")
        msg = msg.removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid"


def _read_yaml(path: Path, rel: str) -> list[Any]:
    import yaml

    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeError(f"{rel}: file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{rel}: cannot read: {exc}") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~5x faster
    try:
        data = yaml.load(raw, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise KnowledgeError(f"{rel}: not valid YAML{where}") from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise KnowledgeError(f"{rel}: expected a list of entries at the top level")
    return data


def parse_items(model: type[M], data: list[Any], rel: str, *, lang: str | None = None) -> list[M]:
    """Validate YAML entries as ``model``; KnowledgeError with file, id and reason on failure."""
    items: list[M] = []
    seen: set[str] = set()
    for pos, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise KnowledgeError(f"{rel}: entry #{pos}: expected a mapping of keys")
        item_id = str(entry.get("id") or f"entry #{pos}")
        try:
            item = model.model_validate(entry)
        except ValidationError as exc:
            raise KnowledgeError(f"{rel}: {item_id}: {_reason(exc)}") from None
        if item_id in seen:
            raise KnowledgeError(f"{rel}: {item_id}: id occurs more than once")
        seen.add(item_id)
        if lang is not None and getattr(item, "lang", lang) != lang:
            raise KnowledgeError(f"{rel}: {item_id}: lang {item.lang!r} in the {lang} file")
        items.append(item)
    return items


def phrasing_title(p: Phrasing) -> str:
    """Words that tell the embedding model what a phrasing is for (knowledge/moves.toml); also its title."""
    titles = move(p.move).phrasing
    title = titles.get(p.lang) or titles["en"]
    return f"{title} ({p.address})" if p.address != "n/a" else title


def slot_fill(lang: str) -> str:
    """What fills a phrasing's {situation} slot when the client's event is not named."""
    return language(lang).slot_fill


def phrasing_embed_text(p: Phrasing) -> str:
    text = p.text.replace("{situation}", slot_fill(p.lang)).replace("{when}", language(p.lang).when_fill)
    return f"{phrasing_title(p)}\n{text}"


@dataclass(frozen=True)
class KnowledgeBase:
    """The validated bundled knowledge; ``documents()`` yields what goes into the index."""

    directory: Path
    passages: tuple[Passage, ...]
    phrasings: tuple[Phrasing, ...]
    situations: tuple[Situation, ...]
    sources: dict[str, str]  # item id -> file relative to the knowledge folder

    def documents(self) -> Iterator[Document]:
        for p in self.passages:
            topic_move = p.topic if p.topic in GOOD_MOVES else ""
            scenario = p.topic if p.topic in ("shock", "long_standing") else "any"
            yield make_document(
                p.id,
                p.text.strip(),
                f"{p.title}\n{p.text.strip()}",
                kind="passage",
                lang=p.lang,
                title=p.title,
                move=topic_move,
                address="any",
                scenario=scenario,
                tone="",
                section=p.section,
                topic=p.topic,
                source=self.sources.get(p.id, ""),
            )
        for ph in self.phrasings:
            yield make_document(
                ph.id,
                ph.text,
                phrasing_embed_text(ph),
                kind="phrasing",
                lang=ph.lang,
                title=phrasing_title(ph),
                move=ph.move,
                address=ph.address,
                scenario=ph.scenario,
                tone=ph.tone,
                section="",
                topic=f"phrasing_{ph.move}",
                source=self.sources.get(ph.id, ""),
            )

    def passage(self, item_id: str) -> Passage:
        for p in self.passages:
            if p.id == item_id:
                return p
        raise KeyError(item_id)

    def phrasing(self, item_id: str) -> Phrasing:
        for p in self.phrasings:
            if p.id == item_id:
                return p
        raise KeyError(item_id)


def _fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for rel in (*PASSAGE_FILES, *PHRASING_FILES, SITUATION_FILE):
        try:
            st = (directory / rel).stat()
            out.append((rel, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((rel, -1, -1))
    return tuple(out)


_cache: dict[Path, tuple[tuple[tuple[str, int, int], ...], KnowledgeBase]] = {}
_cache_lock = threading.Lock()


def _load_unique(model: type[M], files: Sequence[str], directory: Path, sources: dict[str, str]) -> list[M]:
    """Items of `files` (one language each, named by the file); ids unique across everything loaded."""
    out: list[M] = []
    for rel in files:
        items = parse_items(model, _read_yaml(directory / rel, rel), rel, lang=Path(rel).stem)
        for it in items:
            if it.id in sources:  # type: ignore[attr-defined]
                raise KnowledgeError(f"{rel}: {it.id}: id also used in {sources[it.id]}")  # type: ignore[attr-defined]
            sources[it.id] = rel  # type: ignore[attr-defined]
        out.extend(items)
    return out


def _load(directory: Path) -> KnowledgeBase:
    if not directory.is_dir():
        raise KnowledgeError(f"knowledge folder not found: {directory}")
    sources: dict[str, str] = {}
    passages = _load_unique(Passage, PASSAGE_FILES, directory, sources)
    phrasings = _load_unique(Phrasing, PHRASING_FILES, directory, sources)
    situations = parse_items(Situation, _read_yaml(directory / SITUATION_FILE, SITUATION_FILE), SITUATION_FILE)
    return KnowledgeBase(
        directory=directory,
        passages=tuple(passages),
        phrasings=tuple(phrasings),
        situations=tuple(situations),
        sources=sources,
    )


def load_knowledge(directory: Path | None = None) -> KnowledgeBase:
    """The validated knowledge base, cached per folder until one of its files changes."""
    if directory is None:
        from coach.paths import knowledge_dir

        directory = knowledge_dir()
    directory = Path(directory).resolve()
    fp = _fingerprint(directory)
    with _cache_lock:
        hit = _cache.get(directory)
        if hit is not None and hit[0] == fp:
            return hit[1]
    kb = _load(directory)
    with _cache_lock:
        _cache[directory] = (fp, kb)
    return kb


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def knowledge_files(directory: Path | None = None) -> list[Path]:
    """The files ``load_knowledge`` reads (for fingerprints and watchers)."""
    if directory is None:
        from coach.paths import knowledge_dir

        directory = knowledge_dir()
    return [Path(directory) / rel for rel in (*PASSAGE_FILES, *PHRASING_FILES, SITUATION_FILE)]
