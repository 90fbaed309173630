"""The Keras adapter: on_step per completed step, evaluation, kernel path, init schemes,
the backend check, and smoke runs of keras-jax / keras-torch in their own processes."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from helpers import REPO, require, require_module

from rnnbench.backends import base
from rnnbench.errors import UserError
from rnnbench.suite import CellSettings

keras = require_module("keras")  # on TensorFlow: conftest pins KERAS_BACKEND before collection
require_module("tensorflow")


def _tiny(**kw: object) -> CellSettings:
    base_kw: dict[str, object] = dict(backend="keras-tensorflow", units=4, embedding_dim=3, threads=1)
    base_kw.update(kw)
    return CellSettings(**base_kw)


def _data(n: int, t: int = 6, vocab: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    return rng.randint(0, vocab, size=(n, t)).astype("int64"), rng.randint(0, 2, size=n).astype("int64")


def test_train_epoch_calls_on_step_once_per_completed_step() -> None:
    from rnnbench.backends.keras_backend import KerasBackend

    b = KerasBackend(_tiny())
    b.build(30)
    x, y = _data(20)  # batch 8: 3 steps, the last one partial
    ticks: list[int] = []
    loss = b.train_epoch(x, y, 8, lambda: ticks.append(1), None)
    assert len(ticks) == 3 and math.isfinite(loss) and loss > 0
    ticks.clear()
    loss2 = b.train_epoch(x, y, 8, lambda: ticks.append(1), 2)  # capped
    assert len(ticks) == 2 and math.isfinite(loss2)
    ev_loss, acc = b.evaluate(x, y, 16)
    assert math.isfinite(ev_loss) and 0.0 <= acc <= 1.0
    counts = b.param_counts()
    assert counts["total"] == counts["embedding"] + counts["recurrent"] + counts["head"]
    d = b.describe()
    assert d["framework"] == "keras-tensorflow" and d["keras"] == keras.__version__
    assert "tf.while_loop" in d["kernel"] and d["adam_epsilon"] == 1e-7
    assert d["recurrent_layers"] == ["GRU"]


def test_kernel_path_explains_slow_settings() -> None:
    from rnnbench.backends.keras_backend import kernel_path

    path, flags = kernel_path(_tiny(arch="gru"), "jax")
    assert "lax.scan" in path and "backend.jax gru" in path and not flags
    path, flags = kernel_path(_tiny(arch="lstm"), "tensorflow", gpu=True)
    assert "cuDNN" in path
    path, flags = kernel_path(_tiny(arch="gru", recurrent_dropout=0.1), "tensorflow", gpu=True)
    assert "cuDNN" not in path and any("recurrent_dropout" in f for f in flags)
    path, flags = kernel_path(_tiny(arch="gru", gru_reset="before"), "torch")
    assert "generic" in path and any("reset_after=False" in f for f in flags)
    path, flags = kernel_path(_tiny(arch="lstm", impl="cell"), "jax")
    assert "explicit cell" in path and any('impl = "cell"' in f for f in flags)
    path, flags = kernel_path(_tiny(arch="lstm"), "torch")
    assert "_fallback_lstm" in path
    path, flags = kernel_path(_tiny(arch="rnn"), "tensorflow", gpu=True)
    assert "generic" in path and any("no fused SimpleRNN" in f for f in flags)


def test_wrong_keras_backend_is_refused() -> None:
    from rnnbench.backends.keras_backend import KerasBackend

    with pytest.raises(RuntimeError, match="KERAS_BACKEND"):
        KerasBackend(_tiny(backend="keras-jax"))


def test_unavailable_framework_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def fake_find_spec(name: str, *a: object, **k: object) -> object:
        return None if name == "jax" else real(name, *a, **k)

    monkeypatch.setattr(base.importlib.util, "find_spec", fake_find_spec)
    with pytest.raises(UserError) as err:
        base.ensure_available("keras-jax")
    assert "jax not installed" in str(err.value) and "pip install" in str(err.value)
    assert base.ensure_available("keras-tensorflow").name == "keras-tensorflow"


def test_torch_init_on_keras() -> None:
    from rnnbench.backends.keras_backend import KerasBackend

    s = _tiny(arch="lstm", units=16, embedding_dim=8, init="torch")
    b = KerasBackend(s)
    b.build(200)
    k = 1 / math.sqrt(16)
    emb = b.model.get_layer("embedding").embeddings.numpy()
    assert 0.8 < emb.std() < 1.2  # N(0, 1)
    (cell,) = b.cells()
    assert np.abs(cell.kernel.numpy()).max() <= k and np.abs(cell.recurrent_kernel.numpy()).max() <= k
    bias = cell.bias.numpy()
    assert np.abs(bias).max() <= 2 * k and np.abs(bias).max() > k * 0.5  # b_ih + b_hh
    head = b.model.get_layer("head")
    assert np.abs(head.kernel.numpy()).max() <= 1 / math.sqrt(16)


def test_keras_init_on_torch() -> None:
    torch = require_module("torch")
    from rnnbench.backends.torch_backend import TorchBackend

    s = CellSettings(arch="lstm", units=6, embedding_dim=5, init="keras", threads=1, bidirectional=True)
    b = TorchBackend(s)
    b.build(40)
    rnn = b.model.recurrent
    for sfx in ("l0", "l0_reverse"):
        b_ih, b_hh = getattr(rnn, f"bias_ih_{sfx}").detach(), getattr(rnn, f"bias_hh_{sfx}").detach()
        assert torch.equal(b_ih[6:12], torch.ones(6)) and int(torch.count_nonzero(b_ih)) == 6
        assert int(torch.count_nonzero(b_hh)) == 0  # forget bias 1 in total, not 2
        w_hh = getattr(rnn, f"weight_hh_{sfx}").detach()  # (4h, h): orthonormal columns, as Keras's rows
        assert torch.allclose(w_hh.T @ w_hh, torch.eye(6), atol=1e-5)
        w_ih = getattr(rnn, f"weight_ih_{sfx}").detach()
        assert w_ih.abs().max() <= math.sqrt(6 / (5 + 24))
    assert b.model.embedding.weight.abs().max() <= 0.05
    assert float(b.model.head.bias.detach()[0]) == 0.0


SMOKE = """
import json, sys, numpy as np
from rnnbench.suite import CellSettings
from rnnbench.backends.base import ensure_available
out = {}
for impl in ("fused", "cell"):
    s = CellSettings(arch="gru", backend="keras-BACKEND", impl=impl, units=4, embedding_dim=3, threads=1)
    b = ensure_available(s.backend).load()(s)
    b.build(30)
    rng = np.random.RandomState(0)
    x, y = rng.randint(0, 30, (16, 5)), rng.randint(0, 2, 16)
    ticks = []
    loss = b.train_epoch(x, y, 8, lambda: ticks.append(1), None)
    out[impl] = {"ticks": len(ticks), "loss": loss, "eval": b.evaluate(x, y, 16),
                 "params": b.param_counts()["total"], "kernel": b.describe()["kernel"]}
out["tensorflow_imported"] = "tensorflow" in sys.modules
print(json.dumps(out))
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_other_backends_smoke(backend: str) -> None:
    b = base.get_backend(f"keras-{backend}")
    require(b.available(), f"keras-{backend} not installed (missing {', '.join(b.missing())})")
    from rnnbench.cellenv import cell_environment

    env = cell_environment(CellSettings(backend=f"keras-{backend}", threads=1))
    env["PYTHONPATH"] = str(REPO)
    res = subprocess.run([sys.executable, "-c", SMOKE.replace("BACKEND", backend)], capture_output=True,
                         text=True, env=env, cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    for impl in ("fused", "cell"):
        r = out[impl]
        assert r["ticks"] == 2 and math.isfinite(r["loss"]) and 0 <= r["eval"][1] <= 1
        assert r["params"] == 30 * 3 + 3 * (4 * 3 + 4 * 4) + 6 * 4 + 5
    assert out["tensorflow_imported"] is False  # keras.utils.set_random_seed would import it
    assert ("lax.scan" if backend == "jax" else "Python loop") in out["fused"]["kernel"]
