"""Read a user's own notes (.md, .txt, files or folders) into indexable passages.

Text is decoded as UTF-8 (falling back to cp1252, then latin-1), mojibake is repaired with
ftfy plus a small fallback for UTF-8 that was read as Windows-1250 ("wĂĽnsche", which ftfy
leaves alone), then split at Markdown headings and paragraphs into passages of roughly
300-900 characters. Ids are ``user:<relative path>#<n>``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from typing import Any

import yaml

from coach.errors import KnowledgeError
from coach.kb.schema import Document, make_document

SUPPORTED_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".yaml", ".yml"})
PHRASING_SUFFIXES = frozenset({".yaml", ".yml"})
MIN_CHARS = 300
MAX_CHARS = 900
MAX_FILE_BYTES = 5 * 1024 * 1024

# ------------------------------------------------------------------------ decoding / repair

# UTF-8 read as Windows-1250 (ftfy does not undo this one): a lead byte C2-C5 ("Â", "Ă", "Ä",
# "Ĺ") or E2 ("â") shown as its cp1250 character, followed by continuation bytes 0x80-0xBF.
_CONT = "".join(ch for ch in bytes(range(0x80, 0xC0)).decode("cp1250", errors="ignore"))
_CP1250_SEQ = re.compile(
    "(?:[\u00c2\u0102\u00c4\u0139][" + re.escape(_CONT) + "])|(?:\u00e2[" + re.escape(_CONT) + "]{2})"
)


def _fix_cp1250_seq(match: re.Match[str]) -> str:
    seq = match.group(0)
    try:
        fixed = seq.encode("cp1250").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return seq
    return fixed if fixed.isprintable() else seq


def fix_mojibake(text: str) -> str:
    """Repair text that went through the wrong code page (ftfy, then a cp1250 fallback)."""
    import ftfy

    config = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False, explain=False)
    fixed = ftfy.fix_text(text, config=config)
    if _CP1250_SEQ.search(fixed):
        fixed = _CP1250_SEQ.sub(_fix_cp1250_seq, fixed)
    return fixed


def decode_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM), else cp1252, else latin-1; then mojibake repair."""
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - latin-1 decodes every byte
        text = data.decode("utf-8", errors="replace")
    return fix_mojibake(text.replace("\r\n", "\n").replace("\r", "\n"))


# ------------------------------------------------------------------------ language

_DE_WORDS = frozenset(
    "der die das und ist nicht ich sie wir mit für auf ein eine einen zu den dem des sich auch "
    "es im von dass werden wird haben hat oder aber wenn ihr ihre ihnen sind bei nach wie noch "
    "nur schon kann können über uns mir mich dir dich du war".split()
)
_EN_WORDS = frozenset(
    "the and is not you we with for on a an to of that it are be this have has or but if your "
    "they their them was were what when which would can will our us me my from at by just about".split()
)
_TOKEN = re.compile(r"[a-zäöüß]+", re.IGNORECASE)


def detect_language(text: str, default: str = "en") -> str:
    """``de`` or ``en`` by counting common function words; ``default`` on a tie."""
    de = en = 0
    for tok in _TOKEN.findall(text.lower()):
        if tok in _DE_WORDS:
            de += 1
        elif tok in _EN_WORDS:
            en += 1
    if de == en:
        return default
    return "de" if de > en else "en"


# ------------------------------------------------------------------------ splitting

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])[\"'”“»)]*\s+(?=[\"'„“«(\[]?[A-ZÄÖÜ0-9])")


@dataclass(frozen=True)
class Chunk:
    title: str  # the nearest heading, or "" for text before the first heading
    text: str


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) pairs in order; ATX (#) and setext (=== / ---) headings."""
    lines = text.split("\n")
    out: list[tuple[str, list[str]]] = [("", [])]
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            out[-1][1].append(line)
            i += 1
            continue
        if not in_fence:
            m = _HEADING.match(line)
            if m:
                out.append((m.group(2).strip(), []))
                i += 1
                continue
            if (
                i + 1 < len(lines)
                and line.strip()
                and _SETEXT.match(lines[i + 1])
                and not (out[-1][1] and out[-1][1][-1].strip())
            ):
                out.append((line.strip(), []))
                i += 2
                continue
        out[-1][1].append(line)
        i += 1
    return [(h, "\n".join(body).strip()) for h, body in out if h or "\n".join(body).strip()]


def _paragraphs(body: str) -> list[str]:
    paras = []
    for block in re.split(r"\n\s*\n", body):
        block = block.strip()
        if not block:
            continue
        # Keep list items and quotes on their own lines; join soft-wrapped prose lines.
        lines = [ln.strip() for ln in block.split("\n")]
        if any(re.match(r"^([-*+]|\d+[.)]|>)\s", ln) for ln in lines):
            paras.append("\n".join(lines))
        else:
            paras.append(" ".join(lines))
    return paras


def _split_long(para: str, max_chars: int) -> list[str]:
    """Cut an over-long paragraph at sentence ends (or, failing that, at spaces)."""
    if len(para) <= max_chars:
        return [para]
    sentences = [s for s in _SENTENCE_END.split(para) if s.strip()]
    pieces: list[str] = []
    cur = ""
    for sent in sentences:
        while len(sent) > max_chars:  # one sentence longer than the limit: cut at a space
            cut = sent.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            head, sent = sent[:cut].strip(), sent[cut:].strip()
            if cur:
                pieces.append(cur)
                cur = ""
            pieces.append(head)
        if not cur:
            cur = sent
        elif len(cur) + 1 + len(sent) <= max_chars:
            cur = f"{cur} {sent}"
        else:
            pieces.append(cur)
            cur = sent
    if cur:
        pieces.append(cur)
    return pieces


def split_text(text: str, *, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Split a document into passages of about ``min_chars``..``max_chars`` characters.

    A heading starts a new passage; short paragraphs under one heading are merged, long ones
    are cut at sentence ends. A section shorter than ``min_chars`` stays a passage of its own.
    """
    chunks: list[Chunk] = []
    for heading, body in _sections(text):
        pieces: list[str] = []
        for para in _paragraphs(body):
            pieces.extend(_split_long(para, max_chars))
        merged: list[str] = []
        for piece in pieces:
            if merged and (len(merged[-1]) < min_chars or len(piece) < min_chars) and (
                len(merged[-1]) + 2 + len(piece) <= max_chars
            ):
                merged[-1] = f"{merged[-1]}\n\n{piece}"
            else:
                merged.append(piece)
        if not merged and heading:
            continue  # a heading with nothing under it
        chunks.extend(Chunk(heading, m) for m in merged if re.search(r"\w", m))
    return chunks


# ------------------------------------------------------------------------ files

@dataclass(frozen=True)
class IngestResult:
    documents: list[Document]
    files: list[Path]
    skipped: list[tuple[Path, str]]


def _iter_files(path: Path) -> Iterator[tuple[Path, Path]]:
    """(root, file) for every supported file under ``path`` (hidden entries skipped)."""
    if path.is_file():
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path.parent, path
        return
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            yield path, Path(dirpath) / name


def _title_from_name(path: Path) -> str:
    stem = re.sub(r"[_\-]+", " ", path.stem).strip()
    return stem[:1].upper() + stem[1:] if stem else path.name


def load_user_phrasings(path: Path, rel: str) -> list[Any]:
    """A user's own approved phrasings: a YAML list in the shape of knowledge/phrasings/*.yaml.

    Ids become ``user:<relative path>#<id>``; an invalid file raises KnowledgeError naming it.
    """
    from coach.kb.loader import parse_items
    from coach.kb.schema import Phrasing

    try:
        data = yaml.safe_load(decode_bytes(path.read_bytes())) or []
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, list):
        raise KnowledgeError(f"{path}: expected a list of phrasings")
    items = parse_items(Phrasing, data, str(path))
    return [p.model_copy(update={"id": f"user:{rel}#{p.id}"}) for p in items]


def user_phrasings(paths: Iterable[Path]) -> list[Any]:
    """Every user phrasing under the given files or folders (for the offline rewrite's choice)."""
    out: list[Any] = []
    for raw in paths:
        root_path = Path(raw).expanduser()
        if not root_path.exists():
            continue
        for root, file in _iter_files(root_path):
            if file.suffix.lower() in PHRASING_SUFFIXES:
                out.extend(load_user_phrasings(file, file.relative_to(root).as_posix()))
    return out


def file_documents(path: Path, rel: str, *, default_lang: str = "en") -> list[Document]:
    """The passages of one file as Documents (empty list for an empty or unreadable file)."""
    if path.suffix.lower() in PHRASING_SUFFIXES:
        from coach.kb.loader import phrasing_embed_text, phrasing_title

        return [
            make_document(p.id, p.text, phrasing_embed_text(p), kind="phrasing", lang=p.lang,
                          title=phrasing_title(p), move=p.move, address=p.address, scenario=p.scenario, tone=p.tone,
                          section="", topic=f"phrasing_{p.move}", source=str(path))
            for p in load_user_phrasings(path, rel)
        ]
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        return []
    text = decode_bytes(data)
    if not text.strip():
        return []
    file_lang = detect_language(text, default=default_lang)
    fallback_title = _title_from_name(path)
    docs: list[Document] = []
    for n, chunk in enumerate(split_text(text), start=1):
        title = chunk.title or fallback_title
        lang = detect_language(chunk.text, default=file_lang)
        docs.append(
            make_document(
                f"user:{rel}#{n}",
                chunk.text,
                f"{title}\n{chunk.text}",
                kind="passage",
                lang=lang,
                title=title,
                move="",
                address="any",
                scenario="any",
                tone="",
                section=chunk.title,
                topic="user",
                source=str(path),
            )
        )
    return docs


def ingest_paths(paths: Iterable[Path]) -> IngestResult:
    """Documents for every supported file in ``paths`` (files or folders), ids unique."""
    docs: list[Document] = []
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    used: set[str] = set()
    for raw in paths:
        root_path = Path(raw).expanduser()
        if not root_path.exists():
            skipped.append((root_path, "not found"))
            continue
        if root_path.is_file() and root_path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append((root_path, "not a .md, .txt or .yaml file"))
            continue
        for root, file in _iter_files(root_path):
            rel = file.relative_to(root).as_posix()
            if rel in used:  # same relative path under two folders: name the folder too
                rel = f"{root.name}/{rel}"
            try:
                if file.stat().st_size > MAX_FILE_BYTES:
                    skipped.append((file, "larger than 5 MB"))
                    continue
                file_docs = file_documents(file, rel)
            except OSError as exc:
                skipped.append((file, f"cannot read: {exc.strerror or exc}"))
                continue
            used.add(rel)
            if not file_docs:
                skipped.append((file, "empty"))
                continue
            files.append(file)
            docs.extend(file_docs)
    return IngestResult(documents=docs, files=files, skipped=skipped)


def file_stats(paths: Iterable[Path]) -> list[tuple[str, int, int]]:
    """(path, size, mtime_ns) of every supported file, for a cheap change fingerprint."""
    out: list[tuple[str, int, int]] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if not p.exists():
            out.append((str(p), -1, -1))
            continue
        for _root, file in _iter_files(p):
            try:
                st = file.stat()
            except OSError:
                continue
            out.append((str(file), st.st_size, st.st_mtime_ns))
    return out
