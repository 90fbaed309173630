"""Named baselines (save / list / show / compare against) and the exports (github-action-benchmark, CSV)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from helpers import CELLS, cli
from helpers import make_compare_run as make_run

from rnnbench import paths


def _runs() -> Path:
    return paths.runs_dir()


def test_save_list_show_round_trip(tmp_path: Path) -> None:
    make_run(_runs(), "20240501-120000-ci", seed=1)
    res = cli("baseline", "save", "ci")  # default: the latest run
    assert res.exit_code == 0, res.output
    assert "saved baseline 'ci' from run 20240501-120000-ci (15 records)" in res.output
    path = paths.reports_dir() / "baselines" / "ci.json"
    text = path.read_text()
    data = json.loads(text)
    # plain and diff-friendly: sorted keys, indent 2, each sample list on one line, bulky fields dropped
    assert text.startswith('{\n  "baseline_schema": 1,\n')
    assert list(data) == sorted(data)
    assert any(line.strip().startswith('"steady_step_samples": [') and line.rstrip().endswith("],")
               for line in text.splitlines())
    rec = data["records"][0]
    assert "log_tail" not in rec and "step_times_s" not in rec["metrics"] and "epochs" not in rec["metrics"]
    assert len(rec["metrics"]["steady_step_samples"]) == 30
    assert data["suite"]["name"] == "ci" and data["fingerprint"] and data["machine"]["cpu_model"] == "Test CPU 9000"
    assert data["machine"]["versions"] == {"numpy": "2.0.0"} and data["machine"]["cpu_count"] == 8

    res = cli("baseline", "list")
    assert res.exit_code == 0 and "ci" in res.output and "20240501-120000-ci" in res.output
    res = cli("baseline", "show", "ci")
    assert res.exit_code == 0, res.output
    for needle in ("Test CPU 9000", "GRU / fake", "LSTM / fake", "SimpleRNN / fake", "numpy 2.0.0", "20.0"):
        assert needle in res.output, needle
    res = cli("baseline", "show", "ci", "--json")
    assert json.loads(res.stdout)["records"] == data["records"]


def test_save_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    make_run(_runs(), "r1", seed=1)
    assert cli("baseline", "save", "ci", "r1").exit_code == 0
    res = cli("baseline", "save", "ci", "r1")
    assert res.exit_code == 2 and "exists" in res.output and "--force" in res.output
    res = cli("baseline", "save", "ci", "r1", "--force")
    assert res.exit_code == 0 and "replaced baseline 'ci'" in res.output


def test_bad_baseline_names_and_runs(tmp_path: Path) -> None:
    make_run(_runs(), "r1", seed=1)
    res = cli("baseline", "save", "../evil", "r1")
    assert res.exit_code == 2 and "not a valid baseline name" in res.output
    res = cli("baseline", "save", "ok", "no-such-run")
    assert res.exit_code == 2 and "no such run" in res.output
    res = cli("baseline", "show", "nothing")
    assert res.exit_code == 2 and "no baseline named 'nothing'" in res.output


def test_compare_against_a_baseline(tmp_path: Path) -> None:
    make_run(_runs(), "old", seed=1)
    assert cli("baseline", "save", "ci", "old").exit_code == 0
    make_run(_runs(), "same", seed=2)
    make_run(_runs(), "slow", seed=3, ratio=1.05)
    for ref in ("baseline:ci", "ci", str(paths.reports_dir() / "baselines" / "ci.json")):
        res = cli("compare", ref, "same", "-q")
        assert res.exit_code == 0, (ref, res.output)
    out = tmp_path / "c.json"
    res = cli("compare", "baseline:ci", "slow", "--json", out)
    assert res.exit_code == 1
    data = json.loads(out.read_text())
    assert data["baseline"]["ref"] == "baseline:ci" and data["baseline"]["run_id"] == "old"
    assert data["counts"]["slower"] == 3
    # the baseline compares exactly like the run it was saved from
    res_run = json.loads(cli("compare", "old", "slow", "--json", "-").stdout)
    assert [c["metrics"] for c in res_run["cells"]] == [c["metrics"] for c in data["cells"]]


def test_baseline_keeps_failed_records(tmp_path: Path) -> None:
    make_run(_runs(), "broken", seed=1, fail={"rnn": "error"})
    res = cli("baseline", "save", "ci", "broken")
    assert res.exit_code == 0 and "5 failed" in res.output
    make_run(_runs(), "good", seed=2)
    out = json.loads(cli("compare", "ci", "good", "--json", "-").stdout)
    rnn = next(c for c in out["cells"] if c["label"] == "SimpleRNN / fake")
    assert [m["verdict"] for m in rnn["metrics"]] == ["fixed"]


# --------------------------------------------------------------------------- exports


def test_github_action_benchmark_json(tmp_path: Path) -> None:
    make_run(_runs(), "r1", seed=1, fail={"rnn": "timeout"})
    res = cli("export", "r1", "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    smaller = json.loads((tmp_path / "out" / "benchmark-smaller.json").read_text())
    bigger = json.loads((tmp_path / "out" / "benchmark-bigger.json").read_text())
    for entries in (smaller, bigger):
        assert isinstance(entries, list) and entries
        for e in entries:
            assert set(e) <= {"name", "unit", "value", "range", "extra"} and {"name", "unit", "value"} <= set(e)
            assert isinstance(e["name"], str) and isinstance(e["unit"], str)
            assert isinstance(e["value"], (int, float)) and not isinstance(e["value"], bool)
            assert isinstance(e.get("range", ""), str) and isinstance(e.get("extra", ""), str)
        assert len({e["name"] for e in entries}) == len(entries)
    assert {e["unit"] for e in smaller} == {"ms", "MB"} and {e["unit"] for e in bigger} == {"%", "samples/s"}
    gru_step = next(e for e in smaller if e["name"] == "GRU / fake - steady step")
    assert 18 < gru_step["value"] < 22 and gru_step["range"].startswith("± ")
    assert "5 processes" in gru_step["extra"] and "commit 0123456789ab" in gru_step["extra"]
    acc = next(e for e in bigger if e["name"] == "GRU / fake - test accuracy")
    assert 80 < acc["value"] < 90
    assert not any(e["name"].startswith("SimpleRNN") for e in smaller + bigger)  # failed cells have no value


def test_history_csv_appends_once_per_run(tmp_path: Path) -> None:
    make_run(_runs(), "r1", seed=1)
    make_run(_runs(), "r2", seed=2, ratio=1.1)
    hist = tmp_path / "history.csv"
    assert cli("export", "r1", "--history", hist).exit_code == 0
    res = cli("export", "r2", "--history", hist)
    assert res.exit_code == 0 and "appended 3 rows" in res.output
    res = cli("export", "r2", "--history", hist)
    assert res.exit_code == 0 and "already recorded" in res.output
    rows = list(csv.DictReader(hist.open()))
    assert len(rows) == 2 * len(CELLS)
    assert [r["run_id"] for r in rows] == ["r1"] * 3 + ["r2"] * 3
    r = rows[0]
    assert r["timestamp"] == "2024-05-01T12:00:00+00:00" and r["git_commit"].startswith("0123456789abcdef")
    assert r["cell"] == "GRU / fake" and r["suite"] == "ci" and r["processes"] == "5" and r["failed"] == "0"
    assert 18 < float(r["steady_step_ms"]) < 22 and float(rows[3]["steady_step_ms"]) > float(r["steady_step_ms"])
    for col in ("peak_rss_mb", "test_acc", "samples_per_s"):
        float(r[col])
