"""The results store (rnnbench.results), Markdown escaping, and the encoded-data cache key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rnnbench.markdown import escape
from rnnbench.results import append_record, read_records, repair_tail

HOSTILE = "</details><img src=https://evil.example/x.png> | `code` *bold* [link](https://evil.example)\nline2"


def test_resume_after_a_torn_write_loses_no_record(tmp_path: Path) -> None:
    """records a, torn b -> the resumed run appends b and c -> a, b and c read back."""
    p = tmp_path / "results.jsonl"
    append_record(p, {"key": "a", "status": "ok"})
    with open(p, "a", encoding="utf-8") as f:
        f.write('{"key": "b", "sta')  # the parent died mid-write
    with pytest.warns(UserWarning, match="torn last line"):
        append_record(p, {"key": "b", "status": "ok"})
    append_record(p, {"key": "c", "status": "ok"})
    assert [r["key"] for r in read_records(p)] == ["a", "b", "c"]
    assert (tmp_path / "results.jsonl.torn").read_bytes() == b'{"key": "b", "sta\n'


def test_repair_tail_leaves_complete_files_alone(tmp_path: Path) -> None:
    p = tmp_path / "results.jsonl"
    assert repair_tail(p) == b""  # no file yet
    append_record(p, {"key": "a"})
    before = p.read_bytes()
    assert repair_tail(p) == b"" and p.read_bytes() == before
    p.write_bytes(b'{"key": "only torn')  # no complete line at all
    with pytest.warns(UserWarning):
        assert repair_tail(p) == b'{"key": "only torn'
    assert p.read_bytes() == b""


def test_markdown_escape_makes_any_value_literal_text() -> None:
    out = escape(HOSTILE)
    assert "<" not in out and ">" not in out and "\n" not in out
    assert "\\|" in out and "\\`" in out and "\\*bold\\*" in out and "\\[link\\]" in out
    assert escape(1.05) == "1.05" and escape("GRU / torch") == "GRU / torch"


def _run(root: Path, run_id: str, error: str | None, machine: dict[str, Any]) -> Path:
    from rnnbench.envinfo import fingerprint
    from rnnbench.suite import Cell, CellSettings

    run = root / run_id
    run.mkdir(parents=True)
    cells = [Cell(CellSettings(backend="fake", seed=r), repeat=r) for r in range(3)]
    (run / "run.json").write_text(json.dumps({
        "schema": 1, "run_id": run_id, "machine": machine, "fingerprint": fingerprint(machine),
        "cells": [c.to_json() for c in cells], "suite": {"name": HOSTILE, "fingerprint": "x", "regression": {}},
    }), encoding="utf-8")
    for c in cells:
        ok = error is None
        append_record(run / "results.jsonl", {
            "schema": 1, "run_id": run_id, **c.to_json(), "status": "ok" if ok else "error", "error": error,
            "log_tail": error, "wall_s": 1.0, "env": {"framework": "fake"} if ok else None,
            "metrics": {"steady_step_samples": [0.01] * 10, "steady_step_s": 0.01, "peak_rss_mb": 100.0,
                        "test_acc": 0.8} if ok else None,
        })
    return run


def test_pull_request_markdown_escapes_every_value(tmp_path: Path) -> None:
    from rnnbench.compare import compare, load_snapshot, render_markdown

    machine = {"cpu_model": HOSTILE, "cpu_count": 2, "python": "3.11", "versions": {}}
    a = _run(tmp_path, "a", None, machine)
    b = _run(tmp_path, "b", HOSTILE, machine)
    md = render_markdown(compare(load_snapshot(str(a)), load_snapshot(str(b))))
    assert "newly failing" in md
    assert "<img" not in md and "</details><img" not in md and "[link](" not in md
    assert md.count("<details>") == md.count("</details>") == 1  # only the renderer's own


def test_report_markdown_escapes_every_value(tmp_path: Path) -> None:
    from rnnbench.report.build import write_reports

    machine = {"cpu_model": HOSTILE, "cpu_count": 2, "python": "3.11", "versions": {}}
    run = _run(tmp_path, "r", HOSTILE + "\n```\n<img src=x>", machine)  # tries to close the log's fence
    from rich.console import Console

    paths = write_reports([run], out_root=tmp_path / "out", console=Console(quiet=True), formats="md")
    md = next(Path(p) for p in paths if str(p).endswith("report.md")).read_text(encoding="utf-8")
    fenced = md.split("\n```")
    assert len(fenced) % 2 == 1  # every log fence closed by the renderer's own
    outside = "".join(fenced[0::2])  # a log tail inside a fence is shown, never rendered
    assert "<img" not in outside and "[link](" not in outside


def test_cache_key_changes_with_the_encoding_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from rnnbench.data import cache

    fields = {"dataset": "sample", "num_words": 100}
    before = cache.make_key(fields)
    assert cache.make_key(fields) == before
    monkeypatch.setattr(cache, "code_version", lambda: "another-encoder")
    assert cache.make_key(fields) != before


def test_latest_means_the_latest_run_of_the_kind_the_command_takes(tmp_path: Path) -> None:
    """Issue 31: `compare baseline:ci latest` took a newer ab run as "latest" and then failed on
    "different suites". Each command now asks for its kind: suite runs, or ab runs."""
    import os

    from rnnbench.errors import UserError
    from rnnbench.results import resolve_run

    for i, (name, kind) in enumerate((("20261201-quick", None), ("20261202-ab-ci-ab", "ab"))):
        d = tmp_path / name
        d.mkdir()
        (d / "run.json").write_text(json.dumps({"run_id": name, **({"kind": kind} if kind else {})}))
        os.utime(d / "run.json", (1_000_000 + i, 1_000_000 + i))  # the ab run is the newer one
    assert resolve_run("latest", tmp_path).run_id == "20261202-ab-ci-ab"  # no kind asked: the newest
    assert resolve_run("latest", tmp_path, kind="suite").run_id == "20261201-quick"
    assert resolve_run(None, tmp_path, kind="ab").run_id == "20261202-ab-ci-ab"
    assert resolve_run("20261202-ab-ci-ab", tmp_path, kind="suite").run_id == "20261202-ab-ci-ab"  # named: as asked
    (tmp_path / "20261201-quick" / "run.json").unlink()
    with pytest.raises(UserError, match="no suite runs"):
        resolve_run("latest", tmp_path, kind="suite")
