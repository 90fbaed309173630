"""Numerical parity: the same weights give the same outputs and gradients everywhere.

For every case — arch ∈ {GRU (reset after), GRU (reset before), LSTM, SimpleRNN} ×
bidirectional ∈ {no, yes} × layers ∈ {1, 2} — the real models rnnbench trains are built
(PyTorch's :class:`~rnnbench.backends.torch_backend.TorchRNNClassifier`, Keras's
:func:`~rnnbench.backends.keras_backend.build_model` on TensorFlow) with a tiny vocabulary
and small dimensions, and checked:

* **torch → keras**: the PyTorch model keeps its own initialization; every weight is copied
  into the Keras model (embedding, each layer and direction, head); then one float32
  batch goes through both: max |Δ output| (the sigmoid probability), and one training
  step's gradients (binary cross-entropy on fixed labels) of every weight, mapped into
  PyTorch's layout, max |Δ grad|.
* **keras → torch**: the same from the Keras model's own initialization.
* **fused ↔ cell**, per framework: the library layer against rnnbench's explicit cell
  (:mod:`~rnnbench.backends.torch_cells`, :mod:`~rnnbench.backends.keras_cells`), weights
  copied 1:1 (same names and layout).

* **adam step / rmsprop step (torch→keras)**, per variant (1 layer): PyTorch's weights copied into Keras,
  then one optimizer update on each side — PyTorch through the adapter's own optimizer
  (:func:`~rnnbench.backends.torch_backend.make_optimizer`, ``adam_update = "keras"`` as the
  same-model suites set it) and ``keras.optimizers.Adam`` — and the *updates* (weight after
  minus before) compared per weight, mapped into PyTorch's layout. PyTorch's own update
  (``adam_update = "framework"``) fails this check with the same epsilon: it adds epsilon
  after bias correction, Keras before. Shown as Δ grad/upd and rel in the table; the
  tolerance is relative to the largest update. RMSprop likewise: PyTorch's own (alpha 0.99,
  epsilon outside the square root) fails it; the adapter's ``KerasRMSprop`` passes.

Cross-framework pairs are run for fused ↔ fused and cell ↔ cell (PyTorch has no fused
reset-before GRU, so that variant pairs PyTorch's cell with both Keras implementations).

The weight mapping (:func:`torch_to_keras_cell`, :func:`keras_to_torch_cell`):

* gate order: PyTorch GRU (r, z, n) ↔ Keras (z, r, h) — the first two blocks swap; LSTM
  (i, f, g, o) = Keras (i, f, c, o); SimpleRNN one block;
* PyTorch stores ``weight_ih`` (gates·units, input), Keras ``kernel`` (input, gates·units):
  transposed; likewise ``weight_hh`` ↔ ``recurrent_kernel`` and ``head.weight`` ↔ ``kernel``;
* GRU reset-after: Keras's (2, 3·units) bias = [b_ih; b_hh] (each reordered);
  LSTM, SimpleRNN and GRU reset-before: Keras has one bias, which only ever appears as
  b_ih + b_hh in PyTorch's equations — torch → keras sums them; keras → torch puts the bias
  in b_ih and zeros in b_hh. For gradients the single Keras bias's gradient equals both
  ``bias_ih``'s and ``bias_hh``'s, so it is compared against each.

Torch and TensorFlow import together in one process (measured); Keras is pinned to the
TensorFlow backend here (gradients via ``tf.GradientTape``).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from rnnbench.errors import UserError

if TYPE_CHECKING:
    from rich.table import Table

    from rnnbench.suite import CellSettings

OUT_TOL = 1e-5
GRAD_ATOL = 1e-5
GRAD_RTOL = 1e-5
UPDATE_ATOL = 1e-9
UPDATE_RTOL = 1e-4  # of the largest update of that weight (float32 rounding of lr-sized steps)

VARIANTS: dict[str, tuple[str, str]] = {  # name → (arch, gru_reset)
    "gru": ("gru", "after"),
    "gru-before": ("gru", "before"),
    "lstm": ("lstm", "after"),
    "rnn": ("rnn", "after"),
}
ARCH_VARIANTS = {"gru": ("gru", "gru-before"), "lstm": ("lstm",), "rnn": ("rnn",)}
_TORCH_TO_KERAS_GATES = {"gru": (1, 0, 2), "lstm": (0, 1, 2, 3), "rnn": (0,)}


@dataclass
class VerifyRow:
    case: str
    check: str  # "torch→keras", "keras→torch", "fused↔cell (torch)", "fused↔cell (keras)"
    impl: str  # "fused/fused", "cell/cell", …
    max_abs_out_diff: float
    max_abs_grad_diff: float
    max_rel_grad_diff: float
    passed: bool
    worst: str = ""  # the parameter with the largest gradient difference
    seconds: float = 0.0

    @property
    def direction(self) -> str:
        return self.check

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class VerifyConfig:
    vocab: int = 50
    embedding_dim: int = 6
    units: int = 5
    seq_len: int = 7
    batch: int = 4
    seed: int = 0
    variants: tuple[str, ...] = ("gru", "gru-before", "lstm", "rnn")
    shapes: tuple[tuple[bool, int], ...] = ((False, 1), (False, 2), (True, 1), (True, 2))  # (bidirectional, layers)
    cross_impls: tuple[str, ...] = ("fused", "cell")
    fused_vs_cell: bool = True
    adam_step: bool = True
    adam_update: str = "keras"  # the PyTorch side's update rule in the adam check
    learning_rate: float = 1e-3
    adam_epsilon: float = 1e-7
    optimizers: tuple[str, ...] = ("adam", "rmsprop")  # the optimizer-step checks (Keras's defaults otherwise)
    plugins: tuple[str, ...] = ()  # architectures checked at the layer level (verify_architecture)


# -- the weight mapping (numpy) ---------------------------------------------------------------


def _blocks(a: np.ndarray, n: int, axis: int) -> list[np.ndarray]:
    return np.split(a, n, axis=axis)


def _torch_to_keras_order(a: np.ndarray, arch: str, axis: int = 0) -> np.ndarray:
    order = _TORCH_TO_KERAS_GATES[arch]
    parts = _blocks(a, len(order), axis)
    return np.concatenate([parts[i] for i in order], axis=axis)


def _keras_to_torch_order(a: np.ndarray, arch: str, axis: int = 0) -> np.ndarray:
    order = _TORCH_TO_KERAS_GATES[arch]
    parts = _blocks(a, len(order), axis)
    inverse = [order.index(i) for i in range(len(order))]
    return np.concatenate([parts[i] for i in inverse], axis=axis)


def torch_to_keras_cell(
    w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray, arch: str, reset_after: bool
) -> list[np.ndarray]:
    """PyTorch's four tensors of one layer and direction → Keras's [kernel, recurrent_kernel, bias]."""
    kernel = _torch_to_keras_order(w_ih, arch).T
    recurrent = _torch_to_keras_order(w_hh, arch).T
    if arch == "gru" and reset_after:
        bias = np.stack([_torch_to_keras_order(b_ih, arch), _torch_to_keras_order(b_hh, arch)])
    else:
        bias = _torch_to_keras_order(b_ih + b_hh, arch)
    return [np.ascontiguousarray(kernel), np.ascontiguousarray(recurrent), bias]


def keras_to_torch_cell(
    kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray, arch: str, for_grad: bool = False
) -> list[np.ndarray]:
    """Keras's [kernel, recurrent_kernel, bias] → PyTorch's [w_ih, w_hh, b_ih, b_hh].

    A single Keras bias goes to b_ih with b_hh zero — or, for gradients (``for_grad``), to
    both, since d loss / d b_ih = d loss / d b_hh = d loss / d (b_ih + b_hh).
    """
    w_ih = _keras_to_torch_order(kernel.T, arch)
    w_hh = _keras_to_torch_order(recurrent.T, arch)
    if bias.ndim == 2:
        b_ih, b_hh = _keras_to_torch_order(bias[0], arch), _keras_to_torch_order(bias[1], arch)
    else:
        b_ih = _keras_to_torch_order(bias, arch)
        b_hh = b_ih.copy() if for_grad else np.zeros_like(b_ih)
    return [np.ascontiguousarray(w_ih), np.ascontiguousarray(w_hh), b_ih, b_hh]


def _torch_names(layer: int, direction: int) -> list[str]:
    sfx = f"l{layer}{'_reverse' if direction else ''}"
    return [f"recurrent.{k}_{sfx}" for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def keras_arrays_to_torch(
    emb: np.ndarray, cells: list[tuple[int, int, list[np.ndarray]]], head: list[np.ndarray], arch: str,
    for_grad: bool = False,
) -> dict[str, np.ndarray]:
    """Keras arrays (embedding, per-cell [kernel, recurrent, bias], head [kernel, bias]) →
    PyTorch state-dict names and layouts."""
    out = {"embedding.weight": emb}
    for layer, direction, (k, rk, b) in cells:
        for name, arr in zip(_torch_names(layer, direction), keras_to_torch_cell(k, rk, b, arch, for_grad)):
            out[name] = arr
    out["head.weight"] = head[0].T
    out["head.bias"] = head[1]
    return out


# -- the models ------------------------------------------------------------------------------


def _ensure_keras_tensorflow() -> Any:
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "tensorflow"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    if keras.backend.backend() != "tensorflow":
        raise UserError(
            f"verify compares against Keras on TensorFlow, but Keras was loaded with the "
            f"'{keras.backend.backend()}' backend in this process",
            hint="run it in a process where KERAS_BACKEND is unset or 'tensorflow'",
        )
    return keras


def _settings(variant: str, bidirectional: bool, layers: int, impl: str, backend: str, cfg: VerifyConfig
              ) -> "CellSettings":
    from rnnbench.suite import CellSettings

    arch, reset = VARIANTS[variant]
    return CellSettings(
        arch=arch, backend=backend, impl=impl, units=cfg.units, layers=layers, bidirectional=bidirectional,
        dropout=0.0, gru_reset=reset, embedding_dim=cfg.embedding_dim, seed=cfg.seed,
    )


class _TorchSide:
    def __init__(self, s: "CellSettings", cfg: VerifyConfig, device: str = "cpu") -> None:
        import torch

        from rnnbench.backends.torch_backend import TorchRNNClassifier

        torch.manual_seed(cfg.seed)
        self.torch = torch
        self.s = s
        self.device = torch.device(device)
        self.model = TorchRNNClassifier(s, cfg.vocab).to(self.device)
        self.model.train()  # dropout is 0: training mode exercises the training path

    def state(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()}

    def load(self, arrays: dict[str, np.ndarray]) -> None:
        sd = {k: self.torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)).to(self.device)
              for k, v in arrays.items()}
        self.model.load_state_dict(sd, strict=True)

    def run(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        torch = self.torch
        self.model.zero_grad(set_to_none=True)
        logits = self.model(torch.from_numpy(x).long().to(self.device))
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y).to(self.device))
        loss.backward()
        grads = {n: p.grad.detach().cpu().numpy().copy() for n, p in self.model.named_parameters()}
        return torch.sigmoid(logits).detach().cpu().numpy().astype(np.float64), grads

    def adam_update(self, x: np.ndarray, y: np.ndarray, cfg: VerifyConfig,
                    optimizer: str = "adam") -> dict[str, np.ndarray]:
        """One optimizer step through the adapter's optimizer; the change of every weight."""
        from rnnbench.backends.torch_backend import make_optimizer

        torch = self.torch
        s = self.s.model_copy(update={"adam_update": cfg.adam_update, "learning_rate": cfg.learning_rate,
                                      "adam_epsilon": cfg.adam_epsilon, "optimizer": optimizer})
        opt = make_optimizer(self.model.parameters(), s)
        before = self.state()
        opt.zero_grad(set_to_none=True)
        logits = self.model(torch.from_numpy(x).long())
        torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y)).backward()
        opt.step()
        after = self.state()
        return {k: after[k].astype(np.float64) - before[k] for k in before}

    def to_keras(self, keras_side: "_KerasSide") -> None:
        st = self.state()
        s = self.s
        cells = []
        for layer, direction, _ in keras_side.cell_list():
            w = [st[n] for n in _torch_names(layer, direction)]
            cells.append(torch_to_keras_cell(*w, s.arch, s.gru_reset == "after"))
        keras_side.load(st["embedding.weight"], cells, [st["head.weight"].T, st["head.bias"]])


class _KerasSide:
    def __init__(self, s: "CellSettings", cfg: VerifyConfig) -> None:
        keras = _ensure_keras_tensorflow()
        import tensorflow as tf

        from rnnbench.backends.keras_backend import build_model, iter_cells

        keras.utils.set_random_seed(cfg.seed)
        self.tf = tf
        self.keras = keras
        self.s = s
        self.model = build_model(s, cfg.vocab)
        self._iter_cells = iter_cells

    def cell_list(self) -> list[tuple[int, int, Any]]:
        return list(self._iter_cells(self.model, self.s.layers, self.s.bidirectional))

    def _variables(self) -> list[tuple[str, Any]]:
        """(torch-ish label, variable) for every weight, in a fixed order."""
        m = self.model
        out: list[tuple[str, Any]] = [("embedding", m.get_layer("embedding").embeddings)]
        for layer, direction, cell in self.cell_list():
            tag = f"l{layer}{'_reverse' if direction else ''}"
            out += [(f"kernel_{tag}", cell.kernel), (f"recurrent_kernel_{tag}", cell.recurrent_kernel),
                    (f"bias_{tag}", cell.bias)]
        head = m.get_layer("head")
        out += [("head.kernel", head.kernel), ("head.bias", head.bias)]
        return out

    def arrays(self) -> tuple[np.ndarray, list[tuple[int, int, list[np.ndarray]]], list[np.ndarray]]:
        m = self.model
        cells = [(layer, d, [np.asarray(c.kernel.numpy()), np.asarray(c.recurrent_kernel.numpy()),
                             np.asarray(c.bias.numpy())]) for layer, d, c in self.cell_list()]
        head = m.get_layer("head")
        return (np.asarray(m.get_layer("embedding").embeddings.numpy()), cells,
                [np.asarray(head.kernel.numpy()), np.asarray(head.bias.numpy())])

    def load(self, emb: np.ndarray, cells: list[list[np.ndarray]], head: list[np.ndarray]) -> None:
        m = self.model
        m.get_layer("embedding").embeddings.assign(emb.astype(np.float32))
        for (_, _, cell), (k, rk, b) in zip(self.cell_list(), cells):
            cell.kernel.assign(k.astype(np.float32))
            cell.recurrent_kernel.assign(rk.astype(np.float32))
            cell.bias.assign(b.astype(np.float32))
        hl = m.get_layer("head")
        hl.kernel.assign(head[0].astype(np.float32))
        hl.bias.assign(head[1].astype(np.float32))

    def run(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        tf = self.tf
        variables = [v for _, v in self._variables()]
        loss_fn = self.keras.losses.BinaryCrossentropy()
        with tf.GradientTape() as tape:
            p = self.model(x.astype(np.int32), training=True)
            loss = loss_fn(y.reshape(-1, 1), p)
        grads = tape.gradient(loss, variables)
        return (np.asarray(p).reshape(-1).astype(np.float64),
                [np.asarray(tf.convert_to_tensor(g)) for g in grads])

    def adam_update(self, x: np.ndarray, y: np.ndarray, cfg: VerifyConfig,
                    optimizer: str = "adam") -> dict[str, np.ndarray]:
        """One ``keras.optimizers.Adam`` (or ``RMSprop``) step; the change of every weight, in PyTorch's layout
        (Keras's single LSTM/SimpleRNN bias set against both of PyTorch's, like its gradient)."""
        variables = [v for _, v in self._variables()]
        before = [np.asarray(v.numpy(), np.float64) for v in variables]
        _, grads = self.run(x, y)
        opt = (self.keras.optimizers.RMSprop(learning_rate=cfg.learning_rate) if optimizer == "rmsprop"
               else self.keras.optimizers.Adam(learning_rate=cfg.learning_rate, epsilon=cfg.adam_epsilon))
        opt.apply_gradients(zip(grads, variables))
        deltas = [np.asarray(v.numpy(), np.float64) - b for v, b in zip(variables, before)]
        return self.grads_as_torch(deltas)

    def grads_as_torch(self, grads: list[np.ndarray]) -> dict[str, np.ndarray]:
        n_cells = len(self.cell_list())
        emb = grads[0]
        cells = [(layer, d, grads[1 + 3 * i: 4 + 3 * i]) for i, (layer, d, _) in enumerate(self.cell_list())]
        head = grads[1 + 3 * n_cells:]
        return keras_arrays_to_torch(emb, cells, head, self.s.arch, for_grad=True)

    def to_torch(self, torch_side: _TorchSide) -> None:
        emb, cells, head = self.arrays()
        torch_side.load(keras_arrays_to_torch(emb, cells, head, self.s.arch))


# -- comparisons -------------------------------------------------------------------------------


def _compare_grads(a: dict[str, np.ndarray], b: dict[str, np.ndarray], atol: float = GRAD_ATOL,
                   rtol: float = GRAD_RTOL) -> tuple[float, float, bool, str]:
    if set(a) != set(b):
        missing = sorted(set(a) ^ set(b))
        raise AssertionError(f"gradient sets differ: {missing}")
    worst_abs, worst_rel, ok, worst = 0.0, 0.0, True, ""
    for name in a:
        ga, gb = np.asarray(a[name], np.float64), np.asarray(b[name], np.float64)
        if ga.shape != gb.shape:
            raise AssertionError(f"{name}: shapes {ga.shape} vs {gb.shape}")
        diff = float(np.max(np.abs(ga - gb))) if ga.size else 0.0
        scale = float(np.max(np.abs(ga))) if ga.size else 0.0
        rel = diff / scale if scale > 0 else 0.0
        if diff > atol + rtol * scale:
            ok = False
        if diff > worst_abs:
            worst_abs, worst = diff, name
        worst_rel = max(worst_rel, rel)
    return worst_abs, worst_rel, ok, worst


def _row(case: str, check: str, impl: str, out_a: np.ndarray, out_b: np.ndarray,
         grads_a: dict[str, np.ndarray], grads_b: dict[str, np.ndarray], t0: float) -> VerifyRow:
    out_diff = float(np.max(np.abs(out_a - out_b)))
    g_abs, g_rel, g_ok, worst = _compare_grads(grads_a, grads_b)
    return VerifyRow(case, check, impl, out_diff, g_abs, g_rel, bool(out_diff <= OUT_TOL and g_ok), worst,
                     time.perf_counter() - t0)


def case_name(variant: str, bidirectional: bool, layers: int) -> str:
    parts = [variant]
    if bidirectional:
        parts.append("bi")
    parts.append(f"x{layers}")
    return " ".join(parts)


def verify_case(variant: str, bidirectional: bool, layers: int, cfg: VerifyConfig) -> list[VerifyRow]:
    """Every check of one case. Rows come back even when a check fails (passed=False).

    At most four models are built per case (PyTorch fused and cell, Keras fused and cell);
    each keeps a snapshot of its own initialization, which it restores before it is the
    source of a copy.
    """
    arch, reset = VARIANTS[variant]
    case = case_name(variant, bidirectional, layers)
    rng = np.random.RandomState(cfg.seed + 12345)
    x = rng.randint(0, cfg.vocab, size=(cfg.batch, cfg.seq_len)).astype(np.int64)
    y = rng.randint(0, 2, size=(cfg.batch,)).astype(np.float32)
    torch_fused_ok = not (arch == "gru" and reset == "before")
    models: dict[tuple[str, str], Any] = {}

    def torch_side(impl: str) -> _TorchSide:
        if ("torch", impl) not in models:
            side = _TorchSide(_settings(variant, bidirectional, layers, impl, "torch", cfg), cfg)
            models["torch", impl] = (side, side.state())
        side, own = models["torch", impl]
        side.load(own)
        return side

    def keras_side(impl: str) -> _KerasSide:
        if ("keras", impl) not in models:
            side = _KerasSide(_settings(variant, bidirectional, layers, impl, "keras-tensorflow", cfg), cfg)
            models["keras", impl] = (side, side.model.get_weights())
        side, own = models["keras", impl]
        side.model.set_weights(own)
        return side

    rows: list[VerifyRow] = []
    pairs = []
    for impl in cfg.cross_impls:
        pairs.append((impl if (impl == "cell" or torch_fused_ok) else "cell", impl))
    for t_impl, k_impl in pairs:
        label = f"{t_impl}/{k_impl}"
        # torch → keras: PyTorch's own initialization, copied into Keras
        t0 = time.perf_counter()
        ts, ks = torch_side(t_impl), keras_side(k_impl)
        ts.to_keras(ks)
        out_t, g_t = ts.run(x, y)
        out_k, g_k = ks.run(x, y)
        rows.append(_row(case, "torch→keras", label, out_t, out_k, g_t, ks.grads_as_torch(g_k), t0))
        # keras → torch: Keras's own initialization, copied into PyTorch
        t0 = time.perf_counter()
        ts, ks = torch_side(t_impl), keras_side(k_impl)
        ks.to_torch(ts)
        out_t, g_t = ts.run(x, y)
        out_k, g_k = ks.run(x, y)
        rows.append(_row(case, "keras→torch", label, out_k, out_t, ks.grads_as_torch(g_k), g_t, t0))
    if cfg.fused_vs_cell:
        if torch_fused_ok:
            t0 = time.perf_counter()
            fused, cell = torch_side("fused"), torch_side("cell")
            cell.load(fused.state())
            out_f, g_f = fused.run(x, y)
            out_c, g_c = cell.run(x, y)
            rows.append(_row(case, "fused↔cell (torch)", "fused/cell", out_f, out_c, g_f, g_c, t0))
        t0 = time.perf_counter()
        kf, kc = keras_side("fused"), keras_side("cell")
        kc.model.set_weights(kf.model.get_weights())
        out_f, g_f = kf.run(x, y)
        out_c, g_c = kc.run(x, y)
        rows.append(_row(case, "fused↔cell (keras)", "fused/cell", out_f, out_c,
                         kf.grads_as_torch(g_f), kc.grads_as_torch(g_c), t0))
    return rows


def verify_adam(variant: str, cfg: VerifyConfig, optimizer: str = "adam") -> VerifyRow:
    """One optimizer update on each side from the same weights and batch (1 layer, unidirectional)."""
    arch, reset = VARIANTS[variant]
    impl = "cell" if (arch == "gru" and reset == "before") else "fused"
    rng = np.random.RandomState(cfg.seed + 54321)
    x = rng.randint(0, cfg.vocab, size=(cfg.batch, cfg.seq_len)).astype(np.int64)
    y = rng.randint(0, 2, size=(cfg.batch,)).astype(np.float32)
    t0 = time.perf_counter()
    ts = _TorchSide(_settings(variant, False, 1, impl, "torch", cfg), cfg)
    ks = _KerasSide(_settings(variant, False, 1, impl, "keras-tensorflow", cfg), cfg)
    ts.to_keras(ks)
    # An update is read as (weight after − weight before) in float32: allow the weights' rounding.
    ulp = 4 * float(np.finfo(np.float32).eps) * max(float(np.max(np.abs(w))) for w in ts.state().values())
    upd_t = ts.adam_update(x, y, cfg, optimizer)
    upd_k = ks.adam_update(x, y, cfg, optimizer)
    out_t, _ = ts.run(x, y)
    out_k, _ = ks.run(x, y)
    out_diff = float(np.max(np.abs(out_t - out_k)))
    u_abs, u_rel, u_ok, worst = _compare_grads(upd_t, upd_k, UPDATE_ATOL + ulp, UPDATE_RTOL)
    two_biases = not (arch == "gru" and reset == "after")
    # PyTorch's LSTM/RNN (and its reset-before cell) carry b_ih and b_hh where Keras has one bias:
    # both get the same gradient and the same Adam step, so their sum moves twice as far and the
    # outputs after the step differ by design. There only the updates are judged.
    ok = u_ok and (two_biases or out_diff <= OUT_TOL)
    note = worst if not u_ok else ("output after the step differs by design: PyTorch's two biases "
                                   "each take the step" if two_biases else "")
    return VerifyRow(case_name(variant, False, 1), f"{optimizer} step (torch→keras)", f"{impl}/{impl}", out_diff,
                     u_abs, u_rel, bool(ok), note, time.perf_counter() - t0)


# -- plugin architectures (minGRU, minLSTM, your own) -------------------------------------------


def _plugin_settings(name: str, layers: int, cfg: VerifyConfig) -> "CellSettings":
    from rnnbench.suite import CellSettings

    return CellSettings(arch=name, backend="torch", units=cfg.units, layers=layers, dropout=0.0,
                        embedding_dim=cfg.embedding_dim, seed=cfg.seed)


def _torch_layer_run(layer: Any, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The layer's output on ``x`` and the gradients of ``sum(out · w)`` by weight (and by input)."""
    import torch

    xt = torch.tensor(x, requires_grad=True)
    out = layer(xt)
    (out * torch.tensor(w)).sum().backward()
    grads = {k: p.grad.detach().numpy().copy() for k, p in layer.named_parameters()}
    grads["input"] = xt.grad.numpy().copy()
    layer.zero_grad()
    return out.detach().numpy(), grads


def _keras_layer_run(layer: Any, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    import tensorflow as tf

    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = layer(xt)
        loss = tf.reduce_sum(out * w)
    gw = tape.gradient(loss, [xt] + [v.value for v in layer.trainable_weights])
    grads = {f"w{i}": np.asarray(g) for i, g in enumerate(gw[1:])}
    grads["input"] = np.asarray(gw[0])
    return np.asarray(out), grads


def _as_keras_grads(arch: Any, grads: dict[str, np.ndarray], s: "CellSettings") -> dict[str, np.ndarray]:
    mapped = arch.torch_to_keras({k: v for k, v in grads.items() if k != "input"}, s)
    return {**{f"w{i}": g for i, g in enumerate(mapped)}, "input": grads["input"]}


def verify_architecture(name: str, layers: int, cfg: VerifyConfig) -> list[VerifyRow]:
    """A plugin architecture at the layer level, on one random float batch ``[batch, time,
    embedding]``: its training layer against its sequential definition in each framework it
    supplies both for, and PyTorch against Keras when it maps the weights — outputs, and the
    gradients of a fixed weighted sum of the outputs by every weight and by the input."""
    from rnnbench.architectures import load

    arch = load(name)
    s = _plugin_settings(name, layers, cfg)
    try:
        arch.check(s)
    except ValueError:
        return []  # a shape it does not offer (say, 2 layers)
    case = f"{arch.label} x{layers}"
    rng = np.random.RandomState(cfg.seed + 777)
    x = rng.randn(cfg.batch, cfg.seq_len, cfg.embedding_dim).astype(np.float32)
    w = rng.randn(cfg.batch, arch.features(s)).astype(np.float32)
    rows: list[VerifyRow] = []
    torch_layer = keras_layer = None
    if arch.supports("torch"):
        import torch

        torch.manual_seed(cfg.seed)
        torch_layer = arch.torch_layer(s)
        seq = arch.torch_sequential(s)
        if seq is not None:
            t0 = time.perf_counter()
            seq.load_state_dict(torch_layer.state_dict())
            out_p, g_p = _torch_layer_run(torch_layer, x, w)
            out_s, g_s = _torch_layer_run(seq, x, w)
            rows.append(_row(case, "sequential↔trained (torch)", "definition/scan", out_s, out_p, g_s, g_p, t0))
    if arch.supports("keras"):
        _ensure_keras_tensorflow()
        keras_layer = arch.keras_layer(s)
        keras_layer(x)
        seq = arch.keras_sequential(s)
        if seq is not None:
            t0 = time.perf_counter()
            seq(x)
            seq.set_weights(keras_layer.get_weights())
            out_p, g_p = _keras_layer_run(keras_layer, x, w)
            out_s, g_s = _keras_layer_run(seq, x, w)
            rows.append(_row(case, "sequential↔trained (keras)", "definition/scan", out_s, out_p, g_s, g_p, t0))
    if torch_layer is not None and keras_layer is not None:
        state = {k: v.detach().numpy() for k, v in torch_layer.state_dict().items()}
        mapped = arch.torch_to_keras(state, s)
        if mapped is not None:
            t0 = time.perf_counter()
            keras_layer.set_weights(mapped)
            out_t, g_t = _torch_layer_run(torch_layer, x, w)
            out_k, g_k = _keras_layer_run(keras_layer, x, w)
            rows.append(_row(case, "torch→keras", "layer/layer", out_t, out_k, _as_keras_grads(arch, g_t, s), g_k, t0))
    return rows


def verify_device_case(variant: str, bidirectional: bool, layers: int, cfg: VerifyConfig,
                       device: str) -> list[VerifyRow]:
    """PyTorch on the CPU against PyTorch on ``device`` (cuDNN's fused kernels, and the cell):
    the same weights and batch, outputs and gradients compared with the cross-framework tolerances."""
    arch, reset = VARIANTS[variant]
    case = case_name(variant, bidirectional, layers)
    rng = np.random.RandomState(cfg.seed + 12345)
    x = rng.randint(0, cfg.vocab, size=(cfg.batch, cfg.seq_len)).astype(np.int64)
    y = rng.randint(0, 2, size=(cfg.batch,)).astype(np.float32)
    impls = ("cell",) if arch == "gru" and reset == "before" else ("fused", "cell")
    rows = []
    for impl in impls:
        t0 = time.perf_counter()
        s = _settings(variant, bidirectional, layers, impl, "torch", cfg)
        cpu = _TorchSide(s, cfg)
        gpu = _TorchSide(s, cfg, device)
        gpu.load(cpu.state())
        out_a, grads_a = cpu.run(x, y)
        out_b, grads_b = gpu.run(x, y)
        rows.append(_row(case, f"cpu↔{device} (torch)", f"{impl}/{impl}", out_a, out_b, grads_a, grads_b, t0))
    return rows


def run_verify_device(cfg: VerifyConfig, device: str, progress: Any = None) -> list[VerifyRow]:
    """``rnnbench verify --device cuda``: every case's PyTorch model on the CPU and on the GPU."""
    import torch

    if not torch.cuda.is_available():
        raise UserError(f"verify --device {device}: torch {torch.__version__} sees no CUDA GPU")
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 on both sides, as the cells train
    torch.backends.cudnn.allow_tf32 = False
    rows: list[VerifyRow] = []
    for variant, bidirectional, layers in iter_cases(cfg):
        rows.extend(verify_device_case(variant, bidirectional, layers, cfg, device))
        if progress:
            progress(case_name(variant, bidirectional, layers))
    return rows


def iter_cases(cfg: VerifyConfig) -> Iterable[tuple[str, bool, int]]:
    for variant in cfg.variants:
        for bidirectional, layers in cfg.shapes:
            yield variant, bidirectional, layers


def config_for(archs: Iterable[str] | None = None, quick: bool = False) -> VerifyConfig:
    """``archs``: gru (both reset conventions), lstm, rnn, and any other architecture name
    (mingru, minlstm, a plugin: checked by :func:`verify_architecture`); default: all the
    built-ins. ``quick``: fused/fused pairs and fused↔cell only on the 1-layer unidirectional
    and the 2-layer bidirectional cases."""
    from rnnbench.architectures import BUILTIN, CLASSIC, target

    variants: list[str] = []
    plugins: list[str] = []
    for a in archs or tuple(BUILTIN):
        key = a.lower()
        if key in ("simplernn", "simple_rnn"):
            key = "rnn"
        if key in VARIANTS and key not in ARCH_VARIANTS:
            variants.append(key)
        elif key in ARCH_VARIANTS:
            variants.extend(ARCH_VARIANTS[key])
        elif (name := a if ":" in a else key) not in CLASSIC and target(name) is not None:
            plugins.append(name)
        else:
            raise UserError(f"verify: unknown arch '{a}'", hint=f"choose {', '.join(BUILTIN)}, gru-before, an "
                            "installed plugin or package.module:Name")
    cfg = VerifyConfig(variants=tuple(dict.fromkeys(variants)), plugins=tuple(dict.fromkeys(plugins)))
    if quick:
        cfg.cross_impls = ("fused",)
        cfg.shapes = ((False, 1), (True, 2))
    return cfg


def run_verify(cfg: VerifyConfig | None = None, progress: Any = None) -> list[VerifyRow]:
    cfg = cfg or VerifyConfig()
    _ensure_keras_tensorflow()
    import torch

    rows: list[VerifyRow] = []
    cases = list(iter_cases(cfg))
    # One torch thread: these ops are tiny, and torch's OpenMP pool spinning against
    # TensorFlow's in the same process made each backward ~100x slower on 2 cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for variant, bidirectional, layers in cases:
            rows.extend(verify_case(variant, bidirectional, layers, cfg))
            if progress:
                progress(case_name(variant, bidirectional, layers))
        for name in cfg.plugins:
            found = 0
            for layers in sorted({n for _, n in cfg.shapes}):
                checked = verify_architecture(name, layers, cfg)
                rows.extend(checked)
                found += len(checked)
                if progress:
                    progress(f"{name} x{layers}")
            if not found:
                raise UserError(f"verify: architecture {name!r} offers nothing to check",
                                hint="supply torch_sequential/keras_sequential (checked against the trained layer) "
                                "or torch_to_keras (PyTorch against Keras), and a check() that accepts 1 layer")
        if cfg.adam_step:
            for optimizer in cfg.optimizers:
                for variant in cfg.variants:
                    rows.append(verify_adam(variant, cfg, optimizer))
                    if progress:
                        progress(f"{variant} {optimizer} step")
    finally:
        torch.set_num_threads(threads)
    return rows


# -- rendering ---------------------------------------------------------------------------------


def render_table(rows: list[VerifyRow], title: str | None = None) -> "Table":
    """One row per check: max |Δ output|, max |Δ gradient| (and relative to the largest
    gradient of that weight); the weight with the largest gradient difference is named for
    failed checks."""
    from rich.table import Table

    n_fail = sum(not r.passed for r in rows)
    t = Table(
        title=title or f"rnnbench verify: {len(rows)} checks, {n_fail} failed",
        caption=f"pass: |Δ out| ≤ {OUT_TOL:g} and, per weight, |Δ grad| ≤ {GRAD_ATOL:g} + {GRAD_RTOL:g}·max|grad|; "
                f"adam step: the update (weight after − before) compared, |Δ upd| ≤ {UPDATE_ATOL:g} + "
                f"{UPDATE_RTOL:g}·max|update|",
    )
    t.add_column("case")
    t.add_column("check", no_wrap=True)
    t.add_column("impl", no_wrap=True)
    t.add_column("Δ out", justify="right", no_wrap=True)
    t.add_column("Δ grad/upd", justify="right", no_wrap=True)
    t.add_column("rel", justify="right", no_wrap=True)
    t.add_column("ok", justify="center", no_wrap=True)
    if n_fail:
        t.add_column("worst weight")
    for r in rows:
        cells = [r.case, r.check.replace(" (", " ").rstrip(")"), r.impl, f"{r.max_abs_out_diff:.1e}",
                 f"{r.max_abs_grad_diff:.1e}", f"{r.max_rel_grad_diff:.1e}",
                 "✓" if r.passed else "[red]✗[/red]"]
        if n_fail:
            cells.append("" if r.passed else r.worst)
        t.add_row(*cells)
    return t


def summary(rows: list[VerifyRow]) -> dict[str, Any]:
    """Maxima over the output/gradient checks, and apart over the Adam-update checks (whose
    output after the step differs by design where PyTorch has two biases)."""
    grads = [r for r in rows if " step (" not in r.check]
    adam = [r for r in rows if " step (" in r.check]
    return {
        "checks": len(rows),
        "failed": sum(not r.passed for r in rows),
        "max_abs_out_diff": max((r.max_abs_out_diff for r in grads), default=0.0),
        "max_abs_grad_diff": max((r.max_abs_grad_diff for r in grads), default=0.0),
        "max_rel_grad_diff": max((r.max_rel_grad_diff for r in grads), default=0.0),
        "adam_checks": len(adam),
        "max_rel_update_diff": max((r.max_rel_grad_diff for r in adam), default=None),
    }
