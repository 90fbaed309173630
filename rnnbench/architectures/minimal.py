"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"), as built-in plugins.

Their gates read only the current input, never the previous state, so every time step's
gate and candidate come from one matmul over the whole sequence, and the recurrence left is
linear, ``h_t = a_t ⊙ h_{t−1} + b_t``, which is a parallel scan over time. Per layer, with
input x_t and ``g(x) = x + ½ for x ≥ 0, σ(x) otherwise`` (keeps the candidate positive, so
the scan can run in log space)::

    minGRU:  z_t = σ(Linear_z(x_t)),  h̃_t = g(Linear_h(x_t))
             h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t
    minLSTM: f_t = σ(Linear_f(x_t)),  i_t = σ(Linear_i(x_t)),  h̃_t = g(Linear_h(x_t))
             f'_t, i'_t = f_t / (f_t + i_t), i_t / (f_t + i_t)
             h_t = f'_t ⊙ h_{t−1} + i'_t ⊙ h̃_t

with h_0 = 0. Training runs the paper's log-space scan: log a_t and log b_t straight from the
pre-activations (``log σ(k) = −softplus(−k)``), ``h = exp(a* + logcumsumexp(log b − a*))``
with ``a* = cumsum(log a)`` (numerically safe however small the products get). The sequential
definition above is a separate mode of the same layer, with the same weights: ``rnnbench
verify --arch mingru`` checks one against the other in each framework, and the frameworks
against each other; inference streams one token at a time with it.

Stacked layers feed each layer's sequence to the next (dropout between them, as for the
built-ins); bidirectional is not offered. Parameters per layer: ``G · units · (inputs + 1)``
with G = 2 (minGRU) or 3 (minLSTM) — no recurrent weights at all. Forward FLOPs per time step
and layer: ``2 · G · units · inputs`` for the projections; the scan's elementwise work is not
counted (as the built-ins' gate nonlinearities are not).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnbench.architectures.base import Architecture

if TYPE_CHECKING:
    import numpy as np

    from rnnbench.suite import CellSettings

GATES = {"mingru": 2, "minlstm": 3}


class MinRNN(Architecture):
    kind = ""
    frameworks = ("torch", "keras")

    def check(self, settings: "CellSettings") -> None:
        if settings.bidirectional:
            raise ValueError(f"{self.label} is unidirectional here (bidirectional = true is not offered)")

    def _inputs(self, s: "CellSettings") -> list[int]:
        return [s.embedding_dim if layer == 0 else s.units for layer in range(s.layers)]

    def torch_layer(self, settings: "CellSettings", sequential: bool = False) -> Any:
        from rnnbench.architectures.minimal_torch import MinRNNStack

        s = settings
        return MinRNNStack(self.kind, s.embedding_dim, s.units, s.layers, s.dropout if s.layers > 1 else 0.0,
                           sequential=sequential)

    def keras_layer(self, settings: "CellSettings", sequential: bool = False) -> Any:
        from rnnbench.architectures.minimal_keras import MinRNNLayer

        s = settings
        return MinRNNLayer(self.kind, s.units, s.layers, s.dropout if s.layers > 1 else 0.0, sequential=sequential,
                           seed=s.seed)

    def torch_sequential(self, settings: "CellSettings") -> Any:
        return self.torch_layer(settings, sequential=True)

    def keras_sequential(self, settings: "CellSettings") -> Any:
        return self.keras_layer(settings, sequential=True)

    def torch_to_keras(self, state: dict[str, "np.ndarray"], settings: "CellSettings") -> list["np.ndarray"]:
        out: list[np.ndarray] = []
        for layer in range(settings.layers):
            out += [state[f"linears.{layer}.weight"].T.copy(), state[f"linears.{layer}.bias"].copy()]
        return out

    def recurrent_params(self, settings: "CellSettings", framework: str) -> int:
        g, h = GATES[self.kind], settings.units
        return sum(g * h * (i + 1) for i in self._inputs(settings))

    def forward_flops_per_timestep(self, settings: "CellSettings") -> float:
        g, h = GATES[self.kind], settings.units
        return sum(2.0 * g * h * i for i in self._inputs(settings))

    def kernel(self, settings: "CellSettings", framework: str) -> str:
        return (f"{self.label}: input projections of all steps in one matmul per layer, then a log-space "
                "parallel scan over time (cumsum + logcumsumexp)")


class MinGRU(MinRNN):
    kind, label = "mingru", "minGRU"


class MinLSTM(MinRNN):
    kind, label = "minlstm", "minLSTM"
