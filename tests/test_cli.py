"""The command line as a user meets it: exit codes, one-line errors, a light --help."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from helpers import REPO, write_suite
from typer.testing import CliRunner

from rnnbench.cli import app

runner = CliRunner()


def test_help_imports_no_framework() -> None:
    code = ("import sys; from rnnbench.cli import app; "
            "heavy=[m for m in ('torch','tensorflow','keras','jax','pandas','pydantic','numpy') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"
    res = subprocess.run([sys.executable, "-m", "rnnbench", "--help"], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0 and "run" in res.stdout and "report" in res.stdout


def _bad(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    path = write_suite(tmp_path, body)
    return subprocess.run([sys.executable, "-m", "rnnbench", "run", str(path), "--dry-run"],
                          capture_output=True, text=True, cwd=REPO)


def test_bad_suites_give_one_line_and_exit_2(tmp_path: Path) -> None:
    for body, needle in [
        ("[defaults\n", "invalid TOML"),
        ("[defaults]\nunitz = 3\n", "defaults.unitz: unknown setting 'unitz'; did you mean 'units'?"),
        ('[defaults]\nepochs = "three"\n', "defaults.epochs: expected a valid integer"),
    ]:
        res = _bad(tmp_path, body)
        assert res.returncode == 2, res
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and str(tmp_path) in lines[0], res.stderr
        assert "Traceback" not in res.stderr


def test_dry_run_lists_cells(tmp_path: Path) -> None:
    path = write_suite(tmp_path, '[matrix]\narch = ["gru", "lstm", "rnn"]\nunits = [8, 16]\n')
    res = runner.invoke(app, ["run", str(path), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "6 cells" in res.output and "SimpleRNN / torch" in res.output


def test_unknown_run_for_report(tmp_path: Path) -> None:
    res = runner.invoke(app, ["report", "nope"])
    assert res.exit_code == 2
    assert "nope: no such run" in res.output


def test_list_shows_backends_and_suites() -> None:
    res = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for word in ("torch", "keras-tensorflow", "fake", "quick", "imdb"):
        assert word in res.output


# -- a new user's first hour (issue 31) ----------------------------------------------------

FAKE_SUITE = '[defaults]\nbackend = "fake"\nepochs = 1\n[matrix]\narch = ["gru", "lstm"]\n'


def _flat(text: str) -> str:
    return " ".join(text.split())


def _commands(cmd, path=()):  # noqa: ANN001, ANN202 - click commands
    """(path, command) for the app and every command and sub-command under it."""
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_every_help_wraps_at_80_columns_and_keeps_its_text() -> None:
    """Each command's --help at 80 columns: no '…' (cut text), no '<bool>' metavar on flags, every
    option's help whole (rich markup ate '[ray]'), each sub-command's first paragraph whole."""
    import inspect

    import typer

    root = typer.main.get_command(app)
    for path, cmd in _commands(root):
        res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
        where = " ".join(("rnnbench", *path))
        assert res.exit_code == 0, (where, res.output)
        assert "…" not in res.output and "<bool>" not in res.output, (where, res.output)
        assert max(len(line) for line in res.output.splitlines()) <= 80, (where, res.output)
        out = _flat(res.output)
        for p in cmd.params:
            if getattr(p, "help", None):
                assert _flat(p.help) in out, (where, p.name, res.output)
        for name, sub in getattr(cmd, "commands", {}).items():
            first = _flat(inspect.cleandoc(sub.help or "").split("\n\n")[0])
            assert first in out, (where, name, res.output)
    res = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "80"})
    assert "pip install 'rnnbench[ray]'" in _flat(res.output)


def test_list_shows_every_architecture_from_the_registries(monkeypatch) -> None:  # noqa: ANN001
    from rnnbench import architectures

    plugins = {**architectures.BUILTIN, "indrnn": "demo_cells:IndRNN"}
    monkeypatch.setattr(architectures, "installed", lambda: plugins)
    res = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    table = res.output.split("architectures", 1)[1].split("ready suites", 1)[0]
    for name in ("gru", "lstm", "rnn", "mingru", "minlstm", "indrnn", "demo_cells:IndRNN"):
        assert name in table, table


def _descriptions(output: str) -> dict[str, str]:
    """The ready-suites table's description column, each row's wrapped lines joined."""
    rows: dict[str, str] = {}
    name = ""
    for line in output.split("ready suites", 1)[1].splitlines():
        cells = line.split("│")
        if len(cells) == 6:
            name = cells[1].strip() or name
            rows[name] = _flat(rows.get(name, "") + " " + cells[4])
    return rows


def test_list_shows_whole_first_sentences_of_suite_descriptions() -> None:
    res = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    rows = _descriptions(res.output)
    # each first sentence ends on the description's second or later line: cut today after the first
    for suite, tail in [("quick", "with no data and no network."), ("ci", "on a 2-core machine."),
                        ("gru-vs-lstm", "on Keras-TensorFlow and PyTorch, over seeds."),
                        ("modes", "on the embedded sample at IMDB-sized steps.")]:
        assert rows[suite].endswith(tail), (suite, rows[suite])


def test_one_cell_is_one_cell_not_1_cells(tmp_path: Path) -> None:
    path = write_suite(tmp_path, FAKE_SUITE)
    res = runner.invoke(app, ["run", str(path), "--dry-run", "--only", "arch=gru"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "1 cell" in res.output and "1 cells" not in res.output, res.output


def test_ab_set_errors_name_the_option_key_and_what_it_expects(tmp_path: Path) -> None:
    path = write_suite(tmp_path, FAKE_SUITE)
    for flag, item, needle in [
        ("--b-set", "backend=jax", "--b-set backend: expected one of 'torch', "),
        ("--a-set", "units=abc", "--a-set units: expected a valid integer, got 'abc'"),
        ("--b-set", "unitz=3", "--b-set unitz: unknown setting 'unitz'; did you mean 'units'?"),
        ("--b-set", "task=infer", '--b-set task=infer: GRU / fake: backend = "fake" has no inference'),
    ]:
        res = runner.invoke(app, ["ab", str(path), flag, item, "-o", str(tmp_path / "runs")])
        assert res.exit_code == 2, res.output
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and "pydantic" not in lines[0], res.output


def test_a_dataset_path_points_at_data_import(tmp_path: Path) -> None:
    path = write_suite(tmp_path, FAKE_SUITE)
    for args in (["run", str(path), "-n", "--set", "dataset=/data/aclImdb"],
                 ["ab", str(path), "--b-set", "dataset=/data/aclImdb"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        line = res.output.strip()
        assert "\n" not in line and "expected one of 'sample' or 'imdb'" in line, res.output
        assert "rnnbench data import /data/aclImdb" in line, res.output
    bad = write_suite(tmp_path, '[defaults]\ndataset = "~/aclImdb"\n', name="bad")
    res = runner.invoke(app, ["run", str(bad), "-n"])
    assert res.exit_code == 2 and "rnnbench data import ~/aclImdb" in res.output, res.output


def test_ab_resume_refuses_options_it_cannot_honour(tmp_path: Path) -> None:
    for extra in (["--pairs", "2"], ["--b-set", "epochs=2"], ["--time", "1.1"], ["--aa"], ["ci-ab"]):
        res = runner.invoke(app, ["ab", "--resume", "latest", *extra])
        assert res.exit_code == 2, (extra, res.output)
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and "--resume" in lines[0], (extra, res.output)
        assert (extra[0] if extra[0].startswith("-") else "SUITE") in lines[0], (extra, res.output)
    # what resuming can honour goes on to look for the run
    res = runner.invoke(app, ["ab", "--resume", "latest", "--until-decided", "60", "-j", "1", "-q"])
    assert res.exit_code == 2 and "no ab runs under" in res.output, res.output


def _inconclusive_analysis():  # noqa: ANN202
    from rnnbench.ab import DEFAULTS, Analysis, CellResult

    return Analysis([CellResult("k1", "GRU / fake", 4, 4, 4, "inconclusive", ratio=1.02, ci=(0.9, 1.15)),
                     CellResult("k2", "LSTM / fake", 4, 4, 4, "unchanged", ratio=1.0, ci=(0.99, 1.01))],
                    dict(DEFAULTS))


def test_an_inconclusive_ab_is_not_headed_with_a_green_tick() -> None:
    from rnnbench.ab import SideSpec, render_markdown

    a = _inconclusive_analysis()
    sides = (SideSpec("a", "/a/python"), SideSpec("b", "/b/python"))
    head = render_markdown(a, sides, "rnnbench ab ci-ab").splitlines()[0]
    assert "✅" not in head and "⚠️" in head, head
    assert "inconclusive" in head.split("(")[0] and "no regression" not in head, head
    assert a.exit_code() == 0 and a.exit_code(fail_on_inconclusive=True) == 1


def test_fail_on_inconclusive_makes_ab_exit_1(tmp_path: Path) -> None:
    """A finished ab run whose GRU cell swings ±10% from pair to pair: resumed (nothing left to run),
    it exits 0, or 1 with --fail-on-inconclusive."""
    from rnnbench.ab import SideSpec, plan, start_ab_run
    from rnnbench.results import append_record
    from rnnbench.suite import load_suite

    suite = load_suite(write_suite(tmp_path, FAKE_SUITE, name="f"))
    sides = (SideSpec("a", sys.executable), SideSpec("b", sys.executable, {"extra_work": 0.01}))
    run = start_ab_run(suite, sides, 4, {}, root=tmp_path / "runs")
    for cell in plan(suite, sides):
        for k in range(4):
            swing = (0.9 if k % 2 else 1.1) if "gru" in cell.key else 1.0
            for side, step in (("a", 0.1), ("b", 0.1 * swing)):
                append_record(run.results, {
                    "key": f"{cell.key}.p{k}", "status": "ok", "wall_s": 1.0,
                    "ab": {"side": side, "pair": k, "cell": cell.key, "label": cell.label},
                    "metrics": {"steady_step_samples": [step] * 10, "steady_step_s": step, "peak_rss_mb": 100.0,
                                "test_acc": 0.5}})
    res = runner.invoke(app, ["ab", "--resume", str(run.path), "-q"])
    assert res.exit_code == 0 and "inconclusive" in res.output, res.output
    res = runner.invoke(app, ["ab", "--resume", str(run.path), "-q", "--fail-on-inconclusive"])
    assert res.exit_code == 1 and "inconclusive" in res.output, res.output


def test_dry_run_shows_the_resolved_settings_and_an_estimate_from_earlier_runs_here(tmp_path: Path) -> None:
    """Issue 31: --dry-run said neither the settings a cell will get nor how long it will take.
    Before any run: the estimate says it is unknown; after a real (fake-backend) run of the same
    suite on this machine: minutes and seconds for every cell, from those runs."""
    suite = write_suite(tmp_path, '[defaults]\nbackend = "fake"\nepochs = 2\nmaxlen = 40\n[matrix]\narch = ["gru", "lstm"]\n',
                        name="est")
    runs = tmp_path / "runs"
    before = runner.invoke(app, ["run", str(suite), "--dry-run", "-o", str(runs)], env={"COLUMNS": "200"})
    assert before.exit_code == 0, before.output
    assert "epochs=2" in before.output and "maxlen=40" in before.output and "units=" in before.output
    assert "estimated time: unknown — none of the 2 cells has run on this machine before" in before.output
    done = runner.invoke(app, ["run", str(suite), "-q", "--no-report", "-o", str(runs)])
    assert done.exit_code == 0, done.output
    after = runner.invoke(app, ["run", str(suite), "--dry-run", "-o", str(runs)], env={"COLUMNS": "200"})
    # minutes:seconds, however loaded the machine was (2 fake cells took 0:06 quiet, 0:15 beside other work)
    assert re.search(r"estimated time: \d+:\d\d for 2 of 2 cells", after.output), after.output
    assert "1 earlier run on this machine" in after.output
