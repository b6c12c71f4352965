"""Read a user's own notes (.md, .txt, files or folders) into indexable passages.

Text is decoded as UTF-8 (falling back to cp1252, then latin-1), mojibake is repaired with
ftfy plus a small fallback for UTF-8 that was read as Windows-1250 ("wĂĽnsche", which ftfy
leaves alone), then split at Markdown headings and paragraphs into passages of roughly
300-900 characters. Ids are ``user:<relative path>#<n>``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
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

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def safe_name(value: object) -> str:
    """A path or text fit for a terminal: control and direction characters shown escaped (ESC -> \x1b)."""
    text = str(value)
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def is_binary(data: bytes) -> bool:
    """Binary content: NUL bytes, or text that is neither UTF-8 nor mostly printable in cp1252."""
    head = data[: 64 * 1024]
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut at the sample's end
            return False
    text = head.decode("latin-1")
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f") or 0x7F <= ord(ch) < 0xA0)
    return controls > max(2, len(text) // 100)


@dataclass(frozen=True)
class Rejected:
    """A user phrasing that did not pass the checks, with the reasons."""

    file: Path
    id: str
    text: str
    problems: tuple[str, ...]


@dataclass
class FileRecord:
    """What one user file gave at its last read: for skipping it while it is unchanged."""

    size: int
    mtime_ns: int
    sha256: str
    rel: str
    docs: dict[str, str]  # id -> content hash
    skip: str = ""  # why the file gives nothing ("" = fine)
    rejected: list[list[str]] | None = None  # [id, reason] of phrasings that failed the checks

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "sha256": self.sha256, "rel": self.rel,
                "docs": self.docs, "skip": self.skip, "rejected": self.rejected or []}

    @classmethod
    def from_json(cls, data: Any) -> FileRecord | None:
        try:
            return cls(size=int(data["size"]), mtime_ns=int(data["mtime_ns"]), sha256=str(data["sha256"]),
                       rel=str(data["rel"]), docs={str(k): str(v) for k, v in dict(data["docs"]).items()},
                       skip=str(data.get("skip", "")),
                       rejected=[[str(a), str(b)] for a, b in data.get("rejected", [])])
        except (KeyError, TypeError, ValueError):
            return None


@dataclass
class IngestResult:
    documents: list[Document]
    files: list[Path]
    skipped: list[tuple[Path, str]]
    rejected: list[Rejected] = field(default_factory=list)
    records: dict[str, FileRecord] = field(default_factory=dict)  # str(file) -> record
    reused: dict[str, str] = field(default_factory=dict)  # doc id -> hash of files not read again


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False


def _iter_files(path: Path, skipped: list[tuple[Path, str]] | None = None) -> Iterator[tuple[Path, Path]]:
    """(root, file) for every supported file under ``path`` (hidden entries skipped).

    Links that lead out of the added folder are not followed (reported in ``skipped``).
    """
    if path.is_file():
        if path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path.parent, path
        return
    for dirpath, dirnames, filenames in os.walk(path):
        keep = []
        for d in sorted(dirnames):
            if d.startswith("."):
                continue
            full = Path(dirpath) / d
            if full.is_symlink() and skipped is not None and not _inside(full, path):
                skipped.append((full, "a link that leads out of the added folder"))
            keep.append(d)
        dirnames[:] = keep  # os.walk does not descend into linked folders
        for name in sorted(filenames):
            if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            file = Path(dirpath) / name
            if file.is_symlink() and not _inside(file, path):
                if skipped is not None:
                    skipped.append((file, "a link that leads out of the added folder"))
                continue
            yield path, file


def _title_from_name(path: Path) -> str:
    stem = re.sub(r"[_\-]+", " ", path.stem).strip()
    return stem[:1].upper() + stem[1:] if stem else path.name


def _read_text(path: Path, data: bytes | None = None) -> str:
    data = path.read_bytes() if data is None else data
    if is_binary(data):
        raise KnowledgeError("binary content, not text")
    return decode_bytes(data)


def load_user_phrasings(path: Path, rel: str, data: bytes | None = None) -> list[Any]:
    """A user's own approved phrasings: a YAML list in the shape of knowledge/phrasings/*.yaml.

    Ids become ``user:<relative path>#<id>``; an invalid file raises KnowledgeError naming it.
    """
    from coach.kb.loader import parse_items
    from coach.kb.schema import Phrasing

    try:
        loaded = yaml.safe_load(_read_text(path, data)) or []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise KnowledgeError(f"not valid YAML{where}") from None
    if not isinstance(loaded, list):
        raise KnowledgeError("expected a list of phrasings")
    try:
        items = parse_items(Phrasing, loaded, "phrasing")
    except KnowledgeError as exc:
        raise KnowledgeError(str(exc).removeprefix("phrasing: ")) from None
    return [p.model_copy(update={"id": f"user:{rel}#{p.id}"}) for p in items]


def checked_phrasings(path: Path, rel: str, data: bytes | None = None) -> tuple[list[Any], list[Rejected]]:
    """The file's phrasings split into those that pass the checks and those that do not."""
    from coach.kb.phrasing_check import check_phrasing

    ok: list[Any] = []
    bad: list[Rejected] = []
    for p in load_user_phrasings(path, rel, data):
        verdict = check_phrasing(p)
        if verdict.ok:
            ok.append(p)
        else:
            bad.append(Rejected(path, p.id, p.text, verdict.problems))
    return ok, bad


def user_phrasings(paths: Iterable[Path], max_bytes: int = MAX_FILE_BYTES) -> list[Any]:
    """Every user phrasing under the given files or folders that passes the checks (for the offline rewrite).

    A file that cannot be read, is too large or is not valid gives nothing (``coach index`` says why).
    """
    out: list[Any] = []
    for raw in paths:
        root_path = Path(raw).expanduser()
        if not root_path.exists():
            continue
        for root, file in _iter_files(root_path):
            if file.suffix.lower() not in PHRASING_SUFFIXES:
                continue
            try:
                if file.stat().st_size > max_bytes:
                    continue
                out.extend(checked_phrasings(file, file.relative_to(root).as_posix())[0])
            except (OSError, KnowledgeError):
                continue
    return out


def _phrasing_documents(phrasings: list[Any], path: Path) -> list[Document]:
    from coach.kb.loader import phrasing_embed_text, phrasing_title

    return [
        make_document(p.id, p.text, phrasing_embed_text(p), kind="phrasing", lang=p.lang,
                      title=phrasing_title(p), move=p.move, address=p.address, scenario=p.scenario, tone=p.tone,
                      section="", topic=f"phrasing_{p.move}", source=str(path))
        for p in phrasings
    ]


def file_documents(path: Path, rel: str, *, default_lang: str = "en", data: bytes | None = None,
                   rejected: list[Rejected] | None = None) -> list[Document]:
    """The passages of one file as Documents (empty list for an empty file).

    Raises KnowledgeError for binary content or an invalid phrasings file; phrasings that fail
    the checks are left out and appended to ``rejected``.
    """
    if path.suffix.lower() in PHRASING_SUFFIXES:
        ok, bad = checked_phrasings(path, rel, data)
        if rejected is not None:
            rejected.extend(bad)
        return _phrasing_documents(ok, path)
    text = _read_text(path, data)
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


def _mb(n: float) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def ingest_paths(paths: Iterable[Path], *, max_bytes: int = MAX_FILE_BYTES,
                 cache: dict[str, FileRecord] | None = None) -> IngestResult:
    """Documents for every supported file in ``paths`` (files or folders), ids unique.

    With ``cache`` (the records of the last sync), a file whose size and modification time, or
    else whose content hash, match its record is not parsed again: its ids and hashes go into
    ``reused`` instead of ``documents``.
    """
    res = IngestResult(documents=[], files=[], skipped=[])
    used: set[str] = set()
    for raw in paths:
        root_path = Path(raw).expanduser()
        if not root_path.exists():
            res.skipped.append((root_path, "not found"))
            continue
        if root_path.is_file() and root_path.suffix.lower() not in SUPPORTED_SUFFIXES:
            res.skipped.append((root_path, "not a .md, .txt or .yaml file"))
            continue
        for root, file in _iter_files(root_path, res.skipped):
            rel = file.relative_to(root).as_posix()
            if rel in used:  # same relative path under two folders: name the folder too
                rel = f"{root.name}/{rel}"
            used.add(rel)
            key = str(file)
            try:
                st = file.stat()
                if st.st_size > max_bytes:
                    why = f"{_mb(st.st_size)}, larger than the limit of {_mb(max_bytes)} (COACH_MAX_FILE_MB)"
                    res.skipped.append((file, why))
                    res.records[key] = FileRecord(st.st_size, st.st_mtime_ns, "", rel, {}, why)
                    continue
                old = cache.get(key) if cache else None
                if old is not None and old.rel == rel and (old.size, old.mtime_ns) == (st.st_size, st.st_mtime_ns):
                    record, data = old, None
                else:
                    data = file.read_bytes()
                    digest = hashlib.sha256(data).hexdigest()
                    if old is not None and old.rel == rel and old.sha256 == digest:
                        record = FileRecord(st.st_size, st.st_mtime_ns, digest, rel, old.docs, old.skip, old.rejected)
                    else:
                        record = None
            except OSError as exc:
                res.skipped.append((file, f"cannot read: {exc.strerror or exc}"))
                continue
            if record is not None:  # unchanged since the last sync: nothing read, nothing repaired
                res.records[key] = record
                for pid, why in record.rejected or []:
                    res.rejected.append(Rejected(file, pid, "", (why,)))
                if record.skip:
                    res.skipped.append((file, record.skip))
                    continue
                res.reused.update(record.docs)
                res.files.append(file)
                continue
            rejected: list[Rejected] = []
            try:
                file_docs = file_documents(file, rel, data=data, rejected=rejected)
                skip = "" if file_docs else ("no phrasing passed the checks" if rejected else "empty")
            except KnowledgeError as exc:
                file_docs, skip = [], str(exc)
            res.rejected.extend(rejected)
            res.records[key] = FileRecord(st.st_size, st.st_mtime_ns, digest, rel, {d.id: d.hash for d in file_docs},
                                          skip, [[r.id, "; ".join(r.problems)] for r in rejected])
            if skip:
                res.skipped.append((file, skip))
                continue
            res.files.append(file)
            res.documents.extend(file_docs)
    return res


def reread(file: Path, record: FileRecord) -> list[Document]:
    """The documents of a file whose record was reused but whose vectors the index lacks."""
    return file_documents(file, record.rel)


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
