"""The knowledge file schema and loader: bad entries are rejected with file, id and reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from coach.errors import ConfigError, KnowledgeError
from coach.kb.loader import clear_cache, load_knowledge
from coach.kb.schema import METADATA_KEYS, Passage, Phrasing, Situation, make_document, placeholders
from coach.paths import knowledge_dir

PASSAGE = {"id": "x.one", "lang": "de", "section": "S", "topic": "shock", "title": "T", "text": "Ein Text."}
PHRASING = {
    "id": "x.p1",
    "lang": "de",
    "address": "Sie",
    "move": "empathy",
    "scenario": "any",
    "tone": "warm",
    "text": "{situation} trifft Sie hart.",
}
SITUATION = {"id": "s1", "pattern": "(?i)bank", "scenario": "long_standing", "de_sie": "A", "de_du": "B", "en": "C"}


def test_valid_models_parse() -> None:
    assert Passage.model_validate(PASSAGE).id == "x.one"
    assert Phrasing.model_validate(PHRASING).move == "empathy"
    assert Situation.model_validate(SITUATION).compiled().search("Die Bank ruft an")


@pytest.mark.parametrize("model,base", [(Passage, PASSAGE), (Phrasing, PHRASING), (Situation, SITUATION)])
def test_unknown_keys_are_rejected(model, base) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="Extra inputs"):
        model.model_validate({**base, "colour": "blue"})


@pytest.mark.parametrize(
    "change,fragment",
    [
        ({"lang": "fr"}, "lang"),
        ({"text": "   "}, "text"),
        ({"title": ""}, "title"),
        ({"id": "has space"}, "id"),
        ({"text": "Mit {platzhalter}."}, "placeholder"),
    ],
)
def test_bad_passages(change: dict, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        Passage.model_validate({**PASSAGE, **change})


@pytest.mark.parametrize(
    "change,fragment",
    [
        ({"address": "n/a"}, "phrasing in de needs address Sie or du"),
        ({"lang": "en", "address": "Sie"}, "phrasing in en needs address n/a"),
        ({"address": "Ihr"}, "address"),
        ({"move": "judgment"}, "move"),
        ({"scenario": "sometimes"}, "scenario"),
        ({"tone": "loud"}, "tone"),
        ({"text": ""}, "text"),
        ({"text": "{name} ist da."}, "only \\{situation\\}"),
        ({"text": "{situation!r} ist da."}, "format spec"),
        ({"text": "offene { Klammer"}, "text"),
    ],
)
def test_bad_phrasings(change: dict, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        Phrasing.model_validate({**PHRASING, **change})


def test_english_phrasing_with_na_is_fine() -> None:
    p = Phrasing.model_validate({**PHRASING, "lang": "en", "address": "n/a", "text": "{situation} is hard."})
    assert p.address == "n/a"


def test_situation_pattern_must_compile() -> None:
    with pytest.raises(ValidationError, match="does not compile"):
        Situation.model_validate({**SITUATION, "pattern": "(unclosed"})
    with pytest.raises(ValidationError, match="scenario"):
        Situation.model_validate({**SITUATION, "scenario": "any"})


def test_placeholders_helper() -> None:
    assert placeholders("{situation} und {situation}") == ["situation", "situation"]
    assert placeholders("kein Platzhalter") == []


def test_bundled_knowledge_loads_and_is_consistent() -> None:
    kb = load_knowledge()
    assert len(kb.passages) >= 20 and len(kb.phrasings) >= 40 and len(kb.situations) >= 10
    ids = [p.id for p in kb.passages] + [p.id for p in kb.phrasings]
    assert len(ids) == len(set(ids))
    assert {p.lang for p in kb.passages} == {"de", "en"}
    for p in kb.phrasings:
        assert (p.address in ("Sie", "du")) if p.lang == "de" else (p.address == "n/a")
    # Each language/address has phrasings for every move of a good reply.
    for lang, addr in (("de", "Sie"), ("de", "du"), ("en", "n/a")):
        moves = {p.move for p in kb.phrasings if p.lang == lang and p.address == addr}
        assert {"empathy", "plan_offer", "defer_collaboration", "referral"} <= moves
    assert load_knowledge() is kb  # cached


def test_documents_carry_full_metadata_and_stable_hashes() -> None:
    kb = load_knowledge()
    docs = list(kb.documents())
    assert len(docs) == len(kb.passages) + len(kb.phrasings)
    for d in docs:
        assert set(METADATA_KEYS) | {"hash"} == set(d.metadata)
        assert all(v is not None for v in d.metadata.values())
        assert d.text.strip() and d.embed_text.strip()
        assert d.metadata["source"] in ("passages/de.yaml", "passages/en.yaml", "phrasings/de.yaml", "phrasings/en.yaml")
    phr = next(d for d in docs if d.kind == "phrasing" and "{situation}" in d.text)
    assert "{situation}" not in phr.embed_text  # the model sees a neutral noun, callers keep the slot
    again = {d.id: d.hash for d in load_knowledge().documents()}
    assert all(again[d.id] == d.hash for d in docs)
    a = make_document("a", "t", "e", kind="passage", lang="de")
    b = make_document("a", "t2", "e", kind="passage", lang="de")
    assert a.hash != b.hash


def _copy_knowledge(tmp_path: Path) -> Path:
    dst = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir(), dst, ignore=shutil.ignore_patterns("rules"))
    return dst


def _edit(path: Path, fn) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_loader_names_file_id_and_reason(tmp_path: Path) -> None:
    kdir = _copy_knowledge(tmp_path)
    target = kdir / "phrasings" / "de.yaml"
    victim = yaml.safe_load(target.read_text(encoding="utf-8"))[3]["id"]
    _edit(target, lambda d: d[3].update(address="n/a"))
    clear_cache()
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(kdir)
    msg = str(exc.value)
    assert "phrasings/de.yaml" in msg and victim in msg and "Sie or du" in msg
    assert isinstance(exc.value, ConfigError) and exc.value.exit_code == 3


def test_loader_rejects_unknown_key_duplicate_id_wrong_language_and_bad_yaml(tmp_path: Path) -> None:
    kdir = _copy_knowledge(tmp_path)
    p = kdir / "passages" / "en.yaml"
    original = p.read_text(encoding="utf-8")

    _edit(p, lambda d: d[0].update(author="me"))
    with pytest.raises(KnowledgeError, match=r"passages/en.yaml: .*author.*Extra inputs"):
        load_knowledge(kdir)

    p.write_text(original, encoding="utf-8")
    _edit(p, lambda d: d.append(dict(d[0])))
    with pytest.raises(KnowledgeError, match="occurs more than once"):
        load_knowledge(kdir)

    p.write_text(original, encoding="utf-8")
    _edit(p, lambda d: d[0].update(lang="de"))
    with pytest.raises(KnowledgeError, match="lang 'de' in the en file"):
        load_knowledge(kdir)

    p.write_text("- id: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="not valid YAML"):
        load_knowledge(kdir)

    p.write_text(original, encoding="utf-8")
    _edit(kdir / "situations.yaml", lambda d: d[0].update(pattern="(?P<x"))
    with pytest.raises(KnowledgeError, match="situations.yaml: .*does not compile"):
        load_knowledge(kdir)

    (kdir / "situations.yaml").unlink()
    with pytest.raises(KnowledgeError, match="situations.yaml: file is missing"):
        load_knowledge(kdir)
