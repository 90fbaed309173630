"""PyTorch adapter: Embedding → GRU / LSTM / RNN stack → Dropout → Linear(1), BCE, Adam or RMSprop.

The same model the Keras adapter builds: no masking, pre-padded sequences, the head reads
the last layer's final state (forward and backward concatenated when bidirectional),
dropout sits on each recurrent layer's output (between layers and before the head).
Flush-to-zero is applied before anything runs: PyTorch's RNN backward on CPU is ~9×
slower with denormal floats (see docs/concepts/measurement.md).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch
from torch import nn

from rnnbench.backends.torch_cells import ExplicitRNN
from rnnbench.cellenv import resolved_threads

if TYPE_CHECKING:
    from rnnbench.suite import CellSettings

KERAS_EPSILON = 1e-7  # keras.optimizers.Adam's default


class KerasAdam(torch.optim.Adam):
    """PyTorch's Adam kernel taking Keras's update: epsilon added to √v *before* bias correction.

    Keras: ``w -= lr·√(1-β₂ᵗ)/(1-β₁ᵗ) · m / (√v + ε)``; PyTorch: ``w -= lr/(1-β₁ᵗ) · m /
    (√v/√(1-β₂ᵗ) + ε)``. They agree when PyTorch's ε is ``ε/√(1-β₂ᵗ)`` at step t, so this sets
    exactly that before each step and lets torch's own (foreach) kernel do the update:
    the same arithmetic as Keras, the speed of PyTorch's optimizer.
    """

    def __init__(self, params: Any, lr: float, eps: float) -> None:
        super().__init__(params, lr=lr, eps=eps)
        self.keras_eps = eps
        self.t = 0

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:  # noqa: ANN401 - torch's signature
        self.t += 1
        for group in self.param_groups:
            group["eps"] = self.keras_eps / math.sqrt(1.0 - group["betas"][1] ** self.t)
        return super().step(closure)


class KerasRMSprop(torch.optim.Optimizer):
    """Keras 3's RMSprop on PyTorch: ``v = ρv + (1-ρ)g²; w -= lr·g / √(v + ε)``.

    PyTorch's ``RMSprop`` adds ε *outside* the square root (``g / (√v + ε)``); with Keras's
    ε = 1e-7 inside, the step differs wherever ``v`` is small (ε inside acts like ~3e-4
    outside), so the classic Keras IMDB text's optimizer needs its own few lines here.
    """

    def __init__(self, params: Any, lr: float, rho: float = 0.9, eps: float = KERAS_EPSILON) -> None:
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:  # noqa: ANN401 - torch's signature
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            vs = [self.state[p].setdefault("velocity", torch.zeros_like(p)) for p in params]
            torch._foreach_mul_(vs, group["rho"])
            torch._foreach_addcmul_(vs, grads, grads, value=1.0 - group["rho"])
            denom = torch._foreach_add(vs, group["eps"])
            torch._foreach_sqrt_(denom)
            torch._foreach_addcdiv_(params, grads, denom, value=-group["lr"])
        return None


def optimizer_name(s: "CellSettings") -> str:
    if s.optimizer == "rmsprop":
        return ("KerasRMSprop (Keras's rho 0.9, epsilon 1e-7 inside the square root)" if s.adam_update == "keras"
                else "torch.optim.RMSprop (PyTorch's alpha 0.99, epsilon 1e-8)")
    return "torch.optim.Adam" + (" with Keras's update (epsilon before bias correction)"
                                 if s.adam_update == "keras" else "")


def make_optimizer(params: Any, s: "CellSettings") -> torch.optim.Optimizer:
    """The cell's optimizer: PyTorch's own update, or Keras's (``adam_update = "keras"``)."""
    if s.optimizer == "rmsprop":
        if s.adam_update == "keras":
            return KerasRMSprop(params, lr=s.learning_rate)
        return torch.optim.RMSprop(params, lr=s.learning_rate)
    if s.adam_update == "keras":
        eps = s.adam_epsilon if s.adam_epsilon is not None else KERAS_EPSILON
        return KerasAdam(params, lr=s.learning_rate, eps=eps)
    eps = s.adam_epsilon if s.adam_epsilon is not None else 1e-8
    return torch.optim.Adam(params, lr=s.learning_rate, eps=eps)


def adam_epsilon(s: "CellSettings") -> float:
    if s.adam_epsilon is not None:
        return s.adam_epsilon
    return KERAS_EPSILON if s.adam_update == "keras" else 1e-8


class _FinalState:
    """Mixin for a ``(output, h_n)`` recurrent stack: the module returns the last layer's final
    state instead (forward and backward concatenated when bidirectional), the architecture
    contract (:mod:`rnnbench.architectures.base`); parameter names stay the library's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        _, h = super().forward(x)  # type: ignore[misc]
        if isinstance(h, tuple):  # LSTM: (h_n, c_n)
            h = h[0]
        if self.bidirectional:  # type: ignore[attr-defined]
            return torch.cat([h[-2], h[-1]], dim=1)
        return h[-1]


class GRUStack(_FinalState, nn.GRU):
    pass


class LSTMStack(_FinalState, nn.LSTM):
    pass


class RNNStack(_FinalState, nn.RNN):
    pass


class ExplicitStack(_FinalState, ExplicitRNN):
    pass


_LAYERS = {"gru": GRUStack, "lstm": LSTMStack, "rnn": RNNStack}


def classic_layer(s: "CellSettings") -> nn.Module:
    """The built-in GRU / LSTM / RNN stack: PyTorch's fused layer, or rnnbench's explicit cell."""
    if s.impl == "fused":
        if s.arch == "gru" and s.gru_reset != "after":
            raise ValueError("PyTorch's fused nn.GRU applies the reset gate after the matmul only; "
                             "use impl = \"cell\" for gru_reset = \"before\"")
        return _LAYERS[s.arch](
            s.embedding_dim, s.units, num_layers=s.layers, batch_first=True,
            bidirectional=s.bidirectional, dropout=s.dropout if s.layers > 1 else 0.0,
        )
    return ExplicitStack(s)


class TorchRNNClassifier(nn.Module):
    """Embedding → the architecture's layer (:mod:`rnnbench.architectures`) → Dropout → Linear(1)."""

    def __init__(self, s: "CellSettings", vocab_size: int) -> None:
        super().__init__()
        from rnnbench.architectures import CLASSIC, load

        arch = load(s.arch)
        if not arch.supports("torch"):
            raise ValueError(f"architecture {arch.label} has no PyTorch layer (it supports: "
                             f"{', '.join(arch.frameworks) or 'nothing'})")
        arch.check(s)
        self.arch = s.arch
        self.architecture = arch
        self.embedding = nn.Embedding(vocab_size, s.embedding_dim)
        # the built-ins' layers are this backend's own (explicit cells, init schemes); a plugin brings its own
        self.recurrent = classic_layer(s) if s.arch in CLASSIC else arch.torch_layer(s)
        self.dropout = nn.Dropout(s.dropout)
        self.head = nn.Linear(arch.features(s), 1)

    def final_state(self, x: torch.Tensor) -> torch.Tensor:
        return self.recurrent(self.embedding(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.final_state(x))).squeeze(1)


class TorchBackend:
    """PyTorch's adapter. ``epoch_phases`` (after each ``train_epoch``): every step's forward
    (model and loss), backward, and optimizer (zeroing the gradients and the update) times, each
    ending in a device synchronize on a GPU (:mod:`rnnbench.measure` keeps their steady medians)."""

    framework = "torch"

    def __init__(self, settings: "CellSettings") -> None:
        self.s = settings
        torch.set_num_threads(resolved_threads(settings))
        torch.set_flush_denormal(settings.flush_denormal)
        torch.backends.mkldnn.enabled = settings.onednn
        torch.manual_seed(settings.seed)
        np.random.seed(settings.seed)
        self.device = torch.device("cpu")
        if settings.device != "cpu":
            if not torch.cuda.is_available():
                from rnnbench.backends.base import DeviceUnavailable

                build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
                raise DeviceUnavailable(f"device = {settings.device!r}: torch {torch.__version__} ({build}) sees no "
                                        "CUDA GPU (torch.cuda.is_available() is False)")
            self.device = torch.device("cuda:0")  # the one GPU this worker was handed (CUDA_VISIBLE_DEVICES)
            torch.cuda.manual_seed_all(settings.seed)
        self.model: TorchRNNClassifier | None = None
        self.loss_fn = nn.BCEWithLogitsLoss()
        self.kernel_ops: list[str] | None = None

    def build(self, vocab_size: int) -> None:
        self.model = TorchRNNClassifier(self.s, vocab_size)
        if self.s.init != "framework" and self.s.init != "torch":
            from rnnbench.backends.torch_init import apply_init

            apply_init(self.model, self.s.init)
        self.model.to(self.device)
        self.net: Any = self.model  # what the steps call: the module, or torch.compile's wrapper of it
        if self.s.mode == "compiled":
            import torch._dynamo

            torch._dynamo.config.allow_rnn = self.s.compile_rnn
            self.net = torch.compile(self.model)
        self.optimizer = make_optimizer(self.model.parameters(), self.s)

    def param_counts(self) -> dict[str, int]:
        assert self.model is not None
        m = self.model
        parts = {
            "embedding": sum(p.numel() for p in m.embedding.parameters()),
            "recurrent": sum(p.numel() for p in m.recurrent.parameters()),
            "head": sum(p.numel() for p in m.head.parameters()),
        }
        parts["total"] = sum(p.numel() for p in m.parameters())
        return parts

    def train_epoch(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        on_step: Callable[[], None],
        max_steps: int | None,
    ) -> float:
        assert self.model is not None
        model, opt, loss_fn = self.net, self.optimizer, self.loss_fn
        self.model.train()
        xt = torch.from_numpy(np.ascontiguousarray(x)).long().to(self.device)
        yt = torch.from_numpy(np.ascontiguousarray(y)).float().to(self.device)
        cuda = self.device.type == "cuda"
        sync = torch.cuda.synchronize if cuda else (lambda: None)
        clock = time.perf_counter
        phases: dict[str, list[float]] = {"forward": [], "backward": [], "optimizer": []}
        total, seen = 0.0, 0
        for step, i in enumerate(range(0, len(xt), batch_size)):
            if max_steps is not None and step >= max_steps:
                break
            xb, yb = xt[i : i + batch_size], yt[i : i + batch_size]
            t0 = clock()
            opt.zero_grad(set_to_none=True)
            t1 = clock()
            loss = loss_fn(model(xb), yb)
            sync()
            t2 = clock()
            loss.backward()
            sync()
            t3 = clock()
            opt.step()
            value = loss.item()  # synchronizes: the step is complete
            sync()  # and every kernel of it (the optimizer's too), not only the loss
            t4 = clock()
            phases["forward"].append(t2 - t1)
            phases["backward"].append(t3 - t2)
            phases["optimizer"].append((t1 - t0) + (t4 - t3))
            total += value * len(xb)
            seen += len(xb)
            on_step()
        self.epoch_phases = phases
        return total / max(seen, 1)

    def profile_step(self, x: np.ndarray, y: np.ndarray) -> list[str]:
        """Op names of one forward + backward on ``x`` (no optimizer step; gradients dropped)."""
        from rnnbench.backends.kernels import profile_torch

        assert self.model is not None
        model = self.model
        model.train()
        xb = torch.from_numpy(np.ascontiguousarray(x)).long().to(self.device)
        yb = torch.from_numpy(np.ascontiguousarray(y)).float().to(self.device)

        def step() -> None:
            self.loss_fn(model(xb), yb).backward()

        self.kernel_ops = profile_torch(step)
        model.zero_grad(set_to_none=True)
        return self.kernel_ops

    def get_weights(self) -> dict[str, Any]:
        assert self.model is not None
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def set_weights(self, weights: dict[str, Any]) -> None:
        assert self.model is not None
        self.model.load_state_dict(weights)

    @torch.no_grad()
    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, float]:
        assert self.model is not None
        model = self.model  # eager, in every mode: evaluation is not what a training cell times, and a
        model.eval()  # compiled model would compile again for the evaluation batch (minutes with compile_rnn)
        xt = torch.from_numpy(np.ascontiguousarray(x)).long().to(self.device)
        yt = torch.from_numpy(np.ascontiguousarray(y)).float().to(self.device)
        loss_sum, correct = 0.0, 0
        for i in range(0, len(xt), batch_size):
            logits = model(xt[i : i + batch_size])
            yb = yt[i : i + batch_size]
            loss_sum += nn.functional.binary_cross_entropy_with_logits(logits, yb, reduction="sum").item()
            correct += int(((logits > 0).float() == yb).sum())
        return loss_sum / len(xt), correct / len(xt)

    infer_note = "eager forward in torch.inference_mode(), evaluation mode; the output copied to the host"

    def infer_function(self) -> Callable[[np.ndarray], Any]:
        """One request: forward only, the probabilities back on the host (which waits for the device)."""
        assert self.model is not None
        model = self.model
        model.eval()

        def serve(x: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return torch.sigmoid(model(torch.from_numpy(x).long().to(self.device))).cpu().numpy()

        return serve

    def stream_functions(self) -> tuple[Callable[[], Any], Callable[[int, Any], tuple[float, Any]]] | str:
        """(fresh state, one token → (probability, state)), or why this model cannot stream."""
        assert self.model is not None
        model = self.model
        model.eval()
        rec = model.recurrent
        if self.s.bidirectional:
            return "not streamed: a bidirectional layer reads the sequence from its end"
        if hasattr(rec, "step") and hasattr(rec, "init_state"):
            def init() -> Any:
                return rec.init_state(1, self.device)

            core = rec.step
        elif isinstance(rec, _FinalState):
            library = next(c for c in type(rec).__mro__[1:] if c in (nn.GRU, nn.LSTM, nn.RNN, ExplicitRNN))

            def init() -> Any:
                return None

            def core(x_t: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
                out, state = library.forward(rec, x_t[:, None, :], state)
                return out[:, -1], state
        else:
            return (f"not streamed: {model.architecture.label}'s PyTorch layer has no step(x_t, state) and "
                    "init_state(batch) (see rnnbench.architectures.base)")

        def step(token: int, state: Any) -> tuple[float, Any]:
            with torch.inference_mode():
                e = model.embedding(torch.tensor([token], device=self.device))
                features, state = core(e, state)
                return float(torch.sigmoid(model.head(features))), state

        return init, step

    def device_memory(self) -> dict[str, float]:
        """Peak device memory PyTorch's caching allocator handed out (and reserved), for GPU cells."""
        if self.device.type != "cuda":
            return {}
        return {"device_peak_mb": torch.cuda.max_memory_allocated(self.device) / 2**20,
                "device_reserved_peak_mb": torch.cuda.max_memory_reserved(self.device) / 2**20}

    def describe(self) -> dict[str, Any]:
        from rnnbench.backends.kernels import recurrent_ops, torch_flushes_denormals, torch_kernel

        s = self.s
        cuda = self.device.type == "cuda"
        from rnnbench.architectures import CLASSIC

        if s.arch not in CLASSIC:
            assert self.model is not None
            path, why = self.model.architecture.kernel(s, "torch"), ""
        elif s.impl == "cell":
            path, why = "explicit cell (Python time loop over torch ops)", "impl = \"cell\""
        elif self.kernel_ops is not None:
            path, why = torch_kernel(self.kernel_ops, s.arch), ""
            if not s.onednn and not cuda:
                why = "onednn = false (torch.backends.mkldnn disabled)"
            if cuda and "cuDNN" not in path:
                why = ("torch.backends.cudnn is disabled" if not torch.backends.cudnn.enabled
                       else "cuDNN was not used for this layer (see kernel_ops)")
        else:
            path, why = f"fused torch.nn.{ {'gru': 'GRU', 'lstm': 'LSTM', 'rnn': 'RNN'}[s.arch] } (not profiled)", ""
        return {
            "framework": "torch",
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "flush_denormal": s.flush_denormal,
            "denormals_flushed": torch_flushes_denormals(),  # measured in this process, not the setting
            "mkldnn": torch.backends.mkldnn.is_available(),
            "onednn_enabled": bool(torch.backends.mkldnn.enabled),
            "kernel": path,
            "kernel_note": why,
            "kernel_source": "profiled step" if self.kernel_ops is not None else "from the settings",
            "kernel_ops": recurrent_ops(self.kernel_ops or []),
            "optimizer": optimizer_name(s),
            "adam_epsilon": adam_epsilon(s),
            "adam_update": s.adam_update,
            "init": s.init,
            "device": str(self.device),
            "mode": s.mode,
            **(self._compile_facts() if s.mode == "compiled" else {"compiled": "eager torch ops (no torch.compile)"}),
            **(self._gpu_facts() if cuda else {}),
        }

    def _compile_facts(self) -> dict[str, Any]:
        """What torch.compile really did, from TorchDynamo's own counters: graphs compiled, and
        why it skipped or broke (by default it will not trace nn.GRU/LSTM/RNN: the forward then
        runs eagerly and nothing is compiled)."""
        from torch._dynamo.utils import counters

        graphs = int(counters["stats"].get("unique_graphs", 0))
        skipped = [str(r).strip().splitlines()[0] for r in counters["unimplemented"]]
        breaks = [str(r).strip().splitlines()[0] for r in counters["graph_break"]]
        if graphs == 0:
            what = "nothing: TorchDynamo skipped the forward, which ran eagerly" + (f" ({skipped[0]})" if skipped else "")
        else:
            what = (f"{graphs} graph{'s' if graphs > 1 else ''} compiled by TorchInductor"
                    + (f", {sum(counters['graph_break'].values())} graph breaks ({breaks[0]}: that part ran "
                       "eagerly)" if breaks else "")
                    + ("; nn.GRU/LSTM/RNN traced and unrolled over time (allow_rnn)" if self.s.compile_rnn else ""))
        return {"compiler": f"torch.compile (TorchDynamo + TorchInductor), allow_rnn = {self.s.compile_rnn}",
                "compiled": what, "compiled_graphs": graphs, "graph_breaks": breaks[:5], "dynamo_skipped": skipped[:5]}

    def _gpu_facts(self) -> dict[str, Any]:
        """The GPU as PyTorch sees it, with the driver's version from nvidia-smi."""
        from rnnbench.gpus import gpu_facts

        props = torch.cuda.get_device_properties(self.device)
        facts: dict[str, Any] = {
            "gpu_name": props.name,
            "gpu_memory_mib": props.total_memory / 2**20,
            "gpu_capability": f"{props.major}.{props.minor}",
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
            "cudnn_enabled": bool(torch.backends.cudnn.enabled),
        }
        drivers = {g["driver"] for g in gpu_facts()}
        facts["gpu_driver"] = drivers.pop() if len(drivers) == 1 else None
        return facts
