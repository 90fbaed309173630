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

from rnnbench.architectures.minimal import GATES


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
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind, self.units, self.n_layers, self.rate, self.sequential = kind, units, layers, dropout, sequential
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.kernels: list[Any] = []
        self.biases: list[Any] = []

    def build(self, input_shape: Any) -> None:
        width = GATES[self.kind] * self.units
        for n in range(self.n_layers):
            inputs = input_shape[-1] if n == 0 else self.units
            # PyTorch's nn.Linear initialisation (kernel and bias uniform in ±1/√inputs), so that a
            # cell starts from the same distribution of weights on either framework
            init = keras.initializers.RandomUniform(-inputs ** -0.5, inputs ** -0.5)
            self.kernels.append(self.add_weight(shape=(inputs, width), initializer=init, name=f"kernel_{n}"))
            self.biases.append(self.add_weight(shape=(width,), initializer=init, name=f"bias_{n}"))

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

    def call(self, x: Any, training: bool | None = None) -> Any:
        if self.sequential:  # the definition, through the same step() that streaming runs (eager; no dropout)
            state = self.init_state(int(x.shape[0]))
            for t in range(int(x.shape[1])):
                h, state = self.step(x[:, t], state)
            return h
        for n in range(self.n_layers):
            if n and self.rate and training:
                x = keras.random.dropout(x, self.rate, seed=self.seed_generator)
            log_a, log_b = self.log_coefficients(ops.matmul(x, self.kernels[n]) + self.biases[n])
            a_star = ops.cumsum(log_a, axis=1)
            x = ops.exp(a_star + _logcumsumexp(log_b - a_star))
        return x[:, -1]

    def init_state(self, batch: int) -> list[Any]:
        return [ops.zeros((batch, self.units)) for _ in range(self.n_layers)]

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
