"""What test modules share: requirements that skip locally but fail in CI, suite files, and the
synthetic finished runs the report and HTML tests read.

A requirement that is missing is a *skip* on a developer's machine and a *failure* in CI
(``CI`` set to ``true``/``1``/``yes``, as every CI service sets it): there the environment is
built to have everything (``.ci/run``), so a missing browser, a framework that no longer
imports or a ``keras.src`` module that moved is a broken build, not something to step over.

Import as ``from helpers import ...`` (``tests/`` is on ``sys.path`` as pytest's rootdir for
these conftest-style modules).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- requirements


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str) -> NoReturn:
    """Skip (here) or fail (in CI) because ``reason``; works in a test, a fixture or at module level."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing requirement fails the build)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_module(name: str) -> ModuleType:
    """``import name``; outside CI a module that cannot be imported skips, in CI its error fails the test."""
    if in_ci():
        return importlib.import_module(name)
    return pytest.importorskip(name)


def require(condition: bool, reason: str) -> None:
    if not condition:
        unavailable(reason)


def find_chromium() -> str | None:
    for p in (os.environ.get("RNNBENCH_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
              shutil.which("google-chrome")):
        if p:
            return p
    return None


def require_chromium() -> str:
    """The headless browser's path (``$RNNBENCH_CHROMIUM``, else ``chromium`` … on PATH)."""
    path = find_chromium()
    if path is None:
        unavailable("headless Chromium not installed (no $RNNBENCH_CHROMIUM, no chromium on PATH)")
    return path


def shared_imdb_dir() -> Path:
    return Path(os.environ.get("RNNBENCH_SHARED_IMDB") or REPO.parent / "shared" / "datasets" / "imdb")


def require_shared_imdb(*files: str) -> Path:
    """The shared copy of the real IMDB data (``$RNNBENCH_SHARED_IMDB`` or ``<repo>/../shared/datasets/imdb``).

    The copy lives outside the repository; CI runs with ``shared/`` beside its clone, so in CI
    (or when ``$RNNBENCH_SHARED_IMDB`` names it) a missing copy fails; elsewhere it skips, and
    so does a runner that declares it has none (``RNNBENCH_NO_SHARED_IMDB=1``: the GitHub
    workflow, where the byte-exact copy the tests check cannot be had).
    """
    d = shared_imdb_dir()
    missing = [f for f in files or ("aclImdb_labelled.tar.gz",) if not (d / f).is_file()]
    if missing and os.environ.get("RNNBENCH_NO_SHARED_IMDB") == "1":  # a runner declared to have no copy
        pytest.skip(f"the real IMDB copy is not on this runner (RNNBENCH_NO_SHARED_IMDB=1; {d})",
                    allow_module_level=True)
    if missing:
        reason = f"the real IMDB copy is not at {d} (missing {', '.join(missing)})"
        if os.environ.get("RNNBENCH_SHARED_IMDB") or in_ci():
            pytest.fail(f"{reason} (CI=true or $RNNBENCH_SHARED_IMDB: the real data must be there)", pytrace=False)
        pytest.skip(reason, allow_module_level=True)
    return d


# --------------------------------------------------------------------------- suites


def write_suite(tmp_path: Path, body: str, name: str = "t") -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(f'name = "{name}"\n' + body, encoding="utf-8")
    return p


FAKE_AB_SUITE = """name = "f"
[defaults]
backend = "fake"
dataset = "sample"
num_words = 2000
maxlen = 50
epochs = 1
batch_size = 32
train_size = 512
test_size = 64
warmup_steps = 2
[matrix]
arch = ["gru", "lstm"]
"""  # two small cells on the fake backend, for ab runs


# --------------------------------------------------------------------------- synthetic report runs
# ``run.json`` from ``start_run`` on a parsed suite and one record per cell (``append_record``),
# with the metrics layout ``rnnbench.measure`` writes: realistic epoch times, losses and
# accuracies per architecture.

EVIL = "<script>alert(1)</script>"

# steady step (s), first-epoch extra (s), accuracy after each epoch, peak RSS (MB) — per backend × arch
PROFILE = {
    ("torch", "gru"): (0.097, 4.0, [0.71, 0.84, 0.87], 550),
    ("torch", "lstm"): (0.082, 3.5, [0.69, 0.83, 0.86], 560),
    ("torch", "rnn"): (0.041, 1.5, [0.58, 0.66, 0.70], 540),
    ("keras-tensorflow", "gru"): (0.106, 9.0, [0.73, 0.85, 0.88], 880),
    ("keras-tensorflow", "lstm"): (0.098, 8.0, [0.70, 0.84, 0.87], 890),
    ("keras-tensorflow", "rnn"): (0.050, 5.0, [0.56, 0.62, 0.66], 870),
}
PARAMS = {"gru": 99_072, "lstm": 132_096, "rnn": 33_024}


def suite_text(backends: list[str], name: str = "cmp", repeat: int = 2, description: str = EVIL) -> str:
    return f'''name = "{name}"
description = "{description}"
repeat = {repeat}
[defaults]
dataset = "sample"
epochs = 3
target_accuracy = 0.85
[matrix]
arch = ["gru", "lstm", "rnn"]
backend = {json.dumps(backends)}
'''


def fake_metrics(backend: str, arch: str, repeat: int, settings: dict[str, Any]) -> dict[str, Any]:
    step, extra, accs, rss = PROFILE[(backend, arch)]
    jitter = 1.0 + 0.03 * repeat
    steps = 32
    epochs, elapsed = [], 0.0
    for i, acc in enumerate(accs):
        wall = steps * step * jitter + (extra if i == 0 else 0.0)
        elapsed += wall
        epochs.append({"epoch": i + 1, "wall_s": wall, "steps": steps, "samples": steps * 64,
                       "samples_per_s": steps * 64 / wall, "train_loss": 0.69 * math.exp(-0.5 * i) + 0.01 * repeat,
                       "test_loss": 0.7 - 0.5 * (acc - 0.5) + 0.01 * repeat, "test_acc": acc - 0.01 * repeat,
                       "eval_s": 1.0, "elapsed_train_s": elapsed})
    emb = settings["num_words"] * settings["embedding_dim"]
    params = {"embedding": emb, "recurrent": PARAMS[arch], "head": 129}
    params["total"] = sum(params.values())
    return {"params": params, "params_total": params["total"], "epochs": epochs,
            "first_epoch_s": epochs[0]["wall_s"], "steady_epoch_s": epochs[1]["wall_s"],
            "steady_step_s": step * jitter, "samples_per_s": epochs[1]["samples_per_s"], "eval_s": 1.0,
            "train_loss": epochs[-1]["train_loss"], "test_loss": epochs[-1]["test_loss"],
            "test_acc": epochs[-1]["test_acc"], "selected_epoch": len(epochs), "selected_by": "last epoch",
            "time_to_target_s": None, "target_accuracy": settings["target_accuracy"],
            "peak_rss_mb": rss * jitter, "rss_after_import_mb": rss * 0.4}


def make_report_run(root: Path, backends: list[str], *, name: str = "cmp", fail: str | None = None,
             description: str = EVIL) -> Any:
    """A finished synthetic run (a ``RunDir``): every cell ok except ``fail`` (an arch), which crashes on repeat 1."""
    from rnnbench.results import append_record
    from rnnbench.runner import start_run
    from rnnbench.suite import parse_suite

    suite = parse_suite(suite_text(backends, name, description=description), f"{name}.toml")
    run = start_run(suite, root=root)
    for cell in suite.cells:
        s = cell.settings
        base = {"schema": 1, "run_id": run.run_id, **cell.to_json(), "started": "2025-01-01T00:00:00+00:00",
                "finished": "2025-01-01T00:01:00+00:00", "wall_s": 60.0, "exit_code": 0, "signal": None,
                "log": f"logs/{cell.key}.log", "error": None, "log_tail": None}
        if fail == s.arch and cell.repeat == 1:
            rec = {**base, "status": "crashed", "exit_code": None, "signal": "SIGSEGV",
                   "error": f"killed by signal SIGSEGV {EVIL}", "metrics": None, "env": None,
                   "log_tail": f"Traceback (most recent call last):\n  boom {EVIL}\nSegmentation fault"}
        else:
            rec = {**base, "status": "ok", "metrics": fake_metrics(s.backend, s.arch, cell.repeat, s.model_dump()),
                   "env": {"framework": s.backend, "threads": 2, "flush_denormal": True,
                           "kernel": f"fused {s.arch} {EVIL}"}}
        append_record(run.results, rec)
    return run


# --------------------------------------------------------------------------- synthetic compare runs
# Run directories whose cells have lognormal step times, for ``rnnbench compare`` and baselines.
# Every random draw is seeded, so the verdicts on them are deterministic.

MACHINE = {"cpu_model": "Test CPU 9000", "cpu_count": 8, "python": "3.11.9", "versions": {"numpy": "2.0.0"},
           "git_commit": "0123456789abcdef0123456789abcdef01234567", "hostname": "ci-1"}
CELLS = ({"arch": "gru"}, {"arch": "lstm"}, {"arch": "rnn"})
BASE_STEP = {"gru": 0.020, "lstm": 0.025, "rnn": 0.010}


def make_compare_run(
    root: Path,
    run_id: str,
    *,
    seed: int,
    cells: tuple[dict[str, Any], ...] = CELLS,
    procs: int = 5,
    steps: int = 30,
    ratio: float | dict[str, float] = 1.0,
    within: float = 0.01,
    between: float = 0.01,
    rss: float = 300.0,
    rss_ratio: float = 1.0,
    acc: float = 0.85,
    acc_shift: float = 0.0,
    acc_noise: float = 0.002,
    fail: dict[str, str] | None = None,
    suite: str = "ci",
    machine: dict[str, Any] | None = None,
    env: dict[str, Any] | None = None,
    common: dict[str, Any] | None = None,
) -> Path:
    """A run dir whose cells have lognormal step times: ``between``-process and ``within``-process noise."""
    import numpy as np

    from rnnbench.envinfo import fingerprint
    from rnnbench.results import append_record
    from rnnbench.suite import Cell, CellSettings

    rng = np.random.default_rng(seed)
    run = root / run_id
    run.mkdir(parents=True)
    m = dict(machine or MACHINE)
    all_cells = []
    for spec in cells:
        for r in range(procs):
            settings = CellSettings.model_validate({"backend": "fake", **(common or {}), **spec, "seed": r})
            all_cells.append(Cell(settings=settings, repeat=r))
    meta = {"schema": 1, "run_id": run_id, "created": "2024-05-01T12:00:00+00:00", "machine": m,
            "fingerprint": fingerprint(m), "cells": [c.to_json() for c in all_cells],
            "suite": {"name": suite, "fingerprint": "cells-" + suite, "regression": {}, "varying": ["arch"]}}
    (run / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    for cell in all_cells:
        arch = cell.settings.arch
        status = (fail or {}).get(arch, "ok")
        rec: dict[str, Any] = {"schema": 1, "run_id": run_id, **cell.to_json(), "status": status,
                               "exit_code": 0, "signal": None, "error": None, "log_tail": None, "wall_s": 1.0,
                               "metrics": None, "env": None}
        if status == "ok":
            rt = ratio[arch] if isinstance(ratio, dict) else ratio
            center = BASE_STEP[arch] * rt * math.exp(rng.normal(0, between))
            samples = [round(float(s), 6) for s in center * np.exp(rng.normal(0, within, steps))]
            rec["metrics"] = {
                "steady_step_samples": samples, "steady_step_s": float(np.median(samples)),
                "step_times_s": [samples[:5], samples], "epochs": [{"epoch": 1}],
                "peak_rss_mb": rss * rss_ratio * math.exp(rng.normal(0, 0.005)),
                "test_acc": acc + acc_shift + float(rng.normal(0, acc_noise)),
                "samples_per_s": 64 / float(np.median(samples)), "first_epoch_s": 2.0, "steady_epoch_s": 1.5,
            }
            rec["env"] = dict(env or {"framework": "fake", "threads": 1})
        else:
            rec["error"] = f"synthetic {status}"
            rec["log_tail"] = "Traceback ...\n" * 20
        append_record(run / "results.jsonl", rec)
    return run


def cli(*args: Any) -> Any:
    """``rnnbench ARGS`` in process (typer's CliRunner); every argument made a string."""
    from typer.testing import CliRunner

    from rnnbench.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def interruptible() -> None:
    """``preexec_fn`` for a child that a test stops with Ctrl-C: SIGINT back to its default, so the
    child's Python turns it into KeyboardInterrupt even when the tests were started in the
    background (``cmd &`` in a script starts them with SIGINT ignored, and children inherit that)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
