"""The tutorial's five claims about GRU and LSTM, each with a verdict computed from the runs.

The Keras tutorial rnnbench started from ("GRU explained and in practice", following the
classic Keras IMDB text) concludes that (1) GRU's accuracy is as good as LSTM's, even a
little better; (2) GRU has fewer parameters; (3) GRU is easier to train; (4) with few
training samples GRU overfits less; (5) with many training samples GRU saves a lot of
training time. Per backend (and per family of otherwise equal settings), each claim gets
*holds*, *does not hold*, *inconclusive* or *not tested*, with the numbers behind it:

1. test accuracy at the selected epoch (best validation accuracy), at the largest training
   set: *holds* when the 95 % interval of GRU − LSTM over seeds lies above −0.5 points (as
   good as), *does not hold* when it lies below 0;
2. parameters (exact counts, the same for every seed): *holds* when GRU has fewer;
3. epochs until the validation accuracy first reaches the target (a cell that never does
   counts as one epoch more than it trained), at the largest training set: *holds* when the
   interval of GRU − LSTM lies below 0, *does not hold* above 0 or when every seed ties;
4. generalization gap (training − validation accuracy at the selected epoch) at the
   smallest training set: *holds* when GRU's gap is smaller (interval below 0);
5. steady epoch training time (the sum of an epoch's step times, median over the epochs
   after the first) at the largest training set: *holds* when GRU's time is at least 10 %
   lower ("a lot") over the whole interval of the ratio, *does not hold* when the whole
   interval lies above 0.9 (less than 10 % saved, or slower).

Intervals are Welch's t over seeds (:func:`rnnbench.stats.seed_difference`): a difference
smaller than the seed-to-seed spread is not a difference. No verdict comes from fewer than
:data:`MIN_SEEDS` seeds a side — it is *inconclusive*, and says so.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from rnnbench.identity import identity_key
from rnnbench.report.aggregate import Summary, epochs_to_target, time_to_target
from rnnbench.stats import seed_difference

CLAIMS = {
    1: "GRU's accuracy is as good as LSTM's, even a little better",
    2: "GRU has fewer parameters",
    3: "GRU is easier to train",
    4: "with few training samples, GRU overfits less",
    5: "with many training samples, GRU saves a lot of training time",
}
HOLDS, FAILS, INCONCLUSIVE, UNTESTED = "holds", "does not hold", "inconclusive", "not tested"
MIN_SEEDS = 3
AS_GOOD_AS = 0.005  # claim 1: "as good as" = not more than half a point below
A_LOT = 0.10  # claim 5: "a lot" = at least 10 % of the epoch time saved
ALPHA = 0.05


@dataclass(frozen=True)
class ClaimVerdict:
    claim: int
    backend: str
    setting: str  # the family of settings it was judged in (train sizes included)
    verdict: str
    evidence: str

    @property
    def text(self) -> str:
        return CLAIMS[self.claim]


def _m(rec: dict[str, Any], key: str) -> Any:
    return (rec.get("metrics") or {}).get(key)


def _train_size(row: dict[str, Any]) -> int:
    return int(_m(row["_records"][0], "train_size") or 0)


def _settings(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row["_records"][0].get("settings") or {})


def _ms(xs: list[float], fmt: str) -> str:
    if len(xs) > 1:
        return f"{fmt.format(statistics.fmean(xs))} ± {fmt.format(statistics.stdev(xs))}"
    return fmt.format(xs[0]) if xs else "—"


def _values(row: dict[str, Any], key: str) -> list[float]:
    """The metric over the row's seeds (records without it left out)."""
    return [_m(r, key) for r in row["_records"] if _m(r, key) is not None]


def _interval(g: list[float], l: list[float]) -> tuple[float, float, float] | str:
    """GRU − LSTM over seeds with its 95% interval as (diff, lo, hi), or why there is no verdict."""
    n = min(len(g), len(l))
    if n < MIN_SEEDS:
        return f"only {n} seed{'s' if n != 1 else ''} a side (a verdict needs {MIN_SEEDS})"
    d = seed_difference(g, l, ALPHA)
    lo, hi = d.ci or (d.diff, d.diff)
    return d.diff, lo, hi


def _ci(lo: float, hi: float, fmt: str) -> str:
    return f"95% CI [{fmt.format(lo)}, {fmt.format(hi)}]"


def accuracy_claim(g: dict[str, Any], l: dict[str, Any]) -> tuple[str, str]:
    """Claim 1 on two rows (GRU, LSTM): the verdict and its evidence; findings.py says the same."""
    ga, la = _values(g, "test_acc"), _values(l, "test_acc")
    how = {_m(r, "selected_by") or "last epoch" for r in g["_records"] + l["_records"]}
    base = (f"test accuracy at the selected epoch ({' / '.join(sorted(how))}): GRU {_ms(ga, '{:.4f}')} vs LSTM "
            f"{_ms(la, '{:.4f}')} (mean ± sd over seeds)")
    got = _interval(ga, la)
    if isinstance(got, str):
        return INCONCLUSIVE, f"{base}; {got}"
    diff, lo, hi = got
    ev = f"{base}; GRU − LSTM {diff:+.4f}, {_ci(lo, hi, '{:+.4f}')}"
    if hi < 0:
        return FAILS, ev + ": GRU is less accurate"
    if lo > -AS_GOOD_AS:
        return HOLDS, ev + f": GRU is no more than {AS_GOOD_AS * 100:.1f} points below LSTM" + (
            ", and better" if lo > 0 else "")
    return INCONCLUSIVE, ev + f": the interval spans both 'as good as' (above −{AS_GOOD_AS:.3f}) and 'worse'"


def _params(g: dict[str, Any], l: dict[str, Any]) -> tuple[str, str]:
    gt, lt = g.get("params_total"), l.get("params_total")
    gr, lr = g.get("params_recurrent"), l.get("params_recurrent")
    if not gt or not lt:
        return UNTESTED, "no parameter counts recorded"
    ev = f"total GRU {int(gt):,} vs LSTM {int(lt):,} ({1 - gt / lt:.1%} fewer)"
    if gr and lr:
        ev += f"; recurrent layers GRU {int(gr):,} vs LSTM {int(lr):,} ({1 - gr / lr:.1%} fewer)"
    return (HOLDS if gt < lt else FAILS), ev + " (exact counts, the same for every seed)"


def _epochs_needed(row: dict[str, Any], target: float | None) -> list[int]:
    out = []
    for r in row["_records"]:
        e = epochs_to_target(r, target)
        out.append(e if e is not None else len(_m(r, "epochs") or []) + 1)
    return out


def _easier(g: dict[str, Any], l: dict[str, Any]) -> tuple[str, str]:
    if not any(e.get("val_acc") is not None for r in g["_records"] + l["_records"] for e in _m(r, "epochs") or []):
        return UNTESTED, "no validation split: epochs to a target validation accuracy were not measured"
    target = _settings(g).get("target_accuracy")
    ge, le = _epochs_needed(g, target), _epochs_needed(l, target)
    gt = [t for t in (time_to_target(r, target) for r in g["_records"]) if t is not None]
    lt = [t for t in (time_to_target(r, target) for r in l["_records"]) if t is not None]
    reached = (sum(e <= len(_m(r, "epochs") or []) for e, r in zip(ge, g["_records"])),
               sum(e <= len(_m(r, "epochs") or []) for e, r in zip(le, l["_records"])))
    base = (f"epochs to validation accuracy ≥ {target:g}: GRU {_ms([float(x) for x in ge], '{:.1f}')} vs LSTM "
            f"{_ms([float(x) for x in le], '{:.1f}')} (reached by {reached[0]}/{len(ge)} and {reached[1]}/{len(le)} "
            f"seeds; never = epochs + 1); training time to it GRU {_ms(gt, '{:.0f} s')} vs LSTM {_ms(lt, '{:.0f} s')}")
    if not reached[0] and not reached[1]:
        return INCONCLUSIVE, base + ": neither reached the target"
    got = _interval(ge, le)
    if isinstance(got, str):
        return INCONCLUSIVE, f"{base}; {got}"
    diff, lo, hi = got
    ev = f"{base}; GRU − LSTM {diff:+.2f} epochs, {_ci(lo, hi, '{:+.2f}')}"
    if hi < 0:
        return HOLDS, ev + ": GRU gets there in fewer epochs"
    if lo > 0 or (lo == hi == 0):
        return FAILS, ev + (": every seed needed the same epochs" if lo == hi == 0 else ": GRU needs more epochs")
    return INCONCLUSIVE, ev


def _gap(rows: list[tuple[int, dict[str, Any], dict[str, Any]]]) -> tuple[str, str]:
    with_gap = [(n, g, l) for n, g, l in rows if g.get("generalization_gap") is not None
                and l.get("generalization_gap") is not None]
    if not with_gap:
        return UNTESTED, "no training accuracy and validation split: the generalization gap was not measured"
    sizes = sorted({n for n, _, _ in with_gap})
    if len(sizes) < 2:
        return UNTESTED, f"one training-set size only ({sizes[0]:,} reviews): 'few samples' needs a train_size sweep"
    all_sizes = "; ".join(f"{n:,}: GRU {g['generalization_gap']:+.3f} vs LSTM {l['generalization_gap']:+.3f}"
                          for n, g, l in sorted(with_gap, key=lambda t: t[0]))
    n, g, l = min(with_gap, key=lambda t: t[0])
    gg, lg = _values(g, "generalization_gap"), _values(l, "generalization_gap")
    base = (f"gap (train − validation accuracy) at {n:,} training reviews: GRU {_ms(gg, '{:+.4f}')} vs LSTM "
            f"{_ms(lg, '{:+.4f}')}; medians by size — {all_sizes}")
    got = _interval(gg, lg)
    if isinstance(got, str):
        return INCONCLUSIVE, f"{base}; {got}"
    diff, lo, hi = got
    ev = f"{base}; GRU − LSTM at {n:,}: {diff:+.4f}, {_ci(lo, hi, '{:+.4f}')}"
    if hi < 0:
        return HOLDS, ev + ": GRU's gap is smaller"
    if lo > 0:
        return FAILS, ev + ": GRU's gap is larger"
    return INCONCLUSIVE, ev + ": the difference is within the spread over seeds"


def steady_training_s(rec: dict[str, Any]) -> float | None:
    """Median over the epochs after the first of the summed step times: an epoch's training
    time without what happens between steps (Keras-TensorFlow on one thread was seen to stall
    between steps in multiples of ~10 s, which the epoch's wall time would charge to the model)."""
    epochs = _m(rec, "step_times_s") or []
    sums = [sum(e) for e in epochs[1:] if e]
    return statistics.median(sums) if sums else None


def epoch_time_claim(g: dict[str, Any], l: dict[str, Any]) -> tuple[str, str]:
    """Claim 5 on two rows (GRU, LSTM): the verdict and its evidence; findings.py says the same."""
    gt = [t for t in (steady_training_s(r) for r in g["_records"]) if t]
    lt = [t for t in (steady_training_s(r) for r in l["_records"]) if t]
    if not gt or not lt:
        return UNTESTED, "no steady epoch time (a single epoch per cell)"
    base = (f"steady epoch training time (sum of its steps) at {_train_size(g):,} training reviews: GRU "
            f"{_ms(gt, '{:.1f} s')} vs LSTM "
            f"{_ms(lt, '{:.1f} s')}")
    got = _interval([math.log(x) for x in gt], [math.log(x) for x in lt])
    if isinstance(got, str):
        return INCONCLUSIVE, f"{base}; {got}"
    diff, lo, hi = got
    ev = (f"{base}; GRU / LSTM {math.exp(diff):.3f}, 95% CI [{math.exp(lo):.3f}, {math.exp(hi):.3f}] "
          f"(a lot = at least {A_LOT:.0%} saved, ratio < {1 - A_LOT:.2f})")
    if math.exp(hi) < 1 - A_LOT:
        return HOLDS, ev + f": GRU saves {1 - math.exp(diff):.0%}"
    if math.exp(lo) > 1 - A_LOT:
        return FAILS, ev + (": GRU is slower" if math.exp(lo) > 1 else ": GRU saves less than that")
    return INCONCLUSIVE, ev


def _family(row: dict[str, Any]) -> str:
    return identity_key(_settings(row), ignore=("arch", "train_size", "extra_work"))


def _setting_text(row: dict[str, Any], sizes: list[int]) -> str:
    s = _settings(row)
    return (f"{s.get('num_words'):,} words, maxlen {s.get('maxlen')}, embedding {s.get('embedding_dim')}, "
            f"{s.get('units')} units, batch {s.get('batch_size')}, {s.get('epochs')} epochs, "
            f"{s.get('optimizer', 'adam')}, validation split {s.get('validation_split', 0)}; training reviews "
            + ", ".join(f"{n:,}" for n in sizes))


def five_claims(summary: Summary) -> list[ClaimVerdict]:
    """A verdict per claim for every backend (and family of equal settings) with GRU and LSTM cells."""
    families: dict[tuple[str, str], dict[int, dict[str, dict[str, Any]]]] = {}
    for row in summary.rows:
        if row.get("arch") in ("gru", "lstm") and row.get("n") and row.get("_records") and row.get("backend") != "fake":
            fam = families.setdefault((row["backend"], _family(row)), {})
            fam.setdefault(_train_size(row), {})[row["arch"]] = row
    out: list[ClaimVerdict] = []
    for (backend, _), by_size in families.items():
        pairs = sorted(((n, p["gru"], p["lstm"]) for n, p in by_size.items() if {"gru", "lstm"} <= set(p)),
                       key=lambda t: t[0])
        if not pairs:
            continue
        n_full, g, l = pairs[-1]
        setting = _setting_text(g, [n for n, _, _ in pairs])
        for claim, (verdict, evidence) in (
            (1, accuracy_claim(g, l)), (2, _params(g, l)), (3, _easier(g, l)), (4, _gap(pairs)), (5, epoch_time_claim(g, l)),
        ):
            out.append(ClaimVerdict(claim, backend, setting, verdict, evidence))
    return out
