"""Plain-text renderings of reports for the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.models import MOVE_NAMES, CheckReport
from coach.moves import move

if TYPE_CHECKING:
    from coach.evaluation import EvalReport
    from coach.models import RewriteResult

def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"{line}:{col}"


def format_check(report: CheckReport, draft: str) -> str:
    out = [f"score {report.score}/100   language {report.language}   address {report.address}   "
           f"scenario {report.scenario or '-'}"]
    moves = report.moves.model_dump()
    for m in MOVE_NAMES:
        spec = move(m)
        ok = moves[m] if spec.kind == "good" else not moves[m]
        out.append(f"  [{'x' if ok else ' '}] {spec.label(report.language)}")
    findings = [f for f in report.findings if f.severity != "info"]
    if findings:
        out.append("findings:")
    for f in findings:
        where = _line_col(draft, f.start) if f.end > f.start else "-"
        quote = f' "{f.text}"' if f.text else ""
        out.append(f"  {where:>6}  {f.severity:<7} {f.rule}{quote}")
        out.append(f"          {f.message}")
        out.append(f"          -> {f.suggestion}")
    return "\n".join(out) + "\n"


def format_rewrite(result: RewriteResult) -> str:
    out = [f"mode: {result.mode}   score {result.before.score} -> {result.after.score}", "", result.rewrite, ""]
    for n in result.notices:
        out.append(f"note: {n.text}")
    if result.sources:
        out.append("grounded in: " + ", ".join(s.id for s in result.sources))
    if result.usage:
        out.append(f"tokens: {result.usage.prompt_tokens} prompt, {result.usage.completion_tokens} completion")
    return "\n".join(out) + "\n"


def format_eval(rep: EvalReport, *, misses: bool = False) -> str:
    out = [f"drafts: {rep.n}", "", f"{'move':<22}{'precision':>10}{'recall':>10}{'f1':>10}"]
    for m, s in rep.per_move.items():
        out.append(f"{m:<22}{s.precision:>10.3f}{s.recall:>10.3f}{s.f1:>10.3f}")
    out += [
        "",
        f"macro F1            {rep.macro_f1:.3f}",
        f"exact match         {rep.exact_match:.3f}",
        f"scenario accuracy   {rep.scenario_accuracy:.3f}",
        f"address accuracy    {rep.address_accuracy:.3f}",
        f"language accuracy   {rep.language_accuracy:.3f}",
    ]
    if misses:
        out.append("")
        out.append(f"misses: {len(rep.misses)}")
        for m in rep.misses:
            out.append(f"  {m.id}: wrong {', '.join(m.wrong)}; expected {m.expected}; got {m.got}")
            for f in m.findings:
                out.append(f"      {f}")
    return "\n".join(out) + "\n"
