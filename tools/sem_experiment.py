"""Experiment harness for the semantic layer (not shipped): score labeled sets with layer variants.

    .venv/bin/python tools/sem_experiment.py base clauses           # DEV pooled P/R per move, per-set figures
    .venv/bin/python tools/sem_experiment.py --check base clauses   # + CHECK aggregate figures (final variants only)

DEV = every labeled set in tests/data except sealed_* and the CHECK sets; CHECK = firstseen6_* and firstseen7_*
(aggregates only: never tune on their rows). sealed_* are never opened. A variant is a set of config overrides
(VARIANTS below); draft sentence vectors are cached on disk (COACH_DATA_DIR or /tmp) between runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from functools import cache
from pathlib import Path

import numpy as np

from coach.checker import Checker
from coach.evaluation import load_labeled
from coach.moves import FAULT_MOVES, MOVE_NAMES
from coach.semantic import model as M
from coach.semantic.combine import SemanticLayer
from coach.semantic.config import default_config

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CHECK = ("firstseen6_de", "firstseen6_en", "firstseen7_de", "firstseen7_en")

VARIANTS: dict[str, dict] = {
    "rules": {},
    "ship": {},  # knowledge/semantic as shipped (weights.json + exemplars.npy + config.toml)
    "ship65": {"moves": {m: {"agree": 0.65} for m in FAULT_MOVES}},
    "band50": {"moves": {m: {"agree_from": 0.5001} for m in FAULT_MOVES}},
    "band60": {"moves": {m: {"agree_from": 0.6} for m in FAULT_MOVES}},
    "band50_80": {"moves": {m: {"agree_from": 0.5001, "agree": 0.8} for m in FAULT_MOVES}},
    "ship60": {"moves": {m: {"agree": 0.6} for m in FAULT_MOVES}},
    "base": {"clauses": False, "moves": {m: {"agree_from": 1.0} for m in FAULT_MOVES}},  # the layer before sem8
}
_NO_BAND = {m: {"agree_from": 1.0} for m in FAULT_MOVES}
VARIANTS.update({f"cl{int(a * 100)}": {"clauses": True, "clause_add": a, "moves": _NO_BAND} for a in (0.95, 0.98, 0.99)})
VARIANTS["clauses"] = {"clauses": True, "clause_add": 0.95, "moves": _NO_BAND}


def _band(lo: float, agree: float, k: int, clauses: bool = True, clause_add: float = 0.98) -> dict:
    return {"clauses": clauses, "knn": k, "clause_add": clause_add,
            "moves": {m: {"agree_from": lo, "agree": agree} for m in FAULT_MOVES}}


VARIANTS.update({
    "knn7_60_50": _band(0.6, 0.5, 7), "knn7_70_50": _band(0.7, 0.5, 7), "knn7_80_50": _band(0.8, 0.5, 7),
    "knn15_70_50": _band(0.7, 0.5, 15), "knn7_70_60": _band(0.7, 0.6, 7), "knn7_60_70": _band(0.6, 0.7, 7),
    "knn7_70_50_sent": _band(0.7, 0.5, 7, clauses=False), "knn7_60_50_sent": _band(0.6, 0.5, 7, clauses=False),
    "knn7_70_70_sent": _band(0.7, 0.7, 7, clauses=False), "knn7_50_50_sent": _band(0.5001, 0.5, 7, clauses=False),
    "knn7_70_60_cl99": _band(0.7, 0.6, 7, clause_add=0.99),
    "knn7_60_70_sent": _band(0.6, 0.7, 7, clauses=False), "knn15_70_70_sent": _band(0.7, 0.7, 15, clauses=False),
    "knn5_70_70_sent": _band(0.7, 0.7, 5, clauses=False), "knn7_70_80_sent": _band(0.7, 0.8, 7, clauses=False),
    "cl99_knn7_70_70": _band(0.7, 0.7, 7, clause_add=0.99),
    "knn7_70_70_cl99_old": _band(0.7, 0.7, 7, clause_add=0.99), "knn7_70_70_cl100": _band(0.7, 0.7, 7, clause_add=1.0),
    "knn7_80_70_cl100": _band(0.8, 0.7, 7, clause_add=1.0), "knn7_50_70_sent": _band(0.5001, 0.7, 7, clauses=False),
})


def sets() -> tuple[list[str], list[str]]:
    dev, check = [], []
    for p in sorted(DATA.glob("*.jsonl")):
        name = p.stem
        if name.startswith("sealed"):
            continue
        first = p.read_text(encoding="utf-8").split("\n", 1)[0]
        if '"moves"' not in first:
            continue  # not labeled by move
        (check if name in CHECK else dev).append(name)
    return dev, check


def _vec_cache() -> Path:
    return Path(os.environ.get("COACH_DATA_DIR") or "/tmp") / "sem-experiment-vectors.npz"


def load_vectors() -> None:
    M._cache.size = 10**6
    p = _vec_cache()
    if p.is_file():
        with np.load(p, allow_pickle=False) as d:
            for t, v in zip(d["texts"].tolist(), d["vecs"], strict=True):
                M._cache.put(t, v)


def save_vectors() -> None:
    data = M._cache._data
    if data:
        _vec_cache().parent.mkdir(parents=True, exist_ok=True)
        np.savez(_vec_cache(), texts=np.asarray(list(data)), vecs=np.stack(list(data.values())))


@cache
def knn_model(k: int) -> M.SemanticModel:
    """The shipped logistic model plus the corpus sentences as kNN exemplars (vectors from the train cache)."""
    from coach.semantic.corpus import load_corpus
    from coach.semantic.train import embed_cached

    corpus = load_corpus()
    vecs = embed_cached([s.text for s in corpus.moves]).astype(np.float32)
    labels = np.array([[m in s.moves for m in MOVE_NAMES] for s in corpus.moves], dtype=np.float32)
    return dataclasses.replace(M.default_model(), knn_vecs=vecs, knn_labels=labels, knn_k=k)


def checker_for(variant: str) -> Checker:
    if variant == "rules":
        return Checker(rules_only=True)
    c = Checker(rules_only=False)
    spec = dict(VARIANTS[variant])
    k = spec.pop("knn", 0)
    moves = spec.pop("moves", {})
    cfg = default_config()
    if moves:
        cfg = cfg.model_copy(update={"move": {m: t.model_copy(update=moves.get(m, {})) for m, t in cfg.move.items()}})
    cfg = cfg.model_copy(update=spec)
    c._semantic = SemanticLayer(c.rules, model=knn_model(k) if k else None, config=cfg)
    return c


def run(variant: str, names: list[str]) -> dict[str, object]:
    """Per set: counts per move (tp, fp, fn), exact matches, scenario hits, n; and the DEV pool."""
    checker = checker_for(variant)
    pooled = {m: [0, 0, 0] for m in MOVE_NAMES}
    per_set = {}
    for name in names:
        counts = {m: [0, 0, 0] for m in MOVE_NAMES}
        exact = scen = n = 0
        for row in load_labeled(DATA / f"{name}.jsonl"):
            rep = checker.check(row.draft, client_message=row.client_message)
            got, want = rep.moves.model_dump(), row.moves.model_dump()
            for m in MOVE_NAMES:
                i = 0 if got[m] and want[m] else 1 if got[m] else 2 if want[m] else None
                if i is not None:
                    counts[m][i] += 1
                    pooled[m][i] += 1
            exact += all(got[m] == want[m] for m in MOVE_NAMES)
            scen += rep.scenario == row.scenario
            n += 1
        per_set[name] = (counts, exact / n, scen / n)
    return {"per_set": per_set, "pooled": pooled}


def _f1(c: list[int]) -> float:
    p, r = _pr(*c)
    return 2 * p * r / (p + r) if p + r else 0.0


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0)


def _print_sets(per_set: dict, tag: str) -> None:
    for name, (counts, exact, scen) in per_set.items():
        macro = sum(_f1(c) for c in counts.values()) / len(counts)
        low = min(MOVE_NAMES, key=lambda m: _pr(*counts[m])[0])
        print(f"    {tag}{name:26s} macro {macro:.2f} exact {exact:.2f} judg {_f1(counts['judgment']):.2f} "
              f"scen {scen:.2f}  lowest precision {_pr(*counts[low])[0]:.2f} ({low})", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("variants", nargs="+", choices=sorted(VARIANTS))
    ap.add_argument("--check", action="store_true", help="also the CHECK sets' aggregate figures")
    ap.add_argument("--per-set", action="store_true", help="DEV figures per set")
    args = ap.parse_args()
    dev, check = sets()
    load_vectors()
    try:
        for v in args.variants:
            res = run(v, dev)
            pooled = res["pooled"]
            cells = []
            for m in MOVE_NAMES:
                p, r = _pr(*pooled[m])
                cells.append(f"{m[:6]} {p:.3f}/{r:.3f}")
            fp = sum(pooled[m][1] for m in FAULT_MOVES)
            print(f"{v:10s} DEV pooled P/R: " + "  ".join(cells) + f"  fault-FP {fp}", flush=True)
            if args.per_set:
                _print_sets(res["per_set"], "")
            if args.check:
                _print_sets(run(v, check)["per_set"], "CHECK ")
    finally:
        save_vectors()
    return 0


if __name__ == "__main__":
    sys.exit(main())
