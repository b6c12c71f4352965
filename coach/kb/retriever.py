"""Search the knowledge index: dense retrieval on Chroma, optionally fused with BM25.

``Retriever.search`` embeds the query once, asks Chroma for the nearest documents under the
metadata filters and returns ``Source`` objects best first with a score in [0, 1] (the
cosine similarity for dense ranking; the normalised reciprocal-rank-fusion score for the
hybrid ranking). ``Retriever.grounding`` picks what the rewriter needs: passages about the
client's situation and the best approved phrasing for each missing move.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from coach.errors import ConfigError, InputError
from coach.models import Source
from coach.moves import AID_MOVES, GOOD_MOVES

KINDS = frozenset({"passage", "phrasing"})
MOVES = frozenset(GOOD_MOVES + AID_MOVES)  # what a phrasing can be for
ADDRESSES = frozenset({"Sie", "du", "n/a", "mixed", "any"})
SCENARIOS = frozenset({"shock", "long_standing", "unclear", "any"})
MAX_K = 50
MAX_QUERY_CHARS = 2000
RRF_K = 60
# Hybrid ranking was measured against dense-only on the shared and own query sets
# (see coach.kb.query_eval); the default follows those figures.

_SCENARIO_CUE = {
    "de": {
        "shock": "plötzlicher Schock, unerwartetes Ereignis",
        "long_standing": "seit Jahren bestehende Probleme, Schulden, Finanzamt, Bank",
        "unclear": "Kunde will absagen oder pausieren",
    },
    "en": {
        "shock": "sudden shock, unexpected event",
        "long_standing": "problems building for years, debts, tax office, bank",
        "unclear": "client wants to cancel or pause",
    },
}


# ------------------------------------------------------------------------ filters

@dataclass(frozen=True)
class Filters:
    lang: str | None = None
    kinds: frozenset[str] | None = None
    moves: frozenset[str] | None = None
    address: str | None = None
    scenario: str | None = None

    @classmethod
    def build(
        cls,
        *,
        lang: str | None = None,
        kinds: Iterable[str] | None = None,
        moves: Iterable[str] | None = None,
        address: str | None = None,
        scenario: str | None = None,
    ) -> Filters:
        if lang is not None and lang not in ("de", "en"):
            raise InputError(f"unknown language {lang!r}; use de or en")
        k = frozenset(kinds) if kinds is not None else None
        if k is not None and (not k or not k <= KINDS):
            raise InputError(f"unknown kind(s) {sorted(k - KINDS) or '[]'}; use passage and/or phrasing")
        m = frozenset(moves) if moves is not None else None
        if m is not None and (not m or not m <= MOVES):
            raise InputError(f"unknown move(s) {sorted(m - MOVES) or '[]'}; use {sorted(MOVES)}")
        if address is not None and address not in ADDRESSES:
            raise InputError(f"unknown address {address!r}; use Sie, du or n/a")
        if scenario is not None and scenario not in SCENARIOS:
            raise InputError(f"unknown scenario {scenario!r}; use shock, long_standing or unclear")
        if address in ("mixed", "any"):
            address = None
        if scenario == "any":
            scenario = None
        return cls(lang=lang, kinds=k, moves=m, address=address, scenario=scenario)

    def where(self) -> dict[str, Any] | None:
        """The Chroma ``where`` clause (passages carry address "any"; "any" scenario always fits)."""
        clauses: list[dict[str, Any]] = []
        if self.lang:
            clauses.append({"lang": self.lang})
        if self.kinds and self.kinds != KINDS:
            clauses.append({"kind": {"$in": sorted(self.kinds)}})
        if self.moves:
            clauses.append({"move": {"$in": sorted(self.moves)}})
        if self.address:
            clauses.append({"address": {"$in": [self.address, "any"]}})
        if self.scenario:
            clauses.append({"scenario": {"$in": [self.scenario, "any"]}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, meta: dict[str, Any]) -> bool:
        """The same test in Python (for the in-memory BM25 side)."""
        if self.lang and meta.get("lang") != self.lang:
            return False
        if self.kinds and meta.get("kind") not in self.kinds:
            return False
        if self.moves and meta.get("move") not in self.moves:
            return False
        if self.address and meta.get("address") not in (self.address, "any"):
            return False
        return not (self.scenario and meta.get("scenario") not in (self.scenario, "any"))


# ------------------------------------------------------------------------ BM25

_STOP = frozenset(
    "der die das den dem des ein eine einen einem einer und oder aber ist sind war wird werden "
    "zu zum zur im in an am auf aus bei mit nach von vor für über um es sie ich du wir ihr er "
    "nicht auch noch nur so wie was wenn dass sich man mir mich ihnen ihm uns kann "
    "the a an and or but is are was were be been to of in on at by for with from as it its "
    "this that these those you your we our they their i me my do does did not no so what how "
    "when if can should would will just".split()
)
_WORD = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stop words, cut to 6 characters (a crude stemmer)."""
    text = unicodedata.normalize("NFKC", text).lower()
    out = []
    for tok in _WORD.findall(text):
        if tok in _STOP or len(tok) < 2 or tok.isdigit():
            continue
        out.append(tok[:6])
    return out


class BM25:
    """Okapi BM25 over a fixed in-memory corpus (k1 1.2, b 0.75)."""

    def __init__(self, docs: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tfs = [Counter(tokenize(d)) for d in docs]
        self.lens = [sum(tf.values()) for tf in self.tfs]
        self.avg = (sum(self.lens) / len(self.lens)) if self.lens else 0.0
        df: Counter[str] = Counter()
        for tf in self.tfs:
            df.update(tf.keys())
        n = len(self.tfs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: str, allowed: Sequence[int] | None = None) -> list[tuple[int, float]]:
        terms = [t for t in set(tokenize(query)) if t in self.idf]
        idx = range(len(self.tfs)) if allowed is None else allowed
        out = []
        for i in idx:
            tf, dl = self.tfs[i], self.lens[i]
            s = 0.0
            for t in terms:
                f = tf.get(t)
                if f:
                    s += self.idf[t] * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * dl / (self.avg or 1)))
            if s > 0:
                out.append((i, s))
        out.sort(key=lambda x: -x[1])
        return out


# ------------------------------------------------------------------------ retriever

@dataclass(frozen=True)
class _Hit:
    id: str
    text: str
    meta: dict[str, Any]
    similarity: float


class _QueryCache:
    """Query vectors per text (bounded LRU): the same client message is not embedded twice."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> Any:
        with self._lock:
            vec = self._data.get(text)
            if vec is not None:
                self._data.move_to_end(text)
            return vec

    def put(self, text: str, vec: Any) -> None:
        with self._lock:
            self._data[text] = vec
            self._data.move_to_end(text)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def _check_query(query: object) -> str:
    if not isinstance(query, str):
        raise InputError("the search query must be text")
    q = query.strip()
    if not q:
        raise InputError("the search query is empty")
    return q[:MAX_QUERY_CHARS]


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError("k must be a whole number of at least 1")
    return min(k, MAX_K)


class Retriever:
    """Search over the Chroma index; build once and reuse (client, collection, model stay open)."""

    def __init__(
        self,
        settings: Any = None,
        client: Any = None,
        *,
        embedding_function: Any = None,
        hybrid: bool | None = None,
        ensure: bool = True,
        progress: Any = None,
    ) -> None:
        from coach.kb.embeddings import embedding_function_for

        if settings is None:
            from coach.settings import load_settings

            settings = load_settings()
        self.settings = settings
        self._own_client = client is None
        self.ef = embedding_function if embedding_function is not None else embedding_function_for(settings)
        self.hybrid = bool(getattr(settings, "hybrid_search", False)) if hybrid is None else bool(hybrid)
        self._ensure = ensure
        self._progress = progress
        self._bm25: BM25 | None = None
        self._corpus: list[tuple[str, str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._queries = _QueryCache()
        self.client = client
        self.collection: Any = None
        self._open()

    def _open(self) -> None:
        """Build or sync the index when needed (waiting for another process that builds it), then open it."""
        from coach.kb.index import ensure_index
        from coach.kb.store import get_collection, guarded, open_client

        if self._own_client:
            if self._ensure:
                ensure_index(self.settings, embedding_function=self.ef, progress=self._progress)
            self.client = open_client(self.settings)
        elif self._ensure:
            ensure_index(self.settings, client=self.client, embedding_function=self.ef, progress=self._progress)
        with guarded(self.settings, "cannot open the knowledge index"):
            coll = get_collection(self.client, embedding_function=self.ef)
        if coll is None:
            raise ConfigError("the knowledge index is missing or was built with another model; run `coach index`")
        self.collection = coll
        self._synced_at = (coll.metadata or {}).get("synced_at")

    def _store(self, what: str, call: Callable[[], Any]) -> Any:
        """One store call; a damaged embedded index is rebuilt once and the call repeated.

        A server that is down or silent gives a ConfigError that says so (a rebuild would not help).
        """
        from coach.kb.store import StoreError, guarded

        try:
            with guarded(self.settings, what):
                return call()
        except StoreError as exc:
            if not (exc.damaged and self._own_client and not self.settings.chroma_host):
                if exc.damaged and "--rebuild" not in str(exc):
                    raise StoreError(f"{exc}; run `coach index --rebuild`", damaged=True) from None
                raise
            first = exc
        self._repair(first)
        try:
            with guarded(self.settings, what):
                return call()
        except StoreError as exc:
            raise StoreError(
                f"{exc}; it stayed damaged after a rebuild: remove {self._path()} and run `coach index`",
                damaged=True,
            ) from None

    def _path(self) -> Any:
        from coach.kb.store import chroma_path

        return chroma_path(self.settings)

    def _repair(self, cause: Exception) -> None:
        """Rebuild the embedded index under the lock (unless another process already did)."""
        import logging

        from coach.kb.index import repair_index

        logging.getLogger(__name__).warning("%s; rebuilding the index", cause)
        repair_index(self.settings, seen=self._synced_at, embedding_function=self.ef, progress=self._progress)
        self.refresh()
        self._open()

    # --- internals -------------------------------------------------------------------
    def embed(self, query: str) -> Any:
        vec = self._queries.get(query)
        if vec is None:
            vec = self.ef.embed_query([query])[0]
            self._queries.put(query, vec)
        return vec

    def _dense(self, vec: Any, n: int, filters: Filters) -> list[_Hit]:
        res = self._store(
            "the knowledge index cannot be searched",
            lambda: self.collection.query(
                query_embeddings=[vec],
                n_results=n,
                where=filters.where(),
                include=["documents", "metadatas", "distances"],
            ),
        )
        ids = res["ids"][0] if res["ids"] else []
        docs = res["documents"][0] if res.get("documents") else [""] * len(ids)
        metas = res["metadatas"][0] if res.get("metadatas") else [{}] * len(ids)
        dists = res["distances"][0] if res.get("distances") else [1.0] * len(ids)
        return [
            _Hit(i, d or "", dict(m or {}), max(0.0, min(1.0, 1.0 - float(dist))))
            for i, d, m, dist in zip(ids, docs, metas, dists, strict=False)
        ]

    def _ensure_bm25(self) -> BM25:
        if self._bm25 is None:
            with self._lock:
                if self._bm25 is None:
                    got = self._store("the knowledge index cannot be read",
                                      lambda: self.collection.get(include=["documents", "metadatas"]))
                    self._corpus = [
                        (i, d or "", dict(m or {}))
                        for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=False)
                    ]
                    self._bm25 = BM25([f"{m.get('title', '')}\n{d}" for _i, d, m in self._corpus])
        return self._bm25

    def refresh(self) -> None:
        """Forget the in-memory BM25 corpus (after a sync in the same process)."""
        with self._lock:
            self._bm25 = None
            self._corpus = []

    def _ranked(self, query: str, vec: Any, k: int, filters: Filters, hybrid: bool) -> list[Source]:
        if not hybrid:
            return [self._source(h, h.similarity) for h in self._dense(vec, k, filters)]
        n = max(4 * k, 30)
        dense = self._dense(vec, n, filters)
        bm25 = self._ensure_bm25()
        allowed = [i for i, (_id, _d, m) in enumerate(self._corpus) if filters.accepts(m)]
        sparse = bm25.scores(query, allowed)[:n]
        fused: dict[str, float] = {}
        hits: dict[str, _Hit] = {}
        for rank, h in enumerate(dense):
            fused[h.id] = fused.get(h.id, 0.0) + 1.0 / (RRF_K + rank + 1)
            hits[h.id] = h
        for rank, (i, _s) in enumerate(sparse):
            doc_id, text, meta = self._corpus[i]
            fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (RRF_K + rank + 1)
            hits.setdefault(doc_id, _Hit(doc_id, text, meta, 0.0))
        best = 2.0 / (RRF_K + 1)
        order = sorted(fused, key=lambda i: (-fused[i], -hits[i].similarity))[:k]
        return [self._source(hits[i], min(1.0, fused[i] / best)) for i in order]

    @staticmethod
    def _source(hit: _Hit, score: float) -> Source:
        kind = hit.meta.get("kind", "passage")
        return Source(
            id=hit.id,
            kind=kind if kind in KINDS else "passage",
            title=str(hit.meta.get("title", "")),
            text=hit.text,
            score=round(float(score), 4),
            lang=str(hit.meta.get("lang", "")),
            move=(str(hit.meta.get("move") or "") or None) if kind == "phrasing" else None,
        )

    # --- public ----------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 4,
        *,
        lang: str | None = None,
        kinds: set[str] | None = None,
        moves: set[str] | None = None,
        address: str | None = None,
        scenario: str | None = None,
        hybrid: bool | None = None,
    ) -> list[Source]:
        """The ``k`` best documents for ``query`` under the filters, best first.

        ``address`` keeps phrasings in that form of address (passages always pass);
        ``scenario`` keeps documents for that scenario and those marked "any".
        """
        q = _check_query(query)
        k = _check_k(k)
        filters = Filters.build(lang=lang, kinds=kinds, moves=moves, address=address, scenario=scenario)
        vec = self.embed(q)
        return self._ranked(q, vec, k, filters, self.hybrid if hybrid is None else hybrid)

    def grounding(
        self,
        language: str,
        address: str | None,
        scenario: str | None,
        missing_moves: Sequence[str],
        client_message: str | None,
        draft: str,
        k: int = 4,
    ) -> list[Source]:
        """Passages about the client's situation plus the best phrasing for each missing move.

        Phrasings are in the draft's language and form of address (German defaults to Sie);
        a long-standing case adds a referral phrasing. One query embedding serves all lookups.
        """
        lang = language if language in ("de", "en") else "de"
        if lang == "de":
            addr = address if address in ("Sie", "du") else "Sie"
        else:
            addr = "n/a"
        scen = scenario if scenario in ("shock", "long_standing", "unclear") else None
        base = (client_message or "").strip() or (draft or "").strip()
        cue = _SCENARIO_CUE[lang][scen or "unclear"]
        query = f"{base[: MAX_QUERY_CHARS - 100]}\n{cue}" if base else cue
        k = _check_k(k)
        vec = self.embed(query)
        hybrid = self.hybrid

        out = self._ranked(query, vec, k, Filters.build(lang=lang, kinds={"passage"}), hybrid)
        wanted = [m for m in dict.fromkeys(missing_moves) if m in GOOD_MOVES]
        if scen == "long_standing":
            wanted += [m for m in AID_MOVES if m not in wanted]  # the referral: help a coach cannot give
        if wanted:
            pf = Filters.build(
                lang=lang, kinds={"phrasing"}, moves=set(wanted), address=addr, scenario=scen or "unclear"
            )
            # All phrasings of these moves fit in one query (a few dozen at most): take the best per move.
            hits = self._dense(vec, 40 * len(wanted), pf)
            for move in wanted:
                best = next((h for h in hits if h.meta.get("move") == move), None)
                if best is not None:
                    out.append(self._source(best, best.similarity))
        return out

    def count(self) -> int:
        return int(self._store("the knowledge index cannot be counted", lambda: self.collection.count()))


_shared: dict[tuple[Any, ...], Retriever] = {}
_shared_lock = threading.Lock()


