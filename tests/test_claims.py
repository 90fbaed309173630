"""The five claims' verdicts come from the numbers: holds, does not hold, inconclusive, and
no verdict from too few seeds."""

from __future__ import annotations

from typing import Any

from rnnbench.report.aggregate import summarize
from rnnbench.report.claims import FAILS, HOLDS, INCONCLUSIVE, UNTESTED, five_claims
from rnnbench.report.findings import html, markdown
from rnnbench.stats import seed_difference
from rnnbench.suite import CellSettings

PARAMS = {"gru": {"embedding": 320_000, "recurrent": 6_336, "head": 33},
          "lstm": {"embedding": 320_000, "recurrent": 8_320, "head": 33}}


def _rec(arch: str, seed: int, n_train: int, *, acc: float, gap: float, epoch_s: float,
         val: list[float], backend: str = "torch") -> dict[str, Any]:
    s = CellSettings(arch=arch, backend=backend, seed=seed, train_size=n_train, epochs=len(val), validation_split=0.2,
                     train_eval_size=5000, target_accuracy=0.85).model_dump()
    epochs = [{"epoch": i + 1, "wall_s": epoch_s, "test_acc": v - 0.01, "val_acc": v, "train_acc": v + gap,
               "elapsed_train_s": epoch_s * (i + 1)} for i, v in enumerate(val)]
    best = max(range(len(val)), key=lambda i: val[i])
    p = PARAMS[arch]
    return {"label": f"{arch.upper()} / {backend}", "group": f"{arch}-{backend}-{n_train}", "key": f"{arch}-{seed}-{n_train}",
            "repeat": 0, "status": "ok", "run_id": "r", "settings": s, "env": {},
            "metrics": {"params": {**p, "total": sum(p.values())}, "params_total": sum(p.values()), "test_acc": acc,
                        "selected_by": "best validation accuracy", "selected_epoch": best + 1,
                        "val_acc": val[best], "train_acc": val[best] + gap, "generalization_gap": gap,
                        "steady_epoch_s": epoch_s, "first_epoch_s": epoch_s, "train_size": n_train, "epochs": epochs,
                        "step_times_s": [[epoch_s / 10] * 10 for _ in val]}}


def _verdicts(recs: list[dict[str, Any]]) -> dict[int, Any]:
    return {c.claim: c for c in five_claims(summarize(recs))}


def _suite(gru: dict[str, Any], lstm: dict[str, Any], seeds: int = 3) -> list[dict[str, Any]]:
    out = []
    for n, small in ((1000, True), (20000, False)):
        for seed in range(seeds):
            for arch, kw in (("gru", gru), ("lstm", lstm)):
                jitter = 0.002 * (seed - 1)
                out.append(_rec(arch, seed, n, acc=kw["acc"] + jitter, gap=(kw["gap_small"] if small else 0.02) + jitter,
                                epoch_s=kw["epoch_s"] * (1 + jitter), val=kw["val"]))
    return out


GOOD_GRU = {"acc": 0.88, "gap_small": 0.05, "epoch_s": 20.0, "val": [0.80, 0.86, 0.88]}
LSTM = {"acc": 0.87, "gap_small": 0.15, "epoch_s": 30.0, "val": [0.75, 0.82, 0.87]}


def test_every_claim_holds_when_the_numbers_say_so() -> None:
    v = _verdicts(_suite(GOOD_GRU, LSTM))
    assert {k: c.verdict for k, c in v.items()} == {1: HOLDS, 2: HOLDS, 3: HOLDS, 4: HOLDS, 5: HOLDS}
    assert "recurrent layers GRU 6,336 vs LSTM 8,320" in v[2].evidence
    assert "2.0 ± 0.0" in v[3].evidence and "3.0 ± 0.0" in v[3].evidence  # epochs to 0.85 validation accuracy
    assert "at 1,000 training reviews" in v[4].evidence
    assert "at 20,000 training reviews" in v[5].evidence


def test_claims_that_the_numbers_contradict_do_not_hold() -> None:
    bad_gru = {"acc": 0.85, "gap_small": 0.25, "epoch_s": 29.0, "val": [0.70, 0.80, 0.86]}
    v = _verdicts(_suite(bad_gru, LSTM))
    assert v[1].verdict == FAILS  # 2 points less accurate, seeds 0.2 points apart
    assert v[3].verdict == FAILS  # needs 3 epochs as LSTM does: every seed ties
    assert v[4].verdict == FAILS  # larger gap
    assert v[5].verdict == FAILS and "saves less than that" in v[5].evidence  # 3% saved is not "a lot"
    assert v[2].verdict == HOLDS  # counts are counts


def test_differences_inside_the_seed_spread_are_inconclusive_and_too_few_seeds_give_no_verdict() -> None:
    recs = _suite(GOOD_GRU, LSTM)
    # GRU's three seeds now scatter by ±3 points around LSTM's accuracy: no verdict either way
    for r, d in zip([r for r in recs if r["settings"]["arch"] == "gru" and r["metrics"]["train_size"] == 20000],
                    (-0.04, 0.0, 0.04)):
        r["metrics"]["test_acc"] = 0.87 + d
    assert _verdicts(recs)[1].verdict == INCONCLUSIVE
    two = _verdicts(_suite(GOOD_GRU, LSTM, seeds=2))
    assert {two[k].verdict for k in (1, 3, 4, 5)} == {INCONCLUSIVE}
    assert "only 2 seeds a side (a verdict needs 3)" in two[1].evidence


def test_without_validation_or_a_size_sweep_the_claims_that_need_them_are_not_tested() -> None:
    recs = [r for r in _suite(GOOD_GRU, LSTM) if r["metrics"]["train_size"] == 20000]
    for r in recs:
        for e in r["metrics"]["epochs"]:
            e.pop("val_acc")
    v = _verdicts(recs)
    assert v[3].verdict == UNTESTED and "no validation split" in v[3].evidence
    assert v[4].verdict == UNTESTED and "train_size sweep" in v[4].evidence


def test_the_verdicts_reach_the_html_and_markdown_findings() -> None:
    s = summarize(_suite(GOOD_GRU, LSTM))
    md = "\n".join(markdown(s))
    assert "## The tutorial's five claims" in md and md.count("**holds**") == 5
    page = html(s)
    assert "The tutorial&#x27;s five claims" in page or "The tutorial's five claims" in page
    assert page.count("<strong>holds</strong>") == 5


def test_seed_difference_is_welch_and_exact_without_spread() -> None:
    d = seed_difference([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert d.diff == 2.0 and d.ci[0] < 0 < d.ci[1]  # t(2) interval: 2 ± 4.30 · 0.577
    assert abs(d.ci[1] - 2.0 - 4.302652729749464 * (1 / 3) ** 0.5) < 1e-9
    assert seed_difference([2.0, 2.0], [3.0, 3.0]).ci == (-1.0, -1.0)
    assert seed_difference([1.0], [2.0]).ci is None
