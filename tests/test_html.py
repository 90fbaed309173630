"""The HTML report, opened in a real browser: content, escaping, no network, no console errors.

How the browser check works, and why it can be trusted: headless Chromium is driven over
the Chrome DevTools Protocol on a pipe (``--remote-debugging-pipe``: fds 3 and 4 carry
NUL-terminated JSON, so no websocket client and no port are needed). Before the page is
opened, the Network, Log, Runtime and Page domains are enabled, so the browser itself
reports every request it is about to send (``Network.requestWillBeSent`` — fired even
when a request then fails, as it would with no network here), every console message and
uncaught exception, every browser log entry (CSP violations, failed loads) and any
JavaScript dialog (an ``alert`` that escaped escaping would open one). The test asserts
that the only request is the page's own file:// URL, that nothing was logged as an error,
that no dialog opened, that the sorting script ran (a click reorders the table: it was not
blocked by the page's hash-based CSP), and reads the rendered DOM for the content.

A static check of the file (no browser needed) backs it up: every URL-bearing attribute
and CSS ``url()`` in the page points inside the page (``#id``) or is ``data:``.

Without Chromium the browser tests skip on a developer's machine and fail in CI (``CI=true``:
``.ci/run`` installs it, so its absence there is a broken build; see ``helpers.require_chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from browser import Chromium, Page, started
from helpers import EVIL
from helpers import make_report_run as make_run

from rnnbench.report.build import write_reports

FAKE_SUITE = f'''name = "fake-html"
description = """Harness check {EVIL} & <b>not bold</b>"""
[defaults]
backend = "fake"
dataset = "sample"
num_words = 2000
maxlen = 50
epochs = 3
batch_size = 128
train_size = 512
test_size = 256
target_accuracy = 0.55
timeout = 60
[matrix]
arch = ["gru", "lstm", "rnn"]
[[include]]
arch = "gru"
units = 64
fault = "error"
'''


# --- static check --------------------------------------------------------------------------

URL_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "srcset", "poster", "data", "background",
             "ping", "manifest", "codebase", "cite", "longdesc", "usemap", "icon"}


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.scripts = 0
        self.tags: set[str] = set()
        self._in_style = False
        self.css = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.scripts += tag == "script"
        self._in_style = tag == "style"
        for k, v in attrs:
            if k in URL_ATTRS and v is not None:
                self.refs.append((tag, k, v))
            if k == "style" and v:
                self.css += v

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.css += data


def external_references(page: str) -> list[str]:
    """Anything in the page that a browser could fetch from outside it."""
    p = _Refs()
    p.feed(page)
    bad = [f"<{t} {k}={v!r}>" for t, k, v in p.refs if not (v.startswith("#") or v.startswith("data:"))]
    for m in re.finditer(r"url\(\s*['\"]?([^'\")]*)", p.css):
        if not (m.group(1).startswith("#") or m.group(1).startswith("data:")):
            bad.append(f"css url({m.group(1)})")
    if re.search(r"@import", p.css):
        bad.append("css @import")
    bad += [f"<{t}>" for t in p.tags & {"link", "iframe", "object", "embed", "img", "video", "audio", "base"}]
    return bad


def test_static_page_is_self_contained_and_escaped(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs", ["torch", "keras-tensorflow"], fail="lstm")
    paths = write_reports([run.path], out_root=tmp_path / "out", formats="html")
    page = paths[0].read_text()
    assert paths[0].name == "index.html"
    assert external_references(page) == []
    p = _Refs()
    p.feed(page)
    assert p.scripts == 1  # ours; the suite's <script> is text
    assert EVIL not in page and html_escaped(EVIL) in page
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    # every figure inline, its text as (escaped) SVG text
    assert page.count("<svg") == 6 and "GRU / torch" in page


def html_escaped(s: str) -> str:
    import html

    return html.escape(s, quote=True)


# --- the browser (tests/browser.py) -----------------------------------------------------------

@pytest.fixture(scope="module")
def browser() -> Any:
    with started() as b:
        yield b


def _check_clean(page: Page, url: str) -> None:
    assert page.requests() == [url], page.requests()  # the page itself and nothing else
    assert page.problems() == []


def _keep(shot: Path) -> None:
    """Copy a screenshot where a person can look at it (RNNBENCH_SCREENSHOTS=dir)."""
    dest = os.environ.get("RNNBENCH_SCREENSHOTS")
    if dest:
        Path(dest).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(dest) / shot.name)


def test_real_fake_backend_run_in_browser(tmp_path: Path, browser: Chromium) -> None:
    from rnnbench.progress import QuietProgress
    from rnnbench.runner import execute, start_run
    from rnnbench.suite import parse_suite

    suite = parse_suite(FAKE_SUITE, str(tmp_path / "fake-html.toml"))
    run = start_run(suite, root=tmp_path / "runs")
    execute(suite, run, QuietProgress())
    statuses = sorted(r["status"] for r in run.records())
    assert statuses == ["error", "ok", "ok", "ok"], statuses
    paths = write_reports([run.path], out_root=tmp_path / "out", formats="all", rows="arch", cols="units",
                          metric="test_acc")
    html_path = next(p for p in paths if p.name == "index.html")
    md = next(p for p in paths if p.name == "report.md").read_text()
    for svg in (p for p in paths if p.suffix == ".svg"):
        assert svg.parent == html_path.parent and f"]({svg.name})" in md
    url = html_path.resolve().as_uri()
    page = browser.open(url)
    _check_clean(page, url)
    assert page.eval("document.title").startswith("fake-html — ")
    text = page.eval("document.body.innerText")
    assert f"Harness check {EVIL} & <b>not bold</b>" in text  # the description, as text
    assert page.eval("document.querySelectorAll('script').length") == 1
    assert page.eval("document.querySelectorAll('b').length") == 0
    for needle in ("GRU / fake", "LSTM / fake", "SimpleRNN / fake", "Learning curves", "Time to accuracy",
                   "Epoch time", "Memory", "Efficiency", "Parameters", "Environment", "Failures (1)",
                   "injected error", "RuntimeError", "test acc by arch × units"):
        assert needle in text, needle
    # every figure drew, at a readable size
    widths = page.eval("Array.from(document.querySelectorAll('figure svg')).map(s => s.getBoundingClientRect().width)")
    assert len(widths) == 5 and min(widths) > 300  # one backend: no per-architecture curves figure
    shot = page.screenshot(tmp_path / "fake-run-report.png")
    _keep(shot)


def test_combined_report_in_browser_sorts_and_escapes(tmp_path: Path, browser: Chromium) -> None:
    a = make_run(tmp_path / "runs", ["torch"], name="pt", fail="rnn")
    b = make_run(tmp_path / "runs", ["keras-tensorflow"], name="tf")
    paths = write_reports([a.path, b.path], out_root=tmp_path / "out", formats="html", rows="arch",
                          cols="backend", metric="steady_step_ms")
    url = paths[0].resolve().as_uri()
    page = browser.open(url)
    _check_clean(page, url)
    text = page.eval("document.body.innerText")
    assert f"killed by signal SIGSEGV {EVIL}" in text and f"boom {EVIL}" in text
    assert "steady step ms by arch × backend" in text and "never ≥ 0.85" in text
    titles = page.eval("Array.from(document.querySelectorAll('figure')).map(f => f.getAttribute('aria-label'))")
    assert titles == ["Learning curves by backend", "Learning curves by architecture",
                      "Accuracy against training time", "Epoch time", "Peak memory", "Parameters"]
    # SVG text is text: the cell names are in the figures
    svg_text = page.eval("Array.from(document.querySelectorAll('#fig-epoch-times text')).map(t => t.textContent)")
    assert "SimpleRNN / keras-tensorflow" in svg_text
    # the sort script runs (not blocked by the CSP): sort the summary by steady step, then reverse
    order = """(() => { const t = document.querySelector('table.summary');
        const i = Array.from(t.tHead.rows[0].cells).findIndex(c => c.textContent === 'steady step ms');
        t.tHead.rows[0].cells[i].click();
        return Array.from(t.tBodies[0].rows).map(r => r.cells[0].textContent); })()"""
    assert page.eval(order) == ["SimpleRNN / torch", "SimpleRNN / keras-tensorflow", "LSTM / torch",
                                "GRU / torch", "LSTM / keras-tensorflow", "GRU / keras-tensorflow"]
    assert page.eval(order)[0] == "GRU / keras-tensorflow"
    assert page.problems() == []
    shot = page.screenshot(tmp_path / "combined-report.png")
    _keep(shot)


def test_the_browser_check_sees_requests_errors_and_scripts(tmp_path: Path, browser: Chromium) -> None:
    """Negative controls: the same harness flags a page that fetches, logs an error or runs an alert."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><title>bad</title></head><body>'
                   '<img src="http://192.0.2.1/x.png"><script>console.error("oops"); alert(1);</script>'
                   "</body></html>")
    page = browser.open(bad.resolve().as_uri())
    assert "http://192.0.2.1/x.png" in page.requests()
    problems = " | ".join(page.problems())
    assert "console.error" in problems and "dialog: 1" in problems
    # an unescaped script in a page carrying the report's CSP is refused, and that is logged
    from rnnbench.report.htmlpage import SORT_JS

    good = tmp_path / "report.html"
    run = make_run(tmp_path / "runs", ["torch"])
    page_html = write_reports([run.path], out_root=tmp_path / "out", formats="html")[0].read_text()
    injected = page_html.replace("<main>", "<main><script>alert(2)</script>", 1)
    assert SORT_JS in injected
    good.write_text(injected)
    page = browser.open(good.resolve().as_uri())
    problems = " | ".join(page.problems())
    assert "Content Security Policy" in problems and "dialog" not in problems


def test_labels_in_figures_are_escaped_text(tmp_path: Path) -> None:
    """A record whose label carries markup (an edited results file) still draws as text."""
    from rnnbench.results import append_record

    run = make_run(tmp_path / "runs", ["torch"])
    recs = run.records()
    run.results.unlink()
    for r in recs:
        r["label"] = r["label"].replace("GRU", f"GRU {EVIL} $x_1$")
        append_record(run.results, r)
    paths = write_reports([run.path], out_root=tmp_path / "out", formats="html,md")
    page = next(p for p in paths if p.name == "index.html").read_text()
    p = _Refs()
    p.feed(page)
    assert p.scripts == 1 and external_references(page) == []
    svg = (paths[0].parent / "epoch-times.svg").read_text()
    assert "<script" not in svg and "GRU &lt;script&gt;alert(1)&lt;/script&gt; $x_1$ / torch" in svg
