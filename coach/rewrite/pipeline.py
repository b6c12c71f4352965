"""The rewrite pipeline: check, retrieve, rewrite (LLM or rules), check again; never stuck."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from coach.checker import Analysis, Checker
from coach.errors import CoachError
from coach.models import FAULT_MOVES, RewriteResult, StreamReset
from coach.notices import Notice, has, notice
from coach.rewrite.phrasings import PhrasingPicker
from coach.rewrite.rules_rewriter import RulesRewriter
from coach.settings import Settings


class RewritePipeline:
    def __init__(self, settings: Settings, checker: Checker, retriever: Callable[[], Any] | None = None):
        self.settings = settings
        self.checker = checker
        self._retriever_factory = retriever
        self._lock = threading.Lock()
        self._rules: RulesRewriter | None = None
        self._retrieval_broken: str | None = None

    # ------------------------------------------------------------------ parts
    def _retriever(self) -> Any | None:
        if self._retriever_factory is None or self._retrieval_broken:
            return None
        try:
            return self._retriever_factory()
        except CoachError as exc:
            self._retrieval_broken = str(exc)
        except Exception as exc:  # an index that cannot be opened must not stop an offline rewrite
            self._retrieval_broken = f"{type(exc).__name__}: {exc}"
        return None

    def rules_rewriter(self) -> RulesRewriter:
        with self._lock:
            if self._rules is None:
                from coach.kb.loader import load_knowledge

                kb = load_knowledge()
                phrasings = list(kb.phrasings) + self._user_phrasings()
                picker = PhrasingPicker(phrasings, self._detects, ranker=self._rank_phrasings)
                self._rules = RulesRewriter(self.checker, picker, kb.situations)
            return self._rules

    def _user_phrasings(self) -> list[Any]:
        """Phrasings from the user's own files (`coach index --add my-phrasings.yaml`)."""
        try:
            from coach.kb.index import remembered_paths
            from coach.kb.ingest import user_phrasings

            from coach.llm.content import check_content

            # the checks that guard the model's reply guard the user's own phrasings too: a phrasing with a
            # link, a contact, a date, an offer, markup or control characters never goes into a rewrite
            return [p for p in user_phrasings(remembered_paths(self.settings))
                    if not check_content(p.text, "", None, p.lang)]
        except CoachError:
            raise
        except Exception:  # no data folder yet: only the bundled phrasings
            return []

    def _detects(self, text: str, move: str, lang: str) -> bool:
        a = self.checker.analyse(text, lang=lang, rules_only=True)  # an approved phrasing must be one the rules know
        if move not in a.moves:  # an aid move (the referral) is not one of the six reported ones
            return any(h.rule.rule.move == move for h in a.hits)
        return bool(a.moves.get(move)) and not any(a.moves[m] for m in FAULT_MOVES)

    def _rank_phrasings(self, moves: list[str], lang: str, address: str, scenario: str | None,
                        query: str) -> list[tuple[str, float]]:
        retriever = self._retriever()
        if retriever is None:
            return []
        hits = retriever.search(query, k=12 * len(moves), lang=lang, kinds={"phrasing"}, moves=set(moves),
                                address=address, scenario=scenario)
        return [(h.id, h.score) for h in hits]

    # ------------------------------------------------------------------ API
    def analyse(self, draft: str, client_message: str | None, lang: str | None) -> Analysis:
        return self.checker.analyse(draft, client_message=client_message, lang=lang)

    def rewrite(self, draft: str, client_message: str | None = None, *, offline: bool | None = None,
                lang: str | None = None, variant: int = 0) -> RewriteResult:
        result: RewriteResult | None = None
        a = self.analyse(draft, client_message, lang)
        for item in self._run(a, client_message, offline=offline, streaming=False, variant=variant):
            if isinstance(item, RewriteResult):
                result = item
        assert result is not None
        return result

    def rewrite_stream(self, draft: str, client_message: str | None = None, *, offline: bool | None = None,
                       lang: str | None = None) -> Iterator[str | StreamReset | RewriteResult]:
        a = self.analyse(draft, client_message, lang)  # InputError reaches the caller before anything streams
        return self._run(a, client_message, offline=offline, streaming=True)

    def _run(self, a: Analysis, client_message: str | None, *, offline: bool | None,
             streaming: bool, variant: int = 0) -> Iterator[str | StreamReset | RewriteResult]:
        use_llm = self.settings.llm_enabled and not offline
        notices: list[Notice] = []
        if use_llm:
            from coach.rewrite.llm_rewriter import LLMRewriter

            llm = LLMRewriter(self.settings, self.checker, self._retriever, self.rules_rewriter)
            yield from llm.stream(a, client_message, streaming=streaming)
            return
        if offline:
            notices.append(notice("offline_requested", a.language))
        elif self.settings.offline:
            notices.append(notice("offline_mode", a.language))
        else:
            notices.append(notice("llm_not_configured", a.language))
        yield self.rules_result(a, client_message, notices, variant=variant)

    def rules_result(self, a: Analysis, client_message: str | None, notices: list[Notice],
                     variant: int = 0) -> RewriteResult:
        result = self.rules_rewriter().rewrite(a, client_message, notices=notices, variant=variant)
        if self._retrieval_broken and not has(result.notices, "retrieval_unavailable"):
            result.notices.append(notice("retrieval_unavailable", a.language, reason=self._retrieval_broken))
        return result
