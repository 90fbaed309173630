"""Findings drawn from a summary: the tutorial's five claims (:mod:`.claims`), parameter
parity across backends, and GRU versus LSTM.

* Parity: for each architecture (all settings equal but the backend), the parameter counts
  per part on every backend, "equal" where they agree, and where they do not, the reason in
  words from :func:`rnnbench.models.parity_notes` (e.g. PyTorch's second LSTM bias).
* GRU vs LSTM: the claim of the classic Keras tutorial — GRU matches LSTM's accuracy with
  fewer parameters and faster training — checked per backend with the claims' own rules
  (:func:`.claims.accuracy_claim`, :func:`.claims.epoch_time_claim`: one source of verdicts,
  so no sentence here says more than the claims table). Nothing is asserted: every sentence
  is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnnbench.identity import identity_key
from rnnbench.markdown import escape as md_escape
from rnnbench.report.aggregate import Summary
from rnnbench.report.claims import A_LOT, UNTESTED, accuracy_claim, epoch_time_claim, five_claims

PARTS = ("embedding", "recurrent", "head", "total")


def _settings(row: dict[str, Any]) -> dict[str, Any]:
    recs = row.get("_records") or []
    return dict(recs[0].get("settings") or {}) if recs else {}


def _key(row: dict[str, Any], drop: tuple[str, ...]) -> str:
    return identity_key(_settings(row), ignore=(*drop, "extra_work"))


@dataclass(frozen=True)
class ParityGroup:
    label: str
    rows: list[dict[str, Any]]  # {"backend", "embedding", "recurrent", "head", "total"}
    equal: bool
    notes: list[str]


def parity(summary: Summary) -> list[ParityGroup]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in summary.rows:
        if row.get("params_total") and row.get("backend") != "fake":
            groups.setdefault(_key(row, ("backend",)), []).append(row)
    out = []
    for rows in groups.values():
        backends = {r["backend"] for r in rows}
        if len(backends) < 2:
            continue
        prow = [{"backend": r["backend"], **{p: r.get(f"params_{p}") for p in PARTS}} for r in rows]
        equal = len({tuple(x[p] for p in PARTS) for x in prow}) == 1
        notes: list[str] = []
        if not equal:
            from rnnbench.models import parity_notes
            from rnnbench.suite import CellSettings

            s = _settings(rows[0])
            try:
                notes = parity_notes(s["arch"], CellSettings.model_validate(s))
            except Exception as e:  # noqa: BLE001 - a note is a courtesy, never a crash
                notes = [f"(no explanation available: {e})"]
        label = rows[0]["cell"].split(" / ")[0]
        out.append(ParityGroup(label=label, rows=prow, equal=equal, notes=notes))
    return out


@dataclass(frozen=True)
class ClaimCheck:
    backend: str
    setting: str
    gru: dict[str, Any]
    lstm: dict[str, Any]
    sentences: list[str]


def _acc(row: dict[str, Any]) -> str:
    acc = row.get("test_acc")
    lo, hi = row.get("test_acc_min"), row.get("test_acc_max")
    if acc is None:
        return "—"
    if row.get("n", 0) > 1 and lo is not None:
        return f"{acc:.4f} (range {lo:.4f}–{hi:.4f}, n = {row['n']})"
    return f"{acc:.4f} (n = {row.get('n', 1)})"


def _kernel_kind(kernel: str) -> str:
    """A kernel description without the cell's own name: the same loop over GRUCell and over
    LSTMCell is the same kind of kernel."""
    import re

    return re.sub(r"\b(GRU|LSTM|SimpleRNN|RNN)(Cell)?\b|aten::(gru|lstm|rnn_tanh)", "<cell>", kernel)


def gru_vs_lstm(summary: Summary) -> list[ClaimCheck]:
    by_key: dict[str, dict[str, dict[str, Any]]] = {}
    for row in summary.rows:
        if row.get("arch") in ("gru", "lstm") and row.get("n") and row.get("backend") != "fake":
            by_key.setdefault(_key(row, ("arch",)), {})[row["arch"]] = row
    checks = []
    for pair in by_key.values():
        if set(pair) != {"gru", "lstm"}:
            continue
        g, l = pair["gru"], pair["lstm"]
        sentences = []
        if g.get("test_acc") is not None and l.get("test_acc") is not None:  # the claims' rule, not a second one
            verdict, text = accuracy_claim(g, l)
            sentences.append(f"GRU as accurate as LSTM: {verdict} — {text}.")
        gp, lp, gt, lt = (int(x) if x else 0 for x in (g.get("params_recurrent"), l.get("params_recurrent"),
                                                       g.get("params_total"), l.get("params_total")))
        if gp and lp and gt and lt:
            sentences.append(
                f"GRU has {lp - gp:,} fewer recurrent parameters ({gp:,} vs {lp:,}, {1 - gp / lp:.1%} fewer) "
                f"and {lt - gt:,} fewer in total ({gt:,} vs {lt:,}, {1 - gt / lt:.1%}: the embedding dominates)."
            )
        verdict, text = epoch_time_claim(g, l)
        if verdict != UNTESTED:
            sentences.append(f"GRU saves a lot of training time (≥ {A_LOT:.0%}): {verdict} — {text}.")
        gk, lk = g.get("kernel"), l.get("kernel")
        if gk and lk:
            if _kernel_kind(gk) != _kernel_kind(lk):
                sentences.append(f"They ran different kernels — GRU: {gk}; LSTM: {lk} — which is where a speed "
                                 "difference on this backend comes from, more than from the gate count.")
            else:
                sentences.append(f"Both ran the same kind of kernel: {gk}.")
        if g.get("threads") and l.get("threads") and g["threads"] != l["threads"]:
            sentences.append(f"Threads differed: GRU {g['threads']}, LSTM {l['threads']}.")
        s = _settings(g)
        setting = f"units {s.get('units')}, layers {s.get('layers')}, " \
                  f"{'bidirectional, ' if s.get('bidirectional') else ''}batch {s.get('batch_size')}"
        checks.append(ClaimCheck(backend=g["backend"], setting=setting, gru=g, lstm=l, sentences=sentences))
    return checks


def thread_differences(summary: Summary) -> list[str]:
    """A sentence per distinct thread setup when the cells did not all run with the same threads."""
    by_threads: dict[str, list[str]] = {}
    for row in summary.rows:
        if row.get("threads"):
            by_threads.setdefault(row["threads"], []).append(row["cell"])
    if len(by_threads) < 2:
        return []
    return [f"{t}: {', '.join(cells)}" for t, cells in sorted(by_threads.items())]


def html(summary: Summary) -> str:
    """The findings as an HTML fragment (every value escaped)."""
    from html import escape

    parts: list[str] = []
    claims = five_claims(summary)
    if claims:
        parts.append("<h3>The tutorial's five claims</h3><p class=\"note\">Each verdict is computed from the "
                     "runs (Welch 95% intervals over seeds; no verdict from fewer than 3 seeds a side); the "
                     "rules are in rnnbench/report/claims.py.</p>")
        for setting in dict.fromkeys(c.setting for c in claims):
            rows = "".join(f"<tr><td>{c.claim}. {escape(c.text)}</td><td>{escape(c.backend)}</td>"
                           f"<td class=\"verdict {escape(c.verdict.replace(' ', '-'))}\"><strong>{escape(c.verdict)}"
                           f"</strong></td><td>{escape(c.evidence)}</td></tr>"
                           for c in claims if c.setting == setting)
            parts.append(f"<p>{escape(setting)}</p><table><thead><tr><th>claim</th><th>backend</th><th>verdict</th>"
                         f"<th>the numbers behind it</th></tr></thead><tbody>{rows}</tbody></table>")
    for c in gru_vs_lstm(summary):
        parts.append(f"<h3>GRU vs LSTM — {escape(c.backend)}</h3><p>{escape(c.setting)}: GRU test accuracy "
                     f"{escape(_acc(c.gru))}; LSTM {escape(_acc(c.lstm))}.</p><ul>"
                     + "".join(f"<li>{escape(x)}</li>" for x in c.sentences) + "</ul>")
    from rnnbench.report.scaling import fits

    scaling = fits(summary)
    if scaling:
        parts.append("<h3>Scaling</h3><p class=\"note\">Power laws fitted by least squares on log–log axes to cells "
                     "that differ in one setting only (the points and lines are in the scaling figures).</p><ul>"
                     + "".join(f"<li>{escape(f.sentence())}</li>" for f in scaling) + "</ul>")
    from rnnbench.report import inference

    parts.append(inference.html(summary))
    diffs = thread_differences(summary)
    if diffs:
        parts.append("<h3>Threads differ between cells</h3><p>Timings of cells with different thread setups do "
                     "not compare on equal terms (threads; inter-op; pinned cores):</p><ul>"
                     + "".join(f"<li>{escape(d)}</li>" for d in diffs) + "</ul>")
    return "".join(parts)


def markdown(summary: Summary) -> list[str]:
    """Markdown sections for report.md (empty when nothing applies)."""
    from tabulate import tabulate

    out: list[str] = []
    claims = five_claims(summary)
    if claims:
        out += ["## The tutorial's five claims", "",
                "Each verdict is computed from the runs (Welch 95% intervals over seeds; no verdict from fewer "
                "than 3 seeds a side; the rules are in `rnnbench/report/claims.py`).", ""]
        for setting in dict.fromkeys(c.setting for c in claims):
            rows = [[f"{c.claim}. {md_escape(c.text)}", md_escape(c.backend), f"**{c.verdict}**", md_escape(c.evidence)]
                    for c in claims if c.setting == setting]
            out += [md_escape(setting), "",
                    tabulate(rows, headers=["claim", "backend", "verdict", "the numbers behind it"], tablefmt="github",
                             disable_numparse=True), ""]
    checks = gru_vs_lstm(summary)
    if checks:
        out += ["## GRU vs LSTM", "",
                "The classic Keras tutorial's claim: GRU matches LSTM's accuracy with fewer parameters and "
                "faster training. Measured here:", ""]
        for c in checks:
            out += [f"**{md_escape(c.backend)}** ({md_escape(c.setting)}) — GRU test accuracy "
                    f"{md_escape(_acc(c.gru))}; LSTM {md_escape(_acc(c.lstm))}.", ""]
            out += [f"- {md_escape(s)}" for s in c.sentences] + [""]
    from rnnbench.report import scaling

    out += [md_escape(line) if line.startswith("- ") else line for line in scaling.markdown(summary)]
    from rnnbench.report import inference

    out += inference.markdown(summary)
    diffs = thread_differences(summary)
    if diffs:
        out += ["## Threads differ between cells", "",
                "Timings of cells with different thread setups do not compare on equal terms "
                "(threads; inter-op; pinned cores):", ""]
        out += [f"- {md_escape(d)}" for d in diffs] + [""]
    groups = parity(summary)
    if groups:
        out += ["## Parameter parity across backends", ""]
        for g in groups:
            rows = [[r["backend"], *[f"{int(r[p]):,}" if r[p] is not None else "—" for p in PARTS]] for r in g.rows]
            out += [f"**{g.label}**: {'equal on every backend' if g.equal else 'differs'}", "",
                    tabulate(rows, headers=["backend", *PARTS], tablefmt="github", disable_numparse=True), ""]
            out += [f"- {md_escape(n)}" for n in g.notes] + ([""] if g.notes else [])
    return out
