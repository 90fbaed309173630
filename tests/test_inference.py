"""``task = "infer"``: forward-only request latency at batch 1 and batch_size, and streaming one
token at a time with the state carried — real PyTorch and Keras-TensorFlow models; streaming
must compute the same function as the whole-sequence forward."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import require_module, write_suite

from rnnbench.errors import UserError
from rnnbench.progress import QuietProgress
from rnnbench.runner import execute, start_run
from rnnbench.suite import CellSettings, load_suite

TINY = """
[defaults]
units = 16
embedding_dim = 16
maxlen = 30
num_words = 500
batch_size = 32
train_size = 256
test_size = 128
threads = 1
task = "infer"
infer_requests = 20
stream_tokens = 100
warmup_steps = 2
"""


def _stream_matches_forward(backend_name: str, arch: str, layers: int = 1) -> None:
    """The probability after streaming a review token by token = the model's forward on it."""
    s = CellSettings(arch=arch, backend=backend_name, units=8, embedding_dim=6, layers=layers, threads=1)
    if backend_name == "torch":
        from rnnbench.backends.torch_backend import TorchBackend as B
    else:
        require_module("tensorflow")
        from rnnbench.verify import _ensure_keras_tensorflow

        _ensure_keras_tensorflow()
        from rnnbench.backends.keras_backend import KerasBackend as B
    backend = B(s)
    backend.build(50)
    tokens = np.array([3, 17, 4, 9, 22, 1, 45, 8], dtype=np.int64)
    whole = float(np.asarray(backend.infer_function()(tokens[None, :])).reshape(-1)[0])
    init, step = backend.stream_functions()
    state = init()
    ps = []
    for t in tokens:
        p, state = step(int(t), state)
        ps.append(p)
    assert ps[-1] == pytest.approx(whole, abs=2e-6), (backend_name, arch, ps, whole)
    prefix = float(np.asarray(backend.infer_function()(tokens[None, :4])).reshape(-1)[0])
    assert ps[3] == pytest.approx(prefix, abs=2e-6)  # every token's output is the prefix's


@pytest.mark.parametrize("arch,layers", [("gru", 1), ("lstm", 2), ("rnn", 1), ("mingru", 2), ("minlstm", 1)])
def test_streaming_computes_the_whole_sequence_forward_on_torch(arch: str, layers: int) -> None:
    require_module("torch")
    _stream_matches_forward("torch", arch, layers)


@pytest.mark.parametrize("arch,layers", [("gru", 2), ("lstm", 1), ("mingru", 1), ("minlstm", 2)])
def test_streaming_computes_the_whole_sequence_forward_on_keras(arch: str, layers: int) -> None:
    _stream_matches_forward("keras-tensorflow", arch, layers)


def test_inference_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="train_first needs task"):
        load_suite(str(write_suite(tmp_path, "[defaults]\ntrain_first = true\n")))
    with pytest.raises(UserError, match="infer_requests"):
        load_suite(str(write_suite(tmp_path, '[defaults]\ntask = "infer"\ninfer_requests = 3\n')))
    for body, message in (('mode = "compiled"', "serves the eager model"), ('backend = "fake"', "has no inference"),
                          ("warmup_steps = 0", "needs warmup_steps >= 1")):
        with pytest.raises(UserError, match=message):
            load_suite(str(write_suite(tmp_path, f'[defaults]\ntask = "infer"\n{body}\n')))


@pytest.mark.slow
def test_infer_cells_record_latency_percentiles_and_the_report_shows_them(tmp_path: Path) -> None:
    require_module("torch")
    require_module("keras")
    body = TINY + """
[matrix]
arch = ["gru", "mingru"]
backend = ["torch", "keras-tensorflow"]

[[include]]
arch = "lstm"
backend = "torch"
bidirectional = true

[[include]]
arch = "gru"
backend = "torch"
train_first = true
epochs = 1
"""
    suite = load_suite(str(write_suite(tmp_path, body)))
    run = start_run(suite, root=tmp_path / "runs")
    execute(suite, run, QuietProgress())
    recs = run.records()
    assert len(recs) == 6 and all(r["status"] == "ok" for r in recs), [(r["label"], r.get("error")) for r in recs]
    for r in recs:
        inf = r["metrics"]["inference"]
        assert set(inf["batches"]) == {"1", "32"}
        for b, lat in inf["batches"].items():
            assert lat["n"] == 20 and 0 < lat["min_ms"] <= lat["p50_ms"] <= lat["p90_ms"] <= lat["p99_ms"]
        st = inf["stream"]
        if r["settings"]["bidirectional"]:
            assert "bidirectional" in st["note"] and r["metrics"]["stream_p50_ms"] is None
        else:
            assert st["n"] == 100 and st["reviews"] >= 1 and 0 < st["p50_ms"] <= st["p99_ms"]
        trained = r["settings"]["train_first"]
        assert bool(r["metrics"].get("epochs")) == trained  # only train_first cells trained
    from rnnbench.report.build import write_reports

    out = write_reports([str(run.path)], out_root=tmp_path / "rep", formats=["md"])
    md = next(p for p in out if p.name == "report.md").read_text()
    section = md.split("## Inference", 1)[1].split("\n## ", 1)[0]
    for label in ("GRU / torch", "minGRU / keras-tensorflow", "LSTM-bi / torch"):
        assert f"| {label} " in section
    assert "not streamed: a bidirectional layer" in section


def test_ab_refuses_inference_cells(tmp_path: Path) -> None:
    from rnnbench.ab import make_sides, plan

    suite = load_suite(str(write_suite(tmp_path, '[defaults]\nbackend = "torch"\ntask = "infer"\n')))
    with pytest.raises(UserError, match="ab pairs training steps"):
        plan(suite, make_sides(None, None, {}, {"extra_work": 0.1}, suite))


def test_the_inference_section_shows_the_median_over_repeats() -> None:
    from rnnbench.report.inference import merged

    def rec(p50: float, stream: float | None) -> dict:
        return {"metrics": {"inference": {"batches": {"1": {"p50_ms": p50}, "64": {"note": "not measured"}},
                                          "stream": {"p50_ms": stream} if stream else {"note": "not streamed"}}}}

    inf = merged([rec(1.0, 0.1), rec(9.0, None), rec(2.0, 0.3)])
    assert inf["batches"]["1"]["p50_ms"] == 2.0
    assert inf["batches"]["64"] == {"note": "not measured"}
    assert inf["stream"]["p50_ms"] == pytest.approx(0.2)
