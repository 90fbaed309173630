"""The report's inference section (``task = "infer"`` cells): latency of single requests at
batch 1 and at ``batch_size`` (p50/p90/p99 and throughput), and per-token latency when a
review is streamed one token at a time with the state carried. Rows are the summary's groups
(medians over repeats); the percentiles are each worker's own, over its timed requests."""

from __future__ import annotations

from typing import Any

from rnnbench.report.aggregate import Summary
from rnnbench.report.plots import ordered

HEADER = ["cell", "batch 1 p50 ms", "p90", "p99", "batch N", "batch N p50 ms", "p90", "p99", "reviews/s",
          "stream ms/token p50", "p90", "p99", "tokens/s"]
NOTE = ("Forward only, evaluation mode, on test reviews padded to maxlen: one request is one batch, timed "
        "until its output is on the host, after warm-up requests. Streaming feeds a review's real tokens one "
        "at a time with the recurrent state carried (reset at each review) and reads each token's "
        "probability back. Percentiles are over each worker's timed requests (the median over repeats).")


def _first(recs: list[dict[str, Any]]) -> dict[str, Any]:
    return next(((r.get("metrics") or {}).get("inference") for r in recs if (r.get("metrics") or {}).get("inference")),
                {})


def _f(v: Any, fmt: str = "{:.2f}") -> str:
    return fmt.format(v) if isinstance(v, (int, float)) else "—"


def rows(summary: Summary) -> list[list[str]]:
    out = []
    for r in ordered(summary.rows):
        inf = _first(r.get("_records") or [])
        if not inf:
            continue
        batches = inf.get("batches") or {}
        b1 = batches.get("1", {})
        n_key = max(batches, key=int, default=None)
        bn = batches.get(n_key, {}) if n_key and n_key != "1" else {}
        st = inf.get("stream") or {}
        stream = ([_f(st.get("p50_ms"), "{:.3f}"), _f(st.get("p90_ms"), "{:.3f}"), _f(st.get("p99_ms"), "{:.3f}"),
                   _f(1e3 / st["mean_ms"], "{:,.0f}") if st.get("mean_ms") else "—"]
                  if "p50_ms" in st else [st.get("note", "—"), "", "", ""])
        out.append([r["cell"], _f(b1.get("p50_ms")), _f(b1.get("p90_ms")), _f(b1.get("p99_ms")), n_key or "—",
                    _f(bn.get("p50_ms")), _f(bn.get("p90_ms")), _f(bn.get("p99_ms")),
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
