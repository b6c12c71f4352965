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
from coach.semantic.config import default_config
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


class _ScriptedLayer(SemanticLayer):
    """The real layer with a scripted scorer (a double inside a unit test only): each span scores what the
    script says for the first key found in its text, so the clause and agreement rules are tested exactly."""

    def __init__(self, script: dict[str, dict[str, float]], config=None) -> None:
        super().__init__(load_rules(), config=config)
        self.script = script

    def _probs(self, text, spans):
        out = []
        for s, e in spans:
            piece = text[s:e]
            row = {m: 0.0 for m in MOVE_NAMES}
            for key, probs in self.script.items():
                if key in piece:
                    row.update(probs)
                    break
            out.append(row)
        return out


def _with(cfg, **moves_update):
    return cfg.model_copy(update={"move": {m: t.model_copy(update=moves_update.get(m, {})) for m, t in cfg.move.items()}})


def test_a_sentence_splits_into_clauses_at_commas_dashes_and_but() -> None:
    layer = SemanticLayer(load_rules())
    text = "all good on my side — paused, ive taken you off the thursday slots and wont invoice march."
    assert [text[a:b] for a, b in layer.clauses(text, (0, len(text)), "en")] == [
        "all good on my side — paused", "ive taken you off the thursday slots and wont invoice march."]
    text = "ok done — paused, ive taken you off the thursday slots."  # "ok done — paused" is too short alone
    assert layer.clauses(text, (0, len(text)), "en") == []
    text = "Das tut mir leid, aber ehrlich gesagt hab ich das kommen sehen."
    assert [text[a:b] for a, b in layer.clauses(text, (0, len(text)), "de")] == [
        "Das tut mir leid", "aber ehrlich gesagt hab ich das kommen sehen."]
    text = "Sorry to hear that but I think you're overreacting a little here."
    assert [text[a:b] for a, b in layer.clauses(text, (0, len(text)), "en")] == [
        "Sorry to hear that", "but I think you're overreacting a little here."]
    short = "Oh no, that is hard."
    assert layer.clauses(short, (0, len(short)), "en") == []  # one clause: the sentence is read whole


def test_a_fault_found_only_in_a_clause_gets_the_clause_as_span() -> None:
    cfg = default_config().model_copy(update={"clauses": True, "clause_add": 0.98})
    text = "Thank you so much for letting me know, i have taken you off the thursday slots already."
    whole = {"know, i have": {"accepts_cancellation": 0.5}}  # the whole sentence reads as fine facts
    layer = _ScriptedLayer({**whole, "i have taken you off": {"accepts_cancellation": 0.99}}, config=cfg)
    hits = layer.apply(text, [(0, len(text))], [], "en", "n/a")
    faults = [(h.rule.rule.move, text[h.start:h.end], h.layer) for h in hits]
    assert faults == [("accepts_cancellation", "i have taken you off the thursday slots already.", "model")]
    low = _ScriptedLayer({**whole, "i have taken you off": {"accepts_cancellation": 0.97}}, config=cfg)
    assert low.apply(text, [(0, len(text))], [], "en", "n/a") == []  # a clause alone needs clause_add
    off = _ScriptedLayer({**whole, "i have taken you off": {"accepts_cancellation": 0.99}},
                         config=cfg.model_copy(update={"clauses": False}))
    assert off.apply(text, [(0, len(text))], [], "en", "n/a") == []


def test_a_middle_band_fault_needs_the_second_opinion_to_agree() -> None:
    cfg = _with(default_config(), judgment={"add": 0.95, "agree_from": 0.7, "agree": 0.7})
    text = "Well, that's one way to run a company, I suppose."
    span = (0, len(text))
    layer = SemanticLayer(load_rules(), config=cfg)
    base = {m: 0.0 for m in MOVE_NAMES}
    assert layer._candidates(text, span, {**base, "judgment": 0.8, "second:judgment": 0.86}, "en", set()) == ["judgment"]
    assert layer._candidates(text, span, {**base, "judgment": 0.8, "second:judgment": 0.57}, "en", set()) == []
    assert layer._candidates(text, span, {**base, "judgment": 0.65, "second:judgment": 1.0}, "en", set()) == []  # below the band
    assert layer._candidates(text, span, {**base, "judgment": 0.96}, "en", set()) == ["judgment"]  # above: alone
    # beside another move (here a rule's empathy) the band does not apply: the usual higher bar does
    assert layer._candidates(text, span, {**base, "judgment": 0.8, "second:judgment": 1.0}, "en", {"empathy"}) == []
    # another fault read first: no band for this one
    assert layer._candidates(text, span, {**base, "judgment": 0.8, "pressure": 0.9, "second:judgment": 1.0},
                             "en", set()) == []


def test_a_negation_still_vetoes_a_fault_the_second_opinion_agrees_with() -> None:
    cfg = _with(default_config(), accepts_cancellation={"add": 0.95, "agree_from": 0.7, "agree": 0.7})
    layer = SemanticLayer(load_rules(), config=cfg)
    base = {m: 0.0 for m in MOVE_NAMES}
    for text in ("There's no need to cancel anything right now.", "You don't have to stop the sessions at all."):
        probs = {**base, "accepts_cancellation": 0.9, "second:accepts_cancellation": 1.0}
        assert layer._candidates(text, (0, len(text)), probs, "en", set()) == [], text


def test_the_second_opinion_votes_with_the_nearest_corpus_sentences() -> None:
    model = default_model()
    assert model.has_second, "the shipped weights carry the exemplars (knowledge/semantic/exemplars.npy)"
    ex, labels = model.neighbours()
    assert ex.shape == (len(CORPUS.moves), model.w.shape[1]) and labels.shape == (len(CORPUS.moves), len(MOVE_NAMES))
    assert labels[:, list(MOVE_NAMES).index("judgment")].sum() == sum("judgment" in s.moves for s in CORPUS.moves)
    i = next(i for i, s in enumerate(CORPUS.moves) if "judgment" in s.moves)
    vec = embed([CORPUS.moves[i].text])
    votes = dict(zip(model.moves, model.second_probs(vec)[0].tolist(), strict=True))
    assert votes["judgment"] > 0.0 and all(0.0 <= v <= 1.0 for v in votes.values())
    assert float((vec @ ex.T).max()) > 0.999  # its own exemplar (float16) is its nearest


def test_exemplars_are_rebuilt_byte_for_byte_and_checked_on_load(tmp_path: Path) -> None:
    from coach.semantic.train import build_all

    part = Corpus(CORPUS.moves[::5], CORPUS.scenarios[::3], CORPUS.files)
    w1, raw1 = build_all(part, _fake_vectors)
    w2, raw2 = build_all(part, _fake_vectors)
    assert raw1 == raw2 and dumps(w1) == dumps(w2)
    shipped = knowledge_dir() / "semantic"
    (tmp_path / "weights.json").write_bytes((shipped / "weights.json").read_bytes())
    (tmp_path / "exemplars.npy").write_bytes(b"\x93NUMPY broken")
    model = load_model(tmp_path / "weights.json")  # the exemplars are read on first use
    vec = embed(["Typical, honestly."])
    with pytest.warns(RuntimeWarning, match="second opinion is off"):
        assert model.second_probs(vec).tolist() == [[0.0] * len(MOVE_NAMES)]  # no vote: nothing in the band agrees
    assert np.allclose(model.move_probs(vec), default_model().move_probs(vec))  # the logistic model carries on


def test_the_shipped_exemplars_match_the_weights() -> None:
    import hashlib

    data = json.loads((knowledge_dir() / "semantic" / "weights.json").read_text(encoding="utf-8"))
    raw = (knowledge_dir() / "semantic" / data["knn"]["file"]).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == data["knn"]["sha256"]
