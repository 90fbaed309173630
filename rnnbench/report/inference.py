"""The report's inference section (``task = "infer"`` cells): latency of single requests at
batch 1 and at ``batch_size`` (p50/p90/p99 and throughput), and per-token latency when a
review is streamed one token at a time with the state carried. Rows are the summary's groups
(medians over repeats); the percentiles are each worker's own, over its timed requests."""

from __future__ import annotations

import statistics
from typing import Any

from rnnbench.report.aggregate import Summary
from rnnbench.report.plots import ordered

HEADER = ["cell", "batch 1 p50 ms", "p90", "p99", "batch N", "batch N p50 ms", "p90", "p99", "reviews/s",
          "stream ms/token p50", "p90", "p99", "tokens/s"]
NOTE = ("Forward only, evaluation mode, on test reviews padded to maxlen: one request is one batch, timed "
        "until its output is on the host, after warm-up requests. Streaming feeds a review's real tokens one "
        "at a time with the recurrent state carried (reset at each review) and reads each token's "
        "probability back. Percentiles are over each worker's timed requests (the median over repeats).")


FIELDS = ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "samples_per_s")


def _median(dicts: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the repeats that have it (a note, where none has figures)."""
    out: dict[str, Any] = {}
    for f in FIELDS:
        vals = [d[f] for d in dicts if isinstance(d.get(f), (int, float))]
        if vals:
            out[f] = statistics.median(vals)
    return out or next(({"note": d["note"]} for d in dicts if d.get("note")), {})


def merged(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """One cell's inference figures: the median over its repeats of each worker's own percentiles."""
    infs = [i for i in ((r.get("metrics") or {}).get("inference") for r in recs) if i]
    if not infs:
        return {}
    keys = sorted({k for i in infs for k in (i.get("batches") or {})}, key=int)
    return {"batches": {k: _median([(i.get("batches") or {}).get(k) or {} for i in infs]) for k in keys},
            "stream": _median([i.get("stream") or {} for i in infs])}


def _f(v: Any, fmt: str = "{:.2f}") -> str:
    return fmt.format(v) if isinstance(v, (int, float)) else "—"


def rows(summary: Summary) -> list[list[str]]:
    out = []
    for r in ordered(summary.rows):
        recs = r.get("_records") or []
        inf = merged(recs)
        if not inf:
            continue
        batches = inf["batches"]
        b1 = batches.get("1", {})
        size = (recs[0].get("settings") or {}).get("batch_size")
        n_key = str(size) if size else max(batches, key=int, default="1")
        bn = batches.get(n_key, {}) if n_key != "1" else {}
        st = inf.get("stream") or {}
        stream = ([_f(st.get("p50_ms"), "{:.3f}"), _f(st.get("p90_ms"), "{:.3f}"), _f(st.get("p99_ms"), "{:.3f}"),
                   _f(1e3 / st["mean_ms"], "{:,.0f}") if st.get("mean_ms") else "—"]
                  if "p50_ms" in st else [st.get("note", "—"), "", "", ""])
        out.append([r["cell"], _f(b1.get("p50_ms")), _f(b1.get("p90_ms")), _f(b1.get("p99_ms")), n_key or "—",
                    bn.get("note") or _f(bn.get("p50_ms")), _f(bn.get("p90_ms")), _f(bn.get("p99_ms")),
                    _f(bn.get("samples_per_s"), "{:,.0f}"), *stream])
    return out


def markdown(summary: Summary) -> list[str]:
    from tabulate import tabulate

    from rnnbench.markdown import escape as md_escape

    found = rows(summary)
    if not found:
        return []
    return ["## Inference", "", md_escape(NOTE), "",
            tabulate([[md_escape(c) for c in r] for r in found], headers=HEADER, tablefmt="github",
                     disable_numparse=True), ""]


def html(summary: Summary) -> str:
    from html import escape

    found = rows(summary)
    if not found:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in found)
    return (f"<h3>Inference</h3><p class=\"note\">{escape(NOTE)}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
