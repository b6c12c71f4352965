"""The LLM rewrite: redacted, grounded, budgeted, streamed, verified, repaired once, else the rules take over."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from coach.checker import Analysis, Checker
from coach.errors import CoachError, LLMError
from coach.lang.load import language
from coach.llm.answer import LLMAnswer, ReplyReader, answer_schema, parse_answer
from coach.llm.client import Deadline, LLMClient, StreamState
from coach.llm.prompts import render
from coach.llm.redact import Redaction, redact
from coach.llm.tokens import counter_for
from coach.llm.verify import Verdict, verify
from coach.models import GOOD_MOVES, RewriteResult, Source, StreamReset, Usage
from coach.notices import Notice, notice
from coach.rewrite.phrasings import situation_query
from coach.rewrite.rules_rewriter import plan_sentences
from coach.secrets import scrub
from coach.settings import Settings



def kept_parts(a: Analysis) -> str:
    """The parts of the draft a rewrite must keep: greeting, fine sentences, sign-off and signature."""
    d = a.draft
    parts = []
    if a.parts.greeting:
        parts.append(d[a.parts.greeting[0]:a.parts.greeting[1]])
    parts += [p.text for p in plan_sentences(a) if p.verdict == "keep"]
    if a.parts.signoff:
        parts.append(d[a.parts.signoff[0]:a.parts.signoff[1]])
    return "\n".join(parts)


class LLMRewriter:
    def __init__(self, settings: Settings, checker: Checker, retriever: Callable[[], Any | None],
                 rules: Callable[[], Any]):
        self.settings = settings
        self.checker = checker
        self._retriever = retriever
        self._rules = rules

    # ------------------------------------------------------------------ prompt
    def _grounding(self, a: Analysis, client_message: str | None, notices: list[Notice]) -> list[Source]:
        retriever = self._retriever()
        if retriever is None:
            notices.append(notice("grounding_lost", a.language, reason="-"))
            return []
        missing = [m for m in GOOD_MOVES if not a.moves[m]]
        try:
            return list(retriever.grounding(
                language=a.language, address=a.address, scenario=a.scenario, missing_moves=missing,
                # a short query embeds fast; the client's first lines say most about the situation
                client_message=situation_query(client_message, a.draft) or None, draft="", k=self.settings.retrieval_k,
            ))
        except Exception as exc:  # retrieval is grounding, not a precondition
            notices.append(notice("grounding_lost", a.language, reason=scrub(str(exc))[:120]))
            return []

    def build_messages(self, a: Analysis, draft: str, client_message: str | None,
                       sources: list[Source], notices: list[Notice]) -> tuple[list[dict[str, str]], list[Source], int]:
        address = a.reply_address
        system = render("system.j2", language_name=language(a.language).name, address=address)
        findings = [f for f in a.findings if f.severity != "info"]
        counter = counter_for(self.settings.model)
        kept = list(sources)
        while True:
            user = render("user.j2", scenario=a.scenario or "unclear", language=a.language, address=address,
                          client_message=client_message or "(not given)", draft=draft, findings=findings,
                          sources=kept)
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            tokens = counter.count_messages(messages)
            if tokens <= self.settings.prompt_token_budget or not kept:
                break
            kept = kept[:-1]  # drop the lowest-ranked context first
        if len(kept) < len(sources):
            notices.append(notice("prompt_trimmed", a.language, count=len(sources) - len(kept),
                                  budget=self.settings.prompt_token_budget))
        if tokens > self.settings.prompt_token_budget:
            notices.append(notice("prompt_over_budget", a.language, tokens=tokens,
                                  budget=self.settings.prompt_token_budget))
        notices.append(notice("prompt_tokens", a.language, tokens=tokens, counter=counter.name))
        return messages, kept, tokens

    # ------------------------------------------------------------------ run
    def stream(self, a: Analysis, client_message: str | None, *, streaming: bool = True
               ) -> Iterator[str | StreamReset | RewriteResult]:
        """Yield the model's reply as it arrives (placeholders in place), then the verified RewriteResult.

        The contract is the one of `Coach.rewrite_stream` (coach/rewrite/pipeline.py).
        """
        notices: list[Notice] = [notice("llm_model", a.language, model=self.settings.model)]
        if self.settings.redact:
            (draft_r, client_r), redaction = redact([a.draft, client_message])
        else:
            draft_r, client_r, redaction = a.draft, client_message, Redaction()
        sources = [s.model_copy(update={"text": s.text.replace("{situation}", language(s.lang).slot_fill)
                                                .replace("{when}", language(s.lang).when_fill)})
                   for s in self._grounding(a, client_message, notices)]  # a template's slot, in plain words
        if self.settings.redact and sources:
            sources = [s.model_copy(update={"text": redact([s.text], redaction)[0][0] or s.text}) for s in sources]
        client = LLMClient(self.settings, answer_schema())
        streamed = False
        try:
            messages, used, _ = self.build_messages(a, draft_r or "", client_r, sources, notices)
            client.prepare()
            deadline = Deadline(self.settings.llm_timeout)  # the whole LLM part: connect, stream, repair
            if streaming:
                state = StreamState()
                reader: ReplyReader | None = None
                for delta in client.stream(messages, deadline, state):
                    reader = reader or ReplyReader(plain=state.fmt == "plain")
                    shown = reader.feed(delta)
                    if shown:
                        streamed = True
                        yield shown
                content, fmt = state.content, state.fmt
                usage = Usage(prompt_tokens=state.prompt_tokens, completion_tokens=state.completion_tokens)
            else:
                done = client.complete(messages, deadline)
                content, fmt = done.content, done.fmt
                usage = Usage(prompt_tokens=done.prompt_tokens, completion_tokens=done.completion_tokens)
            answer = parse_answer(content, plain_ok=fmt == "plain")
            result = self._verified(a, client_message, answer, redaction, messages, used, usage, notices,
                                    client, deadline)
        except CoachError as exc:
            result = self._fallback(a, client_message, scrub(str(exc)), notices, redaction, client)
        except Exception as exc:  # never stuck: any surprise falls back to the rules
            result = self._fallback(a, client_message, f"unexpected {type(exc).__name__}", notices, redaction,
                                    client)
        finally:
            client.close()
        if streamed and (result.mode != "llm" or any(n.code == "llm_repair" for n in result.notices)):
            yield StreamReset(reason="fallback" if result.mode != "llm" else "repair")
        yield result

    def _sent_notices(self, a: Analysis, redaction: Redaction, client: LLMClient) -> list[Notice]:
        """What the user must know about what left the machine, true to what happened."""
        if not client.sent:
            return [notice("llm_nothing_sent", a.language)]
        if not self.settings.redact:
            return [notice("redaction_off", a.language)]
        if redaction.mapping:
            return [notice("redacted", a.language, summary=redaction.summary(a.language))]
        return []

    def _verified(self, a: Analysis, client_message: str | None, answer: LLMAnswer, redaction: Redaction,
                  messages: list[dict[str, str]], used: list[Source], usage: Usage, notices: list[Notice],
                  client: LLMClient, deadline: Deadline) -> RewriteResult:
        system = messages[0]["content"]
        keep = kept_parts(a)
        allowed = "\n".join(redaction.restore(s.text) for s in used)
        reply = self._finish(a, redaction.restore(answer.reply))
        verdict = verify(reply, a, self.checker, client_message, redaction, system, keep=keep, allowed=allowed)
        if not verdict.ok:
            notices.append(notice("llm_repair", a.language, problems="; ".join(verdict.problems)))
            repair = messages + [
                {"role": "assistant", "content": answer.model_dump_json()},
                {"role": "user", "content": render("repair.j2", problems=verdict.problems)},
            ]
            done = client.complete(repair, deadline)
            usage = Usage(prompt_tokens=usage.prompt_tokens + done.prompt_tokens,
                          completion_tokens=usage.completion_tokens + done.completion_tokens)
            answer = parse_answer(done.content, plain_ok=done.fmt == "plain")
            reply = self._finish(a, redaction.restore(answer.reply))
            verdict = verify(reply, a, self.checker, client_message, redaction, system, keep=keep, allowed=allowed)
            if not verdict.ok:
                raise LLMError("the answer failed the checks twice: " + "; ".join(verdict.problems))
        notices += self._sent_notices(a, redaction, client)
        cited = {sid for ch in answer.changes for sid in ch.sources}
        sources = sorted(used, key=lambda s: (s.id not in cited,))
        return self._result(a, reply, verdict, sources, notices, usage)

    def _finish(self, a: Analysis, reply: str) -> str:
        """The reply as the user gets it: the quoted mail of the draft stays below it, verbatim."""
        reply = "\n".join(line for line in reply.strip().split("\n") if not line.lstrip().startswith(">"))
        quote_start = min((s for s, _ in a.parts.quoted if s >= a.parts.body_end), default=None)
        if quote_start is not None:
            reply = reply.rstrip() + "\n\n" + a.draft[quote_start:].strip("\n")
        return reply.strip() + "\n"

    def _result(self, a: Analysis, reply: str, verdict: Verdict, sources: list[Source], notices: list[Notice],
                usage: Usage) -> RewriteResult:
        notices.append(notice("usage", a.language, prompt=usage.prompt_tokens, completion=usage.completion_tokens))
        return RewriteResult(mode="llm", rewrite=reply, before=a.report(), after=verdict.report, sources=sources,
                             notices=notices, usage=usage)

    def _fallback(self, a: Analysis, client_message: str | None, why: str, notices: list[Notice],
                  redaction: Redaction, client: LLMClient) -> RewriteResult:
        repairs = [n for n in notices if n.code == "llm_repair"]
        first = [notice("llm_fallback", a.language, reason=why), *repairs, *self._sent_notices(a, redaction, client)]
        return self._rules().rewrite(a, client_message, notices=first)
