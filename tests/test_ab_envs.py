"""``rnnbench ab --a-with/--b-with``: a side's environment built with uv from this one plus pins,
reused per specification; bad pins and unreachable packages are one line, exit 2, before any
cell starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FAKE_AB_SUITE, REPO, require_module
from rnnbench.ab.envs import parse_pins
from rnnbench.errors import UserError

FAKE = FAKE_AB_SUITE.replace('arch = ["gru", "lstm"]', 'arch = ["gru"]')  # one cell


def run_ab(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``rnnbench ab`` on a one-cell fake suite, in a process of its own, with a data home in tmp_path."""
    suite = tmp_path / "f.toml"
    suite.write_text(FAKE, encoding="utf-8")
    env = {**os.environ, "RNNBENCH_HOME": str(tmp_path / "home"), "RNNBENCH_NO_HISTORY": "1"}
    return subprocess.run([sys.executable, "-m", "rnnbench", "ab", str(suite), "-o", str(tmp_path / "runs"), *args],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=900, check=False)


@pytest.mark.parametrize("pin, why", [
    ("keras=3.13.2", "not a requirement"),
    ("keras==", "not a requirement"),
    ("", "not a requirement"),
    ("keras @ https://example.org/keras.whl", "a URL requirement"),
])
def test_a_pin_that_is_not_a_requirement_is_refused(pin: str, why: str) -> None:
    with pytest.raises(UserError, match=f"^--a-with {pin!r}: {why}".replace("(", r"\(").replace(".", r"\.")):
        parse_pins([pin], "--a-with")


def test_pins_are_normalized_and_sorted() -> None:
    assert parse_pins(["numpy <2", "Keras==3.13.2", "numpy<2"], "--b-with") == ("Keras==3.13.2", "numpy<2")


def test_a_bad_pin_is_one_line_exit_2_before_anything_runs(tmp_path: Path) -> None:
    res = run_ab(tmp_path, "--a-with", "tabulate=0.8.10", "-q")
    assert res.returncode == 2
    (line,) = res.stderr.strip().splitlines()  # one line; packaging's own words vary by version
    assert line.startswith("rnnbench: error: --a-with 'tabulate=0.8.10': not a requirement (") and \
        line.endswith("(e.g. --a-with 'keras==3.13.2')"), line
    assert not (tmp_path / "runs").exists() and not (tmp_path / "home" / "envs").exists()


@pytest.mark.slow
def test_a_pinned_side_runs_its_pin_over_this_environment_and_is_built_once(tmp_path: Path) -> None:
    """A with tabulate 0.8.10 (this environment has 0.9): A's workers import that tabulate and
    everything else (numpy, rnnbench) from this environment; a second run reuses the build."""
    require_module("uv")
    home = tmp_path / "home"
    args = ["--a-with", "tabulate==0.8.10", "--pairs", "2"]
    res = run_ab(tmp_path, *args)
    assert res.returncode in (0, 1), res.stderr
    assert "--a-with: the environment with tabulate==0.8.10" in res.stderr
    (built,) = [p for p in (home / "envs").iterdir() if not p.name.startswith(".")]
    py = built / "bin" / "python"
    probe = subprocess.run([str(py), "-c", "import json, tabulate, numpy, rnnbench; print(json.dumps("
                            "[tabulate.__version__, numpy.__file__, rnnbench.__file__]))"],
                           capture_output=True, text=True, check=True)
    version, numpy_at, rnnbench_at = json.loads(probe.stdout)
    assert version == "0.8.10" and str(built) not in numpy_at and str(built) not in rnnbench_at
    meta = json.loads(next((tmp_path / "runs").iterdir()).joinpath("run.json").read_text())
    assert meta["sides"][0]["pins"] == ["tabulate==0.8.10"] and meta["sides"][0]["python"] == str(py)
    mtime = (built / ".ready").stat().st_mtime_ns
    again = run_ab(tmp_path, *args, "-q")
    assert again.returncode in (0, 1), again.stderr
    assert (built / ".ready").stat().st_mtime_ns == mtime and len(list((home / "envs").iterdir())) == 1


@pytest.mark.slow
def test_a_package_the_index_does_not_have_is_one_line_exit_2_before_any_cell(tmp_path: Path) -> None:
    require_module("uv")
    res = run_ab(tmp_path, "--b-with", "rnnbench-no-such-package==1.0")
    assert res.returncode == 2, res.stderr
    line = res.stderr.strip().splitlines()[-1]
    assert line.startswith("rnnbench: error: --b-with: could not install rnnbench-no-such-package==1.0: ")
    assert not (tmp_path / "runs").exists()
    assert [p.name for p in (tmp_path / "home" / "envs").iterdir()] == []  # the failed build left nothing
