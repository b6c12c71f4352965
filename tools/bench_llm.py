"""The LLM pipeline's own overhead: coach's rewrite against a bare SDK call to the same local scripted server.

Not part of the shipped package (it uses the test server in tests/llm_server.py). Run: `make bench`, or
`.venv/bin/python tools/bench_llm.py [--drafts FILE] [--json]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from llm_server import FakeLLMServer, Reply  # noqa: E402

from coach.bench import _pcts, _time, bench_rows  # noqa: E402


def llm_pipeline(rows: list[dict[str, Any]], reps: int, data_dir: Path) -> dict[str, Any]:
    """Pipeline time minus a bare SDK call with the same messages and answer = coach's own overhead."""
    import openai

    from coach.api import Coach
    from coach.llm.redact import redact
    from coach.rewrite.llm_rewriter import LLMRewriter
    from coach.settings import load_settings

    offline = Coach(settings=load_settings(data_dir=data_dir, offline=True, chroma_host=None))
    with FakeLLMServer() as srv:
        settings = load_settings(data_dir=data_dir, chroma_host=None, openai_base_url=srv.base_url,
                                 openai_api_key="sk-bench", offline=False, llm_timeout=30)
        coach = Coach(settings=settings)
        bare = openai.OpenAI(base_url=srv.base_url, api_key="sk-bench", max_retries=0)
        pipe, sdk, tokens, modes = [], [], [], []
        encoding = ""
        for r in rows:
            (d_red, c_red), _ = redact([r["draft"], r.get("client_message")])
            canned = json.dumps({"reply": offline.rewrite(d_red or "", client_message=c_red).rewrite,
                                 "changes": []}, ensure_ascii=False)
            a = coach.checker.analyse(r["draft"], client_message=r.get("client_message"))
            rw = LLMRewriter(settings, coach.checker, lambda: coach.retriever, coach.rewriter.rules_rewriter)
            notes: list = []
            sources = rw._grounding(a, r.get("client_message"), notes)
            messages, _, n_tokens = rw.build_messages(a, d_red or "", c_red, sources, notes)
            tokens.append(n_tokens)
            encoding = next((n.text.rsplit(" ", 1)[-1].rstrip(").") for n in notes if n.code == "prompt_tokens"), encoding)
            for i in range(reps + 1):
                srv.enqueue(Reply.content(canned))
                t_pipe = _time(lambda r=r: modes.append(coach.rewrite(r["draft"], client_message=r.get("client_message")).mode))
                srv.enqueue(Reply.content(canned))
                t_sdk = _time(lambda m=messages: bare.chat.completions.create(model=settings.model, messages=m))
                if i:  # the first round warms up
                    pipe.append(t_pipe)
                    sdk.append(t_sdk)
    p, b = _pcts(pipe), _pcts(sdk)
    return {
        "pipeline": p, "bare_sdk_call": b, "overhead_p50_ms": round(p["p50_ms"] - b["p50_ms"], 3),
        "llm_mode_share": round(modes.count("llm") / len(modes), 3) if modes else None,
        "prompt_tokens": {"p50": statistics.median(tokens), "max": max(tokens), "budget": settings.prompt_token_budget,
                          "k": settings.retrieval_k, "encoding": encoding},
    }



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", help="a JSONL file of drafts (default: the bundled examples)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows, source = bench_rows(args.drafts)
    from coach.kb.index import sync_index
    from coach.settings import load_settings

    with tempfile.TemporaryDirectory(prefix="coach-bench-llm-") as tmp:
        sync_index(load_settings(data_dir=Path(tmp), chroma_host=None))
        d = llm_pipeline(rows, args.reps, Path(tmp))
    d["drafts"] = {"source": source, "n": len(rows)}
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    pt = d["prompt_tokens"]
    print(f"drafts: {len(rows)} from {source}")
    print(f"{'LLM pipeline, local server':<42}{d['pipeline']['p50_ms']:>10.3f}ms{d['pipeline']['p95_ms']:>10.3f}ms")
    print(f"{'bare SDK call, same server':<42}{d['bare_sdk_call']['p50_ms']:>10.3f}ms{d['bare_sdk_call']['p95_ms']:>10.3f}ms")
    print(f"{'pipeline overhead (p50 difference)':<42}{d['overhead_p50_ms']:>10.3f}ms")
    print(f"LLM mode share: {d['llm_mode_share']}")
    print(f"prompt tokens per rewrite: p50 {pt['p50']}, max {pt['max']} (budget {pt['budget']}, k={pt['k']}, "
          f"{pt['encoding']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
