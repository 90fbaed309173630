"""``mode = "eager" | "compiled"``: real cells on PyTorch (torch.compile) and Keras-TensorFlow
(XLA), tiny so the compilers finish in seconds; each record must say what really compiled."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import require_module, write_suite

from rnnbench.errors import UserError
from rnnbench.progress import QuietProgress
from rnnbench.runner import execute, start_run
from rnnbench.suite import load_suite

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


def _records(tmp_path: Path, body: str) -> dict[tuple[str, str], dict]:
    suite = load_suite(str(write_suite(tmp_path, TINY + body)))
    run = start_run(suite, root=tmp_path / "runs")
    execute(suite, run, QuietProgress())
    return {(r["settings"]["backend"], r["settings"]["mode"]): r for r in run.records()}


def test_compile_rnn_is_a_torch_compile_switch_only(tmp_path: Path) -> None:
    for bad in ('mode = "eager"\ncompile_rnn = true', 'backend = "keras-tensorflow"\nmode = "compiled"\n'
                                                      'compile_rnn = true'):
        with pytest.raises(UserError, match="compile_rnn needs mode"):
            load_suite(str(write_suite(tmp_path, f"[defaults]\n{bad}\n")))


@pytest.mark.slow
def test_torch_compile_says_it_left_the_recurrent_layer_to_eager(tmp_path: Path) -> None:
    require_module("torch")
    recs = _records(tmp_path, '[matrix]\nbackend = ["torch"]\nmode = ["eager", "compiled"]\n')
    eager, compiled = recs[("torch", "eager")], recs[("torch", "compiled")]
    assert eager["status"] == compiled["status"] == "ok", (eager.get("error"), compiled.get("error"))
    assert eager["env"]["mode"] == "eager" and "compiled_graphs" not in eager["env"]
    env = compiled["env"]
    assert env["mode"] == "compiled" and "allow_rnn = False" in env["compiler"]
    # Dynamo's own counters: the embedding and head compiled, nn.GRU broke the graph and ran eagerly
    assert env["compiled_graphs"] >= 1 and any("RNN, GRU, or LSTM" in b for b in env["graph_breaks"]), env
    assert "ran eagerly" in env["compiled"]


@pytest.mark.slow
def test_keras_tensorflow_compiled_is_xla_and_eager_is_not(tmp_path: Path) -> None:
    require_module("tensorflow")
    recs = _records(tmp_path, '[matrix]\nbackend = ["keras-tensorflow"]\nmode = ["eager", "compiled"]\n')
    eager, compiled = recs[("keras-tensorflow", "eager")], recs[("keras-tensorflow", "compiled")]
    assert eager["status"] == compiled["status"] == "ok", (eager.get("error"), compiled.get("error"))
    assert eager["env"]["jit_compile"] is False and "no XLA" in eager["env"]["compiled"]
    assert compiled["env"]["jit_compile"] is True and compiled["env"]["compiled"].startswith("XLA")
