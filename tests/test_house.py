"""The house rules: layers only call down, no package cycle, no test tools in the wheel, one place per meaning."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "coach"

# Lower layers first; a module may import its own layer and the ones below it, never one above.
LAYERS: list[set[str]] = [
    {"errors", "paths", "secrets", "normalize", "inputs", "progress", "e5", "patterns"},
    {"moves", "notices", "lang", "letter", "sentences", "html_text", "mail", "settings"},
    {"models", "rules"},
    {"context", "checker", "check", "semantic", "evaluation", "report_text"},
    {"kb", "llm"},
    {"rewrite"},
    {"api"},
    {"cli", "web", "bench", "__main__", "__init__"},
]


def _unit(module: str) -> str:
    """The layer unit of a module: its top package below coach (coach.kb.index -> kb)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(unit: str) -> int:
    for i, layer in enumerate(LAYERS):
        if unit in layer:
            return i
    raise AssertionError(f"coach.{unit} is in no layer of tests/test_house.py: place it")


def _imports() -> dict[str, set[str]]:
    """module -> the coach modules it imports (at any depth in the file, TYPE_CHECKING blocks excluded)."""
    out: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(REPO).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skip |= {id(n) for n in ast.walk(node)}
        found: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("coach")}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("coach"):
                found.add(node.module)
        out[module] = found
    return out


def test_no_module_imports_from_a_higher_layer() -> None:
    wrong = []
    for module, imported in _imports().items():
        mine = _layer(_unit(module))
        for other in imported:
            if _layer(_unit(other)) > mine:
                wrong.append(f"{module} imports {other}")
    assert wrong == []


def test_no_import_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for module, imported in _imports().items():
        graph.setdefault(_unit(module), set()).update(_unit(o) for o in imported if _unit(o) != _unit(module))
    seen: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in graph.get(node, ()):
            assert seen.get(nxt) != 1, "cycle: " + " -> ".join([*path, node, nxt])
            if nxt not in seen:
                visit(nxt, [*path, node])
        seen[node] = 2

    for node in graph:
        if node not in seen:
            visit(node, [])


def test_move_names_are_spelled_only_in_data() -> None:
    """`knowledge/moves.toml` names the moves; code reads them from coach.moves."""
    from coach.moves import all_moves

    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for m in all_moves():
            if f'"{m.name}"' in text or f"'{m.name}'" in text:
                offenders.append(f"{path.relative_to(REPO)}: {m.name}")
    assert len({o.split(':')[0] for o in offenders if 'defer_collaboration' in o}) <= 1, offenders


@pytest.mark.slow
def test_the_wheel_ships_no_test_server_and_carries_the_knowledge(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    wheel = next(tmp_path.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if "fake" in n or "llm_server" in n or n.startswith("tests/") or "devtools" in n]
    assert "coach/_data/knowledge/moves.toml" in names
    assert any(n.startswith("coach/_data/knowledge/lang/de/") for n in names)


TOY_RULES = '''
[[rule]]
id = "xx.accept.ok"
move = "accepts_cancellation"
lang = "xx"
severity = "error"
penalty = 30
patterns = ['\\bokidoki\\b']
message = "Accepts the cancellation."
suggestion = "Do not accept it straight away."
examples = { bad = ["Okidoki, plok annulo."], good = ["Plok non annulo."] }
'''

TOY_LANGUAGE = '''
code = "xx"
name = "Toy"
native_name = "Toyish"
quotes = ["«", "»"]
slot_fill = "Situo"
function_words = "plok zim vor okidoki annulo non"
'''


def test_a_third_language_is_a_new_folder_plus_its_rules(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", knowledge)
    (knowledge / "lang" / "xx").mkdir()
    (knowledge / "lang" / "xx" / "language.toml").write_text(TOY_LANGUAGE, encoding="utf-8")
    (knowledge / "rules" / "xx.toml").write_text(TOY_RULES, encoding="utf-8")
    env = {**os.environ, "COACH_KNOWLEDGE_DIR": str(knowledge)}
    res = subprocess.run([sys.executable, "-m", "coach", "check", "-", "--json", "--rules-only"],
                         input="Okidoki, plok zim vor annulo.", capture_output=True, text=True, env=env, timeout=120)
    if res.returncode == 2 and "--rules-only" in res.stderr:  # before the semantic layer, check is rules-only
        res = subprocess.run([sys.executable, "-m", "coach", "check", "-", "--json"],
                             input="Okidoki, plok zim vor annulo.", capture_output=True, text=True, env=env,
                             timeout=120)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["language"] == "xx" and data["address"] == "n/a"
    assert data["moves"]["accepts_cancellation"] is True
    assert any(f["rule"] == "xx.accept.ok" for f in data["findings"])
