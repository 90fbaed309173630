"""Reports from stored runs.

* :mod:`.aggregate` — records → rows: medians over repeats, spreads, time to accuracy,
  efficiency (FLOPs, % of the calibrated peak), pivots; the metric registry ``METRICS``.
* :mod:`.build` — ``write_reports(run_refs, out_root=None, console=None, ...)``: the
  terminal table, ``report.md`` (+ its SVG figures), ``results.csv`` and ``index.html``.
* :mod:`.plots` — the figures (matplotlib, optional); :mod:`.htmlpage` — the HTML page.
"""
