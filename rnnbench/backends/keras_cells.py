"""Explicit Keras cells (``impl = "cell"``): GRU / LSTM / SimpleRNN from the equations.

Each cell is a plain ``keras.layers.Layer`` written with ``keras.ops`` and run by
``keras.layers.RNN``, so it works on every Keras backend and always takes the generic
backend loop (``tf.while_loop`` / ``lax.scan`` / a Python loop on torch) — never a fused
or cuDNN kernel. Weights have Keras's own layout, names and order (``kernel`` (input,
gates·units), ``recurrent_kernel`` (units, gates·units), ``bias``: GRU reset-after (2,
3·units) = [input bias; recurrent bias], otherwise (gates·units,)), and Keras's gate order
(GRU z, r, h; LSTM i, f, c, o), so ``get_weights``/``set_weights`` copy 1:1 between a
model built with ``keras.layers.GRU`` and one built with these cells.

Equations (Keras's convention, x_· = x W_· + b_·, ``recurrent_activation`` = sigmoid)::

    GRU   z = σ(x_z + h U_z + c_z); r = σ(x_r + h U_r + c_r)
          reset after:  ĥ = tanh(x_h + r ⊙ (h U_h + c_h))
          reset before: ĥ = tanh(x_h + (r ⊙ h) U_h)
          h' = z ⊙ h + (1 − z) ⊙ ĥ
    LSTM  i, f, c̃, o = σ, σ, tanh, σ of (x_· + h U_·);  c' = f ⊙ c + i ⊙ c̃;  h' = o ⊙ tanh(c')
    RNN   h' = tanh(x W + b + h U)
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

_PACKAGE = "rnnbench"


def _prev(states: Any) -> Any:
    return states[0] if isinstance(states, (list, tuple)) else states


class _ExplicitCell(keras.layers.Layer):
    gates = 1

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = int(units)
        self.kernel_initializer = keras.initializers.get("glorot_uniform")
        self.recurrent_initializer = keras.initializers.get("orthogonal")
        self.bias_initializer = keras.initializers.get("zeros")

    def _bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def _bias_init(self) -> Any:
        return self.bias_initializer

    def build(self, input_shape: Any) -> None:
        input_dim = input_shape[-1]
        g = self.gates * self.units
        self.kernel = self.add_weight(shape=(input_dim, g), name="kernel", initializer=self.kernel_initializer)
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, g), name="recurrent_kernel", initializer=self.recurrent_initializer
        )
        self.bias = self.add_weight(shape=self._bias_shape(), name="bias", initializer=self._bias_init())
        self.built = True

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ExplicitGRUCell(_ExplicitCell):
    gates = 3

    def __init__(self, units: int, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)
        self.state_size = self.units
        self.output_size = self.units

    def _bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs: Any, states: Any, training: bool = False) -> Any:
        h = _prev(states)
        u = self.units
        if self.reset_after:
            x = ops.matmul(inputs, self.kernel) + self.bias[0]
            hh = ops.matmul(h, self.recurrent_kernel) + self.bias[1]
            z = ops.sigmoid(x[:, :u] + hh[:, :u])
            r = ops.sigmoid(x[:, u : 2 * u] + hh[:, u : 2 * u])
            cand = ops.tanh(x[:, 2 * u :] + r * hh[:, 2 * u :])
        else:
            x = ops.matmul(inputs, self.kernel) + self.bias
            hh = ops.matmul(h, self.recurrent_kernel[:, : 2 * u])
            z = ops.sigmoid(x[:, :u] + hh[:, :u])
            r = ops.sigmoid(x[:, u : 2 * u] + hh[:, u:])
            cand = ops.tanh(x[:, 2 * u :] + ops.matmul(r * h, self.recurrent_kernel[:, 2 * u :]))
        new_h = z * h + (1.0 - z) * cand
        return new_h, ([new_h] if isinstance(states, (list, tuple)) else new_h)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "reset_after": self.reset_after}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ExplicitLSTMCell(_ExplicitCell):
    gates = 4

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def _bias_init(self) -> Any:
        units, zeros = self.units, self.bias_initializer

        def unit_forget_bias(shape: Any, dtype: Any = None) -> Any:  # Keras's unit_forget_bias=True
            return ops.concatenate(
                [zeros((units,), dtype), ops.ones((units,), dtype), zeros((2 * units,), dtype)]
            )

        return unit_forget_bias

    def call(self, inputs: Any, states: Any, training: bool = False) -> Any:
        h, c = states[0], states[1]
        u = self.units
        gates = ops.matmul(inputs, self.kernel) + self.bias + ops.matmul(h, self.recurrent_kernel)
        i = ops.sigmoid(gates[:, :u])
        f = ops.sigmoid(gates[:, u : 2 * u])
        cand = ops.tanh(gates[:, 2 * u : 3 * u])
        o = ops.sigmoid(gates[:, 3 * u :])
        new_c = f * c + i * cand
        new_h = o * ops.tanh(new_c)
        return new_h, [new_h, new_c]


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ExplicitSimpleRNNCell(_ExplicitCell):
    gates = 1

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        self.state_size = self.units
        self.output_size = self.units

    def call(self, inputs: Any, states: Any, training: bool = False) -> Any:
        h = _prev(states)
        new_h = ops.tanh(ops.matmul(inputs, self.kernel) + self.bias + ops.matmul(h, self.recurrent_kernel))
        return new_h, ([new_h] if isinstance(states, (list, tuple)) else new_h)


def explicit_cell(arch: str, units: int, reset_after: bool = True) -> keras.layers.Layer:
    if arch == "gru":
        return ExplicitGRUCell(units, reset_after=reset_after)
    if arch == "lstm":
        return ExplicitLSTMCell(units)
    if arch == "rnn":
        return ExplicitSimpleRNNCell(units)
    raise ValueError(f"unknown arch {arch!r}")


def explicit_rnn(
    arch: str, units: int, *, reset_after: bool = True, return_sequences: bool = False,
    go_backwards: bool = False, name: str | None = None,
) -> keras.layers.RNN:
    """``keras.layers.RNN`` over an explicit cell: the counterpart of ``keras.layers.GRU(...)``."""
    return keras.layers.RNN(
        explicit_cell(arch, units, reset_after),
        return_sequences=return_sequences,
        go_backwards=go_backwards,
        name=name,
    )
