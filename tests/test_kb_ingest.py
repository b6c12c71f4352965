"""Reading a user's own notes: mojibake repair, decoding, splitting, language, ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.kb.ingest import (
    MAX_CHARS,
    MIN_CHARS,
    decode_bytes,
    detect_language,
    fix_mojibake,
    ingest_paths,
    split_text,
)

GERMAN_PARA = (
    "Wenn ein Kunde absagen will, hilft es, zuerst zuzuhören und die Lage ernst zu nehmen. "
    "Wir sprechen dann gemeinsam darüber, was jetzt wirklich dringend ist und was warten kann. "
)
ENGLISH_PARA = (
    "When a client wants to stop, it helps to listen first and to take the situation seriously. "
    "We then talk together about what is really urgent now and what can wait for a while. "
)


def test_ftfy_or_fallback_repairs_the_cp1250_sample() -> None:
    assert fix_mojibake("wĂĽnsche") == "wünsche"
    assert fix_mojibake("Ich wĂĽnsche Ihnen GrĂĽĂźe und schĂ¶ne Tage") == "Ich wünsche Ihnen Grüße und schöne Tage"
    assert fix_mojibake("Ăśbung, Ă„rger, â€žZitatâ€ś") == "Übung, Ärger, „Zitat“"


def test_repair_keeps_correct_text_and_fixes_cp1252_mojibake() -> None:
    for good in ("Ärger über Öl – „Fuß“", "Straße", "naïve café", "Grüße, 5 €"):
        assert fix_mojibake(good) == good
    assert fix_mojibake("wÃ¼nsche Ihnen GrÃ¼ÃŸe") == "wünsche Ihnen Grüße"


def test_decoding_falls_back_for_non_utf8() -> None:
    assert decode_bytes("Grüße aus Köln".encode("cp1252")) == "Grüße aus Köln"
    assert decode_bytes("Grüße".encode("utf-8-sig")) == "Grüße"
    assert decode_bytes(b"a\r\nb\rc") == "a\nb\nc"
    # UTF-8 that was once decoded as cp1252 and saved again
    assert decode_bytes("Grüße".encode().decode("cp1252").encode()) == "Grüße"


@pytest.mark.parametrize(
    "text,lang",
    [
        ("Ich wünsche Ihnen alles Gute, und wir sprechen später über die Zusammenarbeit.", "de"),
        ("I wish you all the best, and we can talk about the engagement later.", "en"),
    ],
)
def test_language_detection(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_detect_language_default_on_tie() -> None:
    assert detect_language("12345", default="de") == "de"


def test_split_by_headings_and_sizes() -> None:
    long_section = " ".join([GERMAN_PARA] * 12)  # ~2000 chars in one paragraph
    text = (
        "Einleitung ohne Überschrift, kurz.\n\n"
        f"# Erster Teil\n\n{long_section}\n\n"
        "## Zweiter Teil\n\nKurz eins.\n\nKurz zwei.\n\n- Punkt a\n- Punkt b\n\n"
        "Dritter Teil\n===========\n\nText unter einer Setext-Überschrift.\n\n"
        "## Leer\n\n"
    )
    chunks = split_text(text)
    titles = [c.title for c in chunks]
    assert titles[0] == ""
    assert titles.count("Erster Teil") >= 2  # the long paragraph was cut
    assert "Zweiter Teil" in titles and "Dritter Teil" in titles and "Leer" not in titles
    for c in chunks:
        assert len(c.text) <= MAX_CHARS
    firsts = [c for c in chunks if c.title == "Erster Teil"]
    assert all(c.text.rstrip().endswith(".") for c in firsts)  # cut at sentence ends
    assert all(len(c.text) >= MIN_CHARS for c in firsts)
    second = [c for c in chunks if c.title == "Zweiter Teil"]
    assert len(second) == 1 and "Kurz eins." in second[0].text and "- Punkt b" in second[0].text


def test_short_paragraphs_are_merged() -> None:
    paras = "\n\n".join(f"Absatz {i}: " + "wir sprechen später darüber. " * 3 for i in range(10))
    chunks = split_text(paras)
    assert 2 <= len(chunks) <= 4
    assert all(MIN_CHARS <= len(c.text) <= MAX_CHARS for c in chunks[:-1])


def test_ingest_folder(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    (notes / "sub").mkdir(parents=True)
    (notes / "a.md").write_text(f"# Zuhören\n\n{GERMAN_PARA}\n\n# Listening\n\n{ENGLISH_PARA}\n", encoding="utf-8")
    (notes / "sub" / "b_notes.txt").write_bytes(f"Ich wĂĽnsche Ihnen Kraft. {GERMAN_PARA}".encode())
    (notes / "c.txt").write_bytes(("Grüße und " + GERMAN_PARA).encode("cp1252"))
    (notes / "empty.md").write_text("   \n", encoding="utf-8")
    (notes / "image.png").write_bytes(b"\x89PNG\r\n")
    (notes / ".hidden.md").write_text(GERMAN_PARA, encoding="utf-8")
    res = ingest_paths([notes])
    ids = [d.id for d in res.documents]
    assert ids == ["user:a.md#1", "user:a.md#2", "user:c.txt#1", "user:sub/b_notes.txt#1"]
    by_id = {d.id: d for d in res.documents}
    assert by_id["user:a.md#1"].metadata["title"] == "Zuhören"
    assert by_id["user:a.md#1"].metadata["lang"] == "de"
    assert by_id["user:a.md#2"].metadata["lang"] == "en"
    assert by_id["user:sub/b_notes.txt#1"].metadata["title"] == "B notes"
    assert "wünsche" in by_id["user:sub/b_notes.txt#1"].text
    assert by_id["user:c.txt#1"].text.startswith("Grüße")
    for d in res.documents:
        assert d.metadata["kind"] == "passage" and d.metadata["topic"] == "user"
        assert Path(str(d.metadata["source"])).is_file()
    assert any(p.name == "empty.md" for p, _why in res.skipped)


def test_ingest_single_file_missing_path_and_wrong_extension(tmp_path: Path) -> None:
    f = tmp_path / "one.md"
    f.write_text(ENGLISH_PARA, encoding="utf-8")
    other = tmp_path / "x.pdf"
    other.write_bytes(b"%PDF")
    res = ingest_paths([f, tmp_path / "nope", other])
    assert [d.id for d in res.documents] == ["user:one.md#1"]
    reasons = {p.name: why for p, why in res.skipped}
    assert reasons == {"nope": "not found", "x.pdf": "not a .md, .txt or .yaml file"}


def test_same_relative_path_in_two_folders_gets_unique_ids(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "notes.md").write_text(GERMAN_PARA, encoding="utf-8")
    ids = [d.id for d in ingest_paths([tmp_path / "one", tmp_path / "two"]).documents]
    assert ids == ["user:notes.md#1", "user:two/notes.md#1"]
