"""A user's own files: checked before they are kept, bad ones skipped with a notice naming them.

Bad YAML, phrasings that pressure or judge or carry prices, links that leave the added folder,
binary files renamed .md, huge files and file names with terminal escape sequences.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_kb_index import HashEF, settings_for

from coach.kb.index import EXTRA_PATHS_FILE, check_additions, remembered_paths, sync_index
from coach.kb.ingest import ingest_paths, is_binary, safe_name, user_phrasings
from coach.kb.phrasing_check import check_phrasing
from coach.kb.schema import Phrasing

NOTE = ("# Hagel im Weinberg\n\nWenn ein Winzer nach einem Hagelschaden kündigen will, frage ich zuerst nach der "
        "Versicherung und den nächsten Wochen der Lese.\n")


def phrasing_yaml(items: list[tuple[str, str, str]]) -> str:
    out = []
    for pid, move, text in items:
        out.append(f"- id: {pid}\n  lang: de\n  address: Sie\n  move: {move}\n  scenario: any\n  tone: warm\n"
                   f"  text: {json.dumps(text, ensure_ascii=False)}\n")
    return "".join(out)


GOOD = ("good", "defer_collaboration", "Über unsere Zusammenarbeit reden wir später in aller Ruhe, wenn die Lese vorbei ist.")
FORBIDDEN = [
    ("pay", "defer_collaboration", "Überweisen Sie vorher bitte die offenen 4.800 Euro, dann reden wir über die Zusammenarbeit."),
    ("link", "defer_collaboration", "Über unsere Zusammenarbeit sprechen wir später; mehr unter https://example.com/angebot."),
    ("mail", "plan_offer", "Lassen Sie uns gemeinsam einen Plan machen, schreiben Sie an hilfe@example.com."),
    ("date", "plan_offer", "Lassen Sie uns am Montag gemeinsam einen Plan für die nächsten Wochen machen."),
    ("wrongmove", "plan_offer", "Das Wetter ist heute schön."),
    ("judge", "defer_collaboration",
     "Ihre Reaktion ist völlig überzogen und unprofessionell. Über unsere Zusammenarbeit reden wir später."),
    ("clearhead", "defer_collaboration", "Über unsere Zusammenarbeit reden wir, wenn Sie wieder klar denken können."),
]


def _p(pid: str, move: str, text: str) -> Phrasing:
    return Phrasing(id=pid, lang="de", address="Sie", move=move, scenario="any", tone="warm", text=text)


@pytest.mark.parametrize("item", FORBIDDEN, ids=[f[0] for f in FORBIDDEN])
def test_forbidden_phrasings_are_rejected_with_a_reason(item: tuple[str, str, str]) -> None:
    verdict = check_phrasing(_p(*item))
    assert not verdict.ok and verdict.problems


def test_a_good_phrasing_passes() -> None:
    assert check_phrasing(_p(*GOOD)).ok


def test_rejected_phrasings_are_listed_and_never_used(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(phrasing_yaml([GOOD, *FORBIDDEN]), encoding="utf-8")
    res = ingest_paths([tmp_path])
    assert [d.id for d in res.documents] == ["user:mine.yaml#good"]
    assert sorted(r.id.rsplit("#", 1)[1] for r in res.rejected) == sorted(f[0] for f in FORBIDDEN)
    assert [p.id for p in user_phrasings([tmp_path])] == ["user:mine.yaml#good"]  # the offline rewrite's pool


def test_bad_yaml_is_not_remembered(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: x\n  text: [unclosed\n", encoding="utf-8")
    settings = settings_for(tmp_path / "data")
    stats = sync_index(settings, extra_paths=[bad], embedding_function=HashEF())
    assert remembered_paths(settings) == []
    refused = [n for n in stats.notices if n.code == "add_refused"]
    assert refused and str(bad) in refused[0].text and "YAML" in refused[0].text


def test_a_bad_path_remembered_by_an_older_version_is_skipped_not_fatal(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(": : :\n- nope", encoding="utf-8")
    settings = settings_for(tmp_path / "data")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / EXTRA_PATHS_FILE).write_text(json.dumps({"paths": [str(bad)]}), encoding="utf-8")
    stats = sync_index(settings, embedding_function=HashEF())
    assert any(n.code == "index_skipped" and str(bad) in n.text for n in stats.notices)
    assert user_phrasings(remembered_paths(settings)) == []


def test_links_out_of_the_added_folder_are_not_followed(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "real.md").write_text(NOTE, encoding="utf-8")
    secret = tmp_path / "outside" / "secret.md"
    secret.parent.mkdir()
    secret.write_text("# Secret\n\nroot:x:0:0:root:/root:/bin/bash and other things nobody should index.\n", "utf-8")
    (notes / "passwd.md").symlink_to(secret)
    (notes / "alias.md").symlink_to(notes / "real.md")  # a link inside the folder is fine
    (notes / "etc").symlink_to(secret.parent, target_is_directory=True)
    res = ingest_paths([notes])
    texts = " ".join(d.text for d in res.documents)
    assert "root:x" not in texts and "Hagelschaden" in texts
    skipped = {p.name: why for p, why in res.skipped}
    assert "leads out of the added folder" in skipped["passwd.md"] and "etc" in skipped


def test_binary_renamed_md_is_detected_by_content(tmp_path: Path) -> None:
    (tmp_path / "photo.md").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    (tmp_path / "noise.md").write_bytes(bytes((i * 97 + 13) % 256 for i in range(1, 8000) if (i * 97 + 13) % 256))
    res = ingest_paths([tmp_path])
    assert res.documents == []
    assert {p.name: why for p, why in res.skipped} == {"photo.md": "binary content, not text",
                                                       "noise.md": "binary content, not text"}
    assert not is_binary("Grüße aus München – schön, dass es klappt.".encode("cp1252"))


def test_a_huge_file_is_reported_not_silently_skipped(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    with big.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: nothing is written
    settings = settings_for(tmp_path / "data")
    accepted, notices = check_additions(settings, [big])
    assert accepted == []
    assert "50.0 MB, larger than the limit of 5.0 MB" in notices[0].text and "COACH_MAX_FILE_MB" in notices[0].text


def test_hostile_file_names_are_printed_escaped(tmp_path: Path) -> None:
    name = "evil\x1b[31mred\x1b]0;title\x07\nline.md"
    (tmp_path / name).write_bytes(b"\x00\x01binary")
    res = ingest_paths([tmp_path])
    shown = safe_name(res.skipped[0][0])
    assert "\x1b" not in shown and "\n" not in shown and "\x07" not in shown
    assert "\\x1b[31mred" in shown


# ------------------------------------------------------------------------ the command line

@pytest.fixture(scope="module")
def built_data(session_index: Path) -> Path:
    """The session's data folder with a complete e5 index (copied per test, so only user files get embedded)."""
    return session_index


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COACH_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-m", "coach", *args], capture_output=True, text=True, timeout=300, env=env)


def test_cli_add_list_forget_dry_run(built_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(built_data, data, ignore=shutil.ignore_patterns("extra_paths.json", "files.json", "index.lock"))
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "weinberg.md").write_text(NOTE, encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text(phrasing_yaml([GOOD, FORBIDDEN[0]]), encoding="utf-8")
    hostile = tmp_path / "x\x1b[2Jy.md"
    hostile.write_bytes(b"\x00\x00")

    dry = run(data, "index", "--add", str(mine), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "pass   user:mine.yaml#good" in dry.stdout and "reject user:mine.yaml#pay: contains a price" in dry.stdout
    assert "nothing remembered" in dry.stdout
    assert "nothing added" in run(data, "index", "--list").stdout

    res = run(data, "index", "--add", str(notes), str(mine), str(hostile))
    assert res.returncode == 0, res.stderr
    assert "\x1b" not in res.stderr and "x\\x1b[2Jy.md" in res.stderr and "binary" in res.stderr
    assert "pay" in res.stderr  # the rejected phrasing is named
    listed = run(data, "index", "--list").stdout
    assert str(notes) in listed and str(mine) in listed and "x\\x1b" not in listed

    gone = run(data, "index", "--forget", str(mine))
    assert gone.returncode == 0 and "1 removed" in gone.stdout
    assert str(mine) not in run(data, "index", "--list").stdout
    unknown = run(data, "index", "--forget", str(tmp_path / "never-added"))
    assert unknown.returncode == 2 and "not among the added paths" in unknown.stderr
