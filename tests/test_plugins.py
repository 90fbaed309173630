"""Bring your own cell: architectures named ``package.module:Name`` or registered in the
``rnnbench.architectures`` entry-point group, built into rnnbench's model, trained through
``rnnbench run`` in real worker processes, checked by ``verify``; a broken plugin is a
recorded failure. The plugin package lives in tests/plugins/, outside rnnbench."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import require_module, write_suite

from rnnbench import architectures
from rnnbench.errors import UserError
from rnnbench.progress import QuietProgress
from rnnbench.runner import execute, start_run
from rnnbench.suite import load_suite

PLUGINS = Path(__file__).parent / "plugins"

TINY = """
[defaults]
units = 16
embedding_dim = 16
maxlen = 20
num_words = 500
epochs = 1
max_steps_per_epoch = 8
warmup_steps = 2
train_size = 512
test_size = 64
threads = 1
"""


@pytest.fixture
def plugin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tests/plugins importable here and in workers, plus an installed-distribution record that
    registers IndRNN as ``indrnn`` in the entry-point group (how pip would install a plugin)."""
    site = tmp_path / "site"
    dist = site / "demo_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[rnnbench.architectures]\nindrnn = demo_cells:IndRNN\n")
    path = f"{PLUGINS}:{site}"
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(PLUGINS))
    architectures.installed.cache_clear()
    yield site
    architectures.installed.cache_clear()
    sys.modules.pop("demo_cells", None)


def test_names_resolve_without_importing_anything(plugin_path: Path) -> None:
    assert architectures.target("gru") == "rnnbench.architectures.builtin:GRU"
    assert architectures.target("indrnn") == "demo_cells:IndRNN"  # from the entry point
    assert architectures.target("demo_cells:IndRNN") == "demo_cells:IndRNN"
    assert architectures.label("demo_cells:IndRNN") == "IndRNN" and architectures.label("mingru") == "minGRU"
    assert "demo_cells" not in sys.modules
    for bad in ("transformer", "demo_cells:", "a b:C", "x:y:z"):
        with pytest.raises(ValueError, match="unknown architecture"):
            architectures.check_name(bad)
    with pytest.raises(ValueError, match="an installed plugin \\(indrnn\\)"):
        architectures.check_name("transformer")


def test_a_wrong_arch_in_a_suite_is_a_one_line_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(UserError) as e:
        load_suite(str(write_suite(tmp_path, TINY + '[matrix]\narch = ["gru", "transformer"]\n')))
    msg = str(e.value)
    assert "arch" in msg and "transformer" in msg and "package.module:Name" in msg and "\n" not in msg.strip()
    with pytest.raises(UserError, match="applies to the built-in gru, lstm and rnn only"):
        load_suite(str(write_suite(tmp_path, TINY + '[matrix]\narch = ["mingru"]\nimpl = ["cell"]\n')))


def test_the_built_ins_go_through_the_same_interface() -> None:
    for name in architectures.BUILTIN:
        arch = architectures.load(name)
        assert isinstance(arch, architectures.Architecture) and set(arch.frameworks) == {"torch", "keras"}
    # rnnbench's own distribution registers them in the entry-point group, as a plugin's would
    assert set(architectures.BUILTIN) <= set(architectures.installed())


@pytest.mark.slow
def test_a_plugin_runs_on_two_backends_and_a_broken_one_is_a_recorded_failure(plugin_path: Path,
                                                                                tmp_path: Path) -> None:
    require_module("torch")
    require_module("keras")
    body = TINY + """
[matrix]
arch = ["demo_cells:IndRNN"]
backend = ["torch", "keras-tensorflow"]

[[include]]
arch = "indrnn"
backend = "torch"
seed = 1

[[include]]
arch = "demo_cells:Broken"
backend = "torch"

[[include]]
arch = "no_such_package.cells:Cell"
backend = "torch"

[[include]]
arch = "demo_cells:Broken"
backend = "keras-tensorflow"
"""
    suite = load_suite(str(write_suite(tmp_path, body)))
    run = start_run(suite, root=tmp_path / "runs")
    execute(suite, run, QuietProgress())
    recs = {(r["settings"]["arch"], r["settings"]["backend"]): r for r in run.records()}
    assert len(recs) == 6
    for key in (("demo_cells:IndRNN", "torch"), ("demo_cells:IndRNN", "keras-tensorflow"), ("indrnn", "torch")):
        r = recs[key]
        assert r["status"] == "ok", (key, r.get("error"))
        m = r["metrics"]
        # counted by the framework, and as the plugin declares it: 16 · (16 + 2)
        assert m["params"]["recurrent"] == m["params_declared_recurrent"] == 16 * 18
        assert "params_note" not in m
        assert m["params"]["embedding"] == 500 * 16 and m["params"]["head"] == 17
        assert m["train_flops_per_step"] == 3.0 * (2 * 16 * 16 * 20 + 2 * 16) * 64
        assert "plugin layer IndRNN" in r["env"]["kernel"]
    assert recs[("demo_cells:IndRNN", "torch")]["label"] == "IndRNN / torch"
    broken = recs[("demo_cells:Broken", "torch")]
    assert broken["status"] == "error" and "broken on purpose" in broken["error"]
    missing = recs[("no_such_package.cells:Cell", "torch")]
    assert missing["status"] == "error" and "failed to import: ModuleNotFoundError" in missing["error"]
    no_keras = recs[("demo_cells:Broken", "keras-tensorflow")]
    assert no_keras["status"] == "error" and "has no Keras layer" in no_keras["error"]


@pytest.mark.slow
def test_verify_checks_a_plugin_across_frameworks_and_the_min_rnns_against_their_definition(
        plugin_path: Path) -> None:
    require_module("torch")
    require_module("tensorflow")
    from rnnbench.verify import config_for, run_verify

    rows = run_verify(config_for(["demo_cells:IndRNN", "mingru", "minlstm"], quick=True))
    checks = {(r.case, r.check): r for r in rows}
    assert ("IndRNN x1", "torch→keras") in checks  # no sequential form declared: only the cross-framework check
    for name in ("minGRU", "minLSTM"):
        for layers in (1, 2):
            for check in ("sequential↔trained (torch)", "sequential↔trained (keras)", "torch→keras"):
                assert (f"{name} x{layers}", check) in checks
    assert all(r.passed for r in rows), [(r.case, r.check, r.max_abs_out_diff, r.worst) for r in rows if not r.passed]


def test_what_a_built_in_architecture_does_not_offer_is_a_suite_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="minGRU is unidirectional here"):
        load_suite(str(write_suite(tmp_path, TINY + '[matrix]\narch = ["mingru"]\nbidirectional = [true]\n')))


def test_settings_of_the_classic_layers_are_refused_for_other_architectures(tmp_path: Path) -> None:
    for body in ('gru_reset = "before"', 'mode = "compiled"\ncompile_rnn = true'):
        text = TINY.replace("[defaults]\n", f"[defaults]\n{body}\n", 1) + '[matrix]\narch = ["mingru"]\n'
        with pytest.raises(UserError, match="applies to the built-in gru, lstm and rnn only"):
            load_suite(str(write_suite(tmp_path, text)))


@pytest.mark.slow  # verify in a subprocess: ~14 s
def test_verify_imports_a_plugin_from_the_current_folder_and_refuses_one_with_nothing_to_check() -> None:
    """The console script, started in the plugin's folder with nothing on PYTHONPATH (as a user
    would): the plugin is found where `rnnbench run`'s workers find it."""
    require_module("torch")
    require_module("tensorflow")
    exe = Path(sys.executable).with_name("rnnbench")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    ok = subprocess.run([str(exe), "verify", "--arch", "demo_cells:IndRNN", "--quick"], cwd=PLUGINS, env=env,
                        capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "IndRNN x1" in ok.stdout and "torch→keras" in ok.stdout
    bare = subprocess.run([str(exe), "verify", "--arch", "demo_cells:TorchOnly", "--quick"], cwd=PLUGINS, env=env,
                          capture_output=True, text=True, timeout=600)
    assert bare.returncode == 2, bare.stdout + bare.stderr
    assert "offers nothing to check" in bare.stdout + bare.stderr


def test_a_declared_parameter_count_the_framework_does_not_confirm_is_noted(plugin_path: Path) -> None:
    from rnnbench.measure import declared_figures
    from rnnbench.suite import CellSettings

    s = CellSettings(arch="demo_cells:IndRNN", units=16, embedding_dim=16)
    assert "params_note" not in declared_figures(s, "torch", {"recurrent": 16 * 18})
    assert declared_figures(s, "torch", {"recurrent": 300})["params_note"] == (
        "IndRNN declares 288 recurrent parameters; torch counts 300")


@pytest.mark.parametrize("arch", ["mingru", "minlstm"])
def test_the_min_rnns_declare_the_parameters_both_frameworks_count(arch: str) -> None:
    require_module("torch")
    require_module("tensorflow")
    from rnnbench.architectures import load
    from rnnbench.suite import CellSettings
    from rnnbench.verify import _ensure_keras_tensorflow

    _ensure_keras_tensorflow()
    s = CellSettings(arch=arch, units=16, embedding_dim=8, layers=2)
    a = load(arch)
    expected = a.recurrent_params(s, "torch")
    assert expected == (2 if arch == "mingru" else 3) * 16 * ((8 + 1) + (16 + 1))
    assert sum(p.numel() for p in a.torch_layer(s).parameters()) == expected
    import numpy as np

    layer = a.keras_layer(s)
    layer(np.zeros((1, 3, 8), dtype="float32"))
    assert sum(int(np.prod(w.shape)) for w in layer.weights) == expected
