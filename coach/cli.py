"""The `coach` command line. User mistakes become one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from coach.errors import CoachError, UsageError
from coach.lang.load import language_codes


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="coach", description="A reply coach for consultants whose clients want to cancel or pause.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    c = sub.add_parser("check", help="check a draft: rules plus the local semantic layer (offline)")
    c.add_argument("draft", help="draft file, or - for standard input")
    c.add_argument("--client-message", metavar="FILE", help="the client's message (file)")
    c.add_argument("--lang", choices=language_codes(), help="the draft's language (default: detected)")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.add_argument("--fail-under", type=int, metavar="N", help="exit 1 when the score is below N")
    c.add_argument("--rules-only", action="store_true", help="the rule layer alone (no semantic layer): the fast path")

    r = sub.add_parser("rewrite", help="check, retrieve, rewrite, check again")
    r.add_argument("draft", help="draft file, or - for standard input")
    r.add_argument("--client-message", metavar="FILE", help="the client's message (file)")
    r.add_argument("--lang", choices=language_codes(), help="the draft's language (default: detected)")
    r.add_argument("--offline", action="store_true", help="rules only, no LLM call")
    r.add_argument("--json", action="store_true", help="print the result as JSON")

    s = sub.add_parser("search", help="what the retriever returns for a query")
    s.add_argument("query")
    s.add_argument("--k", type=int, default=4, help="number of results (default 4)")
    s.add_argument("--lang", choices=language_codes(), help="only this language")
    s.add_argument("--kind", choices=["passage", "phrasing"], help="only this kind")
    s.add_argument("--json", action="store_true")

    i = sub.add_parser("index", help="build or sync the knowledge index")
    i.add_argument("--rebuild", action="store_true", help="drop the index and build it from scratch")
    i.add_argument("--add", nargs="+", metavar="PATH", default=[],
                   help="your own .md/.txt notes and .yaml phrasings (files or folders); checked before they are kept")
    i.add_argument("--dry-run", action="store_true",
                   help="with --add: show what each file and phrasing would give; remember and index nothing")
    i.add_argument("--list", action="store_true", help="show the files and folders you added")
    i.add_argument("--forget", nargs="+", metavar="PATH", default=[], help="stop using files or folders you added")

    e = sub.add_parser("eval", help="score the checker (or the retriever) on a labeled JSONL file")
    e.add_argument("file")
    e.add_argument("--json", action="store_true")
    e.add_argument("--misses", action="store_true", help="list the drafts judged wrongly")
    e.add_argument("--k", type=int, default=4, help="for a queries file: results that count (default 4)")
    e.add_argument("--rewrites", action="store_true",
                   help="measure the offline rewrites of the file's drafts (layout, good drafts, fault_phrases, "
                        "must_keep, repeated moves, crisis wording, growth, variety)")
    e.add_argument("--rules-only", action="store_true", help="score the rule layer alone")

    t = sub.add_parser("train", help="rebuild the semantic layer's weights from knowledge/lang/*/corpus")
    t.add_argument("--out", metavar="FILE", help="write the weights here (default: knowledge/semantic/weights.json)")

    b = sub.add_parser("bench", help="print the performance figures")
    b.add_argument("--json", action="store_true")
    b.add_argument("--quick", action="store_true", help="fewer repetitions")
    b.add_argument("--drafts", metavar="FILE", help="a JSONL file of drafts to time (default: the bundled examples)")
    b.add_argument("--store", action="store_true",
                   help="only the knowledge store: search and rewrite with two busy processes beside them, index at scale")
    b.add_argument("--index-scale", type=int, metavar="N", default=None,
                   help="added paragraphs for the index figures (default 1000, 100 with --quick, 0 skips)")

    u = sub.add_parser("ui", help="start the Streamlit page")
    u.add_argument("--port", type=int, default=8501)
    u.add_argument("--host", default="127.0.0.1")
    return p


def _emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        handler = _COMMANDS[args.command]
        return handler(args)
    except CoachError as exc:
        from coach.secrets import scrub

        sys.stderr.write(f"coach: {scrub(str(exc))}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("coach: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception as exc:  # a bug, not a user mistake: still no key in the output
        from coach.secrets import scrub

        if os.environ.get("COACH_DEBUG") == "1":
            raise
        sys.stderr.write(f"coach: internal error: {scrub(type(exc).__name__ + ': ' + str(exc))}\n")
        return 1


def _read_pair(args: argparse.Namespace) -> tuple[str, str | None]:
    from coach.inputs import read_input

    draft = read_input(args.draft, what="draft")
    client = read_input(args.client_message, what="client message") if args.client_message else None
    return draft, client


def _cmd_check(args: argparse.Namespace) -> int:
    from coach.checker import Checker
    from coach.report_text import format_check

    draft, client = _read_pair(args)
    analysis = Checker().analyse(draft, client_message=client, lang=args.lang, rules_only=args.rules_only)
    report, draft = analysis.report(), analysis.draft  # an HTML mail is checked as the text it shows
    if args.json:
        _emit(report.model_dump(mode="json"))
    else:
        sys.stdout.write(format_check(report, draft))
    if args.fail_under is not None and report.score < args.fail_under:
        return 1
    return 0


def _cmd_rewrite(args: argparse.Namespace) -> int:
    from coach.api import Coach
    from coach.report_text import format_rewrite

    draft, client = _read_pair(args)
    result = Coach().rewrite(draft, client_message=client, lang=args.lang, offline=True if args.offline else None)
    if args.json:
        _emit(result.model_dump(mode="json"))
    else:
        sys.stdout.write(format_rewrite(result))
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from coach.api import Coach

    if args.k < 1 or args.k > 50:
        raise UsageError("--k must be between 1 and 50")
    kinds = {args.kind} if args.kind else None
    hits = Coach().search(args.query, k=args.k, lang=args.lang, kinds=kinds)
    if args.json:
        _emit([h.model_dump(mode="json") for h in hits])
    else:
        for n, h in enumerate(hits, 1):
            sys.stdout.write(f"{n}. [{h.kind}, {h.lang}] {h.title}  (score {h.score:.2f}, {h.id})\n   {h.text}\n")
    return 0


def _cmd_index(args: argparse.Namespace) -> int:
    from pathlib import Path

    from coach.kb.index import forget_path, preview_additions, remembered_paths, sync_index
    from coach.kb.ingest import safe_name
    from coach.progress import ProgressBar
    from coach.settings import load_settings

    settings = load_settings()
    extra = [Path(p) for p in args.add]
    for p in extra:
        if not p.exists():
            raise UsageError(f"no such file or folder: {safe_name(p)}")
    if args.dry_run:
        if not extra:
            raise UsageError("--dry-run goes with --add PATH")
        for entry in preview_additions(settings, extra):
            name = safe_name(entry["file"])
            if entry["status"] != "ok":
                sys.stdout.write(f"skip  {name}: {safe_name(entry['reason'])}\n")
            elif entry["phrasings"]:
                good = sum(1 for ph in entry["phrasings"] if ph["ok"])
                sys.stdout.write(f"ok    {name}: {good} of {len(entry['phrasings'])} phrasings pass\n")
            else:
                sys.stdout.write(f"ok    {name}: {entry['passages']} passages\n")
            for ph in entry["phrasings"]:
                verdict = "pass  " if ph["ok"] else "reject"
                why = "" if ph["ok"] else ": " + safe_name("; ".join(ph["problems"]))
                sys.stdout.write(f"  {verdict} {safe_name(ph['id'])}{' (' + ph['move'] + ')' if ph['move'] else ''}{why}\n")
        sys.stdout.write("dry run: nothing remembered, nothing indexed\n")
        return 0
    if args.list:
        paths = remembered_paths(settings)
        if not paths:
            sys.stdout.write("nothing added (use `coach index --add PATH`)\n")
        for p in paths:
            kind = "folder" if p.is_dir() else "file" if p.exists() else "missing"
            sys.stdout.write(f"{kind:<7} {safe_name(p)}\n")
        return 0
    forgotten = [forget_path(settings, Path(p)) for p in args.forget]
    bar = ProgressBar("indexing")
    stats = sync_index(settings, extra_paths=extra, progress=bar.update, rebuild=args.rebuild)
    bar.close()
    for p in forgotten:
        sys.stderr.write(f"note: forgot {safe_name(p)}\n")
    for n in stats.notices:
        sys.stderr.write(f"note: {safe_name(n.text)}\n")
    sys.stdout.write(
        f"index ready: {stats.total} documents ({stats.added} added, {stats.updated} updated, "
        f"{stats.removed} removed, {stats.unchanged} unchanged) in {stats.seconds:.2f} s [{stats.embedding}]\n"
    )
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from coach.report_text import format_eval

    if args.rewrites:
        from pathlib import Path

        from coach.api import Coach
        from coach.rewrite.quality import format_measure, load_rows, measure

        try:
            rows = load_rows(Path(args.file))
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror or exc}") from None
        out = measure(rows, Coach(offline=True))
        if args.json:
            _emit(out)
        else:
            sys.stdout.write(format_measure(out))
        return 0

    if _is_queries_file(args.file):
        from coach.api import Coach
        from coach.kb.query_eval import evaluate_queries

        qrep = evaluate_queries(args.file, Coach().retriever, k=args.k)
        if args.json:
            _emit(qrep.model_dump(mode="json"))
        else:
            sys.stdout.write(f"queries: {qrep.n}  hit@{args.k}: {qrep.hit_at_k:.3f}  MRR: {qrep.mrr:.3f}\n")
            for m in qrep.misses:
                sys.stdout.write(f"  miss: {m}\n")
        return 0
    from coach.checker import Checker
    from coach.evaluation import evaluate, load_labeled

    rep = evaluate(load_labeled(args.file), Checker(rules_only=True if args.rules_only else None))
    if args.json:
        data = rep.public()
        if args.misses:
            data["misses"] = [m.model_dump(mode="json") for m in rep.misses]
        _emit(data)
    else:
        sys.stdout.write(format_eval(rep, misses=args.misses))
    return 0


def _is_queries_file(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    return isinstance(row, dict) and "query" in row and "draft" not in row
    except (OSError, ValueError):
        return False
    return False


def _cmd_bench(args: argparse.Namespace) -> int:
    from coach.bench import format_bench, run_bench

    data = run_bench(quick=args.quick, drafts=args.drafts, index_scale_n=args.index_scale, only_store=args.store)
    if args.json:
        _emit(data)
    else:
        sys.stdout.write(format_bench(data))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from coach.progress import ProgressBar
    from coach.semantic.train import train

    bar = ProgressBar("embedding")
    summary = train(Path(args.out) if args.out else None, progress=bar.update)
    bar.close()
    sys.stdout.write(
        f"weights written: {summary['path']} ({summary['sentences']} reply sentences, "
        f"{summary['scenario_sentences']} client sentences, corpus sha256 {summary['corpus_sha256'][:12]})\n"
    )
    return 0


def _cmd_ui(args: argparse.Namespace) -> int:
    import subprocess
    from pathlib import Path

    app = Path(__file__).resolve().parent / "web" / "streamlit_app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", args.host,
           "--server.port", str(args.port), "--browser.gatherUsageStats", "false", "--server.headless", "true"]
    return subprocess.call(cmd)


_COMMANDS = {
    "check": _cmd_check, "rewrite": _cmd_rewrite, "search": _cmd_search, "index": _cmd_index,
    "eval": _cmd_eval, "bench": _cmd_bench, "train": _cmd_train, "ui": _cmd_ui,
}
