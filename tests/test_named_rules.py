"""Rules that decide verdicts, identities, escapes and retries, one test a rule, each seen to fail
when its rule is broken. The first five a review broke on purpose while every test stayed green
(issue 28): the verdict floor, the PR comment's escaping, the digest's key order, the settings
that make a cell's identity, and which failures are retried; the rest kill what mutation testing
(``mutmut run``) found surviving in those modules."""

from __future__ import annotations

import math

import pytest

from rnnbench.identity import digest, identity_key
from rnnbench.executors.retry import should_retry
from rnnbench.stats import PairedRatio, decide, paired_ratio, paired_verdict


def test_a_significant_change_below_the_threshold_is_sized_not_failed_and_never_unchanged() -> None:
    """ab's step-time rule: +1% and +3% measured tightly (intervals above 1, below ×1.05) are
    "slower, below threshold" — shown, not a regression, and not "unchanged"; +6% fails."""
    def tight(change: float) -> PairedRatio:
        return paired_ratio([math.log(change) + d for d in (-0.001, 0.0005, 0.0, 0.001, -0.0005, 0.0002)])

    for change in (1.01, 1.03):
        r = tight(change)
        assert r.ci is not None and 1 < r.ci[0] and r.ci[1] < 1.05
        assert paired_verdict(r, 1.05) == "slower, below threshold"
        assert paired_verdict(tight(1 / change), 1.05) == "faster, below threshold"
    assert paired_verdict(tight(1.06), 1.05) == "slower" and paired_verdict(tight(1 / 1.06), 1.05) == "faster"
    assert paired_verdict(tight(1.0), 1.05) == "unchanged"


def test_the_floor_is_half_the_threshold_in_log_space() -> None:
    """An interval above no change that reaches the threshold fails only when the estimate
    reaches half of it (Moses intervals are not symmetric, so this can bind)."""
    t = math.log(1.05)
    assert decide(t / 2 * 1.0001, 0.001, t, t) == "worse"
    assert decide(t / 2 * 0.9999, 0.001, t, t) == "inconclusive"
    assert decide(-t / 2 * 1.0001, -t, -0.001, t) == "better"
    assert decide(-t / 2 * 0.9999, -t, -0.001, t) == "inconclusive"


def test_the_pr_comment_escapes_what_records_and_suites_supply() -> None:
    from rnnbench.ab import DEFAULTS, Analysis, CellResult, SideSpec, render_markdown

    evil = "GRU | <img src=x onerror=alert(1)> **bold**"
    a = Analysis([CellResult("k1", evil, 4, 4, 4, "unchanged", ratio=1.0, ci=(0.99, 1.01))], dict(DEFAULTS))
    md = render_markdown(a, (SideSpec("a</sub>", "/a/python"), SideSpec("b", "/b/python")), "ab <script>")
    assert "<img" not in md and "<script>" not in md and "a</sub>" not in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md and r"\*\*bold\*\*" in md
    row = next(line for line in md.splitlines() if "&lt;img" in line)
    assert r"GRU \|" in row  # the label's pipe cannot split the table cell


def test_a_digest_does_not_depend_on_key_order() -> None:
    """Stored runs are keyed by these digests: the same settings built in another order (another
    Python run, another TOML table order) must give the same identity."""
    forward = {"arch": "gru", "backend": "torch", "units": 64, "nested": {"a": 1, "b": [1, 2]}}
    backward = {"nested": {"b": [1, 2], "a": 1}, "units": 64, "backend": "torch", "arch": "gru"}
    assert list(forward) != list(backward)
    assert digest(forward) == digest(backward)
    assert identity_key(forward) == identity_key(backward)
    assert digest(forward) != digest({**forward, "units": 65})


def test_the_keys_and_groups_of_a_committed_run_are_what_todays_code_derives_from_their_settings() -> None:
    """Stored runs are found again by these digests (resume, compare, baselines): the records of
    the committed gru-vs-lstm study, written on 2026-12-04, must still get the same 10-character
    keys and group keys from their stored settings."""
    import json

    from helpers import REPO

    from rnnbench.identity import identity

    records = [json.loads(line) for line in (REPO / "reports/gru-vs-lstm/results.jsonl").read_text().splitlines()]
    assert len(records) >= 6
    for r in records:
        assert len(r["group"]) == 10 and r["group"] == digest(identity(r["settings"]))
        slug = r["key"].rsplit("-", 1)[0]
        assert r["key"] == f"{slug}-{digest({**r['settings'], '_repeat': r['repeat']})}"


def test_a_digest_takes_values_json_cannot_hold_by_their_text() -> None:
    from pathlib import Path

    assert digest({"data": Path("/data/imdb")}) == digest({"data": "/data/imdb"})


def test_defaults_fill_an_identity_so_an_unset_setting_equals_its_default() -> None:
    from rnnbench.identity import match_identity

    defaults = {"units": 128, "epochs": 3, "extra_work": 0.0}
    assert identity_key({"units": 64}, defaults) == identity_key({"units": 64, "epochs": 3, "extra_work": 0.0})
    assert identity_key({"units": 64}, defaults) != identity_key({"units": 64})
    assert match_identity({"units": 64, "extra_work": 0.5}, defaults) == {"units": 64, "epochs": 3}


def test_a_retry_is_announced_with_the_number_of_the_attempt_about_to_run() -> None:
    from rnnbench.executors.retry import run_with_retries

    outcomes = iter([{"status": "crashed"}, {"status": "timeout"}, {"status": "ok"}])
    announced: list[int] = []
    final = run_with_retries(2, lambda: next(outcomes), lambda record, attempt: announced.append(attempt))
    assert announced == [2, 3]
    assert final["status"] == "ok" and [a["status"] for a in final["attempts"]] == ["crashed", "timeout"]


def test_escaped_text_is_one_line_its_line_breaks_become_single_spaces() -> None:
    from rnnbench.markdown import escape

    assert escape("Traceback:\n  File x\r\nValueError") == "Traceback:   File x ValueError"


@pytest.mark.parametrize("setting, a, b", [
    ("epochs", 1, 2), ("units", 64, 128), ("batch_size", 32, 64), ("maxlen", 100, 200),
    ("learning_rate", 1e-3, 3e-3), ("threads", 1, 2), ("backend", "torch", "keras-jax"),
    ("arch", "gru", "lstm"), ("device", "cpu", "cuda"), ("mode", "eager", "compiled"),
    ("dataset", "sample", "imdb"), ("extra_work", 0.0, 0.05), ("reuse_memory", False, True),
])
def test_every_measurement_setting_changes_a_cells_identity(setting: str, a: object, b: object) -> None:
    base = {"arch": "gru", "backend": "torch", "units": 64, "epochs": 3}
    assert identity_key({**base, setting: a}) != identity_key({**base, setting: b}), setting


@pytest.mark.parametrize("knob, a, b", [
    ("seed", 0, 1), ("timeout", 60, 900), ("target_accuracy", 0.8, 0.85), ("retries", 0, 2),
    ("memory_limit_mb", None, 4096), ("fault", None, "crash"), ("ray_resources", None, {"x": 1}),
])
def test_harness_knobs_and_the_seed_leave_the_identity_alone(knob: str, a: object, b: object) -> None:
    base = {"arch": "gru", "backend": "torch", "units": 64, "epochs": 3}
    assert identity_key({**base, knob: a}) == identity_key({**base, knob: b}), knob


@pytest.mark.parametrize("status, retried", [
    ("crashed", True), ("timeout", True), ("error", False), ("diverged", False), ("out_of_memory", False),
    ("ok", False), ("unavailable", False),
])
def test_crashes_and_timeouts_are_retried_and_the_cells_own_errors_are_not(status: str, retried: bool) -> None:
    assert should_retry({"status": status}, [], retries=1) is retried
    assert should_retry({"status": status}, [{"status": status}], retries=1) is False  # retries used up


@pytest.mark.parametrize("table, message", [
    ('rowz = "arch"', "report.rowz: unknown key; did you mean 'rows'?"),
    ("target = 85", "report.target: expected an accuracy in (0, 1], got 85"),
    ("cols = 3", "report.cols: expected a string or a list of strings, got 3"),
])
def test_report_table_keys_are_checked_like_every_other_suite_key(tmp_path, table: str, message: str) -> None:
    from helpers import write_suite

    from rnnbench.errors import UserError
    from rnnbench.suite import load_suite

    path = write_suite(tmp_path, f'[defaults]\nbackend = "fake"\n[report]\n{table}\n')
    with pytest.raises(UserError) as err:
        load_suite(path)
    assert message in str(err.value)
    ok = write_suite(tmp_path, '[defaults]\nbackend = "fake"\n[report]\nrows = "arch"\ncols = ["backend"]\n'
                     'metric = "steady_step_ms"\ntarget = 0.8\nformats = "md"\n', name="ok")
    assert load_suite(ok).report["target"] == 0.8
