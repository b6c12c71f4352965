"""The semantic layer: its corpus, its weights, and how it joins the rules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from coach.checker import Checker
from coach.errors import KnowledgeError
from coach.moves import MOVE_NAMES
from coach.paths import knowledge_dir
from coach.rules.loader import load_rules
from coach.semantic.combine import SemanticLayer
from coach.semantic.corpus import Corpus, corpus_root, load_corpus
from coach.semantic.model import SemanticModel, default_model, embed, load_model
from coach.semantic.train import build, dumps

CORPUS = load_corpus()
CHECKER = Checker()
RULES_ONLY = Checker(rules_only=True)


def test_the_corpus_is_big_enough_in_both_languages_and_covers_every_move() -> None:
    assert len(CORPUS.moves) >= 2000
    for lang in ("de", "en"):
        rows = [s for s in CORPUS.moves if s.lang == lang]
        for m in MOVE_NAMES:
            assert sum(m in s.moves for s in rows) >= 100, (lang, m)
        assert sum(not s.moves for s in rows) >= 100, (lang, "none")
        assert {s.style for s in rows} == {"letter", "mail", "chat"}
        assert {s.scenario for s in CORPUS.scenarios if s.lang == lang} == {"shock", "long_standing", "unclear"}


def test_the_shipped_weights_were_built_from_this_corpus() -> None:
    model = default_model()
    assert model.corpus_sha256 == CORPUS.sha256, "the corpus changed: run `coach train` (or `make train`)"
    assert model.moves == MOVE_NAMES
    assert model.w.shape == (len(MOVE_NAMES), 384)


def _fake_vectors(texts):  # a stand-in for the embedding, to test that training itself is deterministic
    rows = []
    for t in texts:
        rng = np.random.default_rng(int.from_bytes(t.encode()[:8].ljust(8, b"_"), "little") + len(t))
        rows.append(rng.normal(size=48))  # small: the test is about determinism, not quality
    return np.asarray(rows)


def test_training_gives_the_same_bytes_twice() -> None:
    part = Corpus(CORPUS.moves[::5], CORPUS.scenarios[::3], CORPUS.files)  # a fifth of it: the same code, faster
    first = dumps(build(part, _fake_vectors))
    second = dumps(build(part, _fake_vectors))
    assert first == second and json.loads(first)["corpus_sha256"] == CORPUS.sha256


def test_embeddings_are_deterministic_and_normalised() -> None:
    texts = ["Ich kann gut verstehen, wie sehr Sie das belastet.", "Let's find a time to sit down together."]
    a = embed(texts, use_cache=False)
    b = embed(texts, use_cache=False)
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_a_corpus_row_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "lang"
    (root / "en" / "corpus").mkdir(parents=True)
    row = {"text": "Fine.", "moves": [], "lang": "en", "address": "n/a", "register": "chat", "note": "x", "extra": 1}
    (root / "en" / "corpus" / "part-none.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="part-none.jsonl, line 1"):
        load_corpus(root)


def test_a_corpus_row_with_an_unknown_move_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "lang"
    (root / "en" / "corpus").mkdir(parents=True)
    row = {"text": "Fine.", "moves": ["flattery"], "lang": "en", "address": "n/a", "register": "chat", "note": "x"}
    (root / "en" / "corpus" / "part-x.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="unknown move"):
        load_corpus(root)


def test_broken_weights_are_a_knowledge_error(tmp_path: Path) -> None:
    p = tmp_path / "weights.json"
    p.write_text('{"format": 1, "moves": ["empathy"]}', encoding="utf-8")
    with pytest.raises(KnowledgeError, match="coach train"):
        load_model(p)


def test_the_model_finds_a_judgment_the_rules_miss_with_a_message_in_du() -> None:
    draft = "Hey Mia,\n\nehrlich gesagt machst du aus einer Mücke gerade einen Elefanten.\n\nLG Tom"
    rules = RULES_ONLY.check(draft)
    both = CHECKER.check(draft)
    assert not rules.moves.judgment
    assert both.moves.judgment
    found = [f for f in both.findings if f.layer == "model" and f.move == "judgment"]
    assert found and found[0].text.startswith("ehrlich gesagt")
    assert "deines Kunden" in found[0].message and found[0].rule.endswith(".model")


def test_rule_hits_keep_their_span_and_message_with_the_model_on() -> None:
    draft = "Hi Jo,\n\nno problem, I've cancelled the remaining sessions.\n\nKim"
    rules = {(f.rule, f.start, f.end, f.message) for f in RULES_ONLY.check(draft).findings}
    both = {(f.rule, f.start, f.end, f.message) for f in CHECKER.check(draft).findings if f.layer == "rule"}
    assert rules == both


def test_every_finding_carries_its_layer_in_json() -> None:
    draft = "Hey Mia,\n\nehrlich gesagt machst du aus einer Mücke gerade einen Elefanten. Ich storniere alles.\n\nLG Tom"
    data = CHECKER.check(draft).model_dump(mode="json")
    assert data["findings"] and all(f["layer"] in ("rule", "model") for f in data["findings"])
    assert {f["layer"] for f in data["findings"]} == {"rule", "model"}


def test_rules_only_adds_no_model_finding() -> None:
    draft = "Hey Mia,\n\nehrlich gesagt machst du aus einer Mücke gerade einen Elefanten.\n\nLG Tom"
    assert all(f.layer == "rule" for f in CHECKER.check(draft, rules_only=True).findings)


def test_an_ambiguous_rule_can_be_vetoed_and_a_plain_one_cannot(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(knowledge_dir() / "rules", rules_dir)
    text = (rules_dir / "en.toml").read_text(encoding="utf-8")
    text = text.replace('id = "en.accepts_cancellation.no_problem"', 'id = "en.accepts_cancellation.no_problem"\nambiguous = true', 1)
    (rules_dir / "en.toml").write_text(text, encoding="utf-8")
    rules = load_rules(rules_dir)
    assert any(cr.rule.ambiguous for cr in rules.for_language("en"))
    real = default_model()
    silent = SemanticModel(real.moves, np.zeros_like(real.w), np.full_like(real.b, -20.0), real.scenarios,
                           real.ws, real.bs, real.corpus_sha256, {})  # scores every sentence as no move
    checker = Checker(rules)
    checker._semantic = SemanticLayer(rules, model=silent)
    draft = "Hi Jo,\n\nNo problem at all, we can talk about the next steps on Monday.\n\nKim"
    vetoed = checker.check(draft)
    assert not any(f.rule == "en.accepts_cancellation.no_problem" for f in vetoed.findings)
    assert any(f.rule == "en.accepts_cancellation.no_problem" for f in Checker(rules, rules_only=True).check(draft).findings)
    draft2 = "Hi Jo,\n\nI've cancelled the remaining sessions.\n\nKim"
    assert checker.check(draft2).moves.accepts_cancellation  # a plain rule stays, whatever the model says


def test_the_model_recognises_a_sudden_illness_the_signals_miss() -> None:
    client = "Hallo Herr Berg, ich bin letzte Woche operiert worden und liege noch im Krankenhaus. Wir müssen die Termine leider absagen."
    rules = RULES_ONLY.check("Danke für Ihre Nachricht.", client_message=client)
    both = CHECKER.check("Danke für Ihre Nachricht.", client_message=client)
    assert both.scenario == "shock"
    assert rules.scenario in ("unclear", "shock")


def test_the_corpus_folders_are_languages() -> None:
    assert {p.name for p in corpus_root().iterdir() if (p / "corpus").is_dir()} >= {"de", "en"}


def test_a_negation_vetoes_a_model_fault_only_where_it_governs_a_fault_cue() -> None:
    layer = SemanticLayer(load_rules())
    for text, vetoed in [("There won't be any cancellation fee.", True), ("There's no need to cancel anything.", True),
                         ("Keine Sorge wegen der Rechnung.", True), ("You didn't want to hear it back then.", False),
                         ("Quitting without a word isn't very grown-up, is it?", False)]:
        low = text.lower()
        assert layer._negated_cue(low, (0, len(low)), "de" if text.startswith("Keine") else "en") is vetoed, text


def test_beside_a_rule_hit_the_model_needs_a_higher_score_and_a_fault_must_come_first() -> None:
    layer = SemanticLayer(load_rules())
    cfg = layer.config
    text = "i'm sorry, but you were always the weak link in this team."
    span = (0, len(text))
    probs = {m: 0.0 for m in MOVE_NAMES}
    probs["empathy"], probs["judgment"] = 0.99, 0.985  # the model reads empathy first: no fault beside it
    assert layer._candidates(text, span, probs, "en", {"empathy"}) == []
    probs["empathy"], probs["judgment"] = 0.4, 0.985
    assert layer._candidates(text, span, probs, "en", {"empathy"}) == ["judgment"]
    probs["judgment"] = cfg.beside_good - 0.01
    assert layer._candidates(text, span, probs, "en", {"empathy"}) == []
    probs["judgment"] = 0.0
    probs["plan_offer"] = (cfg.move["plan_offer"].add + cfg.good_beside_fault) / 2 if cfg.good_beside_fault > cfg.move["plan_offer"].add else 0.0
    assert layer._candidates(text, span, probs, "en", {"judgment"}) == []  # a good move beside a fault needs more
    probs["plan_offer"] = max(cfg.good_beside_fault, cfg.move["plan_offer"].add)
    assert layer._candidates(text, span, probs, "en", {"judgment"}) == ["plan_offer"]
    assert layer._candidates(text, span, probs, "en", {"plan_offer"}) == []  # never a move the rules found already


def test_a_chat_sentence_is_read_clause_by_clause_after_an_emoji() -> None:
    layer = SemanticLayer(load_rules())
    text = "np, hab die restlichen termine ausm kalender genommen 👍 falls du magst: ne halbe stunde nächste woche?"
    units = layer.units(text, [(0, len(text))])
    assert [text[a:b].strip() for a, b in units] == [
        "np, hab die restlichen termine ausm kalender genommen 👍", "falls du magst: ne halbe stunde nächste woche?"]
    short = "oh je 😢 ok."
    assert layer.units(short, [(0, len(short))]) == [(0, len(short))]  # a clause too short to judge stays joined


def test_a_negation_far_from_the_fault_cue_does_not_veto_the_model() -> None:
    layer = SemanticLayer(load_rules())
    far = "honestly, pulling the plug with no explanation at this stage strikes me as a little hasty."
    near = "there won't be any cancellation fee."
    assert not layer._negated_cue(far, (0, len(far)), "en")
    assert layer._negated_cue(near, (0, len(near)), "en")
