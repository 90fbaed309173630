"""The HTML report: one self-contained file, readable offline, making no network request.

Everything is inline: CSS, the figures as SVG elements (see :mod:`.plots`), and a few lines
of JavaScript that sort the tables when a header is clicked. A Content-Security-Policy meta
tag forbids every fetch (``default-src 'none'``; images only as ``data:``) and allows only
this page's own script, by hash — so even a value that slipped past escaping could neither
load anything nor run. Every value that came from a suite, a record or run.json goes
through :func:`html.escape` (text and attributes alike).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from datetime import datetime
from typing import Any

from rnnbench.report.aggregate import METRICS, Pivot, Summary, caveat_notes, format_value, marked, row_label
from rnnbench.report.plots import Plot, ordered, row_name

SORT_JS = """
(function () {
  function val(td) { return td ? td.getAttribute('data-v') : ''; }
  document.querySelectorAll('table.sortable').forEach(function (t) {
    var ths = t.tHead ? t.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(ths, function (th, i) {
      th.tabIndex = 0;
      th.title = 'sort';
      function sort() {
        var body = t.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(ths, function (x) { x.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        rows.sort(function (a, b) {
          var x = val(a.cells[i]), y = val(b.cells[i]);
          if (x === '' || x === null) { return (y === '' || y === null) ? 0 : 1; }
          if (y === '' || y === null) { return -1; }
          var nx = Number(x), ny = Number(y), c;
          if (!isNaN(nx) && !isNaN(ny)) { c = nx - ny; } else { c = String(x).localeCompare(String(y)); }
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') { sort(); } });
    });
  });
})();
"""

CSS = """
:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg2: #f6f8fa; --bad: #b42318; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg);
       margin: 0 auto; max-width: 1400px; padding: 1.2rem 1.6rem 3rem; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
p.desc { white-space: pre-wrap; margin: .4rem 0 .8rem; }
.muted, figcaption, .note { color: var(--muted); font-size: .9rem; }
nav { margin: .8rem 0; font-size: .92rem; }
nav a { margin-right: .9rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .88rem; }
th, td { border: 1px solid var(--line); padding: .28rem .55rem; vertical-align: top; }
th { background: var(--bg2); text-align: left; white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=ascending]::after { content: " \\25B2"; }
table.sortable th[aria-sort=descending]::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.never { color: var(--bad); }
td.label { white-space: nowrap; }
table.summary th { white-space: normal; min-width: 4.2em; vertical-align: bottom; }
table.summary { font-size: .84rem; }
.scroll { overflow-x: auto; }
figure { margin: 1rem 0 1.6rem; }
figure svg { max-width: 100%; height: auto; display: block; }
pre { background: var(--bg2); border: 1px solid var(--line); padding: .6rem; overflow: auto; max-height: 28rem;
      font-size: .8rem; white-space: pre-wrap; word-break: break-all; }
.failure { border-left: 4px solid var(--bad); padding-left: .8rem; margin: 1rem 0; }
.status { color: var(--bad); font-weight: 600; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; font-size: .9rem; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; word-break: break-word; }
"""


def esc(value: Any) -> str:
    """Any value as HTML text (also safe inside a double- or single-quoted attribute)."""
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True, default=str)
    return html.escape(str(value), quote=True)


def _attr(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return html.escape(str(value), quote=True)


def _fmt(value: Any, fmt: str) -> str:
    return format_value(value, fmt)


def _td(text: str, sort_value: Any = None, cls: str = "") -> str:
    """A cell; ``text`` is escaped here, ``sort_value`` goes to data-v for sorting."""
    c = f' class="{cls}"' if cls else ""
    v = sort_value if sort_value is not None else ("" if text == "—" else text)
    return f'<td{c} data-v="{_attr(v)}">{esc(text)}</td>'


def _table(header: list[str], body: list[str], sortable: bool = True, cls: str = "") -> str:
    classes = " ".join(filter(None, ["sortable" if sortable else "", cls]))
    head = "".join(f"<th scope=\"col\">{esc(h)}</th>" for h in header)
    return (f'<div class="scroll"><table class="{classes}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def summary_table(summary: Summary) -> str:
    cols = [m for m in METRICS.values() if m.name in (
        "params_total", "first_epoch_s", "steady_epoch_s", "steady_step_ms", "samples_per_s", "eval_s",
        "peak_rss_mb", "test_loss", "test_acc", "time_to_target_s", "gflops", "peak_pct")]
    header = ["cell", *summary.varying, "n", "failed", *[m.title for m in cols]]
    body = []
    for r in ordered(summary.rows):
        tds = [_td(row_label(r), cls="label"), *[_td(str(r.get(k)), r.get(k)) for k in summary.varying],
               _td(str(r["n"]), r["n"], "num"), _td(str(r["failed"]), r["failed"], "num")]
        for m in cols:
            v = r.get(m.name)
            if m.name == "test_acc":
                text = _fmt(v, m.fmt)
                if r["n"] > 1 and r.get("test_acc_min") is not None:
                    text += f" ({r['test_acc_min']:.3f}–{r['test_acc_max']:.3f})"
                tds.append(_td(text, v, "num"))
            elif m.name == "time_to_target_s":
                text = r.get("time_to_target") or "—"
                never = text.startswith("never")
                tds.append(_td(marked(r, m.name, text), v, "num never" if never else "num"))
            else:
                tds.append(_td(marked(r, m.name, _fmt(v, m.fmt)), v, "num"))
        body.append(f"<tr>{''.join(tds)}</tr>")
    return _table(header, body, cls="summary")


def caveats_list(summary: Summary) -> str:
    """The figures a record's own checks put in doubt (⚠ in the table), one item per row and caveat."""
    notes = caveat_notes(summary)
    if not notes:
        return ""
    return ('<div class="caveats"><p class="note"><strong>⚠ Caveats</strong> — figures the cells\' own checks '
            "put in doubt:</p><ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul></div>")


def pivot_table(p: Pivot) -> str:
    header, rows = p.table()
    body = []
    nlab = max(1, len(p.rows))
    for rk, cells in zip(p.row_keys, rows):
        tds = [_td(c) for c in cells[:nlab]]
        for ck, text in zip(p.col_keys, cells[nlab:]):
            cell = p.values.get((rk, ck)) or {}
            tds.append(_td(text, cell.get("value"), "num never" if text.startswith("never") else "num"))
        body.append(f"<tr>{''.join(tds)}</tr>")
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in p.notes)
    return f"<h3>{esc(p.title)}</h3>{_table(header, body)}{notes}"


def _kv(items: list[tuple[str, Any]]) -> str:
    return '<dl class="kv">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items) + "</dl>"


def environment_section(summary: Summary, metas: dict[str, dict[str, Any]]) -> str:
    out = []
    by_machine: dict[str, list[str]] = {}
    for run_id, meta in metas.items():
        by_machine.setdefault(json.dumps(meta.get("machine") or {}, sort_keys=True, default=str), []).append(run_id)
    for key, run_ids in by_machine.items():
        machine = json.loads(key)
        items: list[tuple[str, Any]] = []
        for run_id in run_ids:
            meta = metas[run_id]
            items.append((f"run {run_id}", f"created {meta.get('created')}, fingerprint {meta.get('fingerprint')}"))
        for k, v in machine.items():
            if k == "versions" and isinstance(v, dict):
                v = ", ".join(f"{a} {b}" for a, b in v.items()) or "(no framework installed)"
            items.append((k, v))
        title = "Machine" if len(by_machine) == 1 else f"Machine — {', '.join(run_ids)}"
        out.append(f"<h3>{esc(title)}</h3>{_kv(items)}")
    # what each cell's worker recorded
    rows = [r for r in ordered(summary.rows) if r.get("_records")]
    keys: list[str] = []
    for r in rows:
        for k in (r["_records"][0].get("env") or {}):
            if k not in keys:
                keys.append(k)
    if rows and keys:
        body = []
        for r in rows:
            env = r["_records"][0].get("env") or {}
            body.append("<tr>" + _td(row_name(r, summary.varying), cls="label") + "".join(
                _td(esc_plain(env.get(k))) for k in keys) + "</tr>")
        out.append("<h3>Per cell (as its worker recorded it)</h3>" + _table(["cell", *keys], body))
    return "".join(out) or '<p class="muted">No environment recorded.</p>'


def esc_plain(v: Any) -> str:
    """A value as plain text (escaping happens in :func:`_td`)."""
    if v is None:
        return "—"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True, default=str)
    return str(v)


def failures_section(summary: Summary) -> str:
    if not summary.failures:
        return '<p class="muted">Every cell finished.</p>'
    out = []
    for x in summary.failures:
        detail = []
        if x.get("exit_code") is not None:
            detail.append(("exit code", x["exit_code"]))
        if x.get("signal"):
            detail.append(("signal", x["signal"]))
        detail += [("run", x.get("run_id")), ("seed", x.get("seed")), ("log", x.get("log")),
                   ("wall s", x.get("wall_s"))]
        tail = x.get("log_tail") or ""
        out.append(
            f'<div class="failure"><h3>{esc(x["label"])} (repeat {esc(x["repeat"])}): '
            f'<span class="status">{esc(x["status"])}</span></h3>'
            f'<p>{esc(x.get("error") or "no reason recorded")}</p>{_kv([d for d in detail if d[1] is not None])}'
            + (f"<pre>{esc(tail[-6000:])}</pre>" if tail else '<p class="muted">no log output</p>')
            + "</div>")
    return "".join(out)


def efficiency_section(summary: Summary, calibrations: dict[str, dict[str, Any]]) -> str:
    rows = [r for r in ordered(summary.rows) if r.get("n")]
    header = ["cell", *summary.varying, "GFLOP/step", "steady step ms", "GFLOP/s", "% of peak"]
    body = []
    for r in rows:
        body.append("<tr>" + _td(r["cell"], cls="label") + "".join(_td(str(r.get(k)), r.get(k)) for k in summary.varying)
                    + _td(_fmt(r.get("gflop_per_step"), "{:.2f}"), r.get("gflop_per_step"), "num")
                    + _td(_fmt(r.get("steady_step_ms"), "t"), r.get("steady_step_ms"), "num")
                    + _td(_fmt(r.get("gflops"), "{:.1f}"), r.get("gflops"), "num")
                    + _td(_fmt(r.get("peak_pct"), "{:.1f}"), r.get("peak_pct"), "num") + "</tr>")
    return (
        '<p class="note">Training FLOPs per step count the matrix products (2 per multiply-add): per timestep, '
        "layer and direction GRU 2·3h(i+h), LSTM 2·4h(i+h), SimpleRNN 2·h(i+h), head 2·d, embedding lookup 0; "
        "training ≈ 3 × forward. Elementwise gate math and the optimizer are left out, so this is a lower bound. "
        "GFLOP/s = FLOPs per step / steady step time. The fake backend does no such work (—).</p>"
        + peak_note(calibrations) + _table(header, body))


def peak_note(calibrations: dict[str, dict[str, Any]]) -> str:
    """Where "% of peak" came from and when (each run's calibration), or why it is empty."""
    from rnnbench import calibrate

    if not calibrations:
        return ('<p class="note">% of peak is empty: no calibration was stored with the run or is cached for its '
                "machine (<code>rnnbench run</code> measures one before its first CPU cell unless "
                "<code>RNNBENCH_NO_CALIBRATE</code> is set; <code>rnnbench env --calibrate</code> redoes it).</p>")
    lines = calibrate.sources(calibrations, esc, lambda c: f"<code>{c}</code>")
    recurrent = sorted({f"{_fmt(c.get('recurrent_gflops'), '{:.0f}')} GFLOP/s at {c.get('recurrent_shape')}"
                        for c in calibrations.values() if c.get("recurrent_gflops")})
    return (f"<ul>{''.join(f'<li>{x}</li>' for x in lines)}</ul>"
            + (f'<p class="note">At the recurrent shape the same calibration measured {esc("; ".join(recurrent))}.</p>'
               if recurrent else ""))


def time_to_target_section(summary: Summary) -> str:
    header = ["cell", *summary.varying, "target", "time to target s", "epochs to target", "reached", "epochs"]
    body = []
    for r in ordered(summary.rows):
        text = r.get("time_to_target") or "—"
        epochs = max((len((x.get("metrics") or {}).get("epochs") or []) for x in r.get("_records") or []), default=0)
        body.append("<tr>" + _td(r["cell"], cls="label") + "".join(_td(str(r.get(k)), r.get(k)) for k in summary.varying)
                    + _td(_fmt(r.get("target_accuracy"), "{:g}"), r.get("target_accuracy"), "num")
                    + _td(text, r.get("time_to_target_s"), "num never" if text.startswith("never") else "num")
                    + _td(_fmt(r.get("epochs_to_target"), "{:.0f}"), r.get("epochs_to_target"), "num")
                    + _td(f"{r.get('target_reached', 0)}/{r['n']}", r.get("target_reached"), "num")
                    + _td(str(epochs), epochs, "num") + "</tr>")
    return (
        '<p class="note">Training time (evaluation excluded) until the first epoch whose validation accuracy '
        "(test accuracy for cells without a validation split) reached the target; accuracy is evaluated once per epoch, so the time is an epoch boundary. Median over the "
        "repeats that reached it.</p>" + _table(header, body))


def generalization_section(summary: Summary) -> str:
    """Selected epoch, training / validation / test accuracy there, and the gap, per cell."""
    header = ["cell", *summary.varying, "selected epoch", "train acc", "val acc", "test acc", "gap (train − val)", "n"]
    body = []
    for r in ordered(summary.rows):
        if r.get("val_acc") is None:
            continue
        body.append("<tr>" + _td(r["cell"], cls="label") + "".join(_td(str(r.get(k)), r.get(k)) for k in summary.varying)
                    + "".join(_td(_fmt(r.get(k), f), r.get(k), "num") for k, f in (
                        ("selected_epoch", "{:.0f}"), ("train_acc", "{:.4f}"), ("val_acc", "{:.4f}"),
                        ("test_acc", "{:.4f}"), ("generalization_gap", "{:+.4f}")))
                    + _td(str(r["n"]), r["n"], "num") + "</tr>")
    return ('<p class="note">The result of each cell is its test accuracy at the epoch with the best validation '
            "accuracy (the test set never chooses); training accuracy is measured after each epoch on a fixed "
            "subset of the training reviews in evaluation mode. Medians over seeds.</p>" + _table(header, body))


def _figure(p: Plot) -> str:
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", p.inline_svg, flags=re.S)
    return (f'<figure id="fig-{esc(p.name)}" role="group" aria-label="{esc(p.title)}">{svg}'
            f"<figcaption>{esc(p.caption)}</figcaption></figure>")


def render_html(
    summary: Summary,
    title: str,
    metas: dict[str, dict[str, Any]],
    plots: list[Plot],
    pivots: list[Pivot] | None = None,
    calibrations: dict[str, dict[str, Any]] | None = None,
    plots_note: str | None = None,
) -> str:
    by_name = {p.name: p for p in plots}
    descriptions = []
    for run_id, meta in metas.items():
        suite = meta.get("suite") or {}
        if suite.get("description"):
            who = f"{suite.get('name')} ({run_id})" if len(metas) > 1 else ""
            descriptions.append(f'<p class="desc">{f"<strong>{esc(who)}</strong>: " if who else ""}'
                                f'{esc(str(suite["description"]).strip())}</p>')
    n_ok = sum(r["n"] for r in summary.rows)
    n_failed = len(summary.failures)

    def figs(*names: str) -> str:
        got = [_figure(by_name[n]) for n in names if n in by_name]
        if got:
            return "".join(got)
        if plots_note:
            return f'<p class="note">{esc(plots_note)}</p>'
        return '<p class="muted">No successful cell to plot.</p>' if n_ok == 0 else ""

    sections = [
        ("summary", "Summary",
         '<p class="note">One row per cell; times are medians over repeats and seeds (n = successful runs), '
         "accuracy with its min–max spread when n &gt; 1. Click a column header to sort.</p>"
         + summary_table(summary) + caveats_list(summary)),
    ]
    from rnnbench.report.findings import html as findings_html

    found = findings_html(summary)
    if found:
        sections.append(("findings", "Findings", found))
    if pivots:
        sections.append(("pivot", "Pivot", "".join(pivot_table(p) for p in pivots)))
    sections += [
        ("curves", "Learning curves", figs("curves-by-backend", "curves-by-model")),
        ("time-to-accuracy", "Time to accuracy", time_to_target_section(summary) + figs("accuracy-vs-time")),
        *([("generalization", "Generalization", generalization_section(summary) + figs("fit-curves", "gap-vs-train-size"))]
          if any(r.get("val_acc") is not None for r in summary.rows) else []),
        ("epoch-times", "Epoch time", figs("epoch-times")),
        ("memory", "Memory", figs("memory")),
        ("efficiency", "Efficiency", efficiency_section(summary, calibrations or {})),
        ("params", "Parameters", params_table(summary) + figs("params")),
        ("environment", "Environment", environment_section(summary, metas)),
        ("failures", f"Failures ({n_failed})", failures_section(summary)),
    ]
    nav = "".join(f'<a href="#{sid}">{esc(name)}</a>' for sid, name, _ in sections)
    body = "".join(f'<section id="{sid}"><h2>{esc(name)}</h2>{content}</section>' for sid, name, content in sections)
    script_hash = base64.b64encode(hashlib.sha256(SORT_JS.encode()).digest()).decode()
    csp = (f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{script_hash}'; "
           "base-uri 'none'; form-action 'none'")
    from rnnbench import __version__

    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1>{''.join(descriptions)}"
        f'<p class="muted">runs: {esc(", ".join(summary.runs))} · {len(summary.rows)} cells · {n_ok} successful '
        f"runs · {n_failed} failed</p></header>"
        f"<nav>{nav}</nav><main>{body}</main>"
        f'<footer class="muted"><p>Written by rnnbench {esc(__version__)} on '
        f"{esc(datetime.now().astimezone().isoformat(timespec='seconds'))}. Self-contained: no external "
        "resources.</p></footer>"
        f"<script>{SORT_JS}</script></body></html>\n"
    )


def params_table(summary: Summary) -> str:
    rows = [r for r in ordered(summary.rows) if r.get("params_total")]
    if not rows:
        return '<p class="muted">No parameter counts recorded.</p>'
    body = []
    for r in rows:
        body.append("<tr>" + _td(row_name(r, summary.varying), cls="label")
                    + "".join(_td(_fmt(r.get(f"params_{p}"), "{:,.0f}"), r.get(f"params_{p}"), "num")
                              for p in ("embedding", "recurrent", "head", "total"))
                    + _td(r.get("kernel") or "—") + _td(r.get("threads") or "—") + "</tr>")
    return _table(["cell", "embedding", "recurrent", "head", "total", "kernel", "threads"], body)
