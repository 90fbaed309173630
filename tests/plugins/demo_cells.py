"""A plugin package outside rnnbench, as a user would write one (tests/test_plugins.py).

``IndRNN`` (Li et al. 2018, "Independently Recurrent Neural Network"): every unit has one
recurrent weight of its own, ``h_t = relu(W x_t + u ⊙ h_{t−1} + b)``, in PyTorch and Keras.
``Broken`` fails when it is built.
"""

from __future__ import annotations

from typing import Any

from rnnbench.architectures import Architecture


class IndRNN(Architecture):
    label = "IndRNN"
    frameworks = ("torch", "keras")

    def check(self, settings: Any) -> None:
        if settings.layers != 1 or settings.bidirectional:
            raise ValueError("IndRNN here is one unidirectional layer")

    def torch_layer(self, settings: Any) -> Any:
        import torch
        from torch import nn

        class Layer(nn.Module):
            def __init__(self, inputs: int, units: int) -> None:
                super().__init__()
                self.linear = nn.Linear(inputs, units)
                self.u = nn.Parameter(torch.rand(units))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                xw = self.linear(x)
                h = x.new_zeros(x.shape[0], xw.shape[2])
                for t in range(x.shape[1]):
                    h = torch.relu(xw[:, t] + self.u * h)
                return h

        return Layer(settings.embedding_dim, settings.units)

    def keras_layer(self, settings: Any) -> Any:
        import keras

        class Cell(keras.layers.Layer):
            def __init__(self, units: int, **kw: Any) -> None:
                super().__init__(**kw)
                self.units, self.state_size = units, units

            def build(self, input_shape: Any) -> None:
                self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
                self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
                self.u = self.add_weight(shape=(self.units,), initializer="uniform", name="u")

            def call(self, x: Any, states: Any) -> Any:
                h = keras.ops.relu(keras.ops.matmul(x, self.kernel) + self.bias + self.u * states[0])
                return h, [h]

        return keras.layers.RNN(Cell(settings.units))

    def torch_to_keras(self, state: dict[str, Any], settings: Any) -> list[Any]:
        return [state["linear.weight"].T.copy(), state["linear.bias"], state["u"]]

    def recurrent_params(self, settings: Any, framework: str) -> int:
        return settings.units * (settings.embedding_dim + 2)

    def forward_flops_per_timestep(self, settings: Any) -> float:
        return 2.0 * settings.units * settings.embedding_dim


class Broken(Architecture):
    frameworks = ("torch",)

    def torch_layer(self, settings: Any) -> Any:
        raise RuntimeError("broken on purpose")


class TorchOnly(IndRNN):
    """IndRNN for PyTorch alone: with no sequential form and no Keras twin, verify has nothing to check."""

    frameworks = ("torch",)
