"""minGRU / minLSTM as a Keras 3 layer, on any Keras backend: the log-space parallel scan
for training, the sequential definition for checking and streaming (equations:
:mod:`rnnbench.architectures.minimal`). ``keras.ops`` has no cumulative log-sum-exp, so the
scan calls the backend's own (``tf.math.cumulative_logsumexp``, ``jax.lax.cumlogsumexp``,
``torch.logcumsumexp``). Weights per layer: ``kernel_{n}`` ``(inputs, G·units)`` and
``bias_{n}`` ``(G·units,)`` — PyTorch's ``nn.Linear`` weight transposed."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

GATES = {"mingru": 2, "minlstm": 3}


def _logcumsumexp(x: Any) -> Any:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.math.cumulative_logsumexp(x, axis=1)
    if backend == "jax":
        import jax

        return jax.lax.cumlogsumexp(x, axis=1)
    import torch

    return torch.logcumsumexp(x, dim=1)


def g(x: Any) -> Any:
    return ops.where(x >= 0, x + 0.5, ops.sigmoid(x))


def log_g(x: Any) -> Any:
    return ops.where(x >= 0, ops.log(ops.relu(x) + 0.5), -ops.softplus(-x))


class MinRNNLayer(keras.layers.Layer):
    """``layers`` minGRU or minLSTM layers on ``[batch, time, inputs]``; returns the last final state."""

    def __init__(self, kind: str, units: int, layers: int = 1, dropout: float = 0.0, sequential: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind, self.units, self.n_layers, self.rate, self.sequential = kind, units, layers, dropout, sequential
        self.kernels: list[Any] = []
        self.biases: list[Any] = []

    def build(self, input_shape: Any) -> None:
        width = GATES[self.kind] * self.units
        for n in range(self.n_layers):
            inputs = input_shape[-1] if n == 0 else self.units
            self.kernels.append(self.add_weight(shape=(inputs, width), initializer="glorot_uniform", name=f"kernel_{n}"))
            self.biases.append(self.add_weight(shape=(width,), initializer="zeros", name=f"bias_{n}"))

    def coefficients(self, proj: Any) -> tuple[Any, Any]:
        if self.kind == "mingru":
            k, h_tilde = ops.split(proj, 2, axis=-1)
            z = ops.sigmoid(k)
            return 1.0 - z, z * g(h_tilde)
        kf, ki, h_tilde = ops.split(proj, 3, axis=-1)
        f, i = ops.sigmoid(kf), ops.sigmoid(ki)
        return f / (f + i), i / (f + i) * g(h_tilde)

    def log_coefficients(self, proj: Any) -> tuple[Any, Any]:
        if self.kind == "mingru":
            k, h_tilde = ops.split(proj, 2, axis=-1)
            return -ops.softplus(k), -ops.softplus(-k) + log_g(h_tilde)
        kf, ki, h_tilde = ops.split(proj, 3, axis=-1)
        diff = ops.softplus(-kf) - ops.softplus(-ki)
        return -ops.softplus(diff), -ops.softplus(-diff) + log_g(h_tilde)

    def _layer(self, n: int, x: Any) -> Any:
        proj = ops.matmul(x, self.kernels[n]) + self.biases[n]
        if not self.sequential:
            log_a, log_b = self.log_coefficients(proj)
            a_star = ops.cumsum(log_a, axis=1)
            return ops.exp(a_star + _logcumsumexp(log_b - a_star))
        a, b = self.coefficients(proj)  # eager only: a Python loop over the (known) time steps
        h = ops.zeros_like(b[:, 0])
        out = []
        for t in range(int(x.shape[1])):
            h = a[:, t] * h + b[:, t]
            out.append(h)
        return ops.stack(out, axis=1)

    def call(self, x: Any, training: bool | None = None) -> Any:
        for n in range(self.n_layers):
            if n and self.rate and training:
                x = keras.random.dropout(x, self.rate)
            x = self._layer(n, x)
        return x[:, -1]

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        return (input_shape[0], self.units)

    def step(self, x_t: Any, state: list[Any]) -> tuple[Any, list[Any]]:
        """One token ``[batch, inputs]`` with the state carried: the sequential definition."""
        new = []
        for n, h in enumerate(state):
            a, b = self.coefficients(ops.matmul(x_t, self.kernels[n]) + self.biases[n])
            x_t = a * h + b
            new.append(x_t)
        return x_t, new

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "kind": self.kind, "units": self.units, "layers": self.n_layers,
                "dropout": self.rate, "sequential": self.sequential}
