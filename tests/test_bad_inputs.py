"""The catalogue of bad inputs: each one answered with one line naming the problem (and the way
out), exit 2, no traceback. Every case runs the real CLI in-process on files made here.

Each case is (id, files to write, command, words the line must hold). ``{d}`` in a command or
a file's content is the case's own folder.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnbench.cli import app

runner = CliRunner()

OK = """name = "ok"
[defaults]
backend = "fake"
dataset = "sample"
epochs = 1
max_steps_per_epoch = 6
test_size = 32
[matrix]
arch = ["gru", "lstm"]
"""


def suite(body: str) -> dict[str, str | bytes]:
    return {"s.toml": body}


def _tar(members: dict[str, bytes], truncate: int | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return raw[:truncate] if truncate else raw


RUN = ["run", "{d}/s.toml", "--dry-run"]

CASES: list[tuple[str, dict[str, str | bytes], list[str], list[str]]] = [
    # -- suites
    ("suite-not-text", suite(b'name = "x"\n\xff\xfe\x00'), RUN, ["not a text suite", "UTF-8"]),  # type: ignore[dict-item]
    ("suite-empty", suite(""), RUN, ["the suite is empty"]),
    ("suite-comments-only", suite("# nothing\n\n"), RUN, ["the suite is empty"]),
    ("suite-bad-toml", suite("[defaults\nunits = 3\n"), RUN, ["invalid TOML"]),
    ("suite-unknown-top-key", suite("colour = 1\n" + OK), RUN, ["colour", "unknown key"]),
    ("suite-setting-at-top", suite("units = 3\n" + OK), RUN, ["'units' is a cell setting", "[defaults]"]),
    ("suite-typo", suite(OK.replace("epochs = 1", "epoch = 1")), RUN, ["defaults.epoch", "did you mean 'epochs'"]),
    ("suite-unknown-table", suite(OK + "[reprot]\nx = 1\n"), RUN, ["reprot", "did you mean 'report'"]),
    ("suite-wrong-type", suite(OK.replace("epochs = 1", 'epochs = "one"')), RUN, ["defaults.epochs", "integer"]),
    ("suite-float-for-int", suite(OK.replace("epochs = 1", "epochs = 1.5")), RUN, ["defaults.epochs"]),
    ("suite-bool-for-int", suite(OK.replace("epochs = 1", "epochs = true")), RUN, ["defaults.epochs"]),
    ("suite-nan", suite(OK + "[regression]\ntime = nan\n"), RUN,
     ["regression.time", "expected a number"]),
    ("suite-nan-setting", suite(OK.replace("epochs = 1", "epochs = 1\nlearning_rate = nan")), RUN,
     ["defaults.learning_rate", "finite"]),
    ("suite-inf-setting", suite(OK.replace("epochs = 1", "epochs = 1\nlearning_rate = inf")), RUN,
     ["defaults.learning_rate", "finite"]),
    ("suite-out-of-range", suite(OK.replace("epochs = 1", "epochs = 1\nlayers = 9")), RUN,
     ["defaults.layers", "less than or equal to 8"]),
    ("suite-zero-epochs", suite(OK.replace("epochs = 1", "epochs = 0")), RUN, ["defaults.epochs", "greater than"]),
    ("suite-dropout-one", suite(OK.replace("epochs = 1", "epochs = 1\ndropout = 1.0")), RUN, ["defaults.dropout"]),
    ("suite-empty-axis", suite(OK.replace('arch = ["gru", "lstm"]', "arch = []")), RUN,
     ["matrix.arch", "non-empty list"]),
    ("suite-bad-axis-value", suite(OK.replace('arch = ["gru", "lstm"]', 'arch = ["gru", "transformer"]')), RUN,
     ["matrix.arch[1]", "expected one of"]),
    ("suite-unknown-backend", suite(OK.replace('backend = "fake"', 'backend = "tf"')), RUN, ["defaults.backend"]),
    ("suite-exclude-not-array", suite("exclude = 3\n" + OK), RUN, ["exclude", "array of tables"]),
    ("suite-exclude-everything", suite(OK + '[[exclude]]\nbackend = "fake"\n'), RUN, ["leaves no cells"]),
    ("suite-include-duplicates", suite(OK + '[[include]]\narch = "gru"\n'), RUN, ["include[0]", "duplicates"]),
    ("suite-contradiction-dropout", suite(OK.replace('backend = "fake"', 'backend = "torch"\nrecurrent_dropout = 0.2')),
     RUN, ["recurrent_dropout is a Keras setting"]),
    ("suite-contradiction-warmup", suite(OK.replace("epochs = 1", "epochs = 1\nwarmup_steps = 6")), RUN,
     ["warmup_steps = 6 leaves no steady-state step"]),
    ("suite-contradiction-reset", suite(OK.replace('backend = "fake"', 'backend = "torch"\ngru_reset = "before"')),
     RUN, ['impl = "cell"']),
    ("suite-repeat-zero", suite("repeat = 0\n" + OK), RUN, ["repeat", "positive integer"]),
    ("suite-name-empty", suite('name = ""\n' + OK.split("\n", 1)[1]), RUN, ["name", "non-empty string"]),
    ("suite-regression-range", suite(OK + "[regression]\ntime = 0.5\n"), RUN, ["regression.time", "above 1"]),
    ("suite-regression-key", suite(OK + "[regression]\nspeed = 1.1\n"), RUN, ["regression.speed", "unknown key"]),
    ("suite-regression-trim", suite(OK + "[regression]\ntrim = 0.5\n"), RUN, ["regression.trim", "below 0.5"]),
    ("suite-regression-trim-negative", suite(OK + "[regression]\ntrim = -0.1\n"), RUN, ["regression.trim", "from 0"]),
    ("suite-absurd-matrix", suite(OK.replace('arch = ["gru", "lstm"]', 'arch = ["gru", "lstm"]\nseed = ['
                                             + ", ".join(str(i) for i in range(300)) + "]\nunits = [8, 16]")),
     ["run", "{d}/s.toml", "-q"], ["1,200 cells", "--yes"]),
    ("suite-missing", {}, ["run", "{d}/nope.toml"], ["no such suite file", "ready suites"]),
    ("suite-is-a-folder", {"s.toml/x": "x"}, ["run", "{d}/s.toml"], ["no such suite file"]),
    ("set-no-equals", suite(OK), ["run", "{d}/s.toml", "--dry-run", "--set", "epochs"], ["expected KEY=VALUE"]),
    ("set-unknown", suite(OK), ["run", "{d}/s.toml", "--dry-run", "--set", "epoks=2"], ["epoks", "did you mean"]),
    ("set-bad-value", suite(OK), ["run", "{d}/s.toml", "--dry-run", "--set", "epochs=-1"], ["--set epochs"]),
    ("only-unknown", suite(OK), ["run", "{d}/s.toml", "--dry-run", "--only", "archh=gru"], ["--only archh"]),
    # -- data
    ("data-missing", {}, ["data", "import", "{d}/nothing.tar.gz"], ["{d}/nothing.tar.gz"]),
    ("data-not-a-tar", {"x.tar.gz": b"this is not an archive at all"}, ["data", "import", "{d}/x.tar.gz"],
     ["x.tar.gz"]),
    ("data-truncated", {"t.tar.gz": _tar({"aclImdb/train/pos/0_9.txt": b"great film " * 500}, truncate=60)},
     ["data", "import", "{d}/t.tar.gz"], ["t.tar.gz"]),
    ("data-empty-tar", {"e.tar.gz": _tar({})}, ["data", "import", "{d}/e.tar.gz"], ["e.tar.gz"]),
    ("data-empty-folder", {"empty/.keep": ""}, ["data", "import", "{d}/empty"], ["empty"]),
    ("data-gzip-of-garbage", {"g.tar.gz": gzip.compress(b"\x00" * 1000 + b"junk")}, ["data", "import", "{d}/g.tar.gz"],
     ["g.tar.gz"]),
    ("word-index-not-json", {"imdb_word_index.json": "{not json"}, ["data", "import", "{d}/imdb_word_index.json"],
     ["imdb_word_index.json"]),
    ("word-index-wrong-shape", {"imdb_word_index.json": json.dumps(["a", "b"])},
     ["data", "import", "{d}/imdb_word_index.json"], ["imdb_word_index.json"]),
    # -- results and baselines
    ("report-unknown-run", {}, ["report", "no-such-run-id"], ["no-such-run-id"]),
    ("compare-unknown-baseline", {}, ["compare", "baseline:nope", "latest"], ["nope"]),
    ("baseline-nonsense", {"reports/baselines/bad.json": "[1, 2, 3]"}, ["compare", "baseline:bad", "latest"], ["bad"]),
    ("baseline-not-json", {"reports/baselines/torn.json": '{"suite": {'}, ["compare", "baseline:torn", "latest"],
     ["torn"]),
    ("run-folder-empty", {"reports/runs/20250101-000000-x/.keep": ""}, ["report", "20250101-000000-x"],
     ["20250101-000000-x"]),
    # -- environment
    ("output-not-writable", {"blocker": "x", **suite(OK)}, ["run", "{d}/s.toml", "-o", "{d}/blocker/runs"],
     ["not writable"]),
    ("ab-missing-python", suite(OK), ["ab", "{d}/s.toml", "--b", "{d}/no-venv"], ["no-venv"]),
    ("ab-too-many-jobs", suite(OK), ["ab", "{d}/s.toml", "--aa", "--set", "threads=1", "-j", "4096"], ["--jobs 4096"]),
    # -- executors and devices
    ("executor-unknown", suite(OK), ["run", "{d}/s.toml", "--executor", "slurm"], ["--executor 'slurm'"]),
    ("executor-ray-no-address", suite(OK), ["run", "{d}/s.toml", "--executor", "ray"], ["needs --address"]),
    ("address-without-ray", suite(OK), ["run", "{d}/s.toml", "--address", "auto"], ["--address is for --executor ray"]),
    ("ray-with-jobs", suite(OK), ["run", "{d}/s.toml", "--executor", "ray", "--address", "auto", "-j", "2"],
     ["--jobs is for the local executor"]),
    ("ray-nobody-there", suite(OK), ["run", "{d}/s.toml", "--executor", "ray", "--address", "127.0.0.1:1"],
     ["127.0.0.1:1", "no Ray cluster answers there"]),
    ("device-unknown", suite(OK.replace("epochs = 1", 'epochs = 1\ndevice = "gpu"')), RUN,
     ["defaults.device", "expected cpu, cuda or cuda:N", "'gpu'"]),
    ("ray-resources-bad", suite(OK.replace("epochs = 1", 'epochs = 1\nray_resources = "node"')), RUN,
     ["defaults.ray_resources", "NAME=AMOUNT", "'node'"]),
    ("retries-negative", suite(OK.replace("epochs = 1", "epochs = 1\nretries = -1")), RUN, ["defaults.retries"]),
    ("compile-rnn-eager", suite(OK.replace("epochs = 1", "epochs = 1\ncompile_rnn = true")), RUN,
     ["compile_rnn needs mode"]),
    ("mode-unknown", suite(OK.replace("epochs = 1", 'epochs = 1\nmode = "jit"')), RUN, ["defaults.mode", "'eager'"]),
    ("calibrate-unknown-device", {}, ["env", "--calibrate", "--device", "tpu"], ["--device 'tpu'"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(case: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name, files, cmd, words = case
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RNNBENCH_REPORTS", str(tmp_path / "reports"))
    for rel, content in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content.replace("{d}", str(tmp_path)), encoding="utf-8")
    res = runner.invoke(app, [c.replace("{d}", str(tmp_path)) for c in cmd])
    # the error is one line (a progress bar drawn before it, as `data import` does, is not an error)
    lines = [x for x in res.output.splitlines() if x.startswith("rnnbench: error:")]
    assert res.exit_code == 2, f"{name}: exit {res.exit_code}\n{res.output}\n{res.exception!r}"
    assert "Traceback" not in res.output and len(lines) == 1, f"{name}: {res.output}"
    assert len([x for x in res.output.splitlines() if x.strip()]) <= 2, f"{name}: {res.output}"
    for w in words:
        assert w.replace("{d}", str(tmp_path)) in lines[0], f"{name}: {w!r} not in {lines[0]!r}"


def test_the_catalogue_is_long_enough() -> None:
    assert len(CASES) >= 40
