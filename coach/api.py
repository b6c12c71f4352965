"""The Python API: `Coach` checks, searches and rewrites drafts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from coach.checker import Checker
from coach.errors import InputError
from coach.models import CheckReport, RewriteResult, Source, StreamReset

if TYPE_CHECKING:
    from coach.settings import Settings


class Coach:
    """One Coach can be shared across threads (the Streamlit page shares one between sessions).

    Coach() reads the settings from the environment (and .env); Coach(offline=True) never calls an LLM.
    """

    def __init__(self, *, offline: bool | None = None, settings: Settings | None = None, **overrides: object):
        self._settings = settings
        self._overrides = dict(overrides)
        if offline is not None:
            self._overrides["offline"] = offline
        self.checker = Checker()
        self._lock = threading.Lock()
        self._retriever = None
        self._rewriter = None

    # -- settings are read on first need, so `coach check` stays lean
    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from coach.settings import load_settings

            self._settings = load_settings(**self._overrides)
        elif self._overrides:
            self._settings = self._settings.model_copy(update=self._overrides)
            self._overrides = {}
        return self._settings

    def check(self, draft: str, client_message: str | None = None, lang: str | None = None, *,
              rules_only: bool = False) -> CheckReport:
        """Rules plus the local semantic layer (rules_only=True: the rules alone); never touches the network."""
        return self.checker.check(draft, client_message=client_message, lang=lang, rules_only=rules_only)

    @property
    def retriever(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._retriever is None:
                from coach.kb.retriever import Retriever

                self._retriever = Retriever(self.settings)
            return self._retriever

    def search(self, query: str, k: int = 4, **filters: object) -> list[Source]:
        if not isinstance(query, str) or not query.strip():
            raise InputError("the search query is empty")
        return self.retriever.search(query, k=k, **filters)

    @property
    def rewriter(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._rewriter is None:
                from coach.rewrite.pipeline import RewritePipeline

                self._rewriter = RewritePipeline(self.settings, self.checker, lambda: self.retriever)
            return self._rewriter

    def rewrite(self, draft: str, client_message: str | None = None, *, offline: bool | None = None,
                lang: str | None = None, variant: int = 0) -> RewriteResult:
        """Check, retrieve, rewrite (LLM when configured, else rules), check again.

        ``variant`` > 0 asks the rules for another choice among the approved phrasings (the page's
        "another version"); the same variant always gives the same letter."""
        return self.rewriter.rewrite(draft, client_message=client_message, offline=offline, lang=lang,
                                     variant=variant)

    def rewrite_stream(self, draft: str, client_message: str | None = None, *, offline: bool | None = None,
                       lang: str | None = None) -> Iterator[str | StreamReset | RewriteResult]:
        """Stream a rewrite. The contract, for every caller (the page included):

        - `str` items are a *preview*: the model's reply as it arrives, unverified, with the
          placeholders of redaction still in place ("[NAME_1]", "[EMAIL_1]"). Render them only as
          escaped plain text (never Markdown or HTML: a model can write links and images), and do not
          restore placeholders in them.
        - A `StreamReset` means the preview will not be the reply (reason "repair": the first answer
          failed the checks and the model was asked again; "fallback": the rules rewrite takes over).
          Clear the preview when it comes.
        - The last item is always the `RewriteResult`. Its `.rewrite` is the only text to show as the
          reply: verified, with names and numbers restored. Replace the preview with it; `.mode` tells
          whether the model's answer ("llm") or the rules ("rules") wrote it.
        - Without an LLM (offline, not configured) the only item is the RewriteResult. Input errors are
          raised before anything is yielded; every other failure ends in a RewriteResult.
        """
        return self.rewriter.rewrite_stream(draft, client_message=client_message, offline=offline, lang=lang)

    def apply(self, result: RewriteResult, rejected: list[str] | tuple[str, ...] = ()) -> RewriteResult:
        """The rewrite with the rejected changes (by id) taken back, checked again; no model call.

        Works on a result this process made (rules or LLM): it carries the rewrite as a Letter.
        """
        from coach.letter.model import Letter
        from coach.letter.render import render
        from coach.rewrite.diff import changes_of, numbered, undo

        letter = getattr(result, "_letter", None)
        if not isinstance(letter, Letter):
            raise InputError("this result carries no letter to edit (it was not made in this session); rewrite again")
        known = {cid for cid, _ in numbered(letter)}
        unknown = sorted(set(rejected) - known)
        if unknown:
            raise InputError(f"no such change: {', '.join(unknown)}")
        edited = undo(letter, rejected)
        text = render(edited)
        lang = result.before.language
        if not text.strip():
            # every sentence went and every addition was taken back: nothing is left to send, and the
            # report says so (no move, no fault) instead of the check refusing an empty text
            empty = {m: False for m in type(result.after.moves).model_fields}
            after = result.after.model_copy(update={"moves": result.after.moves.model_copy(update=empty),
                                                    "findings": [], "score": 0})
        else:
            after = self.checker.check(text, lang=lang, own=True)
        # the client's scenario came from the client's message, which the result does not keep
        after = after.model_copy(update={"scenario": result.after.scenario})
        out = result.model_copy(update={"rewrite": text, "after": after, "changes": changes_of(edited),
                                        "changed": any(s.state != "kept" for s in edited.sentences(live=False))})
        out._letter = edited
        return out
