"""Small helpers shared by several test modules."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable

from llm_server import Reply


def stop_process(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Terminate a server the test started, and kill it if it does not go."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def sent_draft(request: dict) -> str:
    """The (redacted) draft coach sent to the LLM server, from the user message's <draft> block."""
    user = request["messages"][-1]["content"] if request["messages"][-1]["role"] == "user" else \
        request["messages"][1]["content"]
    if "<draft>\n" not in user:
        user = request["messages"][1]["content"]
    return user.split("<draft>\n", 1)[1].split("\n</draft>", 1)[0]


def letter_from(request: dict, body: str) -> str:
    """A reply that keeps the greeting and signature of the draft the server was sent (placeholders and all)."""
    from coach.mail import split_mail

    draft = sent_draft(request)
    parts = split_mail(draft)
    greeting = draft[parts.greeting[0]:parts.greeting[1]] if parts.greeting else ""
    signoff = draft[parts.signoff[0]:parts.signoff[1]] if parts.signoff else ""
    return f"{greeting}\n\n{body}\n\n{signoff}".strip()


def json_answer(reply: str, chunk_size: int = 5) -> Reply:
    """The model's structured answer around `reply`."""
    answer = {"reply": reply, "changes": [{"what": "added the missing moves", "why": "the method", "sources": []}]}
    return Reply.content(json.dumps(answer, ensure_ascii=False), chunk_size=chunk_size)


def warm_sentence_vectors(texts: Iterable[str]) -> None:
    """Fill the semantic layer's vector cache for many texts in one batched model call (each text whole and
    each of its sentences), so checking them one by one afterwards costs no model call per text. Changes
    only how fast a test runs, never what the checker answers (the cache holds the same vectors)."""
    from coach.semantic.model import embed
    from coach.sentences import sentence_spans

    embed([t[a:b] for t in texts for a, b in [(0, len(t)), *sentence_spans(t)]])
