"""Grouping stored records by cell (rnnbench.cells): which records are one measurement, the
values a group yields, the names a report gives it, and the machine a record ran on."""

from __future__ import annotations

from typing import Any

from rnnbench.cells import Group, cell_name, group_records, kinds_of, machine_kind, machine_label, metric_values, \
    time_values, varying
from rnnbench.identity import identity_key


def _rec(settings: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    return {"settings": settings, "status": "ok", **extra}


def test_a_group_is_keyed_by_the_identity_its_records_stored_and_matched_with_defaults_filled() -> None:
    """An old record has no ``gru_reset`` (it ran at today's default, 'after'): it keeps the key it
    stored, and a run matching it finds a new record with gru_reset='after' by the match key, not
    one with 'before'; a run with injected ``extra_work`` is another cell with the same match key."""
    old = _rec({"arch": "gru", "backend": "torch", "units": 64})
    new = _rec({"arch": "gru", "backend": "torch", "units": 64, "gru_reset": "after"})
    other = _rec({"arch": "gru", "backend": "torch", "units": 64, "gru_reset": "before"})
    slowed = _rec({"arch": "gru", "backend": "torch", "units": 64, "gru_reset": "after", "extra_work": 0.03})
    groups = group_records([old, new, other, slowed, dict(old)])
    assert list(groups) == [identity_key(r["settings"]) for r in (old, new, other, slowed)]
    g_old, g_new, g_other, g_slowed = groups.values()
    assert g_old.records == [old, old] and g_old.identity["gru_reset"] == "after" and g_old.identity["epochs"] == 3
    assert g_old.match_key == g_new.match_key == g_slowed.match_key != g_other.match_key


def test_a_group_keeps_its_first_records_full_settings_seed_and_knobs_included() -> None:
    first = _rec({"arch": "lstm", "units": 32, "seed": 7, "timeout": 60})
    second = _rec({"arch": "lstm", "units": 32, "seed": 8, "timeout": 90})
    (group,) = group_records([first, second]).values()
    assert group.settings == {"arch": "lstm", "units": 32, "seed": 7, "timeout": 60}
    assert "seed" not in group.identity and "timeout" not in group.identity
    assert group.records == [first, second]
    (bare,) = group_records([{"status": "ok"}]).values()  # a record without settings
    assert bare.settings == {} and bare.label == bare.key


def test_a_groups_label_is_its_first_records_label() -> None:
    (group,) = group_records([_rec({"units": 8}, label="GRU / torch"), _rec({"units": 8}, label="x")]).values()
    assert group.label == "GRU / torch"


def test_step_times_are_per_process_medians_and_pooled_samples_and_non_positive_ones_are_dropped() -> None:
    recs = [
        {"metrics": {"steady_step_samples": [0.3, 0.1, 0.2, 0.0, -1.0, "x"], "steady_step_s": 9.0}},
        {"metrics": {"steady_step_s": 0.5}},  # an older record: its median only
        {"metrics": {"steady_step_s": 0.0}},  # no steady step measured
        {"metrics": {"steady_step_s": "n/a"}},
        {"metrics": None},
    ]
    medians, pooled = time_values(recs)
    assert medians == [0.2, 0.5] and pooled == [0.3, 0.1, 0.2, 0.5]
    assert all(isinstance(v, float) for v in medians + pooled)
    assert time_values([{"metrics": {"steady_step_samples": [0.0, 0.0], "steady_step_s": 0.25}}]) == ([0.25], [0.25])


def test_metric_values_keep_finite_numbers_only() -> None:
    recs = [{"metrics": {"acc": v}} for v in (0.5, 1, True, float("nan"), float("inf"), "0.7", None)]
    recs.append({"metrics": None})
    values = metric_values(recs, "acc")
    assert values == [0.5, 1.0] and all(isinstance(v, float) for v in values)


def _group(label: str, **identity: Any) -> Group:
    return Group(key=label, label=label, identity=identity, records=[], settings={})


def test_only_settings_that_differ_and_are_not_in_the_label_name_a_cell_in_first_seen_order() -> None:
    a = _group("GRU / torch", arch="gru", backend="torch", layers=1, bidirectional=False, impl="fused",
               units=64, batch_size=32, epochs=3)
    b = _group("LSTM / keras", arch="lstm", backend="keras", layers=2, bidirectional=True, impl="cudnn",
               units=128, batch_size=32, epochs=3, maxlen=100)
    assert varying([a, b]) == ["units", "maxlen"]
    assert varying([a]) == []
    assert cell_name(b, ["units", "maxlen"]) == "LSTM / keras (units=128, maxlen=100)"
    assert cell_name(a, ["units", "maxlen"]) == "GRU / torch (units=64, maxlen=None)"
    assert cell_name(a, []) == "GRU / torch"


def test_a_machine_in_words_says_what_is_known_and_marks_what_is_not() -> None:
    node = {"cpu_model": "Xeon", "cpu_count": 2, "fingerprint": "abc123"}
    assert machine_label({"node": node}) == "Xeon ×2 (abc123)"
    assert machine_label({"node": {"fingerprint": "abc123"}}) == "? (abc123)"
    assert machine_label({"node": "not a node"}) == "? (?)"
    assert machine_label({}) == "? (?)"


def test_the_kinds_of_machine_of_records_fall_back_to_the_runs_machine_for_old_records() -> None:
    records = [{"node": {"fingerprint": "a"}}, {"node": {}}, {}]
    assert kinds_of(records, default="run-machine") == {"a", "run-machine"}
    assert kinds_of(records) == {"a", None}
    assert machine_kind({"node": {"fingerprint": 7}}) == "7"
    assert kinds_of([]) == set()


def test_every_committed_run_shows_the_identity_its_records_stored() -> None:
    """One cell identity (issue 27): for every run committed under reports/, the key each record
    stored as ``group`` is the key it is grouped under, the one exports write, the one compare
    names, and the one the report groups by."""
    from helpers import REPO

    from rnnbench.compare.verdicts import compare
    from rnnbench.exports import cell_stats
    from rnnbench.report.aggregate import group_records as report_groups
    from rnnbench.snapshot import load_snapshot

    committed = [p for p in (REPO / "reports").rglob("results.jsonl") if p.parts[len(REPO.parts) + 1] != "runs"]
    runs = sorted({p.parent for p in committed})
    assert len(runs) >= 150
    for run in runs:
        snap = load_snapshot(str(run))
        stored = {r["group"] for r in snap.records}
        assert set(group_records(snap.records)) == stored, run
        assert {c["group"] for c in cell_stats(snap)} == stored, run
        assert {g for g, _, _ in report_groups(snap.records)} == stored, run
        assert {c.key for c in compare(snap, snap).cells} == stored, run
