"""Figures for the reports, drawn with matplotlib (optional: ``pip install 'rnnbench[plots]'``).

Each figure is rendered once to SVG text (text kept as ``<text>`` elements, which
matplotlib escapes; math parsing off so a ``$`` in a label stays a dollar sign; fixed ids
and no date, so the same results give the same bytes). The HTML page inlines it; the
Markdown report links the same SVG written as a file next to ``report.md``.

Figures (each skipped when it would be empty):

* ``curves-by-backend`` — test accuracy and loss per epoch, one panel per backend, one line
  per cell: GRU/LSTM/SimpleRNN of one backend side by side. Lines are the median over
  repeats, the band their min–max.
* ``curves-by-model`` — the same, one panel per architecture (variant), one line per
  backend (only with more than one backend).
* ``accuracy-vs-time`` — test accuracy against cumulative training time, the target dashed.
* ``fit-curves`` — with a validation split: training (dotted), validation (dashed) and test
  (solid) accuracy per epoch, one panel per backend and training-set size, one colour per
  architecture: where the lines part is where a model starts to overfit.
* ``gap-vs-train-size`` — when ``train_size`` varies: the generalization gap (training minus
  validation accuracy at the selected epoch) against the training-set size, per backend.
* ``scaling-<axis>`` — when ``maxlen``, ``units``, ``batch_size`` or ``layers`` varies: step time
  (forward and backward too, where split) against it on log–log axes, points and fitted power
  law per series (:mod:`rnnbench.report.scaling`).
* ``epoch-times`` — first and steady epoch time per cell, error bars min–max over repeats.
* ``memory`` — peak RSS per cell (min–max), with the RSS right after the framework import.
* ``params`` — parameters per cell, stacked: embedding, recurrent, head.
"""

from __future__ import annotations

import io
import re
import statistics
from dataclasses import dataclass
from typing import Any

from rnnbench.report.aggregate import Summary

ARCH_ORDER = {"gru": 0, "lstm": 1, "rnn": 2}
BACKEND_ORDER = {"torch": 0, "keras-tensorflow": 1, "keras-jax": 2, "keras-torch": 3, "fake": 4}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")


@dataclass(frozen=True)
class Plot:
    name: str  # file stem and HTML id
    title: str
    caption: str
    svg: str  # a complete SVG document

    @property
    def inline_svg(self) -> str:
        """The ``<svg>`` element alone (no XML declaration or DOCTYPE), for inlining in HTML."""
        start = self.svg.find("<svg")
        return self.svg[start:] if start >= 0 else self.svg


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def row_name(row: dict[str, Any], varying: list[str], with_backend: bool = True) -> str:
    base = row["cell"] if with_backend else row["model"]
    extra = ", ".join(f"{k}={row.get(k)}" for k in varying)
    return f"{base} [{extra}]" if extra else base


def ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cells by backend, then architecture, then label (stable for the rest)."""
    return sorted(rows, key=lambda r: (BACKEND_ORDER.get(r.get("backend"), 9), r.get("backend") or "",
                                       ARCH_ORDER.get(r.get("arch"), 9), r.get("cell") or ""))


def _curve(records: list[dict[str, Any]], key: str, x: str = "epoch") -> tuple[list[float], ...]:
    """Median, min and max of ``key`` per epoch index over the records (x likewise median)."""
    from rnnbench.report.aggregate import epochs_of

    per: dict[int, list[tuple[float, float]]] = {}
    for rec in records:
        for i, ep in enumerate(epochs_of(rec)):
            xv, yv = ep.get(x, i + 1), ep.get(key)
            if xv is not None and yv is not None:
                per.setdefault(i, []).append((float(xv), float(yv)))
    xs, med, lo, hi = [], [], [], []
    for i in sorted(per):
        pts = per[i]
        xs.append(statistics.median(p[0] for p in pts))
        ys = [p[1] for p in pts]
        med.append(statistics.median(ys))
        lo.append(min(ys))
        hi.append(max(ys))
    return xs, med, lo, hi


def _svg(fig: Any, name: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"rnnbench-{name}", "svg.id": f"plot-{name}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    # ids unique across the page: matplotlib's are hashed from the salt, prefix them anyway
    ids = set(re.findall(r'\bid="([^"]+)"', text)) - {f"plot-{name}"}
    if ids:
        pat = re.compile(r'(\bid="|#)(' + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + r')\b')
        text = pat.sub(lambda m: f"{m.group(1)}{name}-{m.group(2)}", text)
    return text


def _figure(w: float, h: float) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), layout="constrained")
    return fig


def _colors(keys: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k in keys:
        if k not in out:
            out[k] = PALETTE[len(out) % len(PALETTE)]
    return out


def _curves_figure(name: str, title: str, panels: list[tuple[str, list[tuple[str, dict[str, Any]]]]],
                   colors: dict[str, str]) -> Any:
    """Two rows (accuracy, loss) × one column per panel; each panel lists (line label, row)."""
    n = len(panels)
    fig = _figure(max(5.0, 4.2 * n), 6.4)
    axes = fig.subplots(2, n, squeeze=False)
    for j, (panel_title, lines) in enumerate(panels):
        acc_ax, loss_ax = axes[0][j], axes[1][j]
        for label, row in lines:
            c = colors[label]
            xs, med, lo, hi = _curve(row["_records"], "test_acc")
            if xs:
                acc_ax.plot(xs, med, marker="o", ms=3, color=c, label=label)
                if len(row["_records"]) > 1:
                    acc_ax.fill_between(xs, lo, hi, color=c, alpha=0.15, linewidth=0)
            xs, med, lo, hi = _curve(row["_records"], "test_loss")
            if xs:
                loss_ax.plot(xs, med, marker="o", ms=3, color=c, label=f"{label} test")
                if len(row["_records"]) > 1:
                    loss_ax.fill_between(xs, lo, hi, color=c, alpha=0.15, linewidth=0)
            xs, med, _, _ = _curve(row["_records"], "train_loss")
            if xs:
                loss_ax.plot(xs, med, linestyle="--", color=c, alpha=0.8, label=f"{label} train")
        acc_ax.set_title(panel_title, fontsize=10)
        acc_ax.set_ylabel("test accuracy")
        loss_ax.set_ylabel("loss (solid test, dashed train)")
        loss_ax.set_xlabel("epoch")
        for ax in (acc_ax, loss_ax):
            ax.grid(True, alpha=0.3)
            ax.xaxis.get_major_locator().set_params(integer=True)
        acc_ax.legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=11)
    return fig


def _hbar_height(n: int) -> float:
    return max(2.2, 0.45 * n + 1.2)


def _err(row: dict[str, Any], col: str) -> tuple[float, float]:
    v, lo, hi = row.get(col), row.get(f"{col}_min"), row.get(f"{col}_max")
    if v is None or lo is None or hi is None:
        return 0.0, 0.0
    return max(0.0, v - lo), max(0.0, hi - v)


def make_plots(summary: Summary) -> list[Plot]:
    """Every figure that has data, as SVG. Needs matplotlib."""
    import matplotlib

    rows = [r for r in ordered(summary.rows) if r.get("n") and r.get("_records")]
    if not rows:
        return []
    varying = summary.varying
    plots: list[Plot] = []
    with matplotlib.rc_context({"svg.fonttype": "none", "text.parse_math": False, "font.size": 9,
                                "axes.titlesize": 10, "figure.dpi": 100}):
        trained = [r for r in rows if any((x.get("metrics") or {}).get("epochs") for x in r["_records"])]
        if trained:  # task = "infer" cells without training have no curves
            # curves, one panel per backend
            backends = list(dict.fromkeys(r["backend"] for r in trained))
            labels = [row_name(r, varying, with_backend=False) for r in trained]
            colors = _colors(labels)
            panels = [(b, [(row_name(r, varying, False), r) for r in trained if r["backend"] == b]) for b in backends]
            fig = _curves_figure("curves-by-backend", "Per backend: test accuracy and loss per epoch", panels, colors)
            plots.append(Plot("curves-by-backend", "Learning curves by backend",
                              "Test accuracy (top) and loss (bottom) after each epoch; the architectures of one "
                              "backend side by side. Lines: median over repeats; band: min–max.",
                              _svg(fig, "curves-by-backend")))
            # curves, one panel per model (architecture variant), lines per backend
            if len(backends) > 1:
                models = list(dict.fromkeys(r["model"] for r in sorted(trained, key=lambda r: ARCH_ORDER.get(r["arch"], 9))))
                extra = lambda r: ", ".join(f"{k}={r.get(k)}" for k in varying)  # noqa: E731
                lab = lambda r: r["backend"] + (f" [{extra(r)}]" if extra(r) else "")  # noqa: E731
                colors_b = _colors([lab(r) for r in trained])
                panels = [(m, [(lab(r), r) for r in trained if r["model"] == m]) for m in models]
                fig = _curves_figure("curves-by-model", "Per architecture: each backend's curves", panels, colors_b)
                plots.append(Plot("curves-by-model", "Learning curves by architecture",
                                  "One architecture across backends: test accuracy (top) and loss (bottom) per epoch.",
                                  _svg(fig, "curves-by-model")))
            # accuracy against training time
            fig = _figure(8.0, 4.6)
            ax = fig.subplots()
            all_colors = _colors([row_name(r, varying) for r in trained])
            for r in trained:
                label = row_name(r, varying)
                xs, med, _, _ = _curve(r["_records"], "test_acc", x="elapsed_train_s")
                if xs:
                    ax.plot(xs, med, marker="o", ms=3, color=all_colors[label], label=label)
            targets = sorted({r["target_accuracy"] for r in trained if r.get("target_accuracy") is not None})
            for t in targets:
                ax.axhline(t, color="#555555", linestyle="--", linewidth=1)
                ax.annotate(f"target {t:g}", xy=(0, t), xycoords=("axes fraction", "data"), xytext=(4, 3),
                            textcoords="offset points", fontsize=8, color="#555555")
            ax.set_xlabel("cumulative training time, s (evaluation excluded)")
            ax.set_ylabel("test accuracy")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7, loc="best")
            fig.suptitle("Test accuracy against training time", fontsize=11)
            plots.append(Plot("accuracy-vs-time", "Accuracy against training time",
                              "Median over repeats of each epoch's test accuracy at its cumulative training time; "
                              "where a line first crosses the dashed target is the time to accuracy.",
                              _svg(fig, "accuracy-vs-time")))

        plots += _generalization_plots(rows, varying)
        plots += _scaling_plots(summary)

        names = [row_name(r, varying) for r in rows]
        ypos = list(range(len(rows)))
        # epoch times
        if any(r.get("first_epoch_s") is not None for r in rows):
            fig = _figure(8.0, _hbar_height(len(rows)))
            ax = fig.subplots()
            h = 0.38
            first = [r.get("first_epoch_s") or 0.0 for r in rows]
            steady = [r.get("steady_epoch_s") or 0.0 for r in rows]
            ax.barh([y - h / 2 for y in ypos], first, height=h, color="#9ecae1", label="first epoch",
                    xerr=list(zip(*[_err(r, "first_epoch_s") for r in rows])), capsize=3)
            if any(r.get("steady_epoch_s") is not None for r in rows):
                ax.barh([y + h / 2 for y in ypos], steady, height=h, color="#3182bd", label="steady epoch (median)",
                        xerr=list(zip(*[_err(r, "steady_epoch_s") for r in rows])), capsize=3)
            ax.set_yticks(ypos, names)
            ax.invert_yaxis()
            ax.set_xlabel("seconds per epoch (training only); error bars: min–max over repeats")
            ax.grid(True, axis="x", alpha=0.3)
            fig.legend(fontsize=8, loc="outside lower center", ncols=2)
            fig.suptitle("Epoch time", fontsize=11)
            plots.append(Plot("epoch-times", "Epoch time",
                              "First epoch (warm-up, compilation) and the steady epoch (median of the later "
                              "epochs); error bars span the min–max over repeats.", _svg(fig, "epoch-times")))
        # memory
        if any(r.get("peak_rss_mb") is not None for r in rows):
            fig = _figure(8.0, _hbar_height(len(rows)))
            ax = fig.subplots()
            peak = [r.get("peak_rss_mb") or 0.0 for r in rows]
            ax.barh(ypos, peak, height=0.6, color="#fdae6b", label="peak RSS",
                    xerr=list(zip(*[_err(r, "peak_rss_mb") for r in rows])), capsize=3)
            if any(r.get("rss_after_import_mb") is not None for r in rows):
                ax.barh(ypos, [r.get("rss_after_import_mb") or 0.0 for r in rows], height=0.25, color="#7f2704",
                        label="RSS after framework import")
            ax.set_yticks(ypos, names)
            ax.invert_yaxis()
            ax.set_xlabel("MB (whole worker process: framework, data and model); error bars: min–max")
            ax.grid(True, axis="x", alpha=0.3)
            fig.legend(fontsize=8, loc="outside lower center", ncols=2)
            fig.suptitle("Peak memory", fontsize=11)
            plots.append(Plot("memory", "Peak memory",
                              "Peak resident memory of each cell's worker process, and its resident memory right "
                              "after the framework import (the rest is data, model and training).",
                              _svg(fig, "memory")))
        # parameters: all of them stacked, and the recurrent layers and head apart (the embedding dwarfs them)
        if any(r.get("params_total") for r in rows):
            fig = _figure(11.0, _hbar_height(len(rows)) + 0.4)
            ax_all, ax_rec = fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))
            parts = (("embedding", "#c6dbef"), ("recurrent", "#6baed6"), ("head", "#08519c"))
            for ax, shown in ((ax_all, parts), (ax_rec, parts[1:])):
                left = [0.0] * len(rows)
                for part, color in shown:
                    vals = [float(r.get(f"params_{part}") or 0) for r in rows]
                    ax.barh(ypos, vals, left=left, height=0.6, color=color, label=part if ax is ax_all else None)
                    left = [a + b for a, b in zip(left, vals)]
                ax.grid(True, axis="x", alpha=0.3)
                ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
            ax_all.set_yticks(ypos, names)
            ax_all.invert_yaxis()
            ax_all.set_title("all parameters", fontsize=9)
            ax_rec.set_title("recurrent + head only", fontsize=9)
            ax_all.set_xlabel("parameters")
            ax_rec.set_xlabel("parameters")
            fig.legend(fontsize=8, loc="outside lower center", ncols=3)
            fig.suptitle("Parameters: embedding / recurrent / head", fontsize=11)
            plots.append(Plot("params", "Parameters",
                              "Trainable parameters per cell, split into embedding, recurrent layers and head; "
                              "the right panel leaves the embedding out so the recurrent layers can be compared.",
                              _svg(fig, "params")))
    return plots


def _scaling_plots(summary: Summary) -> list[Plot]:
    """``scaling-<axis>``: step time (and forward/backward where split) against a varied setting,
    log–log, one panel per backend: measured points and the fitted power law (:mod:`.scaling`)."""
    from rnnbench.report.scaling import fits

    found = fits(summary)
    out: list[Plot] = []
    styles = {"step": ("-", "o"), "forward": (":", "^"), "backward": ("--", "s")}
    for axis in dict.fromkeys(f.axis for f in found):
        here = [f for f in found if f.axis == axis]
        backends = sorted(dict.fromkeys(f.backend for f in here), key=lambda b: BACKEND_ORDER.get(b, 9))
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        model = lambda f: f.series.split(" / ")[0]  # noqa: E731 - one colour per architecture in every panel
        colors = _colors([model(f) for f in here])
        plain = FuncFormatter(lambda v, _: f"{v:g}")  # no mathtext: math parsing is off in these figures
        fig = _figure(max(5.0, 4.8 * len(backends)), 4.4)
        axes = fig.subplots(1, len(backends), squeeze=False)[0]
        for ax, b in zip(axes, backends):
            for f in (f for f in here if f.backend == b):
                xs = [x for x, _ in f.points]
                line, marker = styles[f.quantity]
                ax.plot(xs, [y for _, y in f.points], linestyle="none", marker=marker, ms=4, color=colors[model(f)])
                lo, hi = min(xs), max(xs)
                grid = [lo * (hi / lo) ** (i / 20) for i in range(21)]
                ax.plot(grid, [f.predict(x) for x in grid], linestyle=line, color=colors[model(f)], lw=1,
                        label=f"{model(f)} {f.quantity} ∝ {axis}^{f.exponent:.2f}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(sorted({x for f in here if f.backend == b for x, _ in f.points}))
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            for axis_ in (ax.xaxis, ax.yaxis):
                axis_.set_major_formatter(plain)
                axis_.set_minor_formatter(NullFormatter())
            ax.set_title(b, fontsize=10)
            ax.set_xlabel(axis)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=6.5, loc="lower right")
        axes[0].set_ylabel("ms per training step")
        fig.suptitle(f"Step time against {axis} (log–log): points measured, lines fitted", fontsize=11)
        out.append(Plot(f"scaling-{axis}", f"Scaling with {axis}",
                        f"Steady step time (solid, circles) — and where the backend splits the step, forward "
                        f"(dotted, triangles) and backward (dashed, squares) — against {axis}, median over repeats; "
                        "each line is the least-squares power law, its exponent in the legend.",
                        _svg(fig, f"scaling-{axis}")))
    return out


def _has(rows: list[dict[str, Any]], key: str) -> bool:
    return any(ep.get(key) is not None for r in rows for rec in r["_records"]
               for ep in ((rec.get("metrics") or {}).get("epochs") or []))


def _generalization_plots(rows: list[dict[str, Any]], varying: list[str]) -> list[Plot]:
    """``fit-curves`` and ``gap-vs-train-size`` (see the module doc); empty without validation data."""
    rows = [r for r in rows if _has([r], "val_acc")]
    if not rows:
        return []
    out: list[Plot] = []
    rest = [k for k in varying if k != "train_size"]
    backends = list(dict.fromkeys(r["backend"] for r in rows))
    sizes = sorted({r["_records"][0]["metrics"].get("train_size") or 0 for r in rows})
    label = lambda r: row_name(r, rest, with_backend=False)  # noqa: E731
    colors = _colors([label(r) for r in rows])
    fig = _figure(max(5.0, 3.6 * len(sizes)), 3.2 * len(backends) + 0.6)
    axes = fig.subplots(len(backends), len(sizes), squeeze=False, sharey=True)
    for i, b in enumerate(backends):
        for j, n in enumerate(sizes):
            ax = axes[i][j]
            for r in rows:
                if r["backend"] != b or (r["_records"][0]["metrics"].get("train_size") or 0) != n:
                    continue
                c = colors[label(r)]
                for key, style, what in (("train_acc", ":", "train"), ("val_acc", "--", "validation"),
                                         ("test_acc", "-", "test")):
                    xs, med, _, _ = _curve(r["_records"], key)
                    if xs:
                        ax.plot(xs, med, linestyle=style, color=c, marker="o" if key == "test_acc" else None, ms=2.5,
                                label=f"{label(r)} {what}")
            ax.set_title(f"{b}, {n:,} training reviews", fontsize=9)
            ax.grid(True, alpha=0.3)
            ax.xaxis.get_major_locator().set_params(integer=True)
            if j == 0:
                ax.set_ylabel("accuracy")
            if i == len(backends) - 1:
                ax.set_xlabel("epoch")
            ax.legend(fontsize=6, loc="lower right")
    fig.suptitle("Training (dotted), validation (dashed) and test (solid) accuracy per epoch", fontsize=11)
    out.append(Plot("fit-curves", "Training, validation and test accuracy",
                    "Median over seeds after each epoch. Training accuracy is measured on a fixed subset of the "
                    "training reviews in evaluation mode; the gap between the dotted and dashed lines is the "
                    "generalization gap.", _svg(fig, "fit-curves")))
    if len(sizes) > 1 and any(r.get("generalization_gap") is not None for r in rows):
        fig = _figure(max(5.0, 4.6 * len(backends)), 4.0)
        axes = fig.subplots(1, len(backends), squeeze=False, sharey=True)[0]
        models = list(dict.fromkeys(label(r) for r in rows))
        for ax, b in zip(axes, backends):
            for m in models:
                pts = sorted((r["_records"][0]["metrics"].get("train_size") or 0, r) for r in rows
                             if r["backend"] == b and label(r) == m and r.get("generalization_gap") is not None)
                if not pts:
                    continue
                xs = [n for n, _ in pts]
                ys = [r["generalization_gap"] for _, r in pts]
                err = list(zip(*[_err(r, "generalization_gap") for _, r in pts]))
                ax.errorbar(xs, ys, yerr=err, marker="o", ms=3, capsize=3, color=colors[m], label=m)
            ax.set_xscale("log")
            ax.set_title(b, fontsize=10)
            ax.set_xlabel("training reviews")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7, loc="best")
        axes[0].set_ylabel("train − validation accuracy")
        fig.suptitle("Generalization gap at the selected epoch against training-set size", fontsize=11)
        out.append(Plot("gap-vs-train-size", "Generalization gap against training-set size",
                        "Training minus validation accuracy at the selected epoch (best validation accuracy); "
                        "median over seeds, error bars min–max. Larger = more overfitting.",
                        _svg(fig, "gap-vs-train-size")))
    return out
