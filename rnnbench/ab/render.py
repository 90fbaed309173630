"""An A/B analysis as a table: rich for the terminal, Markdown for a pull request (escaped),
and github-action-benchmark JSON."""

from __future__ import annotations

from typing import Any

from rnnbench.ab.sides import SideSpec
from rnnbench.ab.verdicts import Analysis, CellResult
from rnnbench.stats import AB_FASTER, AB_FASTER_BELOW, AB_INCONCLUSIVE, AB_SLOWER, AB_SLOWER_BELOW, rule_text


COLUMNS = ("cell", "pairs", "A step ms", "B step ms", "B/A", "CI", "MDE", "time", "memory", "page faults", "accuracy",
           "note")


def table_rows(a: Analysis) -> list[list[str]]:
    rows = []
    for c in a.cells:
        ci = f"{c.ci[0]:.3f}–{c.ci[1]:.3f}" if c.ci else "—"
        mem = c.memory_verdict or "—"
        if c.memory_ratio and c.memory_verdict:
            mem += f" (×{c.memory_ratio:.3f})"
        faults = c.faults_verdict or "—"
        if c.faults_ratio and c.faults_verdict:
            faults += f" (×{c.faults_ratio:.2f})"
        acc = c.accuracy_verdict or "—"
        if c.accuracy_diff is not None and c.accuracy_verdict:
            acc += f" ({c.accuracy_diff:+.4f})"
        note = c.failing + (f": {c.error}" if c.error else "") if c.failing else ""
        rows.append([c.label, str(c.n_pairs), _f(c.a_step_ms, "{:.2f}"), _f(c.b_step_ms, "{:.2f}"),
                     _f(c.ratio, "{:.4f}"), ci, _f(c.mde, "{:.1%}"), time_words(c, a.thresholds["time"]), mem,
                     faults, acc, note])
    return rows


def time_words(c: CellResult, threshold: float) -> str:
    """The step-time verdict, sized when the interval shows a change below the threshold:
    "slower by 2.1% [1.2, 3.0], below the 5% that fails" — never a bare "unchanged"."""
    if c.time_verdict not in (AB_SLOWER_BELOW, AB_FASTER_BELOW) or c.ci is None or c.ratio is None:
        return c.time_verdict
    slower = c.time_verdict == AB_SLOWER_BELOW
    sign = 1 if slower else -1
    lo, hi = sorted(sign * (x - 1) * 100 for x in c.ci)
    return (f"{'slower' if slower else 'faster'} by {sign * (c.ratio - 1):.1%} [{lo:.1f}, {hi:.1f}], below the "
            f"{threshold - 1:.0%} {'that fails' if slower else 'threshold'}")


def _f(v: float | None, fmt: str) -> str:
    return fmt.format(v) if v is not None else "—"


def caption(a: Analysis) -> str:
    th = a.thresholds
    over = (f"{th['trim']:.1%}-trimmed mean" if th.get("trim") else "mean")
    interval = (f"CI = Student-t interval over pairs, a repeated confidence interval for looks after every pair up "
                f"to {th['max_pairs']:g} (O'Brien–Fleming alpha spending: {1 - th['alpha']:.0%} over all looks "
                "together)" if th.get("max_pairs") else f"CI = {1 - th['alpha']:.0%} Student-t interval over pairs")
    if th.get("trim"):
        interval += " (Tukey–McLaughlin, winsorized variance)"
    return (f"B/A = step-time ratio ({over} over process pairs of each pair's median paired log ratio); {interval}; "
            f"MDE = slowdown that fails with 80% power at this spread and look. {rule_text(th['alpha'])} (threshold "
            f"×{th['time']:g}). Memory ×{th['memory']:g}, accuracy −{th['accuracy_drop']:g}, page faults per step "
            f"×{th['faults']:g} (+1 a side): the same rule on Mann–Whitney intervals of per-process "
            "values.")


def render_rich(a: Analysis, sides: tuple[SideSpec, SideSpec]) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    t = Table(title=f"A: {sides[0].describe()}  vs  B: {sides[1].describe()}", caption=caption(a))
    for col in COLUMNS:
        t.add_column(col, overflow="fold")
    style = {AB_SLOWER: "bold red", AB_FASTER: "green", AB_INCONCLUSIVE: "yellow", AB_SLOWER_BELOW: "magenta",
             AB_FASTER_BELOW: "cyan"}
    for c, row in zip(a.cells, table_rows(a)):
        row[7] = Text(row[7], style=style.get(c.time_verdict, ""))  # type: ignore[call-overload]
        t.add_row(*row)
    return Group(t, Text(a.summary_line(), style="bold red" if a.regressions else "bold yellow" if a.inconclusive
                         else "bold green"))


def render_markdown(a: Analysis, sides: tuple[SideSpec, SideSpec], title: str = "rnnbench ab") -> str:
    from rnnbench.markdown import escape

    out = [f"## {a.icon} {escape(title)}: {escape(a.summary_line())}", "",
           f"**A** {escape(sides[0].describe())} · **B** {escape(sides[1].describe())}", "",
           "| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for row in table_rows(a):
        out.append("| " + " | ".join(escape(v) for v in row) + " |")
    out += ["", f"<sub>{escape(caption(a))}</sub>", ""]
    return "\n".join(out)


def bench_json(a: Analysis) -> list[dict[str, Any]]:
    """github-action-benchmark ``customSmallerIsBetter`` entries: B/A step-time ratio per cell."""
    return [{"name": f"{c.label} - B/A step time", "unit": "ratio", "value": round(c.ratio, 5),
             "range": f"{c.ci[0]:.4f}-{c.ci[1]:.4f}" if c.ci else "",
             "extra": f"{c.n_pairs} pairs, verdict {c.time_verdict}"} for c in a.cells if c.ratio is not None]
