"""Rendering a :class:`~rnnbench.compare.verdicts.Comparison`: the terminal table (rich), the
Markdown a pull request gets (every value escaped), and writing either to a file or stdout."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from rnnbench.compare.verdicts import (
    ACC_HIGHER,
    ACC_LOWER,
    BELOW,
    FASTER,
    FIXED,
    IMPROVEMENTS,
    LESS_MEMORY,
    MISSING,
    MORE_MEMORY,
    NEWLY_FAILING,
    SLOWER,
    INCOMPARABLE,
    INCONCLUSIVE,
    NEW,
    REGRESSIONS,
    STILL_FAILING,
    UNCHANGED,
    UNSTABLE,
    Comparison,
)
from rnnbench.errors import UserError
from rnnbench.markdown import escape as md_escape
from rnnbench.snapshot import Snapshot
from rnnbench.stats import Judgement, rule_text

_UNIT = {"time": "ms", "memory": "MB", "accuracy": ""}


def _fmt_value(metric: str, v: float | None) -> str:
    if v is None:
        return "—"
    if metric == "time":
        return f"{v * 1e3:.4g} ms"
    if metric == "memory":
        return f"{v:,.0f} MB"
    return f"{v:.4f}"


def _fmt_effect(metric: str, v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "—"
    if metric == "accuracy":
        return f"{v:+.4f}"
    return f"{(v - 1) * 100:+.1f}%"


def _fmt_ci(metric: str, ci: tuple[float, float] | None) -> str:
    if ci is None:
        return "—"
    return f"[{_fmt_effect(metric, ci[0])}, {_fmt_effect(metric, ci[1])}]"


def _fmt_n(j: Judgement) -> str:
    unit = {"process": "proc", "step": "steps", "point": "proc"}[j.level]
    return f"{j.n_base}/{j.n_cand} {unit}"


def rows(cmp: Comparison) -> list[dict[str, str]]:
    """One display row per (cell, metric), shared by the terminal and Markdown renderers."""
    out = []
    for c in cmp.cells:
        for r in c.results:
            j = r.judgement
            note = r.detail or (j.note if j else "")
            if j is not None and r.verdict == UNSTABLE:
                note = (f"robust CV {max(j.cv_base or 0, j.cv_cand or 0):.0%} > max_cv "
                        f"{cmp.thresholds['max_cv']:.0%}" + (f"; {note}" if note else ""))
            out.append({
                "cell": c.cell,
                "metric": r.metric,
                "baseline": _fmt_value(r.metric, j.base) if j else "",
                "candidate": _fmt_value(r.metric, j.cand) if j else "",
                "change": _fmt_effect(r.metric, j.effect) if j else "",
                "ci": _fmt_ci(r.metric, j.ci) if j else "",
                "p": (f"{j.p:.3g}" if j.p is not None else "—") if j else "",
                "n": _fmt_n(j) if j else "",
                "verdict": r.verdict,
                "note": note,
            })
    return out


_RIGHT = ("baseline", "candidate", "change", "p")
COLUMNS = (("cell", "cell"), ("metric", "metric"), ("baseline", "baseline"), ("candidate", "candidate"),
           ("change", "change"), ("ci", "CI"), ("p", "p"), ("n", "n"), ("verdict", "verdict"), ("note", "note"))


def summary_line(cmp: Comparison) -> str:
    regs = cmp.regressions
    counts = cmp.counts()
    order = [SLOWER, MORE_MEMORY, ACC_LOWER, NEWLY_FAILING, MISSING, *BELOW, INCONCLUSIVE, UNSTABLE, INCOMPARABLE,
             FASTER, LESS_MEMORY, ACC_HIGHER, FIXED, STILL_FAILING, NEW, UNCHANGED]
    parts = ", ".join(f"{counts[v]} {v}" for v in order if counts.get(v))
    head = f"{len(regs)} regression{'s' if len(regs) != 1 else ''}" if regs else "no regression"
    return f"{head} ({parts})" if parts else head


def _describe_side(s: Snapshot) -> str:
    bits = [s.ref if s.kind == "run" else f"{s.ref} (run {s.run_id})"]
    if s.git_commit:
        bits.append(f"commit {s.git_commit[:12]}")
    return ", ".join(bits)


def render_rich(cmp: Comparison) -> Any:
    from rich.console import Group as RGroup
    from rich.table import Table
    from rich.text import Text

    style = {v: "bold red" for v in REGRESSIONS} | {v: "green" for v in IMPROVEMENTS} | {
        UNSTABLE: "yellow", INCOMPARABLE: "yellow", INCONCLUSIVE: "yellow", NEW: "cyan", STILL_FAILING: "red",
        UNCHANGED: "dim"} | {v: "magenta" for v in BELOW}
    th = cmp.thresholds
    t = Table(title=f"{_describe_side(cmp.baseline)}  →  {_describe_side(cmp.candidate)}",
              caption=f"thresholds: time ×{th['time']:g}, memory ×{th['memory']:g}, accuracy −{th['accuracy_drop']:g}, "
                      f"alpha {th['alpha']:g}, max CV {th['max_cv']:g}. {rule_text(th['alpha'])}. {_CHANGE_NOTE}")
    for key, title in COLUMNS:
        t.add_column(title, justify="right" if key in _RIGHT else "left",
                     overflow="fold")
    for row in rows(cmp):
        t.add_row(*[Text(row[k], style=style.get(row["verdict"], "")) if k == "verdict" else row[k]
                    for k, _ in COLUMNS])
    parts: list[Any] = [Text(f"warning: {w}", style="bold yellow") for w in cmp.warnings]
    parts.append(t)
    verdict_style = "bold red" if cmp.regressions else "bold green"
    parts.append(Text(summary_line(cmp), style=verdict_style))
    return RGroup(*parts)


_CHANGE_NOTE = ("change = Hodges–Lehmann estimate (median of all pairwise ratios, or differences for accuracy) "
                "with its interval; baseline/candidate are medians of per-process values")


def _md_table(rs: list[dict[str, str]]) -> list[str]:
    lines = ["| " + " | ".join(t for _, t in COLUMNS) + " |",
             "|" + "|".join("---:" if k in _RIGHT else "---" for k, _ in COLUMNS) + "|"]
    for r in rs:
        cells = []
        for k, _ in COLUMNS:
            v = md_escape(r[k])
            if k == "verdict":
                v = f"{_ICON.get(r[k], '')} **{v}**" if r[k] in REGRESSIONS else f"{_ICON.get(r[k], '')} {v}"
            cells.append(v.strip())
        lines.append("| " + " | ".join(cells) + " |")
    return lines


_ICON = {**{v: "❌" for v in REGRESSIONS}, **{v: "✅" for v in IMPROVEMENTS}, UNSTABLE: "⚠️", INCOMPARABLE: "⚠️",
         INCONCLUSIVE: "⚠️", NEW: "🆕", STILL_FAILING: "❌", UNCHANGED: "", **{v: "ℹ️" for v in BELOW}}


def render_markdown(cmp: Comparison) -> str:
    th = cmp.thresholds
    icon = "❌" if cmp.regressions else "✅"
    suite = cmp.candidate.suite.get("name") or cmp.baseline.suite.get("name") or "?"
    out = [f"## {icon} rnnbench compare: {summary_line(cmp)}", "",
           f"**Baseline** {md_escape(_describe_side(cmp.baseline))} · "
           f"**candidate** {md_escape(_describe_side(cmp.candidate))} · "
           f"suite {md_escape(suite)} · machine {md_escape(cmp.candidate.fingerprint or '?')} "
           f"({md_escape(cmp.candidate.machine.get('cpu_model', '?'))}, "
           f"{md_escape(cmp.candidate.machine.get('cpu_count', '?'))} cores)", ""]
    for w in cmp.warnings:
        out += [f"> ⚠️ **{md_escape(w)}**", ""]
    all_rows = rows(cmp)
    notable = [r for r in all_rows if r["verdict"] != UNCHANGED]
    if notable:
        out += _md_table(notable) + [""]
    else:
        out += [f"All {len(all_rows)} comparisons unchanged.", ""]
    out += ["<details><summary>All comparisons ({} rows)</summary>".format(len(all_rows)), ""]
    out += _md_table(all_rows) + ["", "</details>", ""]
    out += [f"<sub>{rule_text(th['alpha'])} (Mann–Whitney intervals on per-process values; thresholds: time "
            f"×{th['time']:g}, memory ×{th['memory']:g}, accuracy −{th['accuracy_drop']:g}); robust CV above "
            f"{th['max_cv']:g} → unstable. {_CHANGE_NOTE}.</sub>", ""]
    return "\n".join(out)


def write_output(text: str, dest: str) -> None:
    """Write ``text`` to a file, or stdout for ``-``; appends to ``$GITHUB_STEP_SUMMARY`` (other steps' text stays)."""
    import sys

    if dest == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    p = Path(dest)
    append = bool(os.environ.get("GITHUB_STEP_SUMMARY")) and os.path.abspath(dest) == os.path.abspath(
        os.environ["GITHUB_STEP_SUMMARY"])
    try:
        if p.parent and not p.parent.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
        with open(p, "a" if append else "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
    except OSError as e:
        raise UserError(f"{dest}: cannot write: {e.strerror}") from None
