"""Suite parsing, validation messages and cell expansion (no framework needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_suite

from rnnbench.errors import UserError
from rnnbench.suite import load_suite, packaged_suites_dir, parse_suite

BASE = """
name = "t"
[defaults]
epochs = 1
[matrix]
arch = ["gru", "lstm"]
backend = ["torch", "fake"]
"""


def test_matrix_expands_with_repeats_and_excludes() -> None:
    s = parse_suite(BASE + '[[exclude]]\narch = "lstm"\nbackend = "fake"\n', "t.toml")
    labels = [c.label for c in s.cells]
    assert labels == ["GRU / torch", "GRU / fake", "LSTM / torch"]
    assert s.varying == ("arch", "backend")
    s2 = parse_suite('repeat = 3\n' + BASE, "t.toml")
    assert len(s2.cells) == 12
    assert len({c.key for c in s2.cells}) == 12
    assert len({c.group_key for c in s2.cells}) == 4


def test_seed_is_not_part_of_identity() -> None:
    s = parse_suite(BASE.replace('backend = ["torch", "fake"]', 'seed = [1, 2]'), "t.toml")
    assert len(s.cells) == 4
    assert len({c.group_key for c in s.cells}) == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[defaults]\nepoch = 2\n', "t.toml: defaults.epoch: unknown setting 'epoch'; did you mean 'epochs'?"),
        ('[matrix]\narch = ["gru", "gruu"]\n', "t.toml: matrix.arch[1]: unknown architecture 'gruu': expected one of gru, lstm, rnn, mingru, minlstm"),
        ('[defaults]\nunits = "128"\n', "t.toml: defaults.units: expected a valid integer, got '128' (str)"),
        ('[defaults]\nunits = 0\n', "t.toml: defaults.units: "),
        ('[defualts]\nunits = 3\n', "t.toml: defualts: unknown key; did you mean 'defaults'?"),
        ('epochs = 3\n', "'epochs' is a cell setting: put it under [defaults] or [matrix]"),
        ('[defaults\n', "t.toml: invalid TOML"),
        ('repeat = 0\n', "t.toml: repeat: expected a positive integer"),
        ('[matrix]\narch = []\n', "t.toml: matrix.arch: expected a non-empty list"),
        ('[[exclude]]\narhc = "gru"\n', "t.toml: exclude[0].arhc: unknown setting 'arhc'; did you mean 'arch'?"),
        ('[regression]\ntime = "fast"\n', "t.toml: regression.time: expected a number"),
    ],
)
def test_errors_name_file_key_and_expectation(text: str, expected: str) -> None:
    with pytest.raises(UserError) as e:
        parse_suite(text, "t.toml")
    assert expected in str(e.value)
    assert "\n" not in str(e.value)


def test_combination_errors_name_the_cell() -> None:
    with pytest.raises(UserError, match="recurrent_dropout is a Keras setting"):
        parse_suite('[defaults]\nbackend = "torch"\nrecurrent_dropout = 0.2\n', "t.toml")


# Every ready suite shipped in rnnbench/suites/, with its cell count (repeats included).
READY_SUITES = {
    "ci": 4 * 3 * 4,  # repeat 4 × arch 3 × backend 4
    "gru-vs-lstm": 3 * 2 * 2,  # arch 3 × backend 2 × seed 2
    "ci-ab": 2 * 2 - 2,  # arch 2 × backend 2 minus 2 excluded (pairs, not repeats, replicate it)
    "imdb": 3 * 4,  # arch 3 × backend 4
    "quick": 3,  # arch 3 on torch
    "tutorial": (2 * 4 + 1) * 2 * 3,  # (GRU, LSTM × 4 train sizes + SimpleRNN at full data) × backend 2 × seed 3
    "modes": 2 * 2 * 2 + 2,  # arch 2 × backend 2 × mode 2, plus torch with compile_rnn for GRU and LSTM
    "scaling": 2 * 2 * (4 + 3),  # arch 2 × backend 2 × (maxlen 4 at 128 units + units 3 more at maxlen 200)
    "min-rnn": 4 * 2,  # arch 4 (GRU, LSTM, minGRU, minLSTM) × maxlen 2 on torch
    "infer": 4 * 2,  # arch 4 × backend 2
    "gpu": 2 * 3,  # arch 2 × backend 3 (torch, keras-jax, keras-torch), device cuda
}


def test_every_ready_suite_is_listed() -> None:
    assert {p.stem for p in packaged_suites_dir().glob("*.toml")} == set(READY_SUITES)


@pytest.mark.parametrize("name", sorted(READY_SUITES))
def test_ready_suites_parse(name: str) -> None:
    path = packaged_suites_dir() / f"{name}.toml"
    s = load_suite(path)
    assert s.name == name and len(s.cells) == READY_SUITES[name]
    assert len({c.key for c in s.cells}) == len(s.cells)
    assert load_suite(name).cells == s.cells  # found by bare name too


def test_missing_suite_file() -> None:
    with pytest.raises(UserError, match="no such suite file"):
        load_suite("does-not-exist.toml")


def test_set_and_only_override_and_filter() -> None:
    text = BASE + "[[exclude]]\narch = \"lstm\"\nbackend = \"fake\"\n"
    s = parse_suite(text, "t.toml", overrides={"backend": "torch", "epochs": 2}, only={"arch": "gru"})
    assert [c.label for c in s.cells] == ["GRU / torch"]
    assert s.cells[0].settings.epochs == 2
    with pytest.raises(UserError, match=r"t.toml: --set epoch: unknown setting 'epoch'; did you mean 'epochs'\?"):
        parse_suite(text, "t.toml", overrides={"epoch": 1})
    with pytest.raises(UserError, match="--set units: expected a valid integer"):
        parse_suite(text, "t.toml", overrides={"units": "many"})
    with pytest.raises(UserError, match="leaves no cells"):
        parse_suite(text, "t.toml", only={"arch": "rnn"})


def test_combinations_are_judged_per_cell_not_per_key() -> None:
    ok = parse_suite('[defaults]\nbackend = "keras-tensorflow"\nrecurrent_dropout = 0.2\n'
                     '[matrix]\ngru_reset = ["after", "before"]\n', "t.toml")
    assert len(ok.cells) == 2
    with pytest.raises(UserError, match=r't.toml: cell: PyTorch.s fused nn.GRU.*use impl = "cell" for gru_reset = "before" \(cell gru_reset=before\)'):
        parse_suite('[matrix]\ngru_reset = ["after", "before"]\n', "t.toml")
    assert len(parse_suite('[defaults]\nimpl = "cell"\n[matrix]\ngru_reset = ["after", "before"]\n', "t.toml").cells) == 2


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("time", 0.5, "a step-time ratio above 1"), ("memory", 1.0, "a peak-RSS ratio above 1"),
    ("alpha", 1.5, "a significance level between 0 and 1"), ("accuracy_drop", -0.1, "an absolute accuracy drop"),
    ("max_cv", 0, "a coefficient of variation above 0"), ("time", "fast", "expected a number"),
    ("time", "nan", "expected a number"),
])
def test_regression_thresholds_are_validated_where_the_suite_is_loaded(tmp_path: Path, key: str, value: object,
                                                                       expected: str) -> None:
    from rnnbench.errors import UserError
    from rnnbench.suite import load_suite

    literal = value if value != "fast" else '"fast"'
    p = write_suite(tmp_path, f"[matrix]\narch = [\"gru\"]\n[regression]\n{key} = {literal}\n")
    with pytest.raises(UserError, match=rf"t.toml: regression\.{key}: .*{expected}"):
        load_suite(p)
