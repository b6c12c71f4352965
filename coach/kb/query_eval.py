"""Score the retriever on a query file (hit@k and MRR), and time it.

The file holds one JSON object per line: ``query``, ``topic`` and ``pattern`` (a regular
expression). A query is a hit when one of the top-k results matches the pattern in its text
or title; MRR uses the rank of the first match (0 when none is in the top k).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from coach.errors import InputError


class QueryCase(BaseModel):
    query: str
    topic: str = ""
    pattern: str


class QueryMiss(BaseModel):
    query: str
    topic: str
    got_ids: list[str]


class QueryEvalReport(BaseModel):
    n: int
    k: int = 4
    hit_at_k: float
    mrr: float
    misses: list[QueryMiss] = Field(default_factory=list)


def load_queries(path: Path | str) -> list[QueryCase]:
    """Read a query file; InputError naming the line for anything malformed."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{p} is not UTF-8 text") from None
    cases: list[QueryCase] = []
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = QueryCase.model_validate(json.loads(line))
            re.compile(case.pattern)
        except (ValueError, re.error) as exc:
            raise InputError(f"{p}:{no}: not a valid query line ({type(exc).__name__})") from None
        cases.append(case)
    if not cases:
        raise InputError(f"{p} holds no queries")
    return cases


def first_hit_rank(results: list[Any], pattern: str) -> int | None:
    """1-based rank of the first result whose text or title matches ``pattern``."""
    rx = re.compile(pattern)
    for rank, src in enumerate(results, start=1):
        if rx.search(src.text or "") or rx.search(src.title or ""):
            return rank
    return None


def evaluate_queries(path: Path | str, retriever: Any, k: int = 4, **search_kwargs: Any) -> QueryEvalReport:
    """hit@k and MRR@k of ``retriever.search`` on the queries in ``path``."""
    cases = load_queries(path)
    hits = 0
    rr = 0.0
    misses: list[QueryMiss] = []
    for case in cases:
        results = retriever.search(case.query, k=k, **search_kwargs)
        rank = first_hit_rank(results, case.pattern)
        if rank is None:
            misses.append(QueryMiss(query=case.query, topic=case.topic, got_ids=[r.id for r in results]))
        else:
            hits += 1
            rr += 1.0 / rank
    n = len(cases)
    return QueryEvalReport(n=n, k=k, hit_at_k=round(hits / n, 4), mrr=round(rr / n, 4), misses=misses)


