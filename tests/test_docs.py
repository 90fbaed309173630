"""The documentation: the site builds strictly, its commands are the CLI's, its references are
generated from the code, the README stays short and true, and the built pages look right in a
real browser.

* Every ``rnnbench …`` command in the docs pages' shell blocks and code spans (the included
  study notes too) parses against the real CLI, as the README's do (tests/cli_commands.py).
* The generated references (docs/hooks.py) name every cell setting and every command.
* The README: at most 150 lines, the test command CI runs followed by its lanes paragraph, the
  layer diagram equal to the import-linter layers in pyproject.toml, every relative link a file.
* ``mkdocs build --strict`` succeeds, and fails on a broken link (so the gate is real).
* The home page and a study page, served over HTTP, open in headless Chromium with no request
  leaving the site, no console error, every figure loaded; screenshots are kept with
  ``RNNBENCH_SCREENSHOTS=DIR``. MkDocs missing (the `docs` extra) or Chromium missing: skipped
  here, a failure in CI (helpers.require_module, helpers.require_chromium).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from browser import Chromium, started
from cli_commands import BadCommand, parse, shell_commands
from helpers import REPO, require_module

from rnnbench.suite import SUITE_KEYS, CellSettings

DOCS = REPO / "docs"
TEST_COMMAND = ".venv/bin/pip install -e '.[all,ray,test]' && .venv/bin/python -m pytest -q -m 'not slow'"


@functools.cache
def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rnnbench_docs_hooks", DOCS / "hooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def docs_commands() -> list[tuple[str, str]]:
    """(page, command) for every ``rnnbench …`` command of every page, study notes included."""
    out = []
    for page in pages():
        uri = page.relative_to(DOCS).as_posix()
        text = hooks().include_study_notes(page.read_text(encoding="utf-8"), uri)
        out += [(uri, c) for c in shell_commands(text)]
    return out


# --------------------------------------------------------------------------- commands


def test_the_docs_have_commands_to_check() -> None:
    commands = [c for _, c in docs_commands()]
    assert len(commands) >= 40, commands
    for expected in ("rnnbench suite schema -o suite.schema.json", "rnnbench data import path/to/aclImdb_v1.tar.gz"):
        assert any(c.startswith(expected) for c in commands), expected


@pytest.mark.parametrize("page,command", docs_commands())
def test_every_docs_command_parses_against_the_cli(page: str, command: str) -> None:
    try:
        parse(command)
    except BadCommand as e:
        pytest.fail(f"docs/{page}: `{command}`: {e}")


def test_an_included_study_note_is_checked_too() -> None:
    notes = hooks().include_study_notes("<!-- include: reports/min-rnn/README.md -->", "studies/min-rnn.md")
    assert "rnnbench run min-rnn" in shell_commands(notes)


# --------------------------------------------------------------------------- generated references


def test_the_suite_reference_names_every_setting_and_key() -> None:
    text = hooks().suite_reference()
    for name in CellSettings.model_fields:
        assert f"`{name}`" in text, name
    for key in SUITE_KEYS:
        assert f"| `{key}` |" in text, key
    assert "`units` | integer | `128` | ≥ 1 |" in text  # type, default and bound from the model


def test_the_cli_reference_names_every_command_and_option() -> None:
    text = hooks().cli_reference()
    paths = [path for path, _, _ in hooks().commands()]
    assert {"rnnbench run", "rnnbench data import", "rnnbench suite schema", "rnnbench ab"} <= set(paths)
    for path, cmd, ctx in hooks().commands():
        assert f"`{path}`" in text, path
        for p in cmd.get_params(ctx):
            if p.param_type_name == "option" and "--help" not in p.opts:
                assert f"`{', '.join(p.opts + p.secondary_opts)}`" in text, (path, p.opts)


# --------------------------------------------------------------------------- the README


def readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_read_in_two_minutes() -> None:
    assert len(readme().splitlines()) <= 150


def test_the_readme_keeps_the_test_command_and_its_lanes() -> None:
    lines = readme().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("python3 -m venv .venv && ")
              and line.endswith(TEST_COMMAND))
    assert lines[at - 1] == "```bash" and lines[at + 1] == "```"
    assert lines[at + 2] == "" and lines[at + 3].startswith("Two lanes.")
    assert any(line.startswith("python3 -m venv .venv && ") and line.endswith("rnnbench run suites/quick.toml")
               for line in lines)  # and the run command


def test_the_readme_diagram_is_the_import_contract() -> None:
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c["layers"] for c in contracts["contracts"] if c["type"] == "layers")
    expected = [[m.strip().removeprefix("rnnbench.") for m in layer.split("|")] for layer in layers
                if layer != "rnnbench.__main__"]
    section = readme().split("## Architecture", 1)[1]
    diagram = section.split("```", 2)[1].strip("\n").splitlines()
    drawn = [[m.strip() for m in re.split(r"\s{2,}", row, maxsplit=1)[0].split("|")] for row in diagram]
    assert drawn == expected


def test_every_relative_link_of_the_readme_is_a_file() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme())
    relative = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert len(relative) >= 10, relative
    assert [link for link in relative if not (REPO / link).exists()] == []


# --------------------------------------------------------------------------- the built site


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True, timeout=300, cwd=REPO,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_module("mkdocs")
    require_module("material")
    out = tmp_path_factory.mktemp("site")
    r = mkdocs_build(REPO / "mkdocs.yml", out)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def test_the_site_has_every_page_the_references_and_the_figures(site: Path) -> None:
    for page in pages():
        uri = page.relative_to(DOCS).with_suffix("")
        built = site / ("index.html" if uri.name == "index" else uri / "index.html")
        assert built.is_file(), built
    suite_ref = (site / "reference/suite/index.html").read_text(encoding="utf-8")
    assert all(f'id="{name}"' in suite_ref for name in CellSettings.model_fields)
    cli_ref = (site / "reference/cli/index.html").read_text(encoding="utf-8")
    assert "rnnbench suite schema" in cli_ref
    assert "results go to reports/runs/&lt;run-id&gt;/" in cli_ref  # help text shown, not taken for HTML
    assert (site / "studies/reports/gru-vs-lstm/epoch-times.svg").read_bytes() == \
        (REPO / "reports/gru-vs-lstm/epoch-times.svg").read_bytes()
    assert not (site / "hooks.py").exists()


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    require_module("mkdocs")
    import yaml

    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    with (docs / "concepts/suites.md").open("a", encoding="utf-8") as f:
        f.write("\nSee [the settings](settings-that-do-not-exist.md).\n")
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    config.update(docs_dir=str(docs), hooks=[str(DOCS / "hooks.py")])
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    r = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert r.returncode != 0
    assert "settings-that-do-not-exist.md" in r.stderr


# --------------------------------------------------------------------------- in the browser


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The built site over HTTP on localhost (its search and scripts need http://, as on Pages)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with started() as b:
        yield b


def _look(browser: Chromium, url: str, origin: str, shot: Path) -> Any:
    page = browser.open(url, width=1280, height=2000)
    assert page.requests(), "the browser reported no request"
    assert [u for u in page.requests() if not u.startswith((origin, "data:"))] == []  # nothing leaves the site
    assert page.problems() == []
    broken = page.eval("Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
                       ".map(i => i.src)")
    assert broken == []
    page.screenshot(shot)
    assert shot.stat().st_size > 20_000
    from PIL import Image

    with Image.open(shot) as img:  # not a blank page: many colours, and the page's own size
        assert img.width == 1280 and len(img.convert("RGB").getcolors(1 << 20) or []) > 50
    dest = os.environ.get("RNNBENCH_SCREENSHOTS")
    if dest:
        Path(dest).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(dest) / shot.name)
    return page


def test_the_home_page_in_the_browser(served: str, browser: Chromium, tmp_path: Path) -> None:
    page = _look(browser, served, served, tmp_path / "docs-home.png")
    assert page.eval("document.title").startswith("rnnbench")
    assert page.eval("document.querySelector('article h1').firstChild.textContent.trim()") == "rnnbench"
    figures = page.eval("Array.from(document.querySelectorAll('article img')).map(i => i.naturalWidth)")
    assert len(figures) == 1 and figures[0] > 300
    nav = page.eval("Array.from(document.querySelectorAll('.md-nav__link')).map(a => a.textContent.trim())")
    for entry in ("Getting started", "Suite reference", "CLI reference", "GRU vs LSTM"):
        assert entry in nav, nav


def test_a_study_page_in_the_browser(served: str, browser: Chromium, tmp_path: Path) -> None:
    page = _look(browser, served + "studies/tutorial/", served, tmp_path / "docs-study-tutorial.png")
    text = page.eval("document.querySelector('article').innerText")
    assert "The tutorial's five claims" in text
    assert "the tutorial's five claims, measured" in text  # reports/tutorial/README.md, included
    assert page.eval("document.querySelectorAll('article table').length") >= 1
    figures = page.eval("Array.from(document.querySelectorAll('article img'))"
                        ".map(i => [i.getAttribute('src'), i.naturalWidth])")
    assert [src for src, _ in figures] == ["../reports/tutorial/fit-curves.svg",
                                           "../reports/tutorial/gap-vs-train-size.svg"]
    assert all(width > 300 for _, width in figures), figures
