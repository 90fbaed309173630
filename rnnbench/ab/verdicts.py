"""An A/B run's verdicts per cell, from its stored records: step time from the paired ratios
(:func:`rnnbench.stats.paired_ratio`, :func:`rnnbench.stats.paired_verdict`); peak memory and
accuracy from the per-process values of each side (:func:`rnnbench.stats.judge`); a cell that
fails on one side only says so. Nothing here runs or renders anything."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from rnnbench.stats import (AB_INCONCLUSIVE, AB_SLOWER, in_words, judge, pair_log_ratio, paired_ratio,
                            paired_verdict)
from rnnbench.stats import DEFAULTS as SHARED

if TYPE_CHECKING:
    from rnnbench.ab.plan import PairCell

# compare's thresholds and alpha; ab's trimming of pairs, and the ratio of page faults per step
# (+1 each side) that is an allocation regression: with reuse_memory an A/A cell's processes
# fault 64 (LSTM/torch) and 106 (GRU/keras-tensorflow) pages a step, without it ~16,000
DEFAULTS = {**SHARED, "trim": 0.0, "faults": 2.0}
FAILING_ON_B, FAILING_ON_A, FAILING_BOTH = "failing on B", "failing on A", "failing on both"
REGRESSIONS = frozenset({AB_SLOWER, "more memory", "more page faults", "accuracy lower", FAILING_ON_B})



@dataclass
class CellResult:
    key: str
    label: str
    n_pairs: int
    a_ok: int
    b_ok: int
    time_verdict: str
    ratio: float | None = None
    ci: tuple[float, float] | None = None
    mde: float | None = None  # the slowdown that fails with 80 % power at this look (stats.paired_ratio)
    mde95: float | None = None  # ... with 95 % power
    alpha_look: float | None = None  # the interval's error rate at this look (below alpha under --until-decided)
    pair_ratios: tuple[float, ...] = ()
    a_step_ms: float | None = None
    b_step_ms: float | None = None
    memory_verdict: str | None = None
    memory_ratio: float | None = None
    faults_verdict: str | None = None  # page faults per step: what an allocation change shows first
    faults_ratio: float | None = None
    accuracy_verdict: str | None = None
    accuracy_diff: float | None = None
    failing: str | None = None
    error: str | None = None

    @property
    def verdicts(self) -> list[str]:
        return [v for v in (self.failing, self.time_verdict, self.memory_verdict, self.faults_verdict,
                            self.accuracy_verdict) if v]

    @property
    def regression(self) -> bool:
        return any(v in REGRESSIONS for v in self.verdicts)


@dataclass
class Analysis:
    cells: list[CellResult]
    thresholds: dict[str, float]

    @property
    def by_key(self) -> dict[str, CellResult]:
        return {c.key: c for c in self.cells}

    @property
    def regressions(self) -> list[CellResult]:
        return [c for c in self.cells if c.regression]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.cells:
            v = c.failing if c.failing and not c.ratio else c.time_verdict
            out[v] = out.get(v, 0) + 1
        return out

    @property
    def inconclusive(self) -> list[CellResult]:
        """Cells that did not regress and whose step time could not be decided either way."""
        return [c for c in self.cells if not c.regression and c.time_verdict == AB_INCONCLUSIVE]

    def exit_code(self, fail_on_inconclusive: bool = False) -> int:
        """1 on a regression (or, with ``fail_on_inconclusive``, on a cell left inconclusive), else 0."""
        return 1 if self.regressions or (fail_on_inconclusive and self.inconclusive) else 0

    @property
    def nothing_compared(self) -> bool:
        """No cell has a single pair where both sides succeeded."""
        return all(c.ratio is None for c in self.cells)

    def summary_line(self) -> str:
        """``2 cells regressed (step time: 1 slower, 1 unchanged; more memory: 2)``: the regressed
        cells, then step-time verdicts per cell, then memory and accuracy regressions apart (a
        cell can regress on memory with its step time unchanged). Without a regression, cells left
        inconclusive head it (``inconclusive: 1 of 2 cells undecided``): "no regression" is said only
        when every cell was decided."""
        n, undecided, cells = len(self.regressions), len(self.inconclusive), len(self.cells)
        head = (f"{n} cell{'s' if n != 1 else ''} regressed" if n else
                f"inconclusive: {undecided} of {cells} cell{'s' if cells != 1 else ''} undecided" if undecided
                else "no regression")
        parts = "step time: " + ", ".join(f"{k} {v}" for v, k in sorted(self.counts().items()))
        for verdict in ("more memory", "more page faults", "accuracy lower"):
            k = sum(verdict in (c.memory_verdict, c.faults_verdict, c.accuracy_verdict) for c in self.cells)
            if k:
                parts += f"; {verdict}: {k}"
        return f"{head} ({parts})"

    def to_json(self, fail_on_inconclusive: bool = False) -> dict[str, Any]:
        return {"thresholds": self.thresholds, "summary": self.summary_line(),
                "exit_code": self.exit_code(fail_on_inconclusive), "cells": [asdict(c) for c in self.cells]}

    @property
    def icon(self) -> str:
        """The Markdown headline's mark: ❌ regressed, ⚠️ inconclusive (not a green tick), ✅ no regression."""
        return "❌" if self.regressions else "⚠️" if self.inconclusive else "✅"


def _median(xs: list[float]) -> float | None:
    import statistics

    return statistics.median(xs) if xs else None


def look_alpha(n: int, th: dict[str, float]) -> float:
    """The error rate of a cell's interval after ``n`` pairs: alpha for a single look; under
    ``--until-decided`` (``th["max_pairs"]``: looks after every pair up to that many) the level
    of a repeated confidence interval, so every look together keeps alpha
    (:mod:`rnnbench.sequential`)."""
    n_max = int(th.get("max_pairs") or 0)
    if not n_max or n < 2:
        return th["alpha"]
    from rnnbench.sequential import nominal_alpha

    return nominal_alpha(n, n_max, th["alpha"])


def analyze(records: list[dict[str, Any]], cells: list[PairCell], thresholds: dict[str, float]) -> Analysis:
    th = {**DEFAULTS, **thresholds}
    by: dict[str, dict[int, dict[str, dict[str, Any]]]] = {}
    for r in records:
        ab = r.get("ab") or {}
        by.setdefault(ab.get("cell"), {}).setdefault(ab.get("pair"), {})[ab.get("side")] = r
    out = []
    for cell in cells:
        pairs = {k: v for k, v in by.get(cell.key, {}).items() if {"a", "b"} <= set(v)}
        ok_a = [p["a"] for p in pairs.values() if p["a"]["status"] == "ok"]
        ok_b = [p["b"] for p in pairs.values() if p["b"]["status"] == "ok"]
        res = CellResult(cell.key, cell.label, len(pairs), len(ok_a), len(ok_b), AB_INCONCLUSIVE)
        if pairs and (len(ok_a) < len(pairs) or len(ok_b) < len(pairs)):
            bad_a, bad_b = len(ok_a) < len(pairs), len(ok_b) < len(pairs)
            res.failing = FAILING_BOTH if bad_a and bad_b else FAILING_ON_A if bad_a else FAILING_ON_B
            first_bad = next(p[s] for p in pairs.values() for s in ("b", "a") if p[s]["status"] != "ok")
            res.error = f"{first_bad['status']}: {first_bad.get('error')}"
        logs = []
        for p in pairs.values():
            if p["a"]["status"] == "ok" and p["b"]["status"] == "ok":
                lr = pair_log_ratio(p["a"]["metrics"].get("steady_step_samples") or [],
                                    p["b"]["metrics"].get("steady_step_samples") or [],
                                    b_first=p["a"].get("turn_first") == "b")
                if lr is not None:
                    logs.append(lr)
        if logs:
            res.alpha_look = look_alpha(len(logs), th)
            pr = paired_ratio(logs, alpha=res.alpha_look, trim=th["trim"], threshold=th["time"])
            res.ratio, res.ci, res.mde, res.mde95, res.pair_ratios = pr.ratio, pr.ci, pr.mde, pr.mde95, pr.pair_ratios
            res.time_verdict = paired_verdict(pr, th["time"])
        res.a_step_ms = _ms(_median([r["metrics"]["steady_step_s"] for r in ok_a if r["metrics"].get("steady_step_s")]))
        res.b_step_ms = _ms(_median([r["metrics"]["steady_step_s"] for r in ok_b if r["metrics"].get("steady_step_s")]))
        mem_a = [r["metrics"]["peak_rss_mb"] for r in ok_a if r["metrics"].get("peak_rss_mb")]
        mem_b = [r["metrics"]["peak_rss_mb"] for r in ok_b if r["metrics"].get("peak_rss_mb")]
        if mem_a and mem_b:
            j = judge(mem_a, mem_b, threshold=th["memory"], alpha=th["alpha"], max_cv=None)
            res.memory_ratio = j.effect
            res.memory_verdict = in_words(j.direction, "more memory", "less memory")
        faults_a, faults_b = (_faults(ok) for ok in (ok_a, ok_b))
        if faults_a and faults_b:
            j = judge(faults_a, faults_b, threshold=th["faults"], alpha=th["alpha"], max_cv=None)
            res.faults_ratio = j.effect
            res.faults_verdict = in_words(j.direction, "more page faults", "fewer page faults")
        acc_a = [r["metrics"]["test_acc"] for r in ok_a if r["metrics"].get("test_acc") is not None]
        acc_b = [r["metrics"]["test_acc"] for r in ok_b if r["metrics"].get("test_acc") is not None]
        if acc_a and acc_b:
            j = judge(acc_a, acc_b, threshold=th["accuracy_drop"], alpha=th["alpha"], max_cv=None,
                      kind="difference", worse="lower")
            res.accuracy_diff = j.effect
            res.accuracy_verdict = in_words(j.direction, "accuracy lower", "accuracy higher")
        out.append(res)
    return Analysis(out, th)


def _faults(records: list[dict[str, Any]]) -> list[float]:
    """Each process's steady page faults per step, plus one (so a side that faults none has a ratio)."""
    return [v + 1.0 for r in records if (v := r["metrics"].get("steady_page_faults_per_step")) is not None]


def _ms(s: float | None) -> float | None:
    return s * 1e3 if s is not None else None
