"""The rewrite pipeline: check, retrieve, rewrite (LLM or rules), check again; never stuck."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from coach.checker import Analysis, Checker
from coach.errors import CoachError, ConfigError
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
        # after a failure, retrieval is skipped (with a notice each time) until this monotonic time
        self._retry_at = 0.0
        self._last_failure = ""
        self._off: str | None = None  # retrieval switched off on purpose (disable_retrieval)

    # ------------------------------------------------------------------ retrieval
    # Retrieval is grounding, not a precondition: every failure (a damaged index, a Rust panic, a
    # server that is down or silent) ends in a rewrite without it and a notice on *that* result.
    # One failure does not switch retrieval off for good: it is tried again after
    # COACH_RETRIEVAL_RETRY_AFTER seconds (so a dead server is not waited for on every click).

    def _failed(self, reason: str) -> None:
        self._last_failure = reason
        self._retry_at = time.monotonic() + self.settings.retrieval_retry_after
        lost = _OUTCOME.get()
        if lost is not None:
            lost.append(reason)

    def disable_retrieval(self, reason: str) -> None:
        """Rewrite without the knowledge base from now on (tests that are not about grounding)."""
        self._off = reason

    def _retriever(self) -> Any | None:
        if self._retriever_factory is None or self._off:
            return None
        if time.monotonic() < self._retry_at:
            self._failed(self._last_failure)
            return None
        try:
            retriever = self._retriever_factory()
        except BaseException as exc:  # noqa: BLE001 - chromadb's Rust panics are BaseExceptions
            self._failed(_reason(exc))
            return None
        return retriever

    def _bounded(self, what: Callable[[], Any]) -> Any:
        """Run one retrieval inside the deadline (COACH_CHROMA_TIMEOUT); failures become ConfigError."""
        timeout = float(self.settings.chroma_timeout)
        box: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["value"] = what()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name="coach-retrieval", daemon=True).start()
        if not done.wait(timeout):
            raise ConfigError(f"no answer within {timeout:g} s")
        if "error" in box:
            raise ConfigError(_reason(box["error"])) from None
        return box["value"]

    def _llm_retriever(self) -> Any | None:
        """What the LLM rewriter grounds with: bounded calls; a failure carries its reason."""
        if self._retriever_factory is None or self._off:
            return None
        return _GuardedRetriever(self)

    def rules_rewriter(self) -> RulesRewriter:
        with self._lock:
            if self._rules is None:
                from coach.kb.loader import load_knowledge

                kb = load_knowledge()
                from coach.rewrite.events import event_phrasings

                # the phrasings that name the client's event live beside the lexicon (knowledge/lang/*/events.yaml)
                phrasings = list(kb.phrasings) + list(event_phrasings()) + self._user_phrasings()
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
        try:
            hits = self._bounded(lambda: retriever.search(
                query, k=12 * len(moves), lang=lang, kinds={"phrasing"}, moves=set(moves), address=address,
                scenario=scenario))
        except ConfigError as exc:
            self._failed(str(exc))
            return []
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

            llm = LLMRewriter(self.settings, self.checker, self._llm_retriever, self.rules_rewriter)
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
        lost: list[str] = []
        token = _OUTCOME.set(lost)
        try:
            result = self.rules_rewriter().rewrite(a, client_message, notices=notices, variant=variant)
        finally:
            _OUTCOME.reset(token)
        if lost and not has(result.notices, "retrieval_unavailable"):
            result.notices.append(notice("retrieval_unavailable", a.language, reason=lost[0]))
        return result


# the retrieval failures of the rewrite running in this context (None outside a rewrite)
_OUTCOME: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("coach_retrieval_outcome", default=None)


def _reason(exc: BaseException) -> str:
    from coach.secrets import scrub

    if isinstance(exc, CoachError):
        text = str(exc)
    else:  # a Rust panic or an unexpected error of the store
        text = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    return scrub(text)[:240]


class _GuardedRetriever:
    """The retriever as the LLM rewriter sees it: each call bounded in time, failures as ConfigError."""

    def __init__(self, pipeline: RewritePipeline) -> None:
        self._pipeline = pipeline

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        p = self._pipeline
        retriever = p._retriever()
        if retriever is None:
            raise ConfigError(p._last_failure or "no knowledge base")
        try:
            return p._bounded(lambda: getattr(retriever, name)(*args, **kwargs))
        except ConfigError as exc:
            p._failed(str(exc))
            raise

    def grounding(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("grounding", *args, **kwargs)

    def search(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("search", *args, **kwargs)
